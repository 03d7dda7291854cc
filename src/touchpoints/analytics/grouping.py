"""Turn the engine's per-group statistics into rows: periods, weights, values, comparisons.

Sufficient statistics add up, so rolling days into weeks, months into quarters, pooling the
other groups into "the rest" or merging weighting strata is plain addition here, exact on
every engine.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from touchpoints.analytics.definitions import MetricDefinition, Statistics, statistics_of
from touchpoints.analytics.dimensions import Labels, period_label, period_start, previous_period
from touchpoints.analytics.plan import PERIOD_KEY, STRATUM_KEY, Plan
from touchpoints.analytics.results import Comparison, MetricRow
from touchpoints.metrics.statistics import Change, MetricValue, adjust_p_values, compare

if TYPE_CHECKING:
    from touchpoints.analytics.query import MetricQuery

__all__ = ["Cells", "cells_of", "comparisons", "evaluate_cells", "weighted_strata"]

GroupKey = tuple[tuple[str | None, ...], date | None]
Cells = dict[GroupKey, dict[str | None, Statistics]]


def cells_of(table: pa.Table | None, plan: Plan, metric: MetricDefinition) -> Cells:
    """Sum the engine's rows into cells: (group keys, period start) -> stratum -> statistics."""
    cells: Cells = defaultdict(dict)
    if table is None:
        return cells
    names = list(metric.aggregations())
    width = len(plan.dimensions)
    # Engines return groups in any order; a fixed order makes the float sums below identical.
    if plan.key_columns:
        table = table.sort_by([(name, "ascending") for name in plan.key_columns])
    columns = {name: table.column(name).to_pylist() for name in table.column_names}
    key_columns = [columns[f"k{index}"] for index in range(width)]
    periods = columns[PERIOD_KEY] if plan.period else None
    strata_keys = columns[STRATUM_KEY] if plan.stratum is not None else None
    starts: dict[Any, date] = {}  # a month or day key comes back for every group
    for position in range(table.num_rows):
        stats = statistics_of({name: columns[name][position] for name in names}, names)
        if stats["n"] == 0:
            continue
        keys = tuple(_text(column[position]) for column in key_columns)
        period = None
        if periods is not None:
            raw = periods[position]
            if (period := starts.get(raw)) is None:
                period = starts[raw] = period_start(plan.period or "", raw)
        stratum = _text(strata_keys[position]) if strata_keys is not None else None
        strata = cells[(keys, period)]
        strata[stratum] = _add(strata.get(stratum), stats)
    return cells


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _add(left: Statistics | None, right: Statistics) -> Statistics:
    if left is None:
        return dict(right)
    return {name: left[name] + right[name] for name in left}


def weighted_strata(
    strata: Mapping[str | None, Statistics], targets: Mapping[str, float] | None
) -> list[tuple[float, Statistics]]:
    """Return (weight, statistics) per stratum: target share over the stratum's sample share."""
    if targets is None:
        if len(strata) == 1:  # the common case: nothing to pool
            return [(1.0, next(iter(strata.values())))]
        total: Statistics | None = None
        for stats in strata.values():
            total = _add(total, stats)
        return [(1.0, total)] if total is not None else []
    present = {s: stats for s, stats in strata.items() if s in targets and stats["n"] > 0}
    target_total = sum(targets[s] for s in present if s is not None)
    answers = sum(stats["n"] for stats in present.values())
    weighted = []
    for stratum, stats in strata.items():
        if stratum in present and target_total > 0 and stratum is not None:
            share = targets[stratum] / target_total
            weighted.append((share * answers / stats["n"], stats))
        else:
            weighted.append((0.0, stats))
    return weighted


def _value(
    query: MetricQuery, metric: MetricDefinition, strata: Mapping[str | None, Statistics]
) -> MetricValue:
    targets = None if query.weights is None else query.weights.targets
    return metric.evaluate(weighted_strata(strata, targets), query.confidence, query.nps_interval)


def _suppress(query: MetricQuery, metric: MetricDefinition, value: MetricValue) -> MetricValue:
    """Keep the n of a group under the minimum n, never its value or interval."""
    if metric.kind == "count":
        return value
    if value.value is None or value.n < query.minimum_n:
        return MetricValue(None, value.n, effective_n=value.effective_n)
    return value


def _order(key: GroupKey) -> tuple[Any, ...]:
    keys, period = key
    return (*((k is None, k or "") for k in keys), period or date.min)


def evaluate_cells(
    query: MetricQuery, metric: MetricDefinition, plan: Plan, cells: Cells, labels: Labels
) -> list[MetricRow]:
    """Return one row per cell with its value, interval and suppression."""
    rows = []
    for key in sorted(cells, key=_order):
        keys, period = key
        value = _suppress(query, metric, _value(query, metric, cells[key]))
        rows.append(
            MetricRow(
                keys={d.key: k for d, k in zip(plan.dimensions, keys, strict=True)},
                labels={
                    d.key: labels.name(d, k) for d, k in zip(plan.dimensions, keys, strict=True)
                },
                period=period,
                period_label=period_label(plan.period, period) if plan.period and period else None,
                value=value,
                suppressed=value.value is None,
            )
        )
    return rows


def comparisons(
    query: MetricQuery,
    metric: MetricDefinition,
    plan: Plan,
    cells: Cells,
    rows: list[MetricRow],
    previous: Cells | None,
) -> list[MetricRow]:
    """Add the change against the previous period and the difference from the other groups.

    Each family of tests (changes; group differences) is corrected for multiple comparisons.
    """
    if metric.kind == "count" or query.compare == "none" or not rows:
        return rows
    # The rows come in the cells' order (evaluate_cells): their keys, without sorting again.
    keys = [(tuple(row.keys.values()), row.period) for row in rows]
    if any(len(key[0]) != len(plan.dimensions) for key in keys):  # a dimension given twice
        keys = sorted(cells, key=_order)
    values = {key: row.value for key, row in zip(keys, rows, strict=True)}
    changes: list[Change | None] = [None] * len(rows)
    rests: list[Change | None] = [None] * len(rows)
    if query.compare in ("previous", "both"):
        before = _previous_values(query, metric, plan, values, previous)
        changes = [_compare(query, values[key], before.get(key)) for key in keys]
    if query.compare in ("groups", "both") and plan.dimensions:
        rests = _rest_changes(query, metric, cells, keys, values)
    changed = _corrected(query, changes)
    versus = _corrected(query, rests)
    # Built directly: dataclasses.replace costs more than the comparison (thousands of rows).
    return [
        MetricRow(
            row.keys,
            row.labels,
            row.period,
            row.period_label,
            row.value,
            row.suppressed,
            change,
            rest,
        )
        for row, change, rest in zip(rows, changed, versus, strict=True)
    ]


def _previous_values(
    query: MetricQuery,
    metric: MetricDefinition,
    plan: Plan,
    values: dict[GroupKey, MetricValue],
    previous: Cells | None,
) -> dict[GroupKey, MetricValue]:
    """Map each cell to the value it is compared with: its previous period or window."""
    if plan.period is not None:
        period = plan.period
        return {
            (keys, start): values[(keys, previous_period(period, start))]
            for keys, start in values
            if start is not None and (keys, previous_period(period, start)) in values
        }
    if previous is None:
        return {}
    return {
        key: _suppress(query, metric, _value(query, metric, strata))
        for key, strata in previous.items()
    }


def _rest_changes(
    query: MetricQuery,
    metric: MetricDefinition,
    cells: Cells,
    keys: list[GroupKey],
    values: dict[GroupKey, MetricValue],
) -> list[Change | None]:
    """Compare each group with all the other groups of its period pooled."""
    by_period: dict[date | None, list[GroupKey]] = defaultdict(list)
    for key in keys:
        by_period[key[1]].append(key)
    tests: list[Change | None] = []
    for key in keys:
        others = [other for other in by_period[key[1]] if other != key]
        pooled: dict[str | None, Statistics] = {}
        for other in others:
            for stratum, stats in cells[other].items():
                pooled[stratum] = _add(pooled.get(stratum), stats)
        rest = _suppress(query, metric, _value(query, metric, pooled)) if pooled else None
        tests.append(_compare(query, values[key], rest))
    return tests


def _compare(query: MetricQuery, current: MetricValue, other: MetricValue | None) -> Change | None:
    if other is None:
        return None
    return compare(current, other, query.confidence, query.minimum_n)


def _corrected(query: MetricQuery, tests: list[Change | None]) -> list[Comparison | None]:
    """Adjust the p-values of one family of tests and decide significance on the adjusted."""
    present = [test for test in tests if test is not None]
    adjusted = iter(adjust_p_values([test.p_value for test in present], query.correction))
    alpha = 1 - query.confidence
    corrected: list[Comparison | None] = []
    for test in tests:
        if test is None:
            corrected.append(None)
            continue
        p_adjusted = next(adjusted)
        corrected.append(
            Comparison(test.difference, test.z, test.p_value, p_adjusted, p_adjusted < alpha)
        )
    return corrected
