"""Turn a file's row (column -> value) into the fields of a feedback item, event or customer."""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from touchpoints.errors import InvalidInput
from touchpoints.imports.models import ImportKind
from touchpoints.imports.readers import RAW_TEXT_KEY
from touchpoints.imports.schemas import ColumnMapping, Problem

DATE_FIELDS = frozenset({"occurred_at", "first_seen_at"})
CUSTOMER_PREFIX = "customer."
# "10 - Extremely likely" (SurveyMonkey, Qualtrics labels) carries its score first.
LEADING_NUMBER = re.compile(r"^\s*(-?\d+(?:\.\d+)?)(?:\s*[-:].*)?$")
UNMAPPED_TARGET = {
    ImportKind.FEEDBACK: "metadata",
    ImportKind.EVENTS: "metadata",
    ImportKind.CUSTOMERS: "attributes",
}


@dataclass
class MappedRow:
    """A row as fields: the payload for the Create schema, the customer to link, problems."""

    line: int
    payload: dict[str, Any] = field(default_factory=dict)
    customer: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)  # field path -> file column
    readable: bool = True  # False when the file itself could not be parsed at this row


def load_mapping(path: Path) -> ColumnMapping:
    """Read a mapping file (`.json` or `.toml`), refusing one that does not fit."""
    try:
        text = path.read_text(encoding="utf-8")
        document = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput("mapping", f"cannot read {path}: {exc}") from exc
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InvalidInput("mapping", f"{path.name} is not valid JSON or TOML: {exc}") from exc
    return parse_mapping(document)


def mapping_from_json(text: str) -> ColumnMapping:
    """Read a mapping sent as JSON text (an upload's form field)."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput("mapping", f"is not valid JSON: {exc}") from exc
    return parse_mapping(document)


def parse_mapping(document: Any) -> ColumnMapping:
    """Validate a mapping document, naming the first wrong key."""
    try:
        return ColumnMapping.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "mapping"
        raise InvalidInput(f"mapping.{where}", _reason(first)) from exc


def flatten(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Flatten nested objects into dotted names: {"scores": {"nps": 9}} -> {"scores.nps": 9}."""
    flat: dict[str, Any] = {}
    for name, value in values.items():
        if isinstance(value, dict) and value:
            flat |= flatten(value, f"{prefix}{name}.")
        else:
            flat[f"{prefix}{name}"] = value
    return flat


def set_path(document: dict[str, Any], path: str, value: Any) -> None:
    """Set `a.b.c` in a nested dict, creating the objects on the way."""
    *parents, leaf = path.split(".")
    for part in parents:
        child = document.setdefault(part, {})
        if not isinstance(child, dict):
            child = document[part] = {}
        document = child
    document[leaf] = value


def parse_when(value: Any, mapping: ColumnMapping) -> datetime:
    """Read a date and time, in the mapping's format and timezone when it gives them."""
    if isinstance(value, datetime):
        moment = value
    elif mapping.date_format is not None:
        try:
            moment = datetime.strptime(str(value).strip(), mapping.date_format)
        except ValueError as exc:
            raise ValueError(
                f"{value!r} does not match the date format {mapping.date_format}"
            ) from exc
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip())
        except ValueError as exc:
            raise ValueError(
                f"{value!r} is not an ISO 8601 date; write 2024-05-01T09:30:00+02:00 "
                "or set date_format in the mapping"
            ) from exc
    if moment.tzinfo is None:
        if mapping.timezone is None:
            raise ValueError(
                f"{value!r} has no timezone; add an offset (+02:00) or set timezone in the mapping"
            )
        moment = moment.replace(tzinfo=ZoneInfo(mapping.timezone))
    return moment


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _convert(path: str, value: Any, mapping: ColumnMapping) -> Any:
    if path in DATE_FIELDS:
        return parse_when(value, mapping)
    if path.startswith("scores.") and isinstance(value, str):
        match = LEADING_NUMBER.match(value)
        return match.group(1) if match else value
    return value


class RowMapper:
    """Map rows of one file with one mapping into fields of one kind."""

    def __init__(self, mapping: ColumnMapping, kind: ImportKind) -> None:
        self.mapping = mapping
        self.kind = kind

    def targets(self, columns: list[str]) -> dict[str, str]:
        """Return file column -> field path for the columns of a row."""
        if not self.mapping.columns:
            return {column: column for column in columns}
        targets = {c: self.mapping.columns[c] for c in columns if c in self.mapping.columns}
        if self.mapping.unmapped == "metadata":
            spare = UNMAPPED_TARGET[self.kind]
            targets |= {c: spare for c in columns if c not in self.mapping.columns}
        return targets

    def map(self, line: int, values: Mapping[str, Any]) -> MappedRow:
        """Map one row; values that cannot be read become problems, never exceptions."""
        row = MappedRow(line=line)
        flat = flatten({k: v for k, v in values.items() if k != RAW_TEXT_KEY})
        for column, path in self.targets(list(flat)).items():
            value = _clean(flat[column])
            translations = self.mapping.values.get(column)
            if translations is not None and value is not None:
                value = translations.get(str(value), value)
            if value is None:
                continue
            if path == UNMAPPED_TARGET[self.kind]:
                # Kept whole under its column name: a dot in a name is no nesting.
                row.payload.setdefault(path, {})[column] = value
                continue
            self._place(row, column, path, value)
        for path, value in self.mapping.defaults.items():
            if path not in row.columns:
                self._place(row, "", path, value)
        return row

    def _place(self, row: MappedRow, column: str, path: str, value: Any) -> None:
        if self.kind is ImportKind.CUSTOMERS:
            path = path.removeprefix(CUSTOMER_PREFIX)
        row.columns[path] = column
        try:
            value = _convert(path, value, self.mapping)
        except ValueError as exc:
            row.problems.append(Problem(field=path, reason=str(exc), column=column or None))
            return
        if self.kind is not ImportKind.CUSTOMERS and path.startswith(CUSTOMER_PREFIX):
            row.customer[path.removeprefix(CUSTOMER_PREFIX)] = str(value)
        else:
            set_path(row.payload, path, value)


def _reason(error: Mapping[str, Any]) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        return "is not a known field; rename the column or map it in a mapping file"
    return message


def validation_problems(exc: ValidationError, columns: Mapping[str, str]) -> list[Problem]:
    """Turn a schema's validation errors into problems naming field, reason and column."""
    problems = []
    for error in exc.errors():
        path = ".".join(str(part) for part in error["loc"]) or "row"
        column = columns.get(path) or columns.get(path.split(".")[0]) or None
        problems.append(Problem(field=path, reason=_reason(error), column=column))
    return problems
