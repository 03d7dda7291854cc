"""Schemas for customers, their identities and segments."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from touchpoints.customers.identities import IdentityKind

MAX_ATTRIBUTES = 100
MAX_ATTRIBUTE_KEY_LENGTH = 100
MAX_ATTRIBUTES_JSON_CHARS = 32_000
MAX_IDENTITIES_PER_REQUEST = 50


def check_attributes(attributes: dict[str, Any] | None) -> dict[str, Any] | None:
    """Refuse attribute documents that are not small, flat-keyed JSON objects."""
    if attributes is None:
        return None
    if len(attributes) > MAX_ATTRIBUTES:
        raise ValueError(f"at most {MAX_ATTRIBUTES} attributes; got {len(attributes)}")
    for key in attributes:
        if not isinstance(key, str) or not 1 <= len(key) <= MAX_ATTRIBUTE_KEY_LENGTH:
            raise ValueError(
                f"attribute names are strings of 1 to {MAX_ATTRIBUTE_KEY_LENGTH} characters"
            )
    try:
        size = len(json.dumps(attributes))
    except (TypeError, ValueError) as exc:
        raise ValueError(
            "attribute values must be JSON (text, numbers, booleans, lists, objects)"
        ) from exc
    if size > MAX_ATTRIBUTES_JSON_CHARS:
        raise ValueError(f"attributes take at most {MAX_ATTRIBUTES_JSON_CHARS} characters as JSON")
    return attributes


class IdentityCreate(BaseModel):
    """A new identity: an email, a phone number or an external id with its source."""

    kind: IdentityKind
    value: str = Field(min_length=1, max_length=320, examples=["ann@example.com"])
    source: str = Field(
        default="",
        max_length=64,
        description="Namespace of an external id (`crm`, `shop`); empty for emails and phones.",
    )


class IdentityRead(BaseModel):
    """A stored identity, normalized (lowercased email, E.164 phone)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: IdentityKind
    source: str
    value: str


class SegmentRef(BaseModel):
    """A segment a customer belongs to."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str


class CustomerBase(BaseModel):
    """Fields shared by customer schemas."""

    display_name: str | None = Field(default=None, max_length=200)
    org_unit_id: str | None = Field(
        default=None, description="Org unit (store, region) the customer belongs to."
    )
    attributes: dict[str, Any] = Field(
        default_factory=dict,
        description=f"Free-form JSON attributes, at most {MAX_ATTRIBUTES} keys.",
        examples=[{"tier": "gold", "lifetime_value": 1240.5}],
    )
    consent_email: bool | None = Field(default=None, description="None: never asked.")
    consent_sms: bool | None = Field(default=None, description="None: never asked.")
    consent_research: bool | None = Field(default=None, description="None: never asked.")


class CustomerCreate(CustomerBase):
    """A new customer; `email`, `phone` and `external_id` are shortcuts for `identities`."""

    email: str | None = Field(default=None, max_length=320, examples=["ann@example.com"])
    phone: str | None = Field(
        default=None,
        max_length=64,
        description="Any common format; national numbers use the workspace's phone region.",
        examples=["+1 415 555 0132"],
    )
    external_id: str | None = Field(default=None, max_length=320)
    external_id_source: str = Field(
        default="", max_length=64, description="Namespace of `external_id` (`crm`, `shop`)."
    )
    identities: list[IdentityCreate] = Field(
        default_factory=list, max_length=MAX_IDENTITIES_PER_REQUEST
    )
    first_seen_at: AwareDatetime | None = Field(
        default=None, description="When the customer first met the brand; defaults to now."
    )

    _check_attributes = field_validator("attributes")(check_attributes)


class CustomerUpdate(BaseModel):
    """Changes to a customer; only the fields sent are changed."""

    display_name: str | None = Field(default=None, max_length=200)
    org_unit_id: str | None = None
    attributes: dict[str, Any] | None = Field(
        default=None, description="Replaces all attributes; null clears them."
    )
    consent_email: bool | None = None
    consent_sms: bool | None = None
    consent_research: bool | None = None

    _check_attributes = field_validator("attributes")(check_attributes)


class CustomerRead(CustomerBase):
    """A customer with their identities and segments."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    first_seen_at: datetime | None
    created_at: datetime
    updated_at: datetime
    identities: list[IdentityRead]
    segments: list[SegmentRef]


class SegmentCreate(BaseModel):
    """A new named group of customers."""

    name: str = Field(min_length=1, max_length=120, examples=["High value"])
    description: str | None = Field(default=None, max_length=1000)


class SegmentUpdate(BaseModel):
    """Changes to a segment's name or description."""

    name: str | None = Field(default=None, min_length=1, max_length=120)
    description: str | None = Field(default=None, max_length=1000)


class SegmentRead(SegmentCreate):
    """A segment."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    created_at: datetime
    updated_at: datetime
