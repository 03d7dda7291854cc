"""Read metric counts from the monthly rollups, in the caller's workspace and org-unit scope."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from touchpoints.auth.permissions import Principal, scope_condition
from touchpoints.metrics.models import (
    COUNT_COLUMNS,
    NO_KEY,
    FeedbackMonthRollup,
    FeedbackRollup,
)
from touchpoints.metrics.statistics import (
    MetricValue,
    ces_from_moments,
    csat_from_counts,
    nps_from_counts,
)


@dataclass(frozen=True)
class Counts:
    """The additive counts behind NPS, CSAT and CES for one group of feedback."""

    responses: int = 0
    nps_n: int = 0
    promoters: int = 0
    passives: int = 0
    detractors: int = 0
    csat_n: int = 0
    csat_top2: int = 0
    csat_sum: int = 0
    ces_n: int = 0
    ces_sum: int = 0
    ces_sumsq: int = 0
    rating_n: int = 0
    rating_sum: float = 0.0

    def __add__(self, other: Counts) -> Counts:
        """Return the counts of both groups together."""
        return Counts(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def nps(self) -> MetricValue:
        """Return the group's NPS."""
        return nps_from_counts(self.promoters, self.passives, self.detractors)

    def csat(self) -> MetricValue:
        """Return the group's CSAT top-2-box share."""
        return csat_from_counts(self.csat_top2, self.csat_n)

    def ces(self) -> MetricValue:
        """Return the group's mean CES."""
        return ces_from_moments(float(self.ces_sum), float(self.ces_sumsq), self.ces_n)


@dataclass(frozen=True)
class MonthlyCounts:
    """Counts of one month for one touchpoint (None: feedback without a touchpoint)."""

    month: date
    touchpoint_id: str | None
    counts: Counts


def counts_of(sums: Sequence[Any]) -> Counts:
    """Build Counts from sums in the order of COUNT_COLUMNS (None counts as zero)."""
    values = dict(zip(COUNT_COLUMNS, sums, strict=True))
    rating_sum = float(values.pop("rating_sum") or 0.0)
    integers = {name: int(value or 0) for name, value in values.items()}
    return Counts(**integers, rating_sum=rating_sum)


def latest_day(db_session: Session, *, actor: Principal) -> date | None:
    """Return the last day with feedback in the caller's workspace, if any."""
    statement = select(func.max(FeedbackRollup.day)).where(
        FeedbackRollup.workspace_id == actor.workspace_id
    )
    latest = db_session.scalar(statement)
    return date.fromisoformat(latest) if isinstance(latest, str) else latest


def monthly_counts(
    db_session: Session, *, actor: Principal, start: date, end: date
) -> list[MonthlyCounts]:
    """Return the counts per month and touchpoint of months [start, end) in the caller's scope."""
    rollup = FeedbackMonthRollup
    sums = [func.sum(rollup.__table__.c[name]) for name in COUNT_COLUMNS]
    statement = (
        select(rollup.month, rollup.touchpoint_id, *sums)
        .where(rollup.workspace_id == actor.workspace_id, rollup.month >= start, rollup.month < end)
        .group_by(rollup.month, rollup.touchpoint_id)
    )
    in_scope = scope_condition(actor, rollup.org_unit_id)
    if in_scope is not None:
        statement = statement.where(in_scope)
    return [
        MonthlyCounts(
            month=row[0],
            touchpoint_id=None if row[1] == NO_KEY else row[1],
            counts=counts_of(row[2:]),
        )
        for row in db_session.execute(statement)
    ]
