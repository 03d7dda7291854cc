"""Operational events: what customers did and what happened to them, scoped like feedback."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from touchpoints.api.listing import ListParams, paginate
from touchpoints.auth.permissions import Permission, Principal, require, scope_condition
from touchpoints.errors import Conflict, InvalidInput, NotFound
from touchpoints.feedback.service import LINK_FIELDS, check_links
from touchpoints.operations.models import OperationalEvent
from touchpoints.operations.schemas import (
    OperationalEventCreate,
    OperationalEventUpdate,
    currency_problem,
)


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


def _visible(actor: Principal) -> Select[OperationalEvent]:
    statement = select(OperationalEvent).where(OperationalEvent.workspace_id == actor.workspace_id)
    in_scope = scope_condition(actor, OperationalEvent.org_unit_id)
    return statement if in_scope is None else statement.where(in_scope)


def list_events(
    *, db_session: Session, actor: Principal, params: ListParams
) -> tuple[list[OperationalEvent], int]:
    """List the events the caller can see, newest first."""
    require(actor, Permission.EVENTS_READ)
    return paginate(
        db_session,
        _visible(actor),
        params=params,
        fields=event_fields(),
        default_sort="-occurred_at",
    )


def get_event(*, db_session: Session, actor: Principal, event_id: str) -> OperationalEvent:
    """Return one event in the caller's workspace and scope."""
    require(actor, Permission.EVENTS_READ)
    event = db_session.scalar(_visible(actor).where(OperationalEvent.id == event_id))
    if event is None:
        raise NotFound(f"event {event_id} not found")
    return event


def _ensure_new_source_ref(
    db_session: Session, actor: Principal, source: str, source_ref: str | None
) -> None:
    if source_ref is None:
        return
    existing = db_session.scalar(
        select(OperationalEvent.id).where(
            OperationalEvent.workspace_id == actor.workspace_id,
            OperationalEvent.source == source,
            OperationalEvent.source_ref == source_ref,
        )
    )
    if existing is not None:
        raise Conflict(
            f"an event from {source!r} with source_ref {source_ref!r} is already stored "
            f"as {existing}"
        )


def create_event(
    *, db_session: Session, actor: Principal, event_in: OperationalEventCreate
) -> OperationalEvent:
    """Store an operational event after checking its links and that it is not a duplicate."""
    require(actor, Permission.EVENTS_WRITE)
    check_links(db_session, actor, event_in.model_dump(include=set(LINK_FIELDS)))
    _ensure_new_source_ref(db_session, actor, event_in.source, event_in.source_ref)
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
