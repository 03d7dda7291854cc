"""Schemas for journeys, their ordered stages, and touchpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AliasPath, BaseModel, ConfigDict, Field, StringConstraints, field_validator

from touchpoints.journeys.models import Channel

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
Department = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=80)
]
MAX_STAGES = 50


def refuse_null(value: object) -> object:
    """Reject an explicit null for a field that always has a value."""
    if value is None:
        raise ValueError("may not be null; leave the field out to keep its current value")
    return value


class JourneyStageCreate(BaseModel):
    """A new stage, at a position (0 is first) or, without one, at the end."""

    name: Name
    position: int | None = Field(
        default=None, ge=0, description="Where to insert the stage; leave out to append it."
    )


class JourneyStageUpdate(BaseModel):
    """A new name or position for a stage; the other stages shift to keep the order."""

    name: Name | None = None
    position: int | None = Field(default=None, ge=0, description="The stage's new place (0 first).")

    _not_null = field_validator("name", "position")(refuse_null)


class JourneyStageRead(BaseModel):
    """A stage of a journey and its place in the journey's order."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    journey_id: str
    name: str
    position: int


class JourneyBase(BaseModel):
    """Fields shared by journey schemas."""

    name: Name = Field(description="Unique in the workspace, e.g. 'Commuter journey'.")
    description: Description | None = None


class JourneyCreate(JourneyBase):
    """A new journey, optionally with its stages in order."""

    stages: list[Name] = Field(
        default_factory=list,
        max_length=MAX_STAGES,
        description="Stage names in journey order, e.g. ['awareness', 'purchase', 'support'].",
    )

    @field_validator("stages")
    @classmethod
    def _unique_stage_names(cls, stages: list[str]) -> list[str]:
        seen: set[str] = set()
        for stage in stages:
            if stage.casefold() in seen:
                raise ValueError(f"stage names must be unique within a journey; {stage!r} repeats")
            seen.add(stage.casefold())
        return stages


class JourneyUpdate(BaseModel):
    """Changes to a journey's name or description (stages have their own routes)."""

    name: Name | None = None
    description: Description | None = None

    _not_null = field_validator("name")(refuse_null)


class JourneyRead(JourneyBase):
    """A journey with its stages in order."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    stages: list[JourneyStageRead]
    created_at: datetime
    updated_at: datetime


class TouchpointBase(BaseModel):
    """Fields shared by touchpoint schemas."""

    name: Name = Field(description="Unique in the workspace, e.g. 'Website checkout'.")
    description: Description | None = None
    channel: Channel
    owner_department: Department = Field(
        description="Department that owns it (stored trimmed and lowercase): service, billing ..."
    )
    controllable: bool = Field(
        default=True, description="False when a partner or third party runs it."
    )
    stage_id: str | None = Field(default=None, description="The journey stage it belongs to.")


class TouchpointCreate(TouchpointBase):
    """A new touchpoint."""


class TouchpointUpdate(BaseModel):
    """Changes to a touchpoint; `stage_id: null` detaches it from its stage."""

    name: Name | None = None
    description: Description | None = None
    channel: Channel | None = None
    owner_department: Department | None = None
    controllable: bool | None = None
    stage_id: str | None = None

    _not_null = field_validator("name", "channel", "owner_department", "controllable")(refuse_null)


class TouchpointRead(TouchpointBase):
    """A touchpoint with its stage's name and journey, when it has a stage."""

    model_config = ConfigDict(from_attributes=True, validate_by_name=True)

    id: str
    # Read through the ORM `stage` relationship; absent (None) when there is no stage.
    stage_name: str | None = Field(default=None, validation_alias=AliasPath("stage", "name"))
    journey_id: str | None = Field(default=None, validation_alias=AliasPath("stage", "journey_id"))
    created_at: datetime
    updated_at: datetime
