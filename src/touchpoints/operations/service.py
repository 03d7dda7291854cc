"""Operational events: what customers did and what happened to them, scoped like feedback."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from touchpoints.api.listing import ListParams, paginate
from touchpoints.auth.permissions import Permission, Principal, require
from touchpoints.errors import InvalidInput, NotFound
from touchpoints.operations.models import OperationalEvent
from touchpoints.operations.schemas import (
    OperationalEventCreate,
    OperationalEventUpdate,
    currency_problem,
)
from touchpoints.signals.service import LINK_FIELDS, check_links, ensure_new_source_ref, visible


def event_fields() -> dict[str, Any]:
    """Return the filterable and sortable event columns."""
    return {
        "id": OperationalEvent.id,
        "type": OperationalEvent.type,
        "name": OperationalEvent.name,
        "source": OperationalEvent.source,
        "source_ref": OperationalEvent.source_ref,
        "customer_id": OperationalEvent.customer_id,
        "touchpoint_id": OperationalEvent.touchpoint_id,
        "org_unit_id": OperationalEvent.org_unit_id,
        "occurred_at": OperationalEvent.occurred_at,
        "received_at": OperationalEvent.received_at,
        "value": OperationalEvent.value,
        "currency": OperationalEvent.currency,
        "duration_seconds": OperationalEvent.duration_seconds,
    }


def list_events(
    *, db_session: Session, actor: Principal, params: ListParams
) -> tuple[list[OperationalEvent], int]:
    """List the events the caller can see, newest first."""
    require(actor, Permission.EVENTS_READ)
    return paginate(
        db_session,
        visible(actor, OperationalEvent),
        params=params,
        fields=event_fields(),
        default_sort="-occurred_at",
    )


def get_event(*, db_session: Session, actor: Principal, event_id: str) -> OperationalEvent:
    """Return one event in the caller's workspace and scope."""
    require(actor, Permission.EVENTS_READ)
    statement = visible(actor, OperationalEvent).where(OperationalEvent.id == event_id)
    event = db_session.scalar(statement)
    if event is None:
        raise NotFound(f"event {event_id} not found")
    return event


def create_event(
    *, db_session: Session, actor: Principal, event_in: OperationalEventCreate
) -> OperationalEvent:
    """Store an operational event after checking its links and that it is not a duplicate."""
    require(actor, Permission.EVENTS_WRITE)
    check_links(db_session, actor, event_in.model_dump(include=set(LINK_FIELDS)))
    ensure_new_source_ref(
        db_session, actor, OperationalEvent, event_in.source, event_in.source_ref, "an event"
    )
    event = OperationalEvent(
        workspace_id=actor.workspace_id,
        metadata_=event_in.metadata,
        **event_in.model_dump(exclude={"metadata"}),
    )
    db_session.add(event)
    db_session.flush()
    return event


def update_event(
    *, db_session: Session, actor: Principal, event_id: str, event_in: OperationalEventUpdate
) -> OperationalEvent:
    """Correct an event's name, time, links, amounts or metadata."""
    require(actor, Permission.EVENTS_WRITE)
    event = get_event(db_session=db_session, actor=actor, event_id=event_id)
    changes = event_in.model_dump(exclude_unset=True)
    check_links(db_session, actor, {k: v for k, v in changes.items() if k in LINK_FIELDS})
    value = changes.get("value", event.value)
    currency = changes.get("currency", event.currency)
    problem = currency_problem(event.type, value, currency)
    if problem is not None:
        raise InvalidInput("currency", problem)
    if "metadata" in changes:
        event.metadata_ = changes.pop("metadata")
    for name, new_value in changes.items():
        setattr(event, name, new_value)
    db_session.flush()
    return event


def delete_event(*, db_session: Session, actor: Principal, event_id: str) -> None:
    """Delete an operational event."""
    require(actor, Permission.EVENTS_WRITE)
    event = get_event(db_session=db_session, actor=actor, event_id=event_id)
    db_session.delete(event)
    db_session.flush()
