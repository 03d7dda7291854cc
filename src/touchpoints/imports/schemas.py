"""Schemas for column mappings, import runs and quarantined rows."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from touchpoints.imports.models import ImportKind, QuarantineStatus

MAX_RAW_JSON_CHARS = 200_000


class ColumnMapping(BaseModel):
    """How a file's columns become fields: read from a JSON or TOML mapping file."""

    model_config = ConfigDict(extra="forbid")

    kind: ImportKind | None = Field(
        default=None, description="What the file holds; must agree with the import's kind."
    )
    columns: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "File column -> field path: `text`, `scores.nps`, `customer.email`, "
            "`metadata.order_id`. Without columns, column names are the field paths."
        ),
        examples=[{"Comment": "text", "Score": "scores.nps", "Email": "customer.email"}],
    )
    defaults: dict[str, Any] = Field(
        default_factory=dict,
        description="Field path -> value for fields the file leaves out or empty.",
        examples=[{"channel": "email", "source": "import"}],
    )
    values: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="File column -> {value in the file: value to store} (labels to codes).",
        examples=[{"Channel": {"E-mail": "email", "Phone call": "phone"}}],
    )
    date_format: str | None = Field(
        default=None,
        description="strptime format of date columns (`%d/%m/%Y %H:%M`); default ISO 8601.",
    )
    timezone: str | None = Field(
        default=None,
        description="IANA zone (`Europe/London`) for dates written without an offset.",
    )
    delimiter: str | None = Field(
        default=None, min_length=1, max_length=1, description="CSV delimiter; sniffed if unset."
    )
    unmapped: Literal["ignore", "metadata"] = Field(
        default="ignore",
        description="With `columns`: drop other columns, or keep them in `metadata` (feedback, "
        "events) or `attributes` (customers).",
    )

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, timezone: str | None) -> str | None:
        if timezone is None:
            return None
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {timezone!r}; use an IANA name") from exc
        return timezone

    def merged_with(self, override: ColumnMapping) -> ColumnMapping:
        """Return this mapping (a format's preset) overlaid with the user's mapping."""
        given = override.model_dump(exclude_unset=True)
        merged = self.model_dump()
        for name in ("columns", "defaults", "values"):
            merged[name] = {**merged[name], **given.pop(name, {})}
        return ColumnMapping.model_validate(merged | given)


class Problem(BaseModel):
    """What was wrong with one field of a row."""

    field: str
    reason: str
    column: str | None = Field(default=None, description="The file column the field came from.")


class ImportRunRead(BaseModel):
    """An import run with how many rows were imported, duplicates or quarantined."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: str
    format: str
    file_name: str
    file_sha256: str
    status: str
    total: int = Field(description="Rows read from the file.")
    imported: int = Field(description="Rows stored (or replayed from the quarantine).")
    duplicate: int = Field(description="Rows already stored or already quarantined before.")
    quarantined: int = Field(description="Rows kept in the quarantine.")
    error: str | None
    started_at: datetime
    finished_at: datetime | None


class QuarantinedRowRead(BaseModel):
    """A quarantined row: its line, the values read, and each problem."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    run_id: str
    line: int = Field(description="Line of the row in the file (row number in Parquet).")
    raw: dict[str, Any] = Field(description="The row as read from the file, column by column.")
    errors: list[Problem]
    status: QuarantineStatus
    created_at: datetime
    updated_at: datetime


class QuarantinedRowUpdate(BaseModel):
    """A fix of a quarantined row: new raw values (marks it fixed) or a new status."""

    model_config = ConfigDict(extra="forbid")

    raw: dict[str, Any] | None = Field(
        default=None, description="The corrected row, column by column, as in the file."
    )
    status: Literal["open", "fixed", "discarded"] | None = None

    @field_validator("raw")
    @classmethod
    def _small_raw(cls, raw: dict[str, Any] | None) -> dict[str, Any] | None:
        if raw is not None and len(json.dumps(raw, default=str)) > MAX_RAW_JSON_CHARS:
            raise ValueError(f"takes at most {MAX_RAW_JSON_CHARS} characters as JSON")
        return raw


class ReplayRequest(BaseModel):
    """Which quarantined rows of a run to replay."""

    model_config = ConfigDict(extra="forbid")

    row_ids: list[str] | None = Field(
        default=None, description="Rows to replay; default: every row marked fixed."
    )


class ReplayResult(BaseModel):
    """What a replay did: rows now stored and rows still quarantined."""

    replayed: int
    still_quarantined: int
    run: ImportRunRead
