"""Factories for journeys, stages and touchpoints."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from sqlalchemy.orm import Session

from touchpoints.journeys.models import Channel, Journey, JourneyStage, Touchpoint

_sequence = itertools.count(1)
DEFAULT_STAGES = ("awareness", "purchase", "onboarding", "support")


def make_journey(
    db_session: Session,
    *,
    workspace_id: str,
    name: str | None = None,
    stages: Sequence[str] = DEFAULT_STAGES,
) -> Journey:
    """Create a journey with its stages in the order given."""
    journey = Journey(
        workspace_id=workspace_id,
        name=name or f"Journey {next(_sequence)}",
        stages=[
            JourneyStage(workspace_id=workspace_id, name=stage_name, position=position)
            for position, stage_name in enumerate(stages)
        ],
    )
    db_session.add(journey)
    db_session.flush()
    return journey


def make_touchpoint(
    db_session: Session,
    *,
    workspace_id: str,
    name: str | None = None,
    channel: Channel = Channel.WEB,
    owner_department: str = "service",
    controllable: bool = True,
    stage: JourneyStage | None = None,
) -> Touchpoint:
    """Create a touchpoint, optionally on a stage."""
    touchpoint = Touchpoint(
        workspace_id=workspace_id,
        name=name or f"Touchpoint {next(_sequence)}",
        channel=channel.value,
        owner_department=owner_department,
        controllable=controllable,
        stage=stage,
    )
    db_session.add(touchpoint)
    db_session.flush()
    return touchpoint
