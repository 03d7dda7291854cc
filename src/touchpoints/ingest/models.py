"""Webhook source table: who may push signed deliveries into a workspace."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from touchpoints.db.base import Base, IdMixin, WorkspaceMixin, utcnow


class WebhookKind(StrEnum):
    """What a webhook source delivers."""

    FEEDBACK = "feedback"
    EVENTS = "events"


class WebhookSource(IdMixin, WorkspaceMixin, Base):
    """A system allowed to post signed deliveries; its id is the last part of its URL."""

    __tablename__ = "webhook_sources"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    name: Mapped[str] = mapped_column(String(64))
    # Kept as given: an HMAC check needs the secret itself. Only admins can reach this table.
    secret: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(20))
    created_by_user_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
