"""The journey map: feedback volume, NPS, CSAT and sentiment per stage and touchpoint.

Everything is counted within the caller's org-unit scope and a period. Metrics resting on
fewer than MINIMUM_N answers are suppressed (shown as "n < 30"), never as a number.
Drop-off between consecutive stages: of the customers with feedback at a touchpoint of stage
k, the share who do not also appear (feedback or an operational event) at stage k+1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Select, case, func, select, union
from sqlalchemy.orm import Session

from touchpoints.auth.permissions import Permission, Principal, require, scope_condition
from touchpoints.feedback.models import FeedbackItem
from touchpoints.journeys.models import Journey, JourneyStage, Touchpoint
from touchpoints.metrics.statistics import (
    MINIMUM_N,
    MetricValue,
    csat_from_counts,
    is_reportable,
    nps_from_counts,
)
from touchpoints.operations.models import OperationalEvent
from touchpoints.signals.service import visible

SENTIMENTS = ("negative", "neutral", "positive")


@dataclass
class Tally:
    """Feedback counts behind one cell of the map (a touchpoint, or a whole stage)."""

    volume: int = 0
    promoters: int = 0
    passives: int = 0
    detractors: int = 0
    csat_n: int = 0
    csat_top2: int = 0
    sentiment: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SENTIMENTS, 0))

    def add(self, other: Tally) -> None:
        """Add another tally's counts to this one."""
        self.volume += other.volume
        self.promoters += other.promoters
        self.passives += other.passives
        self.detractors += other.detractors
        self.csat_n += other.csat_n
        self.csat_top2 += other.csat_top2
        for name in SENTIMENTS:
            self.sentiment[name] += other.sentiment[name]

    @property
    def nps(self) -> MetricValue:
        """Return NPS (points) with its n and interval."""
        return nps_from_counts(self.promoters, self.passives, self.detractors)

    @property
    def csat(self) -> MetricValue:
        """Return the CSAT top-2-box share with its n and interval."""
        return csat_from_counts(self.csat_top2, self.csat_n)

    @property
    def sentiment_n(self) -> int:
        """Return how many items carry a sentiment."""
        return sum(self.sentiment.values())

    def sentiment_share(self, name: str) -> float | None:
        """Return the share of items with this sentiment, or None under the minimum n."""
        total = self.sentiment_n
        return self.sentiment[name] / total if total >= MINIMUM_N else None

    def reportable(self, metric: MetricValue) -> bool:
        """Tell whether a metric of this cell rests on enough answers to be shown."""
        return is_reportable(metric)


@dataclass(frozen=True)
class TouchpointCell:
    """One touchpoint on the map with its counts."""

    touchpoint: Touchpoint
    tally: Tally


@dataclass(frozen=True)
class StageColumn:
    """One stage: its touchpoints, its totals and the share who went on to the next stage."""

    stage: JourneyStage
    touchpoints: list[TouchpointCell]
    total: Tally
    customers: int = 0
    continued: int | None = None

    @property
    def continued_share(self) -> float | None:
        """Return the share of this stage's customers seen at the next stage."""
        if self.continued is None or self.customers == 0:
            return None
        return self.continued / self.customers


@dataclass(frozen=True)
class JourneyMap:
    """A journey's stages as columns, each with its touchpoints."""

    journey: Journey
    stages: list[StageColumn]


def default_period(today: date) -> tuple[date, date]:
    """Return the default period: the twelve months up to today."""
    return today - timedelta(days=365), today


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    low = datetime.combine(start, time.min, tzinfo=UTC)
    return low, datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)


def _tallies(db_session: Session, actor: Principal, start: date, end: date) -> dict[str, Tally]:
    low, high = _bounds(start, end)
    nps, csat = FeedbackItem.nps, FeedbackItem.csat
    counts = (
        func.count(),
        func.count(case((nps >= 9, 1))),
        func.count(case((nps.between(7, 8), 1))),
        func.count(case((nps <= 6, 1))),
        func.count(csat),
        func.count(case((csat >= 4, 1))),
        *(func.count(case((FeedbackItem.sentiment == name, 1))) for name in SENTIMENTS),
    )
    statement = (
        visible(actor, FeedbackItem)
        .with_only_columns(FeedbackItem.touchpoint_id, *counts)
        .where(FeedbackItem.occurred_at >= low, FeedbackItem.occurred_at < high)
        .where(FeedbackItem.touchpoint_id.is_not(None))
        .group_by(FeedbackItem.touchpoint_id)
    )
    tallies = {}
    for touchpoint_id, volume, pro, pas, det, c_n, c_top, *moods in db_session.execute(statement):
        tallies[str(touchpoint_id)] = Tally(
            volume, pro, pas, det, c_n, c_top, dict(zip(SENTIMENTS, moods, strict=True))
        )
    return tallies


def _seen_at_stages(
    actor: Principal, model: type[FeedbackItem] | type[OperationalEvent], start: date, end: date
) -> Select[str | None, str | None]:
    low, high = _bounds(start, end)
    statement = (
        select(Touchpoint.stage_id, model.customer_id)
        .select_from(model)
        .join(Touchpoint, Touchpoint.id == model.touchpoint_id)
        .where(model.workspace_id == actor.workspace_id)
        .where(model.customer_id.is_not(None), Touchpoint.stage_id.is_not(None))
        .where(model.occurred_at >= low, model.occurred_at < high)
    )
    in_scope = scope_condition(actor, model.org_unit_id)
    return statement if in_scope is None else statement.where(in_scope)


def _continuation(
    db_session: Session, actor: Principal, start: date, end: date, next_stage: dict[str, str]
) -> tuple[dict[str, int], dict[str, int]]:
    """Return customers per stage and, per stage, how many also appear at the next stage."""
    # Distinct (stage, customer) pairs: who gave feedback at a stage, and who appeared there.
    said = _seen_at_stages(actor, FeedbackItem, start, end).distinct().subquery("said")
    seen = union(
        _seen_at_stages(actor, FeedbackItem, start, end),
        _seen_at_stages(actor, OperationalEvent, start, end),
    ).subquery("seen")
    per_stage = select(said.c.stage_id, func.count()).group_by(said.c.stage_id)
    customers = {str(stage): int(n) for stage, n in db_session.execute(per_stage)}
    if not next_stage:
        return customers, {}
    following = case(
        *((said.c.stage_id == stage, nxt) for stage, nxt in next_stage.items()), else_=None
    )
    joined = (
        select(said.c.stage_id, func.count())
        .join(seen, (seen.c.customer_id == said.c.customer_id) & (seen.c.stage_id == following))
        .group_by(said.c.stage_id)
    )
    return customers, {str(stage): int(n) for stage, n in db_session.execute(joined)}


def journey_maps(
    *, db_session: Session, actor: Principal, start: date, end: date
) -> list[JourneyMap]:
    """Return every journey of the workspace as a map of the caller's feedback in a period."""
    require(actor, Permission.JOURNEYS_READ)
    require(actor, Permission.FEEDBACK_READ)
    journeys = list(
        db_session.scalars(
            select(Journey).where(Journey.workspace_id == actor.workspace_id).order_by(Journey.name)
        )
    )
    touchpoints = list(
        db_session.scalars(
            select(Touchpoint)
            .where(Touchpoint.workspace_id == actor.workspace_id, Touchpoint.stage_id.is_not(None))
            .order_by(Touchpoint.name)
        )
    )
    tallies = _tallies(db_session, actor, start, end)
    next_stage = {
        stage.id: journey.stages[index + 1].id
        for journey in journeys
        for index, stage in enumerate(journey.stages[:-1])
    }
    customers, continued = _continuation(db_session, actor, start, end, next_stage)
    return [
        JourneyMap(
            journey,
            [
                _column(stage, touchpoints, tallies, customers, continued, stage.id in next_stage)
                for stage in journey.stages
            ],
        )
        for journey in journeys
    ]


def _column(
    stage: JourneyStage,
    touchpoints: list[Touchpoint],
    tallies: dict[str, Tally],
    customers: dict[str, int],
    continued: dict[str, int],
    has_next: bool,
) -> StageColumn:
    cells = [
        TouchpointCell(touchpoint, tallies.get(touchpoint.id, Tally()))
        for touchpoint in touchpoints
        if touchpoint.stage_id == stage.id
    ]
    total = Tally()
    for cell in cells:
        total.add(cell.tally)
    return StageColumn(
        stage=stage,
        touchpoints=cells,
        total=total,
        customers=customers.get(stage.id, 0),
        continued=continued.get(stage.id, 0) if has_next else None,
    )
