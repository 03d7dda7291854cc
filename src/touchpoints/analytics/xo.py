"""X-data with O-data: NPS groups joined to the same customers' spend, churn and retention.

Per group, over a window of days: the customers who answered NPS, their spend (order values)
and churn (a churn event) in the window; NPS of all their answers and of the customers still
active at the end (the survivorship view); and revenue at risk from detractors:

    revenue at risk = detractors' spend x max(detractor churn rate - promoter churn rate, 0)

the spend that detractors' extra churn, over the promoters' baseline, is expected to take.
A customer's class follows the mean of their NPS answers in the group and window.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import narwhals as nw

from touchpoints.analytics.dimensions import Labels, parse_dimensions, parse_filters
from touchpoints.analytics.engine import Engine
from touchpoints.analytics.layout import EVENTS
from touchpoints.analytics.plan import Plan, keyed_feedback, window_bounds
from touchpoints.analytics.query import MetricQuery, using_engine
from touchpoints.metrics.statistics import (
    CONFIDENCE,
    MINIMUM_N,
    PASSIVE_MIN,
    PROMOTER_MIN,
    MetricValue,
    csat_from_counts,
    nps_from_counts,
)

__all__ = ["OutcomeQuery", "OutcomeResult", "OutcomeRow"]

LazyFrame = nw.LazyFrame[Any]
SUMS = (
    "customers", "churned", "spend", "answers", "promoters", "detractors", "active_answers",
    "active_promoters", "active_detractors", "detractor_customers", "detractor_churned",
    "detractor_spend", "promoter_customers", "promoter_churned",
)  # fmt: skip


@dataclass(frozen=True)
class OutcomeRow:
    """One group's X-data with its O-data."""

    keys: dict[str, str | None]
    labels: dict[str, str | None]
    customers: int
    suppressed: bool
    nps_all: MetricValue
    nps_active: MetricValue
    survivorship_gap: float | None
    spend: float | None
    spend_per_customer: float | None
    churn_rate: MetricValue
    detractor_churn_rate: MetricValue
    promoter_churn_rate: MetricValue
    detractor_spend: float | None
    revenue_at_risk: float | None


@dataclass(frozen=True)
class OutcomeResult:
    """X/O rows of one window, with the options they were computed with."""

    by: tuple[str, ...]
    date_from: date | None
    date_to: date | None
    minimum_n: int
    engine: str
    rows: list[OutcomeRow] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """Tell whether no identified customer answered NPS in the window."""
        return not self.rows

    def records(self) -> list[dict[str, Any]]:
        """Return one flat dict per group."""
        records = []
        for row in self.rows:
            record: dict[str, Any] = {}
            for key in self.by:
                record[key], record[f"{key}_label"] = row.keys[key], row.labels[key]
            record.update(customers=row.customers, suppressed=row.suppressed)
            for name in ("nps_all", "nps_active", "churn_rate", "detractor_churn_rate",
                         "promoter_churn_rate"):  # fmt: skip
                value: MetricValue = getattr(row, name)
                record[name], record[f"{name}_n"] = value.value, value.n
                record[f"{name}_low"], record[f"{name}_high"] = value.low, value.high
            for name in ("survivorship_gap", "spend", "spend_per_customer", "detractor_spend",
                         "revenue_at_risk"):  # fmt: skip
                record[name] = getattr(row, name)
            records.append(record)
        return records

    def to_pandas(self) -> Any:
        """Return the rows as a pandas DataFrame."""
        import pandas as pd

        return pd.DataFrame.from_records(self.records())


@dataclass(frozen=True)
class OutcomeQuery:
    """NPS groups against the spend and churn of the same customers in a window."""

    by: Sequence[str] = ()
    date_from: date | None = None
    date_to: date | None = None
    filters: Mapping[str, Sequence[str]] = field(default_factory=dict)
    scope: str | None = None
    currency: str | None = None
    minimum_n: int = MINIMUM_N
    confidence: float = CONFIDENCE

    def run(
        self, *, root: Path, workspace_id: str, engine: str | Engine = "duckdb"
    ) -> OutcomeResult:
        """Compute the X/O view of a workspace's analytics store."""
        MetricQuery(
            "nps",
            by=tuple(self.by),
            date_from=self.date_from,
            date_to=self.date_to,
            scope=self.scope,
            minimum_n=self.minimum_n,
            confidence=self.confidence,
        ).plan()  # the same validation as a metric query
        plan = Plan(
            dimensions=parse_dimensions(tuple(self.by)),
            date_from=self.date_from,
            date_to=self.date_to,
            filters=parse_filters(self.filters),
            scope=self.scope,
        )
        labels = Labels(root, workspace_id)
        for condition in plan.filters:
            labels.check(condition)
        with using_engine(engine) as running:
            table = self._sums(running, root, workspace_id, plan)
            name = running.name
        rows = [] if table is None else [self._row(plan, labels, r) for r in table.to_pylist()]
        rows = [row for row in rows if row.customers > 0]
        rows.sort(key=lambda row: tuple((k is None, k or "") for k in row.keys.values()))
        return OutcomeResult(
            tuple(self.by), self.date_from, self.date_to, self.minimum_n, name, rows
        )

    def _sums(self, engine: Engine, root: Path, workspace_id: str, plan: Plan) -> Any:
        answered = [~nw.col("nps").is_null(), ~nw.col("customer_id").is_null()]
        frame = keyed_feedback(engine, root, workspace_id, plan, answered, ["customer_id", "nps"])
        if frame is None:
            return None
        keys = plan.key_columns
        nps = nw.col("nps").cast(nw.Int64)
        per_customer = frame.group_by(*keys, "customer_id").agg(
            answers=nps.count(),
            total=nps.sum(),
            promoters=(nps >= PROMOTER_MIN).cast(nw.Int64).sum(),
            detractors=(nps < PASSIVE_MIN).cast(nw.Int64).sum(),
        )
        joined = per_customer.join(
            self._outcomes(engine, root, workspace_id, plan), on="customer_id", how="left"
        ).with_columns(
            spend=nw.col("spend").fill_null(0.0),
            churned=(nw.col("churn_events").fill_null(0) > 0).cast(nw.Int64),
            promoter=(nw.col("total") >= nw.col("answers") * PROMOTER_MIN).cast(nw.Int64),
            detractor=(nw.col("total") < nw.col("answers") * PASSIVE_MIN).cast(nw.Int64),
        )
        active = 1 - nw.col("churned")
        sums = {
            "customers": nw.len(),
            "churned": nw.col("churned").sum(),
            "spend": nw.col("spend").sum(),
            "answers": nw.col("answers").sum(),
            "promoters": nw.col("promoters").sum(),
            "detractors": nw.col("detractors").sum(),
            "active_answers": (nw.col("answers") * active).sum(),
            "active_promoters": (nw.col("promoters") * active).sum(),
            "active_detractors": (nw.col("detractors") * active).sum(),
            "detractor_customers": nw.col("detractor").sum(),
            "detractor_churned": (nw.col("detractor") * nw.col("churned")).sum(),
            "detractor_spend": (nw.col("spend") * nw.col("detractor")).sum(),
            "promoter_customers": nw.col("promoter").sum(),
            "promoter_churned": (nw.col("promoter") * nw.col("churned")).sum(),
        }
        grouped = joined.group_by(*keys).agg(**sums) if keys else joined.select(**sums)
        return engine.collect(grouped)

    def _outcomes(self, engine: Engine, root: Path, workspace_id: str, plan: Plan) -> LazyFrame:
        """Return each customer's spend and churn events in the window."""
        events = engine.scan(root, EVENTS, workspace_id)
        if events is None:
            return engine.from_arrow(_empty_outcomes())
        conditions = [
            ~nw.col("customer_id").is_null(),
            *window_bounds(plan.date_from, plan.date_to),
        ]
        if plan.scope is not None:
            conditions.append(nw.col("org_unit_path").str.starts_with(plan.scope))
        order = nw.col("type") == "order"
        if self.currency is not None:
            order = order & (nw.col("currency") == self.currency)
        return (
            events.filter(*conditions)
            .group_by("customer_id")
            .agg(
                spend=nw.when(order).then(nw.col("value").fill_null(0.0)).otherwise(0.0).sum(),
                churn_events=(nw.col("type") == "churn").cast(nw.Int64).sum(),
            )
        )

    def _row(self, plan: Plan, labels: Labels, sums: dict[str, Any]) -> OutcomeRow:
        count = {name: int(sums[name] or 0) for name in SUMS if "spend" not in name}
        spend, detractor_spend = float(sums["spend"] or 0), float(sums["detractor_spend"] or 0)
        keys = tuple(None if sums[k] is None else str(sums[k]) for k in plan.key_columns)
        customers = count["customers"]
        suppressed = customers < self.minimum_n
        nps_all = self._nps(count["promoters"], count["detractors"], count["answers"])
        nps_active = self._nps(
            count["active_promoters"], count["active_detractors"], count["active_answers"]
        )
        churn = csat_from_counts(count["churned"], customers, self.confidence)
        detractor_churn = csat_from_counts(
            count["detractor_churned"], count["detractor_customers"], self.confidence
        )
        promoter_churn = csat_from_counts(
            count["promoter_churned"], count["promoter_customers"], self.confidence
        )
        at_risk = None
        if detractor_churn.value is not None and promoter_churn.value is not None:
            at_risk = detractor_spend * max(detractor_churn.value - promoter_churn.value, 0.0)
        gap = None
        if nps_all.value is not None and nps_active.value is not None:
            gap = nps_active.value - nps_all.value
        hidden = MetricValue(None, 0)
        return OutcomeRow(
            keys={d.key: k for d, k in zip(plan.dimensions, keys, strict=True)},
            labels={d.key: labels.name(d, k) for d, k in zip(plan.dimensions, keys, strict=True)},
            customers=customers,
            suppressed=suppressed,
            nps_all=hidden if suppressed else nps_all,
            nps_active=hidden if suppressed else nps_active,
            survivorship_gap=None if suppressed else gap,
            spend=None if suppressed else spend,
            spend_per_customer=None if suppressed or not customers else spend / customers,
            churn_rate=hidden if suppressed else churn,
            detractor_churn_rate=hidden if suppressed else detractor_churn,
            promoter_churn_rate=hidden if suppressed else promoter_churn,
            detractor_spend=None if suppressed else detractor_spend,
            revenue_at_risk=None if suppressed else at_risk,
        )

    def _nps(self, promoters: int, detractors: int, answers: int) -> MetricValue:
        passives = answers - promoters - detractors
        return nps_from_counts(promoters, passives, detractors, self.confidence)


def _empty_outcomes() -> Any:
    import pyarrow as pa

    return pa.table(
        {
            "customer_id": pa.array([], pa.string()),
            "spend": pa.array([], pa.float64()),
            "churn_events": pa.array([], pa.int64()),
        }
    )
