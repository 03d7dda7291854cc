"""Find customers by name, email or phone, within the caller's scope."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from touchpoints.auth.permissions import Permission, Principal, require, scope_condition
from touchpoints.customers.models import Customer, CustomerIdentity
from touchpoints.errors import InvalidInput

DIRECTORY_PAGE = 50
COUNT_CAP = 1_000
MAX_QUERY_CHARS = 200
MIN_PHONE_DIGITS = 4
_NOT_DIGITS = re.compile(r"\D")


@dataclass(frozen=True)
class CustomerPage:
    """One page of customers and how many match (counted up to COUNT_CAP)."""

    customers: list[Customer]
    matches: int
    capped: bool
    has_more: bool


def _matches(workspace_id: str, q: str) -> ColumnElement[bool]:
    if len(q) > MAX_QUERY_CHARS:
        raise InvalidInput("q", f"search at most {MAX_QUERY_CHARS} characters")
    identity_hits = [CustomerIdentity.value.icontains(q, autoescape=True)]
    # Phones are stored in E.164 (+4479...): match the digits without a national leading 0.
    digits = _NOT_DIGITS.sub("", q).lstrip("0")
    if len(digits) >= MIN_PHONE_DIGITS:
        identity_hits.append(
            (CustomerIdentity.kind == "phone") & CustomerIdentity.value.contains(digits)
        )
    owners = select(CustomerIdentity.customer_id).where(
        CustomerIdentity.workspace_id == workspace_id, or_(*identity_hits)
    )
    return or_(Customer.display_name.icontains(q, autoescape=True), Customer.id.in_(owners))


def search_customers(
    *, db_session: Session, actor: Principal, q: str | None = None, offset: int = 0
) -> CustomerPage:
    """Return a page of the customers the caller may see whose name or identities match."""
    require(actor, Permission.CUSTOMERS_READ)
    statement = select(Customer).where(Customer.workspace_id == actor.workspace_id)
    in_scope = scope_condition(actor, Customer.org_unit_id)
    if in_scope is not None:
        statement = statement.where(in_scope)
    if q and q.strip():
        statement = statement.where(_matches(actor.workspace_id, q.strip()))
    ordered = statement.order_by(Customer.display_name, Customer.id)
    rows = list(db_session.scalars(ordered.offset(offset).limit(DIRECTORY_PAGE + 1)))
    limited = statement.with_only_columns(Customer.id).limit(COUNT_CAP + 1).subquery()
    matches = int(db_session.scalar(select(func.count()).select_from(limited)) or 0)
    return CustomerPage(
        customers=rows[:DIRECTORY_PAGE],
        matches=min(matches, COUNT_CAP),
        capped=matches > COUNT_CAP,
        has_more=len(rows) > DIRECTORY_PAGE,
    )
