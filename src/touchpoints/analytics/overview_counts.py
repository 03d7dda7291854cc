"""The overview's counts read from the analytics store: one engine query per page.

The overview shows NPS, CSAT and CES with intervals by month and touchpoint. It needs, per
touchpoint and month, the additive counts behind each metric (Counts); this module asks the
analytics engine (DuckDB by default, or Spark) for all of them in one grouped pass over the
Parquet files, in the caller's workspace and org-unit scope, with the same engine-neutral plan
every metric uses.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import narwhals as nw

from touchpoints.analytics.dimensions import DIMENSIONS
from touchpoints.analytics.engine import Engine
from touchpoints.analytics.layout import FEEDBACK
from touchpoints.analytics.plan import PERIOD_KEY, Plan, keyed_feedback
from touchpoints.analytics.query import using_engine
from touchpoints.auth.permissions import Permission, Principal, require
from touchpoints.metrics.counts import COUNT_COLUMNS, MonthlyCounts, counts_of
from touchpoints.metrics.statistics import CSAT_TOP2_MIN, PASSIVE_MIN, PROMOTER_MIN

__all__ = ["store_latest_day", "store_monthly_counts"]

SCORES = ["nps", "csat", "ces", "rating"]


def _aggregations() -> dict[str, nw.Expr]:
    nps, csat, ces = nw.col("nps"), nw.col("csat"), nw.col("ces")
    rating = nw.col("rating").cast(nw.Float64)

    def tally(condition: nw.Expr) -> nw.Expr:
        return condition.cast(nw.Int64).sum()

    return {
        "responses": nw.len(),
        "nps_n": nps.count(),
        "promoters": tally(nps >= PROMOTER_MIN),
        "passives": tally((nps >= PASSIVE_MIN) & (nps < PROMOTER_MIN)),
        "detractors": tally(nps < PASSIVE_MIN),
        "csat_n": csat.count(),
        "csat_top2": tally(csat >= CSAT_TOP2_MIN),
        "csat_sum": csat.cast(nw.Int64).sum(),
        "ces_n": ces.count(),
        "ces_sum": ces.cast(nw.Int64).sum(),
        "ces_sumsq": (ces.cast(nw.Int64) * ces.cast(nw.Int64)).sum(),
        "rating_n": rating.count(),
        "rating_sum": rating.sum(),
    }


def store_monthly_counts(
    *,
    actor: Principal,
    root: Path,
    start: date,
    end: date,
    engine: str | Engine = "duckdb",
) -> list[MonthlyCounts]:
    """Return counts per month and touchpoint for months [start, end) in the caller's scope."""
    require(actor, Permission.FEEDBACK_READ)
    last_day = date.fromordinal(end.toordinal() - 1)
    plan = Plan(
        dimensions=(DIMENSIONS["touchpoint"],),
        period="month",
        date_from=start,
        date_to=last_day,
        scope=actor.org_unit_path,
    )
    with using_engine(engine) as running:
        frame = keyed_feedback(running, root, actor.workspace_id, plan, [], SCORES)
        if frame is None:
            return []
        grouped = frame.group_by("k0", PERIOD_KEY).agg(**_aggregations())
        table = running.collect(grouped)
    rows: list[MonthlyCounts] = []
    for record in table.to_pylist():
        rows.append(
            MonthlyCounts(
                month=_month_start(record[PERIOD_KEY]),
                touchpoint_id=record["k0"],
                counts=counts_of([record[name] for name in COUNT_COLUMNS]),
            )
        )
    return rows


def _month_start(key: Any) -> date:
    text = str(key)
    return date(int(text[:4]), int(text[5:7]), 1)


def store_latest_day(
    *, actor: Principal, root: Path, engine: str | Engine = "duckdb"
) -> date | None:
    """Return the UTC day of the newest feedback in the caller's scope, or None without any."""
    require(actor, Permission.FEEDBACK_READ)
    with using_engine(engine) as running:
        feedback = running.scan(root, FEEDBACK, actor.workspace_id)
        if feedback is None:
            return None
        if actor.org_unit_path is not None:
            feedback = feedback.filter(nw.col("org_unit_path").str.starts_with(actor.org_unit_path))
        table = running.collect(feedback.select(nw.col("occurred_at").max().alias("latest")))
    latest = table.column("latest")[0].as_py() if table.num_rows else None
    if latest is None:
        return None
    if isinstance(latest, datetime):
        return (latest if latest.tzinfo is None else latest.astimezone(UTC)).date()
    return latest if isinstance(latest, date) else None
