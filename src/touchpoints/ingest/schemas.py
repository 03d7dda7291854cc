"""Schemas of ingestion batches, their per-item answers, transcripts and webhook sources."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import (
    AliasChoices,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    model_validator,
)

from touchpoints.ingest.models import WebhookKind
from touchpoints.signals.schemas import SourceName

MAX_BATCH_ITEMS = 1_000
MAX_TURNS = 1_000
MAX_TURN_CHARS = 10_000


class ItemStatus(StrEnum):
    """What became of one item of a batch."""

    CREATED = "created"
    UPDATED = "updated"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


class ItemError(BaseModel):
    """Why an item was rejected: the field (inside the item) and the reason."""

    field: str = Field(description="Path of the field inside the item (`scores.nps`).")
    reason: str


class ItemResult(BaseModel):
    """The answer for one item, by its position in the batch."""

    index: int = Field(description="Position of the item in `items`, from 0.")
    status: ItemStatus
    id: str | None = Field(
        default=None, description="The stored row: new, updated, or the one already stored."
    )
    customer_id: str | None = Field(
        default=None, description="The customer the item was linked to, if any."
    )
    errors: list[ItemError] = Field(default_factory=list)


class BatchResult(BaseModel):
    """What happened to every item of a batch; rejected items were not stored."""

    created: int
    updated: int
    duplicate: int
    rejected: int
    items: list[ItemResult]

    @classmethod
    def of(cls, items: list[ItemResult]) -> BatchResult:
        """Summarize per-item answers."""
        counts = dict.fromkeys(ItemStatus, 0)
        for item in items:
            counts[item.status] += 1
        return cls(
            created=counts[ItemStatus.CREATED],
            updated=counts[ItemStatus.UPDATED],
            duplicate=counts[ItemStatus.DUPLICATE],
            rejected=counts[ItemStatus.REJECTED],
            items=items,
        )


class BatchIn(BaseModel):
    """Up to 1,000 items; each one is checked and stored or rejected on its own."""

    model_config = ConfigDict(extra="forbid")

    items: list[Any] = Field(
        min_length=1,
        max_length=MAX_BATCH_ITEMS,
        description=(
            "JSON objects shaped like the single-item write (`POST /feedback`, `POST /events`, "
            "`POST /customers`); feedback and events may name their customer with `customer`."
        ),
    )
    create_customers: bool = Field(
        default=True,
        description="Create a customer when `customer` matches nobody (feedback and events).",
    )


class CustomerRef(BaseModel):
    """Who an item is about, by identity instead of id."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=64, description="Any common format.")
    external_id: str | None = Field(default=None, max_length=320)
    external_id_source: str = Field(
        default="",
        max_length=64,
        validation_alias=AliasChoices("external_id_source", "source"),
        description="Namespace of `external_id` (`crm`); `source` is accepted too.",
    )

    @model_validator(mode="after")
    def _names_someone(self) -> CustomerRef:
        if self.email is None and self.phone is None and self.external_id is None:
            raise ValueError("give an email, a phone or an external_id")
        if self.external_id is None and self.external_id_source:
            raise ValueError("send external_id together with its source")
        return self


class Speaker(StrEnum):
    """Who speaks in a turn of a chat or call transcript."""

    CUSTOMER = "customer"
    AGENT = "agent"
    BOT = "bot"


class Turn(BaseModel):
    """One turn of a conversation."""

    model_config = ConfigDict(extra="forbid")

    speaker: Speaker
    text: str = Field(min_length=1, max_length=MAX_TURN_CHARS)
    at: AwareDatetime | None = Field(default=None, description="When it was said, with timezone.")


class Transcript(BaseModel):
    """The turns of a conversation, in order."""

    turns: list[Turn] = Field(min_length=1, max_length=MAX_TURNS)

    def as_text(self) -> str:
        """Render the turns as `Speaker: text` lines."""
        return "\n".join(f"{turn.speaker.value.capitalize()}: {turn.text}" for turn in self.turns)

    def as_metadata(self) -> list[dict[str, Any]]:
        """Return the turns as JSON for the item's metadata."""
        return [turn.model_dump(mode="json", exclude_none=True) for turn in self.turns]


class WebhookSourceCreate(BaseModel):
    """A new webhook source: its name (the default `source` of its items) and what it sends."""

    model_config = ConfigDict(extra="forbid")

    name: SourceName
    kind: WebhookKind


class WebhookSourceRead(BaseModel):
    """A webhook source, without its secret."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    kind: WebhookKind
    created_at: datetime
    url: str = Field(description="Path to post deliveries to.")

    @model_validator(mode="before")
    @classmethod
    def _with_url(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return data
        return {
            "id": data.id,
            "name": data.name,
            "kind": data.kind,
            "created_at": data.created_at,
            "url": f"/api/v1/ingest/webhooks/{data.id}",
            **({"secret": data.secret} if cls is WebhookSourceCreated else {}),
        }


class WebhookSourceCreated(WebhookSourceRead):
    """A webhook source just created, with the secret shown this once."""

    secret: str = Field(description="Signs deliveries (HMAC-SHA256); shown only now.")


class MergeIn(BaseModel):
    """The customer to fold into the survivor."""

    model_config = ConfigDict(extra="forbid")

    duplicate_id: str = Field(min_length=1, max_length=32)
