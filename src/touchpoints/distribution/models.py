"""Invitations to answer a survey through a personal link, and unsubscribes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from touchpoints.db.base import Base, IdMixin, JSONDocument, TimestampMixin, WorkspaceMixin, utcnow


class InvitationChannel(StrEnum):
    """How an invitation reaches the customer."""

    EMAIL = "email"
    SMS = "sms"
    # Opened in the customer's own session through the embeddable widget.
    WEB = "web"


class InvitationStatus(StrEnum):
    """Where an invitation stands, from queued to completed."""

    QUEUED = "queued"
    SENT = "sent"
    # The SMS provider confirmed the message reached the phone (there is no delivered_at column).
    DELIVERED = "delivered"
    BOUNCED = "bounced"
    STARTED = "started"
    COMPLETED = "completed"
    FAILED = "failed"


class Invitation(IdMixin, TimestampMixin, WorkspaceMixin, Base):
    """One customer asked to answer one survey, with a personal link and reminders."""

    __tablename__ = "invitations"

    survey_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("surveys.id", ondelete="CASCADE"), index=True
    )
    customer_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    # The public link whose channel tags the answers; personal links resume responses on it.
    link_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("survey_links.id", ondelete="CASCADE")
    )
    channel: Mapped[str] = mapped_column(String(20), default=InvitationChannel.EMAIL.value)
    # SHA-256 of the personal token, set when the link is first sent; the token is never stored.
    token_sha256: Mapped[str | None] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=InvitationStatus.QUEUED.value)
    address: Mapped[str | None] = mapped_column(String(320))
    sent_at: Mapped[datetime | None] = mapped_column()
    bounced_at: Mapped[datetime | None] = mapped_column()
    started_at: Mapped[datetime | None] = mapped_column()
    completed_at: Mapped[datetime | None] = mapped_column()
    failure: Mapped[str | None] = mapped_column(String(1000))
    # Days after sending at which a reminder goes out, like [3, 7].
    reminder_days: Mapped[list[int]] = mapped_column(JSONDocument, default=list)
    reminder_count: Mapped[int] = mapped_column(default=0)
    next_reminder_at: Mapped[datetime | None] = mapped_column(index=True)
    expires_at: Mapped[datetime] = mapped_column()
    response_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("survey_responses.id", ondelete="SET NULL")
    )


class Unsubscribe(IdMixin, WorkspaceMixin, Base):
    """A customer's request to receive no more survey invitations on a channel."""

    __tablename__ = "unsubscribes"

    customer_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    invitation_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("invitations.id", ondelete="SET NULL")
    )
    channel: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
