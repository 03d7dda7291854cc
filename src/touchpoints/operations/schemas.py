"""Schemas for operational events (O-data): orders, renewals, contacts, delays."""

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

from touchpoints.operations.models import EventType
from touchpoints.signals.schemas import (
    LinkId,
    Metadata,
    OccurredAt,
    SourceName,
    SourceRef,
    row_values,
)

# Money changes hands in these events, so an amount means nothing without its currency.
PRICED_TYPES = frozenset({EventType.ORDER, EventType.SUBSCRIPTION})

EventName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=80,
        pattern=r"^[a-z0-9][a-z0-9_.-]*$",
        description="What happened, lowercase: `booking`, `flight_delay`, `renewal`.",
    ),
]
Amount = Annotated[
    float | None,
    Field(allow_inf_nan=False, description="An amount (order value, spend); negative for refunds."),
]
Currency = Annotated[
    str | None,
    Field(
        pattern=r"^[A-Z]{3}$",
        description=(
            "ISO 4217 code (`EUR`, `USD`); required with a value on orders and subscriptions."
        ),
    ),
]
Duration = Annotated[
    float | None,
    Field(ge=0, allow_inf_nan=False, description="How long it took (wait, handle, delay), in s."),
]


def currency_problem(
    event_type: str | None, value: float | None, currency: str | None
) -> str | None:
    """Return why value and currency do not fit together, or None when they do."""
    if currency is not None and value is None:
        return "give a value with the currency, or leave the currency out"
    if currency is None and value is not None and event_type in PRICED_TYPES:
        return f"required with a value on {event_type} events (ISO 4217, like EUR)"
    return None


def _upper_currency(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


class OperationalEventBase(BaseModel):
    """Fields shared by operational-event schemas."""

    type: EventType
    name: EventName
    source: SourceName = "api"
    source_ref: SourceRef = None
    occurred_at: OccurredAt
    customer_id: LinkId = None
    touchpoint_id: LinkId = None
    org_unit_id: LinkId = None
    value: Amount = None
    currency: Currency = None
    duration_seconds: Duration = None
    metadata: Metadata = Field(default_factory=dict)


class OperationalEventCreate(OperationalEventBase):
    """A new operational event."""

    model_config = ConfigDict(extra="forbid")

    currency: Currency = Field(default=None, validate_default=True)

    @field_validator("currency", mode="before")
    @classmethod
    def _normalize_currency(cls, currency: Any) -> Any:
        return _upper_currency(currency)

    @field_validator("currency")
    @classmethod
    def _currency_fits_value(cls, currency: str | None, info: ValidationInfo) -> str | None:
        if "type" not in info.data or "value" not in info.data:
            return currency  # already reported as invalid; a second error would mislead
        problem = currency_problem(info.data.get("type"), info.data.get("value"), currency)
        if problem is not None:
            raise ValueError(problem)
        return currency


class OperationalEventUpdate(BaseModel):
    """Corrections to an event: its name, time, links, amounts and metadata."""

    model_config = ConfigDict(extra="forbid")

    name: EventName | None = None
    occurred_at: OccurredAt | None = None
    customer_id: LinkId = None
    touchpoint_id: LinkId = None
    org_unit_id: LinkId = None
    value: Amount = None
    currency: Currency = None
    duration_seconds: Duration = None
    metadata: Metadata = Field(default_factory=dict)

    @field_validator("currency", mode="before")
    @classmethod
    def _normalize_currency(cls, currency: Any) -> Any:
        return _upper_currency(currency)

    @field_validator("name", "occurred_at")
    @classmethod
    def _not_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            raise ValueError(f"{info.field_name} cannot be removed; leave it out to keep it")
        return value


class OperationalEventRead(OperationalEventBase):
    """A stored operational event."""

    id: str
    received_at: datetime

    @model_validator(mode="before")
    @classmethod
    def _from_row(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return data
        return row_values(data, OperationalEventBase)
