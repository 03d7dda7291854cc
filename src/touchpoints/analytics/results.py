"""Grouped metric results: typed rows, and the same rows as Arrow or pandas tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from touchpoints.analytics.definitions import MetricDefinition
from touchpoints.metrics.statistics import MetricValue

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Comparison", "MetricResult", "MetricRow"]


@dataclass(frozen=True)
class Comparison:
    """A difference tested for significance, after the multiple-comparison correction."""

    difference: float
    z: float
    p_value: float
    p_adjusted: float
    significant: bool


@dataclass(frozen=True)
class MetricRow:
    """One group: its keys, labels, period, value with interval, and comparisons."""

    keys: dict[str, str | None]
    labels: dict[str, str | None]
    period: date | None
    period_label: str | None
    value: MetricValue
    suppressed: bool
    change: Comparison | None = None
    versus_rest: Comparison | None = None


@dataclass(frozen=True)
class MetricResult:
    """A metric by zero, one or two dimensions (and a period), with its statistics."""

    metric: MetricDefinition
    by: tuple[str, ...]
    period: str | None
    date_from: date | None
    date_to: date | None
    minimum_n: int
    confidence: float
    nps_interval: str
    correction: str
    engine: str
    rows: list[MetricRow] = field(default_factory=list)
    weighted_by: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """Tell whether no feedback matched: an explicit empty result, not a zero."""
        return not self.rows

    def records(self) -> list[dict[str, Any]]:
        """Return one flat dict per row (keys, labels, value, interval, comparisons)."""
        return [self._record(row) for row in self.rows]

    def _record(self, row: MetricRow) -> dict[str, Any]:
        record: dict[str, Any] = {}
        for key in self.by:
            record[key] = row.keys.get(key)
            record[f"{key}_label"] = row.labels.get(key)
        if self.period is not None:
            record["period"] = row.period
            record["period_label"] = row.period_label
        value = row.value
        record.update(
            metric=self.metric.key,
            value=value.value,
            n=value.n,
            low=value.low,
            high=value.high,
            standard_error=value.standard_error,
            effective_n=value.effective_n,
            suppressed=row.suppressed,
        )
        for prefix, comparison in (("change", row.change), ("versus_rest", row.versus_rest)):
            record[prefix] = None if comparison is None else comparison.difference
            record[f"{prefix}_p_value"] = None if comparison is None else comparison.p_value
            record[f"{prefix}_p_adjusted"] = None if comparison is None else comparison.p_adjusted
            record[f"{prefix}_significant"] = None if comparison is None else comparison.significant
        return record

    def to_arrow(self) -> pa.Table:
        """Return the rows as an Arrow table with a fixed schema (also when empty)."""
        return pa.Table.from_pylist(self.records(), schema=self._schema())

    def to_pandas(self) -> pd.DataFrame:
        """Return the rows as a pandas DataFrame (one row per group)."""
        return self.to_arrow().to_pandas()

    def _schema(self) -> pa.Schema:
        fields: list[pa.Field] = []
        for key in self.by:
            fields += [pa.field(key, pa.string()), pa.field(f"{key}_label", pa.string())]
        if self.period is not None:
            fields += [pa.field("period", pa.date32()), pa.field("period_label", pa.string())]
        fields += [
            pa.field("metric", pa.string()),
            pa.field("value", pa.float64()),
            pa.field("n", pa.int64()),
            pa.field("low", pa.float64()),
            pa.field("high", pa.float64()),
            pa.field("standard_error", pa.float64()),
            pa.field("effective_n", pa.float64()),
            pa.field("suppressed", pa.bool_()),
        ]
        for prefix in ("change", "versus_rest"):
            fields += [
                pa.field(prefix, pa.float64()),
                pa.field(f"{prefix}_p_value", pa.float64()),
                pa.field(f"{prefix}_p_adjusted", pa.float64()),
                pa.field(f"{prefix}_significant", pa.bool_()),
            ]
        return pa.schema(fields)
