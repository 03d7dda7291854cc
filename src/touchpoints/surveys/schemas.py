"""Schemas of the surveys API: surveys, versions and public links."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from touchpoints.journeys.models import Channel

DocumentFormat = Literal["yaml", "json"]


class SurveyCreate(BaseModel):
    """A new survey: its definition (validated) and where it is asked."""

    definition: dict[str, Any] = Field(
        description="The questionnaire; see docs/surveys.md for the format."
    )
    touchpoint_id: str | None = None
    stage_id: str | None = None


class SurveyUpdate(BaseModel):
    """A new draft definition or new links; a published survey gets a draft of its next version."""

    definition: dict[str, Any] | None = None
    touchpoint_id: str | None = None
    stage_id: str | None = None


class SurveyRead(BaseModel):
    """A survey as the API returns it."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    status: str
    touchpoint_id: str | None
    stage_id: str | None
    default_language: str
    languages: list[str]
    latest_version: int | None = Field(description="Number of the last published version.")
    draft_definition: dict[str, Any] | None = Field(
        description="Unpublished changes (the next version), or null when there are none."
    )
    created_at: datetime
    updated_at: datetime


class SurveyVersionRead(BaseModel):
    """A published, unchangeable version of a survey."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    survey_id: str
    number: int
    definition: dict[str, Any]
    published_at: datetime


class SurveyLinkCreate(BaseModel):
    """A new anonymous public link, tagged with the channel it will be shared in."""

    channel: Channel = Channel.WEB


class SurveyLinkRead(BaseModel):
    """A public link: respondents open `/s/{token}`."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    survey_id: str
    token: str
    channel: str
    path: str = Field(description="Path of the respondent page on this site.")
    created_at: datetime
