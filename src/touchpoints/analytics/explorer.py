"""The metric explorer: a metric by a dimension and a period, shown, charted and exported.

Pages pass the query string in; this module validates it into a MetricRequest, runs it in the
caller's scope through the metric service and shapes what is shown (display units, chart rows,
files). Suppressed groups stay suppressed in every form: no value, no interval, in the table,
the chart and the exported files alike.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import ValidationError

from touchpoints.analytics import service
from touchpoints.analytics.results import MetricResult, MetricRow
from touchpoints.analytics.schemas import MetricCatalogue, MetricRequest
from touchpoints.auth.permissions import Principal
from touchpoints.errors import InvalidInput

__all__ = [
    "EXPLORER_FIELDS",
    "Exploration",
    "ExplorerForm",
    "explore",
    "export_csv",
    "export_parquet",
]

# The query-string fields the explorer reads, with their defaults.
EXPLORER_FIELDS = ("metric", "by", "then_by", "period", "from", "to", "minimum_n", "interval")
PERCENT_UNITS = {"share"}
MAX_CHART_GROUPS = 12


@dataclass(frozen=True)
class ExplorerForm:
    """What the person asked for, as typed (so a refused form can be shown again)."""

    metric: str = "nps"
    by: str = "touchpoint"
    then_by: str = ""
    period: str = ""
    date_from: str = ""
    date_to: str = ""
    minimum_n: str = "30"
    interval: str = "trinomial"

    @classmethod
    def of(cls, params: Mapping[str, str]) -> ExplorerForm:
        """Read the form from query parameters, keeping defaults for what is missing."""
        defaults = cls()
        return cls(
            metric=params.get("metric", defaults.metric).strip(),
            by=params.get("by", defaults.by).strip(),
            then_by=params.get("then_by", "").strip(),
            period=params.get("period", "").strip(),
            date_from=params.get("from", "").strip(),
            date_to=params.get("to", "").strip(),
            minimum_n=params.get("minimum_n", defaults.minimum_n).strip(),
            interval=params.get("interval", defaults.interval).strip(),
        )

    def query_string(self) -> dict[str, str]:
        """Return the non-empty fields as query parameters (for export links)."""
        pairs = {
            "metric": self.metric,
            "by": self.by,
            "then_by": self.then_by,
            "period": self.period,
            "from": self.date_from,
            "to": self.date_to,
            "minimum_n": self.minimum_n,
            "interval": self.interval,
        }
        return {key: value for key, value in pairs.items() if value}

    def to_request(self) -> MetricRequest:
        """Validate the form into a metric request, or raise InvalidInput naming the field."""
        by = [key for key in (self.by, self.then_by) if key]
        if len(by) == 2 and by[0] == by[1]:
            raise InvalidInput("then_by", "pick a second dimension different from the first")
        if not self.minimum_n.isdigit() or not 1 <= int(self.minimum_n) <= 100_000:
            raise InvalidInput("minimum_n", "give a whole number of answers from 1 to 100000")
        raw: dict[str, Any] = {
            "metric": self.metric,
            "by": by,
            "period": self.period or None,
            "from": self.date_from or None,
            "to": self.date_to or None,
            "minimum_n": int(self.minimum_n),
            "interval": self.interval,
            "compare": "previous" if self.period else "groups",
        }
        try:
            request = MetricRequest.model_validate(raw)
        except ValidationError as error:
            first = error.errors()[0]
            name = str(first["loc"][0]) if first["loc"] else "form"
            raise InvalidInput(name, first["msg"]) from None
        _check_dates(request.date_from, request.date_to)
        return request


def _check_dates(first: date | None, last: date | None) -> None:
    if first is not None and last is not None and first > last:
        raise InvalidInput("from", "the first day comes after the last day")


@dataclass(frozen=True)
class Exploration:
    """A computed exploration: the result, how to show its values, and its chart rows."""

    form: ExplorerForm
    result: MetricResult
    percent: bool
    chart_rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def significant_changes(self) -> int:
        """Count the groups whose change or difference is significant after correction."""
        return sum(1 for row in self.result.rows if _significant(row))


def _significant(row: MetricRow) -> bool:
    return any(c is not None and c.significant for c in (row.change, row.versus_rest))


def explore(*, actor: Principal, root: Path, form: ExplorerForm) -> Exploration:
    """Compute the exploration the form asks for, within the caller's workspace and scope."""
    result = service.metric_values(actor=actor, root=root, request=form.to_request())
    percent = result.metric.unit in PERCENT_UNITS
    return Exploration(form, result, percent, _chart_rows(result, percent))


def catalogue(*, actor: Principal) -> MetricCatalogue:
    """Return the metrics and dimensions the form offers."""
    return service.catalogue(actor=actor)


def group_label(result: MetricResult, row: MetricRow) -> str:
    """Return a row's group as people read it, e.g. `Boarding gate / Email` (with a guillemet)."""
    parts = [row.labels.get(key) or row.keys.get(key) or "(none)" for key in result.by]
    return " \u203a ".join(parts) if parts else "All feedback"


def _chart_rows(result: MetricResult, percent: bool) -> list[dict[str, Any]]:
    factor = 100.0 if percent else 1.0
    shown = [row for row in result.rows if not row.suppressed and row.value.value is not None]
    groups = list(dict.fromkeys(group_label(result, row) for row in shown))[:MAX_CHART_GROUPS]
    rows = []
    for row in shown:
        label = group_label(result, row)
        if label not in groups:
            continue
        value = row.value
        assert value.value is not None
        low = value.low if value.low is not None else value.value
        high = value.high if value.high is not None else value.value
        rows.append(
            {
                "group": label,
                "period": row.period.isoformat() if row.period else None,
                "value": round(value.value * factor, 2),
                "low": round(low * factor, 2),
                "high": round(high * factor, 2),
                "n": value.n,
                "significant": _significant(row),
            }
        )
    return rows


def _shown_records(result: MetricResult) -> list[dict[str, Any]]:
    """Return the rows as exported: suppressed groups keep n but lose every estimate."""
    records = result.records()
    for record in records:
        if record["suppressed"]:
            for name in ("value", "low", "high", "standard_error", "effective_n"):
                record[name] = None
            for prefix in ("change", "versus_rest"):
                for suffix in ("", "_p_value", "_p_adjusted", "_significant"):
                    record[prefix + suffix] = None
    return records


def export_csv(result: MetricResult) -> str:
    """Return what the explorer shows as CSV (one row per group; suppressed cells empty)."""
    table = pa.Table.from_pylist(_shown_records(result), schema=result.to_arrow().schema)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(table.column_names)
    for record in table.to_pylist():
        writer.writerow(["" if value is None else value for value in record.values()])
    return out.getvalue()


def export_parquet(result: MetricResult) -> bytes:
    """Return what the explorer shows as a Parquet file (suppressed estimates are null)."""
    table = pa.Table.from_pylist(_shown_records(result), schema=result.to_arrow().schema)
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()
