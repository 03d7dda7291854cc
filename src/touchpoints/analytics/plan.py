"""Build the engine-neutral frame a metric is aggregated over: filtered, with group keys.

Everything here is narwhals, so DuckDB and Spark run the very same plan. Group keys come out
as columns `k0`, `k1` (dimensions), `kp` (the period's engine key: a UTC day, or the month
string that partitions the files) and `ks` (the weighting stratum). Customer attributes are
joined from the customers file; segments are not when a metric can be grouped through the
segment sets on the feedback rows (touchpoints.analytics.segment_groups).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import narwhals as nw
import pyarrow as pa

from touchpoints.analytics.definitions import MetricDefinition
from touchpoints.analytics.dimensions import Dimension, DimensionFilter
from touchpoints.analytics.engine import Engine
from touchpoints.analytics.layout import CUSTOMERS, FEEDBACK
from touchpoints.analytics.segment_groups import (
    SET_COLUMN,
    SetGrouping,
    segment_names,
    set_grouping,
)

__all__ = ["Plan", "group_statistics", "keyed_feedback", "window_bounds"]

LazyFrame = nw.LazyFrame[Any]
PERIOD_KEY = "kp"
STRATUM_KEY = "ks"


@dataclass(frozen=True)
class Plan:
    """What to read, how to filter it and which keys to group by."""

    dimensions: tuple[Dimension, ...] = ()
    period: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    filters: tuple[DimensionFilter, ...] = ()
    scope: str | None = None
    stratum: Dimension | None = None

    @property
    def key_columns(self) -> list[str]:
        """Return the names of the group-key columns the plan produces."""
        keys = [f"k{index}" for index in range(len(self.dimensions))]
        if self.period is not None:
            keys.append(PERIOD_KEY)
        if self.stratum is not None:
            keys.append(STRATUM_KEY)
        return keys


def window_bounds(date_from: date | None, date_to: date | None) -> list[nw.Expr]:
    """Return conditions keeping feedback from the first day to the last day (UTC, inclusive)."""
    conditions = []
    if date_from is not None:
        start = datetime.combine(date_from, time(), UTC)
        # The month column is a partition key: engines skip whole files on it.
        conditions += [nw.col("month") >= f"{date_from:%Y-%m}", nw.col("occurred_at") >= start]
    if date_to is not None:
        end = datetime.combine(date_to + timedelta(days=1), time(), UTC)
        conditions += [nw.col("month") <= f"{date_to:%Y-%m}", nw.col("occurred_at") < end]
    return conditions


def keyed_feedback(
    engine: Engine,
    root: Path,
    workspace_id: str,
    plan: Plan,
    conditions: list[nw.Expr],
    keep: list[str],
) -> LazyFrame | None:
    """Return filtered feedback with its group keys and the `keep` columns; None if no files."""
    feedback = engine.scan(root, FEEDBACK, workspace_id)
    if feedback is None:
        return None
    # A count with no group keys reads no column; engines still need one to select.
    keep = keep or ["feedback_item_id"]
    feedback = _filtered(plan, feedback, conditions, keep, None)
    feedback = _join_customers(engine, root, workspace_id, plan, feedback)
    return _with_keys(plan, feedback).select(*plan.key_columns, *keep)


def _filtered(
    plan: Plan,
    feedback: LazyFrame,
    conditions: list[nw.Expr],
    keep: list[str],
    sets: SetGrouping | None,
) -> LazyFrame:
    """Filter feedback on its own columns and keep the columns the keys and `keep` need."""
    conditions = conditions + window_bounds(plan.date_from, plan.date_to)
    if plan.scope is not None:
        conditions.append(nw.col("org_unit_path").str.starts_with(plan.scope))
    for condition in plan.filters:
        conditions += _feedback_condition(condition)
    if conditions:
        feedback = feedback.filter(*conditions)
    needed = {"customer_id"} if _customer_keys(plan) or _customer_filters(plan) else set()
    needed = {SET_COLUMN} if sets is not None else needed
    needed |= {d.column for d in _all_dimensions(plan) if d.column}
    needed |= {"org_unit_path"} if _needs_tree(plan) else set()
    needed |= {"occurred_at"} if plan.period in ("day", "week") else set()
    needed |= {"month"} if plan.period in ("month", "quarter") else set()
    return feedback.select(*sorted(needed | set(keep)))


def group_statistics(
    engine: Engine, root: Path, workspace_id: str, plan: Plan, metric: MetricDefinition
) -> pa.Table | None:
    """Return each group's sufficient statistics for the metric; None when no files exist."""
    feedback = engine.scan(root, FEEDBACK, workspace_id)
    if feedback is None:
        return None
    sets = set_grouping(_named_dimensions(plan), plan.filters, plan.key_columns, metric)
    names = None
    if sets is not None and SET_COLUMN in feedback.columns:
        names = segment_names(engine, root, workspace_id)
    if sets is not None and names is not None:
        return engine.collect(_statistics_by_set(plan, metric, feedback, sets, names))
    return joined_statistics(engine, root, workspace_id, plan, metric)


def joined_statistics(
    engine: Engine, root: Path, workspace_id: str, plan: Plan, metric: MetricDefinition
) -> pa.Table | None:
    """Return each group's statistics with every answer joined to its customer's keys.

    What group_statistics does for customer attributes; for segments it gives the same
    numbers as grouping through segment sets (the tests compare both).
    """
    columns = sorted(_metric_columns(metric))
    frame = keyed_feedback(engine, root, workspace_id, plan, metric.row_filter(), columns)
    if frame is None:
        return None
    aggregations = metric.aggregations()
    if plan.key_columns:
        grouped = frame.group_by(*plan.key_columns).agg(**aggregations)
    else:
        grouped = frame.select(**aggregations)
    return engine.collect(grouped)


def _statistics_by_set(
    plan: Plan,
    metric: MetricDefinition,
    feedback: LazyFrame,
    sets: SetGrouping,
    names: LazyFrame,
) -> LazyFrame:
    """Aggregate by (other keys, segment set), then add up by segment through the sets."""
    columns = sorted(_metric_columns(metric))
    frame = _filtered(plan, feedback, metric.row_filter(), columns, sets)
    frame = _with_keys(plan, frame, skip=set(sets.keys))
    aggregations = metric.aggregations()
    partial = frame.group_by(*sets.partial_keys).agg(**aggregations)
    return sets.regroup(partial, names, list(aggregations))


def _metric_columns(metric: MetricDefinition) -> set[str]:
    columns = {column for column, _ in metric.where}
    if metric.column is not None:
        columns.add(metric.column)
        if metric.column == "rating" and not metric.custom:
            columns.add("rating_scale")
    return columns


def _all_dimensions(plan: Plan) -> list[Dimension]:
    return [*plan.dimensions, *([plan.stratum] if plan.stratum else [])]


def _named_dimensions(plan: Plan) -> list[tuple[str, Dimension]]:
    """Return each dimension (and the stratum) with the name of its group-key column."""
    named = [(f"k{index}", d) for index, d in enumerate(plan.dimensions)]
    return named + ([(STRATUM_KEY, plan.stratum)] if plan.stratum is not None else [])


def _needs_tree(plan: Plan) -> bool:
    return any(d.source == "org_unit_tree" for d in _all_dimensions(plan)) or any(
        f.dimension.source == "org_unit_tree" for f in plan.filters
    )


def _feedback_condition(condition: DimensionFilter) -> list[nw.Expr]:
    """Return the row conditions of a filter on a feedback column (customer ones join later)."""
    dimension = condition.dimension
    if dimension.source == "column":
        assert dimension.column is not None
        return [nw.col(dimension.column).is_in(list(condition.values))]
    if dimension.source == "org_unit_tree":
        path = nw.col("org_unit_path")
        inside = [path.str.contains(f"/{unit}/", literal=True) for unit in condition.values]
        return [nw.any_horizontal(*inside, ignore_nulls=True)]
    return []


def _customer_keys(plan: Plan) -> list[Dimension]:
    return [d for d in _all_dimensions(plan) if d.source in ("segment", "attribute")]


def _customer_filters(plan: Plan) -> list[DimensionFilter]:
    return [f for f in plan.filters if f.dimension.source in ("segment", "attribute")]


def _join_customers(
    engine: Engine, root: Path, workspace_id: str, plan: Plan, feedback: LazyFrame
) -> LazyFrame:
    """Join the customer-side keys (segments, attributes) and apply customer filters."""
    keys, filters = _customer_keys(plan), _customer_filters(plan)
    if not keys and not filters:
        return feedback
    customers = engine.scan(root, CUSTOMERS, workspace_id)
    if customers is None:
        # No customers exported: every customer key is unknown and a customer filter empties.
        nulls = {_customer_column(plan, d): nw.lit(None, dtype=nw.String) for d in keys}
        feedback = feedback.with_columns(**nulls) if nulls else feedback
        return feedback.filter(nw.lit(False)) if filters else feedback
    for condition in filters:
        matching = _customer_values(engine, customers, condition.dimension, "matched")
        matching = matching.filter(nw.col("matched").is_in(list(condition.values)))
        feedback = feedback.join(
            matching.select("customer_id").unique(), on="customer_id", how="inner"
        )
    for dimension in keys:
        alias = _customer_column(plan, dimension)
        values = _customer_values(engine, customers, dimension, alias)
        feedback = feedback.join(values, on="customer_id", how="left")
    return feedback


def _customer_values(
    engine: Engine, customers: LazyFrame, dimension: Dimension, alias: str
) -> LazyFrame:
    """Return (customer_id, alias) pairs: one per segment, or the attribute's text."""
    if dimension.source == "segment":
        pairs = customers.select("customer_id", nw.col("segments").alias(alias))
        return pairs.explode(alias)
    picked = customers.select("customer_id", "attributes")
    values = engine.json_field(picked, "attributes", dimension.attribute, alias)
    return values.select("customer_id", alias)


def _customer_column(plan: Plan, dimension: Dimension) -> str:
    # Positional names: attribute names may hold dots, which Spark reads as struct access.
    return f"c{_customer_keys(plan).index(dimension)}"


def _with_keys(
    plan: Plan, feedback: LazyFrame, skip: frozenset[str] | set[str] = frozenset()
) -> LazyFrame:
    """Add the key columns k0, k1, kp and ks (but those in `skip`)."""
    named = [(name, d) for name, d in _named_dimensions(plan) if name not in skip]
    keys: dict[str, nw.Expr] = {}
    for name, dimension in named:
        if dimension.source == "column":
            assert dimension.column is not None
            keys[name] = nw.col(dimension.column)
        elif dimension.source in ("segment", "attribute"):
            keys[name] = nw.col(_customer_column(plan, dimension))
    if plan.period in ("day", "week"):
        keys[PERIOD_KEY] = nw.col("occurred_at").dt.date()
    elif plan.period in ("month", "quarter"):
        keys[PERIOD_KEY] = nw.col("month")
    if keys:
        feedback = feedback.with_columns(**keys)
    for name, dimension in named:
        if dimension.source == "org_unit_tree":
            feedback = _explode_tree(plan, feedback, name)
    return feedback


def _explode_tree(plan: Plan, feedback: LazyFrame, name: str) -> LazyFrame:
    """Give each answer one row per org unit on its path (inside the caller's scope)."""
    path = nw.col("org_unit_path")
    if plan.scope is not None:
        # Units above the scope root are not the caller's to see: cut their part of the path.
        parent = plan.scope.rstrip("/").rsplit("/", 1)[0] + "/"
        path = path.str.slice(len(parent))
    feedback = feedback.with_columns(path.str.split("/").alias(name)).explode(name)
    return feedback.filter(nw.col(name).is_null() | (nw.col(name) != ""))
