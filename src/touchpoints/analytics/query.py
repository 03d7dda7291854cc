"""Metric queries: validate a request, run its plan on an engine, add the statistics.

>>> query = MetricQuery("nps", by=("segment",), period="month", minimum_n=30)
>>> query.by, query.period
(('segment',), 'month')
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path

from touchpoints.analytics.definitions import MetricDefinition, MetricSpec, resolve_metric
from touchpoints.analytics.dimensions import (
    PERIODS,
    Dimension,
    Labels,
    parse_dimension,
    parse_dimensions,
    parse_filters,
)
from touchpoints.analytics.engine import Engine, open_engine
from touchpoints.analytics.grouping import Cells, cells_of, comparisons, evaluate_cells
from touchpoints.analytics.plan import Plan, group_statistics
from touchpoints.analytics.results import MetricResult
from touchpoints.errors import InvalidInput
from touchpoints.metrics.statistics import CONFIDENCE, CORRECTIONS, MINIMUM_N, NPS_INTERVALS

__all__ = ["COMPARES", "MetricQuery", "PostStratification", "metric_table", "using_engine"]

COMPARES = ("previous", "groups", "both", "none")
MAX_MINIMUM_N = 1_000_000


@dataclass(frozen=True)
class PostStratification:
    """Weights bringing each group's mix over one dimension to target population shares."""

    dimension: str
    targets: Mapping[str, float]


@dataclass(frozen=True)
class MetricQuery:
    """A metric by up to two dimensions and a period, with filters and statistics options."""

    metric: str | MetricSpec | MetricDefinition = "nps"
    by: Sequence[str] = ()
    period: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    filters: Mapping[str, Sequence[str]] = field(default_factory=dict)
    # Materialized org-unit path the answers must lie under (the caller's scope).
    scope: str | None = None
    minimum_n: int = MINIMUM_N
    confidence: float = CONFIDENCE
    nps_interval: str = "trinomial"
    compare: str = "previous"
    correction: str = "holm"
    weights: PostStratification | None = None

    def __post_init__(self) -> None:
        if isinstance(self.by, str):
            object.__setattr__(self, "by", (self.by,))
        object.__setattr__(self, "by", tuple(self.by))

    def plan(self) -> tuple[MetricDefinition, Plan]:
        """Validate the query and return its metric and engine plan (InvalidInput if wrong)."""
        metric = resolve_metric(self.metric)
        self._check_options()
        stratum = None
        if self.weights is not None:
            stratum = self._check_weights(metric)
        plan = Plan(
            dimensions=parse_dimensions(self.by),
            period=self.period,
            date_from=self.date_from,
            date_to=self.date_to,
            filters=parse_filters(self.filters),
            scope=self.scope,
            stratum=stratum,
        )
        return metric, plan

    def _check_options(self) -> None:
        if self.period is not None and self.period not in PERIODS:
            raise InvalidInput("period", f"unknown period {self.period!r}; use one of {PERIODS}")
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise InvalidInput("from", f"{self.date_from} is after to ({self.date_to})")
        if not 1 <= self.minimum_n <= MAX_MINIMUM_N:
            raise InvalidInput("minimum_n", f"must lie between 1 and {MAX_MINIMUM_N}")
        if not 0.5 <= self.confidence < 1:
            raise InvalidInput("confidence", "must lie between 0.5 and 1, e.g. 0.95")
        if self.nps_interval not in NPS_INTERVALS:
            raise InvalidInput("interval", f"use one of {', '.join(NPS_INTERVALS)}")
        if self.compare not in COMPARES:
            raise InvalidInput("compare", f"use one of {', '.join(COMPARES)}")
        if self.correction not in CORRECTIONS:
            raise InvalidInput("correction", f"use one of {', '.join(CORRECTIONS)}")
        if self.scope is not None and not (self.scope.startswith("/") and self.scope.endswith("/")):
            raise InvalidInput("scope", "an org-unit path looks like /<id>/<id>/")

    def _check_weights(self, metric: MetricDefinition) -> Dimension:
        assert self.weights is not None
        dimension = parse_dimension(self.weights.dimension, "weights.dimension")
        if dimension.exploding:
            raise InvalidInput(
                "weights.dimension",
                f"{dimension.key} puts an answer in several groups; weight by a dimension "
                "where each answer falls in one stratum",
            )
        if dimension.key in self.by:
            raise InvalidInput("weights.dimension", "weight by a dimension you do not group by")
        if metric.kind == "count":
            raise InvalidInput("weights", "weights apply to scores, not to response counts")
        targets = self.weights.targets
        if not targets or any(share < 0 for share in targets.values()):
            raise InvalidInput("weights.targets", "give each stratum a share of 0 or more")
        if abs(sum(targets.values()) - 1) > 1e-6:
            raise InvalidInput("weights.targets", "the target shares must add up to 1")
        return dimension

    def run(
        self, *, root: Path, workspace_id: str, engine: str | Engine = "duckdb"
    ) -> MetricResult:
        """Compute the metric over a workspace's analytics store on DuckDB or Spark."""
        metric, plan = self.plan()
        labels = Labels(root, workspace_id)
        for condition in plan.filters:
            labels.check(condition)
        with using_engine(engine) as running:
            cells = self._cells(running, root, workspace_id, plan, metric)
            previous = None
            if self._compares_windows():
                assert self.date_from is not None and self.date_to is not None
                length = self.date_to - self.date_from + timedelta(days=1)
                earlier = replace(
                    plan, date_from=self.date_from - length, date_to=self.date_from - timedelta(1)
                )
                previous = self._cells(running, root, workspace_id, earlier, metric)
            engine_name = running.name
        rows = evaluate_cells(self, metric, plan, cells, labels)
        rows = comparisons(self, metric, plan, cells, rows, previous)
        return MetricResult(
            metric=metric,
            by=tuple(self.by),
            period=self.period,
            date_from=self.date_from,
            date_to=self.date_to,
            minimum_n=self.minimum_n,
            confidence=self.confidence,
            nps_interval=self.nps_interval,
            correction=self.correction,
            engine=engine_name,
            rows=rows,
            weighted_by=None if self.weights is None else self.weights.dimension,
            notes=_notes(self, plan),
        )

    def _compares_windows(self) -> bool:
        return (
            self.compare in ("previous", "both")
            and self.period is None
            and self.date_from is not None
            and self.date_to is not None
        )

    def _cells(
        self, engine: Engine, root: Path, workspace_id: str, plan: Plan, metric: MetricDefinition
    ) -> Cells:
        table = group_statistics(engine, root, workspace_id, plan, metric)
        return cells_of(table, plan, metric)


@contextmanager
def using_engine(engine: str | Engine) -> Iterator[Engine]:
    """Use an engine given by name (opened and closed here) or an open one."""
    if not isinstance(engine, str):
        yield engine
        return
    with open_engine(engine) as opened:
        yield opened


def _notes(query: MetricQuery, plan: Plan) -> list[str]:
    notes = []
    for dimension in plan.dimensions:
        if dimension.exploding:
            notes.append(f"{dimension.label}: an answer can count in several groups.")
    if query.weights is not None:
        notes.append(
            f"Weighted to target shares of {query.weights.dimension}; intervals use Kish's "
            "effective n; answers outside the given strata are left out."
        )
    return notes


def metric_table(
    metric: str | MetricSpec | MetricDefinition,
    *,
    root: Path,
    workspace_id: str,
    by: Sequence[str] | str = (),
    engine: str | Engine = "duckdb",
    **options: object,
) -> MetricResult:
    """Compute a metric grouped by dimensions; `.to_pandas()` or `.to_arrow()` the result.

    Options are those of MetricQuery: period, date_from, date_to, filters, minimum_n,
    confidence, nps_interval, compare, correction, weights, scope.
    """
    query = MetricQuery(metric, by=(by,) if isinstance(by, str) else tuple(by), **options)  # type: ignore[arg-type]
    return query.run(root=root, workspace_id=workspace_id, engine=engine)
