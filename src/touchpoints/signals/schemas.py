"""Field types shared by every customer signal: when, where from, what it links to."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, Field

MAX_METADATA_JSON_CHARS = 64_000
FUTURE_TOLERANCE = timedelta(days=1)


def check_occurred_at(value: datetime) -> datetime:
    """Refuse a time more than a day ahead (clock or unit mistakes); return it in UTC."""
    if value - datetime.now(UTC) > FUTURE_TOLERANCE:
        raise ValueError("lies more than one day in the future; check the timezone and date")
    return value.astimezone(UTC)


def check_metadata(value: dict[str, Any]) -> dict[str, Any]:
    """Refuse metadata documents too large to keep beside each row."""
    if len(json.dumps(value, default=str)) > MAX_METADATA_JSON_CHARS:
        raise ValueError(f"takes at most {MAX_METADATA_JSON_CHARS} characters as JSON")
    return value


OccurredAt = Annotated[
    AwareDatetime,
    AfterValidator(check_occurred_at),
    Field(description="When it happened, with a timezone (`2024-05-01T09:30:00+02:00`)."),
]
Metadata = Annotated[
    dict[str, Any],
    AfterValidator(check_metadata),
    Field(description="Free-form JSON kept with the item (ids, tags from the source system)."),
]
SourceName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[a-z0-9][a-z0-9_.-]*$",
        description="Where it came from, lowercase: `survey`, `app_store`, `twitter`, `api`.",
    ),
]
SourceRef = Annotated[
    str | None,
    Field(
        min_length=1,
        max_length=200,
        description="Its id in the source system; unique per workspace and source.",
    ),
]
LinkId = Annotated[str | None, Field(min_length=1, max_length=32)]


def row_values(row: Any, base: type[BaseModel]) -> dict[str, Any]:
    """Return a stored signal's id, received_at and the values of the `base` schema fields."""
    # The ORM names the JSON column `metadata_` (`metadata` is SQLAlchemy's table registry).
    fields = set(base.model_fields) - {"metadata"} | {"id", "received_at"}
    return {name: getattr(row, name) for name in fields} | {"metadata": row.metadata_}
