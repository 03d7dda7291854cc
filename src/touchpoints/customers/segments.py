"""Segments: named groups of customers, and who belongs to them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from touchpoints.api.listing import ListParams, paginate
from touchpoints.auth.permissions import Permission, Principal, require
from touchpoints.customers.models import Customer, CustomerSegment, Segment
from touchpoints.customers.schemas import SegmentCreate, SegmentUpdate
from touchpoints.customers.service import get_customer
from touchpoints.errors import Conflict, NotFound


def segment_fields() -> dict[str, Any]:
    """Return the filterable and sortable segment columns."""
    return {
        "id": Segment.id,
        "name": Segment.name,
        "created_at": Segment.created_at,
        "updated_at": Segment.updated_at,
    }


def list_segments(
    *, db_session: Session, actor: Principal, params: ListParams
) -> tuple[list[Segment], int]:
    """List the workspace's segments."""
    require(actor, Permission.CUSTOMERS_READ)
    statement = select(Segment).where(Segment.workspace_id == actor.workspace_id)
    return paginate(
        db_session, statement, params=params, fields=segment_fields(), default_sort="name"
    )


def get_segment(*, db_session: Session, actor: Principal, segment_id: str) -> Segment:
    """Return one segment of the caller's workspace."""
    require(actor, Permission.CUSTOMERS_READ)
    segment = db_session.get(Segment, segment_id)
    if segment is None or segment.workspace_id != actor.workspace_id:
        raise NotFound(f"segment {segment_id} not found")
    return segment


def _ensure_segment_name_free(
    db_session: Session, workspace_id: str, name: str, *, segment_id: str = ""
) -> None:
    taken = db_session.scalar(
        select(Segment.id).where(
            Segment.workspace_id == workspace_id, Segment.name == name, Segment.id != segment_id
        )
    )
    if taken is not None:
        raise Conflict(f"a segment named {name!r} already exists ({taken})")


def build_segment(*, db_session: Session, workspace_id: str, segment_in: SegmentCreate) -> Segment:
    """Insert a segment whose name is unique in the workspace."""
    _ensure_segment_name_free(db_session, workspace_id, segment_in.name)
    segment = Segment(
        workspace_id=workspace_id, name=segment_in.name, description=segment_in.description
    )
    db_session.add(segment)
    db_session.flush()
    return segment


def create_segment(*, db_session: Session, actor: Principal, segment_in: SegmentCreate) -> Segment:
    """Add a segment to the caller's workspace."""
    require(actor, Permission.CUSTOMERS_WRITE)
    return build_segment(
        db_session=db_session, workspace_id=actor.workspace_id, segment_in=segment_in
    )


def update_segment(
    *, db_session: Session, actor: Principal, segment_id: str, segment_in: SegmentUpdate
) -> Segment:
    """Rename a segment or change its description."""
    require(actor, Permission.CUSTOMERS_WRITE)
    segment = get_segment(db_session=db_session, actor=actor, segment_id=segment_id)
    changes = segment_in.model_dump(exclude_unset=True)
    if changes.get("name") is not None:
        _ensure_segment_name_free(
            db_session, actor.workspace_id, changes["name"], segment_id=segment.id
        )
        segment.name = changes["name"]
    if "description" in changes:
        segment.description = changes["description"]
    db_session.flush()
    return segment


def delete_segment(*, db_session: Session, actor: Principal, segment_id: str) -> None:
    """Delete a segment; its customers stay, only the membership goes."""
    require(actor, Permission.CUSTOMERS_WRITE)
    segment = get_segment(db_session=db_session, actor=actor, segment_id=segment_id)
    db_session.execute(delete(CustomerSegment).where(CustomerSegment.segment_id == segment.id))
    db_session.delete(segment)
    db_session.flush()


def add_to_segment(
    *, db_session: Session, actor: Principal, segment_id: str, customer_id: str
) -> Customer:
    """Put a customer in a segment; a customer already in it stays in it once."""
    require(actor, Permission.CUSTOMERS_WRITE)
    segment = get_segment(db_session=db_session, actor=actor, segment_id=segment_id)
    customer = get_customer(db_session=db_session, actor=actor, customer_id=customer_id)
    if segment not in customer.segments:
        customer.segments.append(segment)
        db_session.flush()
    return customer


def remove_from_segment(
    *, db_session: Session, actor: Principal, segment_id: str, customer_id: str
) -> Customer:
    """Take a customer out of a segment; one not in it is left as is."""
    require(actor, Permission.CUSTOMERS_WRITE)
    segment = get_segment(db_session=db_session, actor=actor, segment_id=segment_id)
    customer = get_customer(db_session=db_session, actor=actor, customer_id=customer_id)
    if segment in customer.segments:
        customer.segments.remove(segment)
        db_session.flush()
    return customer
