"""Survey, its immutable published versions, public links and responses."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from touchpoints.db.base import Base, IdMixin, JSONDocument, TimestampMixin, WorkspaceMixin, utcnow

# A draft definition; Python None is SQL NULL, meaning "nothing changed since the last publish".
OptionalDocument = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


class SurveyStatus(StrEnum):
    """Whether a survey collects answers."""

    DRAFT = "draft"
    ACTIVE = "active"
    CLOSED = "closed"


class ResponseStatus(StrEnum):
    """How far a respondent got."""

    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


class Survey(IdMixin, TimestampMixin, WorkspaceMixin, Base):
    """A questionnaire asked at a touchpoint, with an editable draft and published versions."""

    __tablename__ = "surveys"

    name: Mapped[str] = mapped_column(String(200))
    touchpoint_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("touchpoints.id", ondelete="SET NULL"), index=True
    )
    stage_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("journey_stages.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(20), default=SurveyStatus.DRAFT.value)
    default_language: Mapped[str] = mapped_column(String(35))
    languages: Mapped[list[str]] = mapped_column(JSONDocument)
    draft_definition: Mapped[dict[str, Any] | None] = mapped_column(OptionalDocument)
    latest_version: Mapped[int | None] = mapped_column()


class SurveyVersion(IdMixin, WorkspaceMixin, Base):
    """A published definition; never changed afterwards, so responses keep their meaning."""

    __tablename__ = "survey_versions"
    __table_args__ = (UniqueConstraint("survey_id", "number"),)

    survey_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("surveys.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column()
    definition: Mapped[dict[str, Any]] = mapped_column()
    published_at: Mapped[datetime] = mapped_column(default=utcnow)


class SurveyLink(IdMixin, WorkspaceMixin, Base):
    """An anonymous public address of a survey, tagged with the channel it is shared in."""

    __tablename__ = "survey_links"

    survey_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("surveys.id", ondelete="CASCADE"), index=True
    )
    token: Mapped[str] = mapped_column(String(64), unique=True)
    channel: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SurveyResponse(IdMixin, TimestampMixin, WorkspaceMixin, Base):
    """One respondent's answers to one survey version, saved page by page."""

    __tablename__ = "survey_responses"

    survey_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("surveys.id", ondelete="CASCADE"), index=True
    )
    version_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("survey_versions.id", ondelete="CASCADE"), index=True
    )
    link_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("survey_links.id", ondelete="SET NULL")
    )
    resume_token: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=ResponseStatus.IN_PROGRESS.value)
    language: Mapped[str] = mapped_column(String(35))
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Index of the next page to show when the respondent comes back.
    page: Mapped[int] = mapped_column(default=0)
    completed_at: Mapped[datetime | None] = mapped_column()
    feedback_item_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("feedback_items.id", ondelete="SET NULL")
    )
