"""The overview: NPS, CSAT and CES of a period, their trends and where they move.

The counts come from the analytics store through the metric engine (one grouped query per
page); names of touchpoints and stages come from the operational store.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from touchpoints.analytics.overview_counts import store_latest_day, store_monthly_counts
from touchpoints.auth.permissions import Permission, Principal, require
from touchpoints.errors import InvalidInput
from touchpoints.journeys.models import Journey, JourneyStage, Touchpoint
from touchpoints.metrics.counts import Counts, MonthlyCounts
from touchpoints.metrics.statistics import MINIMUM_N, Change, MetricValue, compare, is_reportable

PERIOD_MONTHS = (3, 6, 12, 18)
DEFAULT_MONTHS = 12
MOVERS_SHOWN = 5
NO_TOUCHPOINT = "No touchpoint"
NO_STAGE = "No journey stage"

METRICS: dict[str, tuple[str, Callable[[Counts], MetricValue]]] = {
    "nps": ("NPS", Counts.nps),
    "csat": ("CSAT", Counts.csat),
    "ces": ("CES", Counts.ces),
}


@dataclass(frozen=True)
class Tile:
    """One headline metric of the period next to the period before."""

    key: str
    label: str
    current: MetricValue
    previous: MetricValue
    change: Change | None
    reportable: bool


@dataclass(frozen=True)
class MonthPoint:
    """The metrics of one month."""

    month: date
    nps: MetricValue
    csat: MetricValue
    ces: MetricValue


@dataclass(frozen=True)
class GroupScore:
    """The metrics of one journey stage or touchpoint over the period."""

    name: str
    detail: str | None
    nps: MetricValue
    csat: MetricValue
    ces: MetricValue

    @classmethod
    def of(cls, name: str, detail: str | None, counts: Counts) -> GroupScore:
        """Return the metrics of a group from its counts."""
        return cls(name, detail, counts.nps(), counts.csat(), counts.ces())


@dataclass(frozen=True)
class Mover:
    """A touchpoint whose metric changed between the last two months."""

    name: str
    detail: str | None
    latest: MetricValue
    before: MetricValue
    change: Change


@dataclass(frozen=True)
class Movers:
    """The touchpoints whose metric moved most, and how many were too small to rank."""

    key: str
    label: str
    ranked: list[Mover]
    unranked: int


@dataclass(frozen=True)
class Overview:
    """Everything the overview page shows for one period and the caller's scope."""

    months: int
    first_month: date
    last_month: date
    minimum_n: int
    tiles: list[Tile]
    trend: list[MonthPoint]
    by_stage: list[GroupScore]
    by_touchpoint: list[GroupScore]
    movers: list[Movers]


@dataclass(frozen=True)
class _Place:
    name: str
    detail: str | None
    stage_key: str | None
    stage_name: str
    stage_detail: str | None
    order: tuple[str, int]


def add_months(month: date, count: int) -> date:
    """Return the first day of the month `count` months after (or before) `month`."""
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def overview(
    *,
    db_session: Session,
    actor: Principal,
    root: Path,
    months: int = DEFAULT_MONTHS,
    minimum_n: int = MINIMUM_N,
    today: date | None = None,
    engine: str = "duckdb",
) -> Overview:
    """Return the overview of the last `months` months with data, in the caller's scope.

    `root` is the analytics store the counts are read from (on `engine`).
    """
    require(actor, Permission.FEEDBACK_READ)
    if months not in PERIOD_MONTHS:
        raise InvalidInput("months", f"pick one of {', '.join(map(str, PERIOD_MONTHS))}")
    today = today or datetime.now(UTC).date()
    latest = store_latest_day(actor=actor, root=root, engine=engine)
    last_month = min(latest or today, today).replace(day=1)
    first_month = add_months(last_month, 1 - months)
    rows = store_monthly_counts(
        actor=actor,
        root=root,
        start=add_months(first_month, -months),
        end=add_months(last_month, 1),
        engine=engine,
    )
    places = _places(db_session, actor)
    current = [row for row in rows if row.month >= first_month]
    previous = [row for row in rows if row.month < first_month]
    by_touchpoint = _by_group(current, lambda tp: _touchpoint_key(places, tp))
    return Overview(
        months=months,
        first_month=first_month,
        last_month=last_month,
        minimum_n=minimum_n,
        tiles=_tiles(_total(current), _total(previous), minimum_n),
        trend=_trend(current, first_month, months),
        by_stage=_stage_scores(by_touchpoint, places),
        by_touchpoint=_touchpoint_scores(by_touchpoint, places),
        movers=_movers(rows, last_month, places, minimum_n),
    )


def _places(db_session: Session, actor: Principal) -> dict[str, _Place]:
    """Map every touchpoint id of the workspace to its name, stage and journey."""
    statement = (
        select(Touchpoint.id, Touchpoint.name, JourneyStage, Journey.name)
        .outerjoin(JourneyStage, JourneyStage.id == Touchpoint.stage_id)
        .outerjoin(Journey, Journey.id == JourneyStage.journey_id)
        .where(Touchpoint.workspace_id == actor.workspace_id)
    )
    places = {}
    for touchpoint_id, name, stage, journey_name in db_session.execute(statement):
        places[touchpoint_id] = _Place(
            name=name,
            detail=f"{journey_name} \u203a {stage.name}" if stage else None,
            stage_key=stage.id if stage else None,
            stage_name=stage.name if stage else NO_STAGE,
            stage_detail=journey_name,
            order=(journey_name or "\uffff", stage.position if stage else 0),
        )
    return places


def _touchpoint_key(places: dict[str, _Place], touchpoint_id: str | None) -> str | None:
    # A touchpoint deleted since counts as feedback without one, as its items now do.
    return touchpoint_id if touchpoint_id in places else None


def _total(rows: Iterable[MonthlyCounts]) -> Counts:
    total = Counts()
    for row in rows:
        total += row.counts
    return total


def _by_group(
    rows: Iterable[MonthlyCounts], key: Callable[[str | None], str | None]
) -> dict[str | None, Counts]:
    groups: dict[str | None, Counts] = defaultdict(Counts)
    for row in rows:
        group = key(row.touchpoint_id)
        groups[group] = groups[group] + row.counts
    return dict(groups)


def _tiles(current: Counts, previous: Counts, minimum_n: int) -> list[Tile]:
    tiles = []
    for key, (label, metric) in METRICS.items():
        now, before = metric(current), metric(previous)
        tiles.append(
            Tile(
                key=key,
                label=label,
                current=now,
                previous=before,
                change=compare(now, before, minimum_n=minimum_n),
                reportable=is_reportable(now, minimum_n),
            )
        )
    return tiles


def _trend(rows: list[MonthlyCounts], first_month: date, months: int) -> list[MonthPoint]:
    totals: dict[date, Counts] = defaultdict(Counts)
    for row in rows:
        totals[row.month] = totals[row.month] + row.counts
    points = []
    for offset in range(months):
        month = add_months(first_month, offset)
        counts = totals.get(month, Counts())
        points.append(MonthPoint(month, counts.nps(), counts.csat(), counts.ces()))
    return points


def _answered(counts: Counts) -> bool:
    return counts.nps_n + counts.csat_n + counts.ces_n > 0


def _touchpoint_scores(
    groups: dict[str | None, Counts], places: dict[str, _Place]
) -> list[GroupScore]:
    scores = []
    for touchpoint_id, counts in groups.items():
        if not _answered(counts):
            continue
        place = places.get(touchpoint_id) if touchpoint_id else None
        name, detail = (place.name, place.detail) if place else (NO_TOUCHPOINT, None)
        scores.append(GroupScore.of(name, detail, counts))
    return sorted(scores, key=lambda s: (s.name == NO_TOUCHPOINT, s.detail or "", s.name))


def _stage_scores(groups: dict[str | None, Counts], places: dict[str, _Place]) -> list[GroupScore]:
    stages: dict[str | None, Counts] = defaultdict(Counts)
    labels: dict[str | None, tuple[str, str | None, tuple[str, int]]] = {
        None: (NO_STAGE, None, ("\uffff", 0))
    }
    for touchpoint_id, counts in groups.items():
        place = places.get(touchpoint_id) if touchpoint_id else None
        stage_key = place.stage_key if place else None
        stages[stage_key] = stages[stage_key] + counts
        if place is not None and stage_key is not None:
            labels[stage_key] = (place.stage_name, place.stage_detail, place.order)
    ordered = sorted(stages.items(), key=lambda item: labels[item[0]][2])
    return [
        GroupScore.of(labels[key][0], labels[key][1], counts)
        for key, counts in ordered
        if _answered(counts)
    ]


def _movers(
    rows: list[MonthlyCounts], last_month: date, places: dict[str, _Place], minimum_n: int
) -> list[Movers]:
    """Rank touchpoints by each metric's change between the last two months."""
    month_before = add_months(last_month, -1)
    latest = _by_group((r for r in rows if r.month == last_month), lambda tp: tp)
    before = _by_group((r for r in rows if r.month == month_before), lambda tp: tp)
    touchpoint_ids = sorted({k for k in (*latest, *before) if k is not None and k in places})
    result = []
    for key, (label, metric) in METRICS.items():
        ranked, unranked = [], 0
        for touchpoint_id in touchpoint_ids:
            now = metric(latest.get(touchpoint_id, Counts()))
            then = metric(before.get(touchpoint_id, Counts()))
            if now.n == 0 and then.n == 0:
                continue
            change = compare(now, then, minimum_n=minimum_n)
            if change is None:
                unranked += 1
                continue
            place = places[touchpoint_id]
            ranked.append(Mover(place.name, place.detail, now, then, change))
        ranked.sort(key=lambda mover: (-abs(mover.change.difference), mover.name))
        result.append(Movers(key, label, ranked[:MOVERS_SHOWN], unranked))
    return result
