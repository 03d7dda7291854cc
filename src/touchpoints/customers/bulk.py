"""Create many customers with their identities at once (bulk imports that link feedback)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast

from sqlalchemy import Table
from sqlalchemy.orm import Session

from touchpoints.customers.identities import NormalizedIdentity
from touchpoints.customers.models import Customer, CustomerIdentity
from touchpoints.db.base import new_id, utcnow
from touchpoints.feedback.bulk import insert_rows

CUSTOMERS = cast(Table, Customer.__table__)
IDENTITIES = cast(Table, CustomerIdentity.__table__)


@dataclass
class NewCustomer:
    """A customer to create: normalized identities nobody in the workspace holds yet."""

    identities: list[NormalizedIdentity]
    display_name: str | None = None
    org_unit_id: str | None = None
    id: str = field(default_factory=new_id)


def insert_customers(
    db_session: Session, *, workspace_id: str, customers: Sequence[NewCustomer]
) -> None:
    """Insert customers and their identities with one statement per table.

    The caller has checked what `customers.service.create_customer` checks: the caller may
    write customers, the org units exist in their scope, and no identity is claimed already.
    The change marks are left as the row triggers leave them (set-based on SQLite).
    """
    if not customers:
        return
    now = utcnow()
    insert_rows(
        db_session,
        CUSTOMERS,
        [
            {
                "id": customer.id,
                "workspace_id": workspace_id,
                "display_name": customer.display_name,
                "org_unit_id": customer.org_unit_id,
                "attributes": {},
                "consent_email": None,
                "consent_sms": None,
                "consent_research": None,
                "first_seen_at": now,
                "created_at": now,
                "updated_at": now,
            }
            for customer in customers
        ],
    )
    insert_rows(
        db_session,
        IDENTITIES,
        [
            {
                "id": new_id(),
                "workspace_id": workspace_id,
                "customer_id": customer.id,
                "kind": identity.kind.value,
                "source": identity.source,
                "value": identity.value,
            }
            for customer in customers
            for identity in dict.fromkeys(customer.identities)
        ],
    )
