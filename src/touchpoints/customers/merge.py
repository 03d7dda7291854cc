"""Merge duplicate customers: the survivor keeps every identity, segment and signal of both."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Table, delete, select, update
from sqlalchemy.orm import Session

from touchpoints.auth.permissions import Permission, Principal, require
from touchpoints.customers.models import Customer, CustomerSegment
from touchpoints.customers.service import get_customer
from touchpoints.db.registry import load_metadata
from touchpoints.errors import InvalidInput

CONSENTS = ("consent_email", "consent_sms", "consent_research")


@dataclass
class MergeResult:
    """The surviving customer and how many rows of each table moved to it."""

    survivor: Customer
    moved: dict[str, int] = field(default_factory=dict)


def merge_customers(
    *, db_session: Session, actor: Principal, survivor_id: str, duplicate_id: str
) -> MergeResult:
    """Fold the duplicate into the survivor, keeping all history; the duplicate is deleted."""
    require(actor, Permission.CUSTOMERS_WRITE)
    if survivor_id == duplicate_id:
        raise InvalidInput("duplicate_id", "a customer cannot be merged into itself")
    survivor = get_customer(db_session=db_session, actor=actor, customer_id=survivor_id)
    duplicate = get_customer(db_session=db_session, actor=actor, customer_id=duplicate_id)
    _merge_profile(survivor, duplicate)
    db_session.flush()
    moved = {"customer_segments": _move_segments(db_session, survivor.id, duplicate.id)}
    for table, column_name in _customer_references():
        column = table.c[column_name]
        result = db_session.execute(
            update(table).where(column == duplicate.id).values({column_name: survivor.id})
        )
        moved[table.name] = int(getattr(result, "rowcount", 0) or 0)
    # The rows moved under the ORM's feet: reload, so deleting the duplicate cascades to nothing.
    db_session.expire_all()
    db_session.delete(db_session.get_one(Customer, duplicate_id))
    db_session.flush()
    return MergeResult(survivor=db_session.get_one(Customer, survivor_id), moved=moved)


def _merge_profile(survivor: Customer, duplicate: Customer) -> None:
    """Combine attributes (survivor wins), consent (a refusal wins) and first-seen (earliest)."""
    survivor.attributes = dict(duplicate.attributes or {}) | dict(survivor.attributes or {})
    survivor.display_name = survivor.display_name or duplicate.display_name
    survivor.org_unit_id = survivor.org_unit_id or duplicate.org_unit_id
    for name in CONSENTS:
        answers = (getattr(survivor, name), getattr(duplicate, name))
        if False in answers:
            setattr(survivor, name, False)
        elif answers[0] is None:
            setattr(survivor, name, answers[1])
    seen = [moment for moment in (survivor.first_seen_at, duplicate.first_seen_at) if moment]
    survivor.first_seen_at = min(seen) if seen else None


def _move_segments(db_session: Session, survivor_id: str, duplicate_id: str) -> int:
    """Move segment memberships the survivor lacks; drop the ones it already has."""
    already = select(CustomerSegment.segment_id).where(CustomerSegment.customer_id == survivor_id)
    result = db_session.execute(
        update(CustomerSegment)
        .where(
            CustomerSegment.customer_id == duplicate_id, CustomerSegment.segment_id.not_in(already)
        )
        .values(customer_id=survivor_id)
        .execution_options(synchronize_session=False)
    )
    db_session.execute(
        delete(CustomerSegment)
        .where(CustomerSegment.customer_id == duplicate_id)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _customer_references() -> list[tuple[Table, str]]:
    """Return every (table, column) pointing at a customer, except segment memberships."""
    references = []
    for table in load_metadata().sorted_tables:
        if table.name == CustomerSegment.__tablename__:
            continue
        for foreign_key in table.foreign_keys:
            if foreign_key.column.table.name == Customer.__tablename__:
                references.append((table, foreign_key.parent.name))
    return references
