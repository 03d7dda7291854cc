"""Dimensions metrics are grouped and filtered by, periods, and their display labels."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

import pyarrow as pa
import pyarrow.parquet as pq

from touchpoints.analytics.layout import ORG_UNITS, TOUCHPOINTS, Dataset
from touchpoints.errors import InvalidInput

__all__ = [
    "ATTRIBUTE_PREFIX",
    "DIMENSIONS",
    "PERIODS",
    "Dimension",
    "DimensionFilter",
    "Labels",
    "parse_dimension",
    "parse_dimensions",
    "parse_filters",
    "period_label",
    "period_start",
    "previous_period",
]

ATTRIBUTE_PREFIX = "attribute:"
PERIODS = ("day", "week", "month", "quarter")
Source = Literal["column", "segment", "attribute", "org_unit_tree"]
LabelKind = Literal["touchpoint", "stage", "journey", "org_unit"]
_ATTRIBUTE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")
_MAX_FILTER_VALUES = 500


@dataclass(frozen=True)
class Dimension:
    """Something to group or filter feedback by."""

    key: str
    label: str
    description: str
    source: Source = "column"
    column: str | None = None
    labels: LabelKind | None = None
    # An answer falls into several groups (a customer in several segments, a unit's parents).
    exploding: bool = False

    @property
    def attribute(self) -> str:
        """Return the customer attribute name of an `attribute:<name>` dimension."""
        return self.key.removeprefix(ATTRIBUTE_PREFIX)


def _column(
    key: str, label: str, description: str, column: str, labels: LabelKind | None = None
) -> Dimension:
    return Dimension(key, label, description, "column", column, labels)


DIMENSIONS: dict[str, Dimension] = {
    dimension.key: dimension
    for dimension in (
        _column("touchpoint", "Touchpoint", "The touchpoint answered about.", "touchpoint_id",
                labels="touchpoint"),
        _column("stage", "Journey stage", "The journey stage of the touchpoint.", "stage_id",
                labels="stage"),
        _column("journey", "Journey", "The journey of the touchpoint.", "journey_id",
                labels="journey"),
        _column("channel", "Channel", "Where the feedback came in (email, web, app ...).",
                "channel"),
        _column("org_unit", "Org unit", "The org unit the feedback belongs to.", "org_unit_id",
                labels="org_unit"),
        Dimension("org_unit_tree", "Org unit with its subtree",
                  "Each org unit with everything below it: an answer counts for its unit and "
                  "every parent unit.", "org_unit_tree", labels="org_unit", exploding=True),
        Dimension("segment", "Segment", "The customer's segments: a customer in several "
                  "segments counts in each.", "segment", exploding=True),
        _column("survey", "Survey", "The survey answered.", "survey_id"),
        _column("source", "Source", "The system the feedback came from.", "source"),
        _column("language", "Language", "The language of the feedback.", "language"),
        _column("sentiment", "Sentiment", "The sentiment found in the text.", "sentiment"),
    )
}  # fmt: skip


@dataclass(frozen=True)
class DimensionFilter:
    """Keep only feedback whose dimension takes one of the values."""

    dimension: Dimension
    values: tuple[str, ...]


def parse_dimension(key: str, field: str = "by") -> Dimension:
    """Return the dimension named `key`, e.g. `channel` or `attribute:tier`."""
    key = key.strip()
    if key.startswith(ATTRIBUTE_PREFIX):
        name = key.removeprefix(ATTRIBUTE_PREFIX)
        if not _ATTRIBUTE_NAME.match(name):
            raise InvalidInput(
                field,
                f"{key!r} is not a customer attribute name: use letters, digits, _ . or -",
            )
        return Dimension(key, f"Customer {name}", f"The customer attribute {name!r}.",
                         "attribute")  # fmt: skip
    if key in PERIODS:
        raise InvalidInput(field, f"{key!r} is a period: pass it as period={key}")
    dimension = DIMENSIONS.get(key)
    if dimension is None:
        known = ", ".join([*DIMENSIONS, "attribute:<name>"])
        raise InvalidInput(field, f"unknown dimension {key!r}; use one of {known}")
    return dimension


def parse_dimensions(keys: Sequence[str], field: str = "by") -> tuple[Dimension, ...]:
    """Return up to two distinct dimensions to group by."""
    dimensions = tuple(parse_dimension(key, field) for key in keys if key.strip())
    if len(dimensions) > 2:
        raise InvalidInput(field, "group by at most two dimensions (and a period)")
    if len({d.key for d in dimensions}) != len(dimensions):
        raise InvalidInput(field, "the same dimension is named twice")
    return dimensions


def parse_filters(filters: Mapping[str, Iterable[str]]) -> tuple[DimensionFilter, ...]:
    """Return validated equality/in filters: each dimension with the values it may take."""
    parsed = []
    for key, raw_values in filters.items():
        dimension = parse_dimension(key, f"filter.{key}")
        values = tuple(dict.fromkeys(str(v).strip() for v in raw_values if str(v).strip()))
        if not values:
            raise InvalidInput(f"filter.{key}", "give at least one value")
        if len(values) > _MAX_FILTER_VALUES:
            raise InvalidInput(f"filter.{key}", f"at most {_MAX_FILTER_VALUES} values")
        parsed.append(DimensionFilter(dimension, values))
    return tuple(parsed)


def period_start(period: str, key: object) -> date:
    """Return the first day of the period an engine key (a day, or a `YYYY-MM` month) is in."""
    if period in ("day", "week"):
        assert isinstance(key, date)
        return key - timedelta(days=key.weekday()) if period == "week" else key
    assert isinstance(key, str)
    year, month = int(key[:4]), int(key[5:7])
    if period == "quarter":
        month = (month - 1) // 3 * 3 + 1
    return date(year, month, 1)


def period_label(period: str, start: date) -> str:
    """Return how a period is shown: 2024-05-03, 2024-W18, 2024-05 or 2024-Q2."""
    if period == "day":
        return start.isoformat()
    if period == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    if period == "month":
        return f"{start.year:04d}-{start.month:02d}"
    return f"{start.year}-Q{(start.month - 1) // 3 + 1}"


def previous_period(period: str, start: date) -> date:
    """Return the first day of the period before the one starting on `start`."""
    if period == "day":
        return start - timedelta(days=1)
    if period == "week":
        return start - timedelta(days=7)
    months = 1 if period == "month" else 3
    index = start.year * 12 + start.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


class Labels:
    """Names of touchpoints, stages, journeys and org units from the analytics store."""

    def __init__(self, root: Path, workspace_id: str) -> None:
        self.names: dict[LabelKind, dict[str, str]] = {}
        self.known: dict[LabelKind, bool] = {}
        self.org_unit_paths: dict[str, str] = {}
        touchpoints = _read_lookup(root, TOUCHPOINTS, workspace_id)
        self._add("touchpoint", touchpoints, "touchpoint_id", "name")
        self._add("stage", touchpoints, "stage_id", "stage_name")
        self._add("journey", touchpoints, "journey_id", "journey_name")
        units = _read_lookup(root, ORG_UNITS, workspace_id)
        self._add("org_unit", units, "org_unit_id", "name")
        if units is not None:
            ids, paths = units.column("org_unit_id").to_pylist(), units.column("path").to_pylist()
            self.org_unit_paths = {i: p for i, p in zip(ids, paths, strict=True) if i and p}

    def _add(self, kind: LabelKind, table: pa.Table | None, key: str, name: str) -> None:
        self.known[kind] = table is not None
        if table is None:
            self.names[kind] = {}
            return
        keys, names = table.column(key).to_pylist(), table.column(name).to_pylist()
        self.names[kind] = {k: n for k, n in zip(keys, names, strict=True) if k is not None}

    def name(self, dimension: Dimension, key: str | None) -> str | None:
        """Return the display name of a group key (None when the dimension has no names)."""
        if dimension.labels is None or key is None:
            return key
        return self.names[dimension.labels].get(key, key)

    def check(self, condition: DimensionFilter) -> None:
        """Refuse filter ids the store has never seen (when it has the lookup at all)."""
        kind = condition.dimension.labels
        if kind is None or not self.known[kind]:
            return
        unknown = [value for value in condition.values if value not in self.names[kind]]
        if unknown:
            raise InvalidInput(
                f"filter.{condition.dimension.key}",
                f"no {condition.dimension.label.lower()} with id {', '.join(unknown)}",
            )


def _read_lookup(root: Path, dataset: Dataset, workspace_id: str) -> pa.Table | None:
    """Read a small lookup dataset of one workspace straight from its files."""
    folder = root / dataset.name / workspace_id
    files = sorted(folder.glob("*/*.parquet")) if folder.is_dir() else []
    if not files:
        return None
    return pa.concat_tables(pq.read_table(path, schema=dataset.schema) for path in files)
