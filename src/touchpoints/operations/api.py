"""Routes for operational events (O-data)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from touchpoints.api.deps import ActorDep, ListParamsDep, SessionDep
from touchpoints.api.listing import Page
from touchpoints.api.writes import WriteRequestDep, respond
from touchpoints.operations import service
from touchpoints.operations.schemas import (
    OperationalEventCreate,
    OperationalEventRead,
    OperationalEventUpdate,
)

router = APIRouter(tags=["events"])


@router.get("/events", response_model=Page[OperationalEventRead], summary="List events")
def list_events(
    session: SessionDep, actor: ActorDep, params: ListParamsDep
) -> Page[OperationalEventRead]:
    """List operational events, newest first; members limited to an org unit see only theirs.

    Filter and sort by type, name, source, source_ref, customer_id, touchpoint_id,
    org_unit_id, occurred_at, received_at, value, currency and duration_seconds, for example
    `filter=type:eq:order&filter=value:gte:100`.
    """
    items, total = service.list_events(db_session=session, actor=actor, params=params)
    return Page(
        items=[OperationalEventRead.model_validate(event) for event in items],
        total=total,
        limit=params.limit,
        offset=params.offset,
    )


@router.post(
    "/events", response_model=OperationalEventRead, status_code=201, summary="Add an event"
)
def create_event(
    body: OperationalEventCreate, session: SessionDep, actor: ActorDep, write: WriteRequestDep
) -> JSONResponse:
    """Store an order, subscription, churn, support contact, digital or external event.

    Orders and subscriptions with a value need its currency. A second event with the same
    `source` and `source_ref` is refused (409); retry with an `Idempotency-Key` to be safe.
    """
    return respond(
        write,
        db_session=session,
        actor=actor,
        status_code=201,
        write=lambda: OperationalEventRead.model_validate(
            service.create_event(db_session=session, actor=actor, event_in=body)
        ),
    )


@router.get("/events/{event_id}", response_model=OperationalEventRead, summary="Read an event")
def read_event(event_id: str, session: SessionDep, actor: ActorDep) -> OperationalEventRead:
    """Return one operational event."""
    event = service.get_event(db_session=session, actor=actor, event_id=event_id)
    return OperationalEventRead.model_validate(event)


@router.patch("/events/{event_id}", response_model=OperationalEventRead, summary="Update an event")
def update_event(
    event_id: str, body: OperationalEventUpdate, session: SessionDep, actor: ActorDep
) -> OperationalEventRead:
    """Correct an event's name, time, links, value, currency, duration or metadata.

    Its type, source and source_ref identify it and cannot be changed.
    """
    event = service.update_event(db_session=session, actor=actor, event_id=event_id, event_in=body)
    return OperationalEventRead.model_validate(event)


@router.delete("/events/{event_id}", status_code=204, summary="Delete an event")
def delete_event(event_id: str, session: SessionDep, actor: ActorDep) -> Response:
    """Delete an operational event for good."""
    service.delete_event(db_session=session, actor=actor, event_id=event_id)
    return Response(status_code=204)
