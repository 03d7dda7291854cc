"""Schemas for feedback items (X-data) and the scores a customer gave."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from touchpoints.journeys.models import Channel
from touchpoints.signals.schemas import (
    LinkId,
    Metadata,
    OccurredAt,
    SourceName,
    SourceRef,
    row_values,
)

MAX_TEXT_CHARS = 100_000
LANGUAGE_PATTERN = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
SCORE_COLUMNS = ("nps", "csat", "ces", "rating", "rating_scale")

Language = Annotated[
    str | None,
    Field(
        max_length=35,
        pattern=LANGUAGE_PATTERN,
        description="BCP-47 language tag (`en`, `de-CH`, `pt-BR`).",
    ),
]
Title = Annotated[str | None, Field(max_length=500)]


class Scores(BaseModel):
    """What the customer rated: NPS 0-10, CSAT 1-5, CES 1-7 and a custom rating."""

    model_config = ConfigDict(extra="forbid")

    nps: int | None = Field(default=None, ge=0, le=10, description="Likelihood to recommend.")
    csat: int | None = Field(default=None, ge=1, le=5, description="Satisfaction, 1-5.")
    ces: int | None = Field(default=None, ge=1, le=7, description="Ease (effort), 1-7.")
    rating_scale: int = Field(default=5, ge=1, le=100, description="Top of the rating scale.")
    rating: float | None = Field(
        default=None, ge=0, allow_inf_nan=False, description="A rating from 0 to rating_scale."
    )

    @field_validator("rating")
    @classmethod
    def _rating_within_scale(cls, rating: float | None, info: ValidationInfo) -> float | None:
        scale = info.data.get("rating_scale")
        if rating is not None and scale is not None and rating > scale:
            raise ValueError(f"must be at most rating_scale ({scale})")
        return rating

    def given(self) -> bool:
        """Tell whether any score was given."""
        return any(getattr(self, name) is not None for name in ("nps", "csat", "ces", "rating"))

    def columns(self) -> dict[str, Any]:
        """Return the values of the feedback item's score columns."""
        values = self.model_dump(include=set(SCORE_COLUMNS))
        if self.rating is None:
            values["rating_scale"] = None
        return values


class FeedbackItemBase(BaseModel):
    """Fields shared by feedback-item schemas."""

    solicited: bool = Field(
        default=False, description="True for answers to a survey, false for reviews, posts..."
    )
    source: SourceName = "api"
    source_ref: SourceRef = None
    channel: Channel = Field(default=Channel.OTHER, description="Where the customer said it.")
    touchpoint_id: LinkId = None
    customer_id: LinkId = None
    org_unit_id: LinkId = None
    occurred_at: OccurredAt
    title: Title = None
    text: str | None = Field(default=None, max_length=MAX_TEXT_CHARS, description="What was said.")
    language: Language = None
    metadata: Metadata = Field(default_factory=dict)


class FeedbackItemCreate(FeedbackItemBase):
    """A new feedback item: it needs text, at least one score, or both."""

    model_config = ConfigDict(extra="forbid")

    scores: Scores | None = None

    @model_validator(mode="after")
    def _something_said(self) -> FeedbackItemCreate:
        has_text = self.text is not None and self.text.strip() != ""
        if not has_text and (self.scores is None or not self.scores.given()):
            raise ValueError("give text, at least one score (scores.nps, scores.csat...), or both")
        return self


class FeedbackItemUpdate(BaseModel):
    """Changes to a feedback item's links and labels; what the customer said stays as said."""

    model_config = ConfigDict(extra="forbid")

    touchpoint_id: LinkId = None
    customer_id: LinkId = None
    org_unit_id: LinkId = None
    title: Title = None
    language: Language = None
    metadata: Metadata = Field(default_factory=dict)


class FeedbackItemRead(FeedbackItemBase):
    """A stored feedback item with its scores."""

    id: str
    received_at: datetime
    scores: Scores
    sentiment: str | None = Field(
        default=None, description="negative, neutral or positive, once text analytics ran."
    )
    topics: list[str] | None = Field(
        default=None, description="Topics of the governed taxonomy, once text analytics ran."
    )

    @model_validator(mode="before")
    @classmethod
    def _from_row(cls, data: Any) -> Any:
        # The ORM keeps scores in columns.
        if isinstance(data, dict):
            return data
        scores = {name: getattr(data, name) for name in SCORE_COLUMNS}
        if scores["rating_scale"] is None:
            del scores["rating_scale"]
        enrichment = {"sentiment": data.sentiment, "topics": data.topics}
        return row_values(data, FeedbackItemBase) | {"scores": scores} | enrichment
