"""Stage order through the service: every sequence of edits keeps positions 0..n-1."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import Caller
from tests.factories.journeys import make_touchpoint
from touchpoints.api.listing import ListParams
from touchpoints.auth.permissions import Principal, Role
from touchpoints.errors import PermissionDenied
from touchpoints.journeys import service
from touchpoints.journeys.models import JourneyStage
from touchpoints.journeys.schemas import JourneyCreate, JourneyStageCreate, JourneyStageUpdate


def _stored_order(db_session: Session, journey_id: str) -> list[tuple[int, str]]:
    rows = db_session.execute(
        select(JourneyStage.position, JourneyStage.name)
        .where(JourneyStage.journey_id == journey_id)
        .order_by(JourneyStage.position)
    )
    return [(position, name) for position, name in rows]


def test_random_edits_match_a_plain_list(admin: Caller, db_session: Session) -> None:
    actor = admin.principal
    journey = service.create_journey(
        db_session=db_session, actor=actor, journey_in=JourneyCreate(name="J", stages=["s0"])
    )
    expected = ["s0"]
    chooser = random.Random(7)
    for step in range(1, 40):
        action = chooser.choice(["add", "move", "delete"] if expected else ["add"])
        if action == "add":
            position = chooser.randint(0, len(expected))
            stage_in = JourneyStageCreate(name=f"s{step}", position=position)
            service.add_stage(
                db_session=db_session, actor=actor, journey_id=journey.id, stage_in=stage_in
            )
            expected.insert(position, f"s{step}")
            continue
        name = chooser.choice(expected)
        stage_id = next(s.id for s in journey.stages if s.name == name)
        expected.remove(name)
        if action == "move":
            position = chooser.randint(0, len(expected))
            service.update_stage(
                db_session=db_session,
                actor=actor,
                journey_id=journey.id,
                stage_id=stage_id,
                stage_in=JourneyStageUpdate(position=position),
            )
            expected.insert(position, name)
        else:
            service.delete_stage(
                db_session=db_session, actor=actor, journey_id=journey.id, stage_id=stage_id
            )
        assert _stored_order(db_session, journey.id) == list(enumerate(expected))
    assert [s.name for s in journey.stages] == expected


def test_deleting_a_stage_detaches_its_touchpoints_in_the_session(
    admin: Caller, db_session: Session
) -> None:
    actor = admin.principal
    journey = service.create_journey(
        db_session=db_session, actor=actor, journey_in=JourneyCreate(name="J", stages=["a", "b"])
    )
    touchpoint = make_touchpoint(
        db_session, workspace_id=actor.workspace_id, stage=journey.stages[0]
    )
    service.delete_stage(
        db_session=db_session, actor=actor, journey_id=journey.id, stage_id=journey.stages[0].id
    )
    assert touchpoint.stage is None
    db_session.expire_all()
    assert touchpoint.stage_id is None
    assert _stored_order(db_session, journey.id) == [(0, "b")]


def test_roles_without_write_permission_cannot_edit(admin: Caller, db_session: Session) -> None:
    for role in (Role.MANAGER, Role.AGENT, Role.VIEWER):
        reader = Principal(workspace_id=admin.workspace_id, user_id="u", role=role)
        service.list_journeys(db_session=db_session, actor=reader, params=ListParams())
        with pytest.raises(PermissionDenied):
            service.create_journey(
                db_session=db_session, actor=reader, journey_in=JourneyCreate(name="No")
            )
