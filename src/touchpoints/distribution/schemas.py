"""Request and answer shapes of the distribution API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_CUSTOMERS_PER_REQUEST = 5000


class InvitationCreate(BaseModel):
    """Invite customers (a list of ids or one segment) to answer a survey."""

    customer_ids: list[str] | None = Field(
        default=None, max_length=MAX_CUSTOMERS_PER_REQUEST, description="Customers to invite."
    )
    segment_id: str | None = Field(default=None, description="Invite every customer of a segment.")
    channel: Literal["email", "sms"] = Field(
        default="email", description="How to reach them: `email`, or `sms` to their phone."
    )
    reminders: list[int] = Field(
        default_factory=list,
        max_length=5,
        description="Days after sending at which to remind non-respondents, like [3, 7].",
    )
    contact_frequency_days: int | None = Field(
        default=None,
        ge=0,
        le=3650,
        description="Override the workspace's minimum days between two invitations.",
    )
    expires_in_days: int = Field(default=30, ge=1, le=365, description="Days the link works.")

    @model_validator(mode="after")
    def _one_audience(self) -> InvitationCreate:
        if (self.customer_ids is None) == (self.segment_id is None):
            raise ValueError("give either customer_ids or segment_id")
        if any(day < 1 or day > 365 for day in self.reminders):
            raise ValueError("reminders are days between 1 and 365")
        if self.reminders != sorted(set(self.reminders)):
            raise ValueError("reminders must be increasing days without repeats")
        return self


class InvitationRead(BaseModel):
    """An invitation and where it stands."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    survey_id: str
    customer_id: str
    channel: str
    status: str
    address: str | None
    sent_at: datetime | None
    bounced_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    reminder_count: int
    next_reminder_at: datetime | None
    expires_at: datetime
    created_at: datetime


class SkippedCustomer(BaseModel):
    """A customer not invited, and why."""

    customer_id: str
    reason: str


class InvitationBatch(BaseModel):
    """What a send request did: the invitations queued and the customers skipped."""

    invited: list[InvitationRead]
    skipped: list[SkippedCustomer]


class ChannelRate(BaseModel):
    """Response numbers of one channel: sent, delivered, started, completed and completed/sent."""

    channel: str
    sent: int
    delivered: int = Field(
        description="Known to have reached the customer: confirmed by the SMS provider, or opened."
    )
    bounced: int
    started: int
    completed: int
    response_rate: float | None = Field(description="completed / sent; null when nothing sent.")


class ResponseRates(BaseModel):
    """Response numbers of a survey's invitations, per channel."""

    survey_id: str
    channels: list[ChannelRate]


class DeliveryStatusIn(BaseModel):
    """A delivery report the SMS provider posts back for one message."""

    reference: str = Field(
        min_length=3,
        max_length=80,
        description="The `reference` Touchpoints sent the message with.",
    )
    status: Literal["delivered", "bounced"] = Field(description="What became of the message.")
    error: str | None = Field(default=None, max_length=500, description="Why it bounced.")
    message_id: str | None = Field(default=None, max_length=200, description="The provider's id.")


class DeliveryStatusRead(BaseModel):
    """The invitation a delivery report was applied to, and where it stands now."""

    invitation_id: str
    status: str


class WidgetSecretRead(BaseModel):
    """The secret a workspace's own backend signs widget openings with."""

    secret: str = Field(description="Sign each opening with HMAC-SHA256 and this secret.")
    version: int = Field(description="Goes up by one on each rotation.")
