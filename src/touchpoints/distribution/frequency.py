"""Contact-frequency rules: who may be invited now, and why the others may not."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from touchpoints.customers.models import Customer, CustomerIdentity
from touchpoints.distribution.models import Invitation
from touchpoints.orgs.models import Workspace

DEFAULT_CONTACT_FREQUENCY_DAYS = 30
SETTING = "contact_frequency_days"


@dataclass(frozen=True)
class Skipped:
    """A customer left out of a send, with the reason a person can read."""

    customer_id: str
    reason: str


def contact_frequency_days(workspace: Workspace, override: int | None = None) -> int:
    """Return the minimum days between two invitations: the override, else the workspace's."""
    if override is not None:
        return override
    configured = (workspace.settings or {}).get(SETTING)
    if isinstance(configured, int) and not isinstance(configured, bool) and configured >= 0:
        return configured
    return DEFAULT_CONTACT_FREQUENCY_DAYS


def last_invited(db_session: Session, customer_ids: Sequence[str]) -> dict[str, datetime]:
    """Return when each customer was last invited, across every survey and channel."""
    statement = (
        select(Invitation.customer_id, func.max(Invitation.created_at))
        .where(Invitation.customer_id.in_(customer_ids))
        .group_by(Invitation.customer_id)
    )
    return {row[0]: row[1] for row in db_session.execute(statement)}


def email_addresses(db_session: Session, customer_ids: Sequence[str]) -> dict[str, str]:
    """Return one email address per customer (the first recorded)."""
    statement = (
        select(CustomerIdentity.customer_id, CustomerIdentity.value)
        .where(CustomerIdentity.customer_id.in_(customer_ids), CustomerIdentity.kind == "email")
        .order_by(CustomerIdentity.id)
    )
    found: dict[str, str] = {}
    for customer_id, value in db_session.execute(statement):
        found.setdefault(customer_id, value)
    return found


def check_customers(
    db_session: Session, customers: Sequence[Customer], *, limit_days: int, now: datetime
) -> tuple[list[tuple[Customer, str]], list[Skipped]]:
    """Split customers into (customer, email) to invite and those skipped with a reason."""
    ids = [customer.id for customer in customers]
    invited = last_invited(db_session, ids)
    addresses = email_addresses(db_session, ids)
    allowed: list[tuple[Customer, str]] = []
    skipped: list[Skipped] = []
    for customer in customers:
        reason = _refusal(customer, invited.get(customer.id), addresses, limit_days, now)
        if reason is None:
            allowed.append((customer, addresses[customer.id]))
        else:
            skipped.append(Skipped(customer_id=customer.id, reason=reason))
    return allowed, skipped


def _refusal(
    customer: Customer,
    invited_at: datetime | None,
    addresses: dict[str, str],
    limit_days: int,
    now: datetime,
) -> str | None:
    if customer.consent_email is False:
        return "unsubscribed"
    if customer.id not in addresses:
        return "no email address"
    if invited_at is not None and now - invited_at < timedelta(days=limit_days):
        days = (now - invited_at).days
        ago = "today" if days == 0 else f"{days} day{'s' if days != 1 else ''} ago"
        return f"invited {ago}; limit {limit_days} days"
    return None
