"""Journeys with contiguously ordered stages, and the touchpoints placed on those stages."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from touchpoints.api.listing import ListParams, paginate
from touchpoints.auth.permissions import Permission, Principal, require
from touchpoints.errors import Conflict, InvalidInput, NotFound
from touchpoints.journeys.models import Journey, JourneyStage, Touchpoint
from touchpoints.journeys.schemas import (
    JourneyCreate,
    JourneyStageCreate,
    JourneyStageUpdate,
    JourneyUpdate,
    TouchpointCreate,
    TouchpointUpdate,
)


def journey_fields() -> dict[str, Any]:
    """Return the filterable and sortable journey columns."""
    return {
        "id": Journey.id,
        "name": Journey.name,
        "created_at": Journey.created_at,
        "updated_at": Journey.updated_at,
    }


def list_journeys(
    *, db_session: Session, actor: Principal, params: ListParams
) -> tuple[list[Journey], int]:
    """List the workspace's journeys, each with its stages in order."""
    require(actor, Permission.JOURNEYS_READ)
    statement = select(Journey).where(Journey.workspace_id == actor.workspace_id)
    return paginate(
        db_session, statement, params=params, fields=journey_fields(), default_sort="name"
    )


def get_journey(*, db_session: Session, actor: Principal, journey_id: str) -> Journey:
    """Return one journey of the caller's workspace."""
    require(actor, Permission.JOURNEYS_READ)
    return _find_journey(db_session, actor, journey_id)


def create_journey(*, db_session: Session, actor: Principal, journey_in: JourneyCreate) -> Journey:
    """Create a journey and, in the same write, its stages in the order given."""
    require(actor, Permission.JOURNEYS_WRITE)
    _ensure_journey_name_free(db_session, actor, journey_in.name)
    journey = Journey(
        workspace_id=actor.workspace_id,
        name=journey_in.name,
        description=journey_in.description,
        stages=[
            JourneyStage(workspace_id=actor.workspace_id, name=name, position=position)
            for position, name in enumerate(journey_in.stages)
        ],
    )
    db_session.add(journey)
    db_session.flush()
    return journey


def update_journey(
    *, db_session: Session, actor: Principal, journey_id: str, journey_in: JourneyUpdate
) -> Journey:
    """Rename a journey or change its description."""
    require(actor, Permission.JOURNEYS_WRITE)
    journey = _find_journey(db_session, actor, journey_id)
    changes = journey_in.model_dump(exclude_unset=True)
    if "name" in changes and changes["name"] != journey.name:
        _ensure_journey_name_free(db_session, actor, changes["name"], except_id=journey.id)
    for field, value in changes.items():
        setattr(journey, field, value)
    db_session.flush()
    return journey


def delete_journey(*, db_session: Session, actor: Principal, journey_id: str) -> None:
    """Delete a journey and its stages; its touchpoints stay, without a stage."""
    require(actor, Permission.JOURNEYS_WRITE)
    journey = _find_journey(db_session, actor, journey_id, for_update=True)
    _detach_touchpoints(db_session, [stage.id for stage in journey.stages])
    db_session.delete(journey)
    db_session.flush()


def add_stage(
    *, db_session: Session, actor: Principal, journey_id: str, stage_in: JourneyStageCreate
) -> JourneyStage:
    """Insert a stage at a position (the later stages move down) or append it."""
    require(actor, Permission.JOURNEYS_WRITE)
    journey = _find_journey(db_session, actor, journey_id, for_update=True)
    _ensure_stage_name_free(journey, stage_in.name)
    ordered = list(journey.stages)
    position = len(ordered) if stage_in.position is None else stage_in.position
    if position > len(ordered):
        raise InvalidInput("position", f"must be between 0 and {len(ordered)} for this journey")
    stage = JourneyStage(workspace_id=actor.workspace_id, name=stage_in.name, position=position)
    ordered.insert(position, stage)
    _renumber(journey, ordered)
    db_session.flush()
    return stage


def update_stage(
    *,
    db_session: Session,
    actor: Principal,
    journey_id: str,
    stage_id: str,
    stage_in: JourneyStageUpdate,
) -> JourneyStage:
    """Rename a stage or move it; the other stages shift so positions stay 0..n-1."""
    require(actor, Permission.JOURNEYS_WRITE)
    journey = _find_journey(db_session, actor, journey_id, for_update=True)
    stage = _find_stage(journey, stage_id)
    if stage_in.name is not None and stage_in.name != stage.name:
        _ensure_stage_name_free(journey, stage_in.name, except_id=stage.id)
        stage.name = stage_in.name
    if stage_in.position is not None:
        ordered = [other for other in journey.stages if other.id != stage.id]
        if stage_in.position > len(ordered):
            raise InvalidInput("position", f"must be between 0 and {len(ordered)} for this journey")
        ordered.insert(stage_in.position, stage)
        _renumber(journey, ordered)
    db_session.flush()
    return stage


def delete_stage(*, db_session: Session, actor: Principal, journey_id: str, stage_id: str) -> None:
    """Delete a stage, close the gap in the order, and detach its touchpoints."""
    require(actor, Permission.JOURNEYS_WRITE)
    journey = _find_journey(db_session, actor, journey_id, for_update=True)
    stage = _find_stage(journey, stage_id)
    _detach_touchpoints(db_session, [stage.id])
    _renumber(journey, [other for other in journey.stages if other.id != stage.id])
    db_session.flush()


def touchpoint_fields() -> dict[str, Any]:
    """Return the filterable and sortable touchpoint columns (journey_id via the stage)."""
    journey_of_stage = (
        select(JourneyStage.journey_id)
        .where(JourneyStage.id == Touchpoint.stage_id)
        .scalar_subquery()
    )
    return {
        "id": Touchpoint.id,
        "name": Touchpoint.name,
        "channel": Touchpoint.channel,
        "owner_department": Touchpoint.owner_department,
        "controllable": Touchpoint.controllable,
        "stage_id": Touchpoint.stage_id,
        "journey_id": journey_of_stage,
        "created_at": Touchpoint.created_at,
        "updated_at": Touchpoint.updated_at,
    }


def list_touchpoints(
    *, db_session: Session, actor: Principal, params: ListParams, journey_id: str | None = None
) -> tuple[list[Touchpoint], int]:
    """List the workspace's touchpoints, optionally only those on one journey's stages."""
    require(actor, Permission.JOURNEYS_READ)
    statement = select(Touchpoint).where(Touchpoint.workspace_id == actor.workspace_id)
    if journey_id is not None:
        if _journey_or_none(db_session, actor, journey_id) is None:
            raise InvalidInput("journey_id", f"no journey {journey_id!r} in this workspace")
        stage_ids = select(JourneyStage.id).where(JourneyStage.journey_id == journey_id)
        statement = statement.where(Touchpoint.stage_id.in_(stage_ids))
    return paginate(
        db_session, statement, params=params, fields=touchpoint_fields(), default_sort="name"
    )


def get_touchpoint(*, db_session: Session, actor: Principal, touchpoint_id: str) -> Touchpoint:
    """Return one touchpoint of the caller's workspace."""
    require(actor, Permission.JOURNEYS_READ)
    touchpoint = db_session.get(Touchpoint, touchpoint_id)
    if touchpoint is None or touchpoint.workspace_id != actor.workspace_id:
        raise NotFound(f"touchpoint {touchpoint_id} not found")
    return touchpoint


def create_touchpoint(
    *, db_session: Session, actor: Principal, touchpoint_in: TouchpointCreate
) -> Touchpoint:
    """Create a touchpoint, optionally on a stage of one of the workspace's journeys."""
    require(actor, Permission.JOURNEYS_WRITE)
    _ensure_touchpoint_name_free(db_session, actor, touchpoint_in.name)
    stage = _stage_for_touchpoint(db_session, actor, touchpoint_in.stage_id)
    touchpoint = Touchpoint(
        workspace_id=actor.workspace_id,
        name=touchpoint_in.name,
        description=touchpoint_in.description,
        channel=touchpoint_in.channel.value,
        owner_department=touchpoint_in.owner_department,
        controllable=touchpoint_in.controllable,
        stage=stage,
    )
    db_session.add(touchpoint)
    db_session.flush()
    return touchpoint


def update_touchpoint(
    *, db_session: Session, actor: Principal, touchpoint_id: str, touchpoint_in: TouchpointUpdate
) -> Touchpoint:
    """Change a touchpoint; a null stage_id takes it off its stage."""
    require(actor, Permission.JOURNEYS_WRITE)
    touchpoint = get_touchpoint(db_session=db_session, actor=actor, touchpoint_id=touchpoint_id)
    changes = touchpoint_in.model_dump(exclude_unset=True)
    if "name" in changes and changes["name"] != touchpoint.name:
        _ensure_touchpoint_name_free(db_session, actor, changes["name"], except_id=touchpoint.id)
    if "stage_id" in changes:
        # Set the relationship, not the column, so the stage shown in the answer is current.
        touchpoint.stage = _stage_for_touchpoint(db_session, actor, changes.pop("stage_id"))
    for field, value in changes.items():
        setattr(touchpoint, field, value)
    db_session.flush()
    return touchpoint


def delete_touchpoint(*, db_session: Session, actor: Principal, touchpoint_id: str) -> None:
    """Delete a touchpoint."""
    require(actor, Permission.JOURNEYS_WRITE)
    touchpoint = get_touchpoint(db_session=db_session, actor=actor, touchpoint_id=touchpoint_id)
    db_session.delete(touchpoint)
    db_session.flush()


def _journey_or_none(
    db_session: Session, actor: Principal, journey_id: str, *, for_update: bool = False
) -> Journey | None:
    statement = select(Journey).where(
        Journey.id == journey_id, Journey.workspace_id == actor.workspace_id
    )
    # Lock the journey row so concurrent stage edits cannot leave duplicate positions.
    if for_update:
        statement = statement.with_for_update()
    return db_session.scalar(statement)


def _find_journey(
    db_session: Session, actor: Principal, journey_id: str, *, for_update: bool = False
) -> Journey:
    journey = _journey_or_none(db_session, actor, journey_id, for_update=for_update)
    if journey is None:
        raise NotFound(f"journey {journey_id} not found")
    return journey


def _find_stage(journey: Journey, stage_id: str) -> JourneyStage:
    for stage in journey.stages:
        if stage.id == stage_id:
            return stage
    raise NotFound(f"stage {stage_id} not found in journey {journey.id}")


def _renumber(journey: Journey, ordered: list[JourneyStage]) -> None:
    # Assigning the list also removes (delete-orphan) any stage left out of it.
    journey.stages = ordered
    for position, stage in enumerate(ordered):
        stage.position = position


def _detach_touchpoints(db_session: Session, stage_ids: list[str]) -> None:
    if not stage_ids:
        return
    touchpoints = db_session.scalars(select(Touchpoint).where(Touchpoint.stage_id.in_(stage_ids)))
    for touchpoint in touchpoints:
        touchpoint.stage = None


def _stage_for_touchpoint(
    db_session: Session, actor: Principal, stage_id: str | None
) -> JourneyStage | None:
    if stage_id is None:
        return None
    stage = db_session.get(JourneyStage, stage_id)
    if stage is None or stage.workspace_id != actor.workspace_id:
        raise InvalidInput(
            "stage_id", f"no journey stage {stage_id!r} in this workspace; see GET /journeys"
        )
    return stage


def _ensure_journey_name_free(
    db_session: Session, actor: Principal, name: str, *, except_id: str | None = None
) -> None:
    statement = select(Journey.id).where(
        Journey.workspace_id == actor.workspace_id,
        func.lower(Journey.name) == name.lower(),
    )
    if except_id is not None:
        statement = statement.where(Journey.id != except_id)
    if db_session.scalar(statement.limit(1)) is not None:
        raise Conflict(f"a journey named {name!r} already exists in this workspace; pick another")


def _ensure_touchpoint_name_free(
    db_session: Session, actor: Principal, name: str, *, except_id: str | None = None
) -> None:
    statement = select(Touchpoint.id).where(
        Touchpoint.workspace_id == actor.workspace_id,
        func.lower(Touchpoint.name) == name.lower(),
    )
    if except_id is not None:
        statement = statement.where(Touchpoint.id != except_id)
    if db_session.scalar(statement.limit(1)) is not None:
        raise Conflict(
            f"a touchpoint named {name!r} already exists in this workspace; pick another"
        )


def _ensure_stage_name_free(journey: Journey, name: str, *, except_id: str | None = None) -> None:
    for stage in journey.stages:
        if stage.id != except_id and stage.name.lower() == name.lower():
            raise Conflict(f"journey {journey.name!r} already has a stage named {name!r}")
