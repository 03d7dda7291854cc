"""Feedback item and training-label tables."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from touchpoints.db.base import Base, IdMixin, WorkspaceMixin, utcnow
from touchpoints.feedback.search import attach_search_ddl

# A list of topic names; Python None is SQL NULL (not JSON 'null') so "not enriched" is a NULL.
TopicList = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


class FeedbackItem(IdMixin, WorkspaceMixin, Base):
    """Anything a customer said, solicited or not, with its scores per metric."""

    __tablename__ = "feedback_items"
    __table_args__ = (
        UniqueConstraint("workspace_id", "source", "source_ref"),
        Index("ix_feedback_items_workspace_occurred", "workspace_id", "occurred_at"),
        Index("ix_feedback_items_workspace_touchpoint", "workspace_id", "touchpoint_id"),
        Index("ix_feedback_items_workspace_customer", "workspace_id", "customer_id"),
        Index("ix_feedback_items_workspace_org_unit", "workspace_id", "org_unit_id"),
    )

    # Every index of the table starts with the workspace: no index of the column alone (one
    # fewer B-tree to keep on every insert).
    workspace_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("workspaces.id", ondelete="CASCADE")
    )
    solicited: Mapped[bool] = mapped_column()
    source: Mapped[str] = mapped_column(String(64))
    source_ref: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(20))
    touchpoint_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("touchpoints.id", ondelete="SET NULL")
    )
    customer_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("customers.id", ondelete="SET NULL")
    )
    org_unit_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("org_units.id", ondelete="SET NULL")
    )
    occurred_at: Mapped[datetime] = mapped_column()
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    title: Mapped[str | None] = mapped_column(String(500))
    text: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(35))
    nps: Mapped[int | None] = mapped_column(SmallInteger)
    csat: Mapped[int | None] = mapped_column(SmallInteger)
    ces: Mapped[int | None] = mapped_column(SmallInteger)
    rating: Mapped[float | None] = mapped_column(Float)
    rating_scale: Mapped[int | None] = mapped_column(SmallInteger)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)
    # Enrichment: filled by text analytics (or corrected by people); None until then.
    sentiment: Mapped[str | None] = mapped_column(String(20))
    topics: Mapped[list[str] | None] = mapped_column(TopicList)


attach_search_ddl(FeedbackItem.__table__)


class Sentiment(StrEnum):
    """The tone of a feedback item as a whole."""

    NEGATIVE = "negative"
    NEUTRAL = "neutral"
    POSITIVE = "positive"


class LabelKind(StrEnum):
    """What a person corrected on a feedback item."""

    TOPIC = "topic"
    SENTIMENT = "sentiment"


class FeedbackLabel(IdMixin, WorkspaceMixin, Base):
    """A person's correction of an item's enrichment: a training label for text analytics."""

    __tablename__ = "feedback_labels"

    feedback_item_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("feedback_items.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    # Topics are stored as the full corrected set, comma-separated and sorted.
    value: Mapped[str] = mapped_column(String(1000))
    previous_value: Mapped[str | None] = mapped_column(String(1000))
    user_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
