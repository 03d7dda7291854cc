"""Routes for journeys, their stages, and touchpoints."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse

from touchpoints.api.deps import ActorDep, ListParamsDep, SessionDep
from touchpoints.api.listing import Page
from touchpoints.api.writes import WriteRequestDep, respond
from touchpoints.journeys import service
from touchpoints.journeys.schemas import (
    JourneyCreate,
    JourneyRead,
    JourneyStageCreate,
    JourneyStageRead,
    JourneyStageUpdate,
    JourneyUpdate,
    TouchpointCreate,
    TouchpointRead,
    TouchpointUpdate,
)

# app.py includes one `router` per domain, so each route carries its tag itself.
router = APIRouter()
TAGS: list[str | Enum] = ["journeys"]


@router.get("/journeys", response_model=Page[JourneyRead], tags=TAGS, summary="List journeys")
def list_journeys(session: SessionDep, actor: ActorDep, params: ListParamsDep) -> Page[JourneyRead]:
    """List journeys with their stages in order; filterable and sortable by name, created_at."""
    items, total = service.list_journeys(db_session=session, actor=actor, params=params)
    return Page(
        items=[JourneyRead.model_validate(i) for i in items],
        total=total,
        limit=params.limit,
        offset=params.offset,
    )


@router.post(
    "/journeys", response_model=JourneyRead, status_code=201, tags=TAGS, summary="Create a journey"
)
def create_journey(
    body: JourneyCreate, session: SessionDep, actor: ActorDep, write: WriteRequestDep
) -> JSONResponse:
    """Create a journey, optionally with its stages in order, in one call."""
    return respond(
        write,
        db_session=session,
        actor=actor,
        status_code=201,
        write=lambda: JourneyRead.model_validate(
            service.create_journey(db_session=session, actor=actor, journey_in=body)
        ),
    )


@router.get(
    "/journeys/{journey_id}", response_model=JourneyRead, tags=TAGS, summary="Read a journey"
)
def read_journey(journey_id: str, session: SessionDep, actor: ActorDep) -> JourneyRead:
    """Return one journey with its stages in order."""
    journey = service.get_journey(db_session=session, actor=actor, journey_id=journey_id)
    return JourneyRead.model_validate(journey)


@router.patch(
    "/journeys/{journey_id}", response_model=JourneyRead, tags=TAGS, summary="Update a journey"
)
def update_journey(
    journey_id: str, body: JourneyUpdate, session: SessionDep, actor: ActorDep
) -> JourneyRead:
    """Rename a journey or change its description."""
    journey = service.update_journey(
        db_session=session, actor=actor, journey_id=journey_id, journey_in=body
    )
    return JourneyRead.model_validate(journey)


@router.delete("/journeys/{journey_id}", status_code=204, tags=TAGS, summary="Delete a journey")
def delete_journey(journey_id: str, session: SessionDep, actor: ActorDep) -> Response:
    """Delete a journey and its stages; its touchpoints remain, without a stage."""
    service.delete_journey(db_session=session, actor=actor, journey_id=journey_id)
    return Response(status_code=204)


@router.post(
    "/journeys/{journey_id}/stages",
    response_model=JourneyStageRead,
    status_code=201,
    tags=TAGS,
    summary="Add a stage",
)
def create_stage(
    journey_id: str,
    body: JourneyStageCreate,
    session: SessionDep,
    actor: ActorDep,
    write: WriteRequestDep,
) -> JSONResponse:
    """Insert a stage at a position (later stages move down) or append it."""
    return respond(
        write,
        db_session=session,
        actor=actor,
        status_code=201,
        write=lambda: JourneyStageRead.model_validate(
            service.add_stage(db_session=session, actor=actor, journey_id=journey_id, stage_in=body)
        ),
    )


@router.patch(
    "/journeys/{journey_id}/stages/{stage_id}",
    response_model=JourneyStageRead,
    tags=TAGS,
    summary="Rename or move a stage",
)
def update_stage(
    journey_id: str, stage_id: str, body: JourneyStageUpdate, session: SessionDep, actor: ActorDep
) -> JourneyStageRead:
    """Rename a stage or move it to a new position; positions stay 0..n-1."""
    stage = service.update_stage(
        db_session=session, actor=actor, journey_id=journey_id, stage_id=stage_id, stage_in=body
    )
    return JourneyStageRead.model_validate(stage)


@router.delete(
    "/journeys/{journey_id}/stages/{stage_id}",
    status_code=204,
    tags=TAGS,
    summary="Delete a stage",
)
def delete_stage(journey_id: str, stage_id: str, session: SessionDep, actor: ActorDep) -> Response:
    """Delete a stage; later stages move up and its touchpoints remain, without a stage."""
    service.delete_stage(db_session=session, actor=actor, journey_id=journey_id, stage_id=stage_id)
    return Response(status_code=204)


@router.get(
    "/touchpoints", response_model=Page[TouchpointRead], tags=TAGS, summary="List touchpoints"
)
def list_touchpoints(
    session: SessionDep,
    actor: ActorDep,
    params: ListParamsDep,
    journey_id: Annotated[
        str | None, Query(description="Only touchpoints on a stage of this journey.")
    ] = None,
) -> Page[TouchpointRead]:
    """List touchpoints; filter by name, channel, owner_department, controllable, journey_id."""
    items, total = service.list_touchpoints(
        db_session=session, actor=actor, params=params, journey_id=journey_id
    )
    return Page(
        items=[TouchpointRead.model_validate(i) for i in items],
        total=total,
        limit=params.limit,
        offset=params.offset,
    )


@router.post(
    "/touchpoints",
    response_model=TouchpointRead,
    status_code=201,
    tags=TAGS,
    summary="Create a touchpoint",
)
def create_touchpoint(
    body: TouchpointCreate, session: SessionDep, actor: ActorDep, write: WriteRequestDep
) -> JSONResponse:
    """Create a touchpoint with its channel and owner department, optionally on a stage."""
    return respond(
        write,
        db_session=session,
        actor=actor,
        status_code=201,
        write=lambda: TouchpointRead.model_validate(
            service.create_touchpoint(db_session=session, actor=actor, touchpoint_in=body)
        ),
    )


@router.get(
    "/touchpoints/{touchpoint_id}",
    response_model=TouchpointRead,
    tags=TAGS,
    summary="Read a touchpoint",
)
def read_touchpoint(touchpoint_id: str, session: SessionDep, actor: ActorDep) -> TouchpointRead:
    """Return one touchpoint with its stage name and journey."""
    touchpoint = service.get_touchpoint(
        db_session=session, actor=actor, touchpoint_id=touchpoint_id
    )
    return TouchpointRead.model_validate(touchpoint)


@router.patch(
    "/touchpoints/{touchpoint_id}",
    response_model=TouchpointRead,
    tags=TAGS,
    summary="Update a touchpoint",
)
def update_touchpoint(
    touchpoint_id: str, body: TouchpointUpdate, session: SessionDep, actor: ActorDep
) -> TouchpointRead:
    """Change a touchpoint; send `stage_id: null` to take it off its stage."""
    touchpoint = service.update_touchpoint(
        db_session=session, actor=actor, touchpoint_id=touchpoint_id, touchpoint_in=body
    )
    return TouchpointRead.model_validate(touchpoint)


@router.delete(
    "/touchpoints/{touchpoint_id}", status_code=204, tags=TAGS, summary="Delete a touchpoint"
)
def delete_touchpoint(touchpoint_id: str, session: SessionDep, actor: ActorDep) -> Response:
    """Delete a touchpoint."""
    service.delete_touchpoint(db_session=session, actor=actor, touchpoint_id=touchpoint_id)
    return Response(status_code=204)
