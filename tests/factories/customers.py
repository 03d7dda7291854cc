"""Factories for customers and segments."""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy.orm import Session

from touchpoints.customers.models import Customer, Segment
from touchpoints.customers.schemas import CustomerCreate, SegmentCreate
from touchpoints.customers.segments import build_segment
from touchpoints.customers.service import build_customer

_sequence = itertools.count(1)


def make_customer(
    db_session: Session,
    *,
    workspace_id: str,
    display_name: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    external_id: str | None = None,
    external_id_source: str = "",
    org_unit_id: str | None = None,
    **fields: Any,
) -> Customer:
    """Create a customer with a unique email unless identities are given."""
    number = next(_sequence)
    if email is None and phone is None and external_id is None:
        email = f"customer{number}@example.com"
    customer_in = CustomerCreate(
        display_name=display_name or f"Customer {number}",
        email=email,
        phone=phone,
        external_id=external_id,
        external_id_source=external_id_source,
        org_unit_id=org_unit_id,
        **fields,
    )
    return build_customer(db_session=db_session, workspace_id=workspace_id, customer_in=customer_in)


def make_segment(
    db_session: Session, *, workspace_id: str, name: str | None = None, description: str = ""
) -> Segment:
    """Create a segment with a unique name."""
    number = next(_sequence)
    segment_in = SegmentCreate(name=name or f"Segment {number}", description=description or None)
    return build_segment(db_session=db_session, workspace_id=workspace_id, segment_in=segment_in)
