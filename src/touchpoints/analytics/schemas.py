"""Requests and answers of the metrics API (and of any page built on the metric service)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from touchpoints.analytics.definitions import MetricSpec
from touchpoints.analytics.query import MetricQuery, PostStratification
from touchpoints.analytics.results import Comparison, MetricResult, MetricRow
from touchpoints.analytics.xo import OutcomeQuery, OutcomeResult, OutcomeRow
from touchpoints.metrics.statistics import MINIMUM_N, MetricValue

Period = Literal["day", "week", "month", "quarter"]


class WeightsIn(BaseModel):
    """Post-stratification: target population shares of one dimension's values."""

    model_config = ConfigDict(extra="forbid")

    dimension: str = Field(description="The dimension whose mix is weighted, e.g. `channel`.")
    targets: dict[str, float] = Field(
        description="Share of the population in each value; shares add up to 1."
    )


class MetricRequest(BaseModel):
    """What to compute: a metric by up to two dimensions and a period, with options."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    metric: str | MetricSpec = Field(
        default="nps", description="A metric key from GET /metrics, or a user-defined metric."
    )
    by: list[str] = Field(default_factory=list, max_length=2, description="Dimensions.")
    period: Period | None = Field(default=None, description="Group by UTC day/week/month/quarter.")
    date_from: date | None = Field(default=None, alias="from", description="First day (UTC).")
    date_to: date | None = Field(default=None, alias="to", description="Last day (UTC).")
    filters: dict[str, list[str]] = Field(
        default_factory=dict, description="Keep feedback whose dimension takes these values."
    )
    minimum_n: int = Field(default=MINIMUM_N, description="Groups with fewer answers are hidden.")
    confidence: float = Field(default=0.95, description="Confidence level of the intervals.")
    interval: Literal["trinomial", "adjusted_wald"] = Field(
        default="trinomial", description="NPS interval: trinomial variance or adjusted Wald."
    )
    compare: Literal["previous", "groups", "both", "none"] = Field(
        default="previous",
        description="Test the change vs the previous period, each group vs the rest, or both.",
    )
    correction: Literal["holm", "bh", "none"] = Field(
        default="holm", description="Multiple-comparison correction: Holm or Benjamini-Hochberg."
    )
    weights: WeightsIn | None = Field(default=None, description="Post-stratification weights.")

    def to_query(self, scope: str | None) -> MetricQuery:
        """Return the engine query, limited to the caller's org-unit scope."""
        weights = None
        if self.weights is not None:
            weights = PostStratification(self.weights.dimension, self.weights.targets)
        return MetricQuery(
            metric=self.metric,
            by=tuple(self.by),
            period=self.period,
            date_from=self.date_from,
            date_to=self.date_to,
            filters=self.filters,
            scope=scope,
            minimum_n=self.minimum_n,
            confidence=self.confidence,
            nps_interval=self.interval,
            compare=self.compare,
            correction=self.correction,
            weights=weights,
        )


class MetricInfo(BaseModel):
    """A metric of the catalogue."""

    key: str
    label: str
    description: str
    kind: str
    unit: str
    custom: bool = False


class DimensionInfo(BaseModel):
    """A dimension of the catalogue."""

    key: str
    label: str
    description: str


class MetricCatalogue(BaseModel):
    """The metrics, dimensions, periods and options a metric request may use."""

    metrics: list[MetricInfo]
    dimensions: list[DimensionInfo]
    periods: list[str]
    intervals: list[str]
    corrections: list[str]
    compares: list[str]
    minimum_n: int
    notes: list[str]


class ComparisonRead(BaseModel):
    """A tested difference; `significant` is decided on the corrected p-value."""

    difference: float
    z: float
    p_value: float
    p_adjusted: float
    significant: bool

    @classmethod
    def of(cls, comparison: Comparison | None) -> ComparisonRead | None:
        """Return the schema of a comparison (None stays None)."""
        return None if comparison is None else cls(**comparison.__dict__)


class MetricGroup(BaseModel):
    """One group: a suppressed group carries its n but no value or interval."""

    keys: dict[str, str | None]
    labels: dict[str, str | None]
    period: date | None = None
    period_label: str | None = None
    value: float | None
    n: int
    low: float | None
    high: float | None
    standard_error: float | None
    effective_n: float | None = None
    suppressed: bool
    change: ComparisonRead | None = None
    versus_rest: ComparisonRead | None = None

    @classmethod
    def of(cls, row: MetricRow) -> MetricGroup:
        """Return the schema of a result row."""
        value = row.value
        return cls(
            keys=row.keys,
            labels=row.labels,
            period=row.period,
            period_label=row.period_label,
            value=value.value,
            n=value.n,
            low=value.low,
            high=value.high,
            standard_error=value.standard_error,
            effective_n=value.effective_n,
            suppressed=row.suppressed,
            change=ComparisonRead.of(row.change),
            versus_rest=ComparisonRead.of(row.versus_rest),
        )


class MetricResultRead(BaseModel):
    """A metric's groups with the options they were computed with; `empty` when no data."""

    metric: MetricInfo
    by: list[str]
    period: str | None
    date_from: date | None = Field(serialization_alias="from")
    date_to: date | None = Field(serialization_alias="to")
    minimum_n: int
    confidence: float
    interval: str
    correction: str
    weighted_by: str | None
    engine: str
    notes: list[str]
    empty: bool
    total: int
    groups: list[MetricGroup]

    @classmethod
    def of(cls, result: MetricResult) -> MetricResultRead:
        """Return the schema of a metric result."""
        return cls(
            metric=MetricInfo(**result.metric.describe()),
            by=list(result.by),
            period=result.period,
            date_from=result.date_from,
            date_to=result.date_to,
            minimum_n=result.minimum_n,
            confidence=result.confidence,
            interval=result.nps_interval,
            correction=result.correction,
            weighted_by=result.weighted_by,
            engine=result.engine,
            notes=result.notes,
            empty=result.empty,
            total=len(result.rows),
            groups=[MetricGroup.of(row) for row in result.rows],
        )


class OutcomeRequest(BaseModel):
    """X/O: NPS groups against the same customers' spend and churn in a window."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    by: list[str] = Field(default_factory=list, max_length=2)
    date_from: date | None = Field(default=None, alias="from")
    date_to: date | None = Field(default=None, alias="to")
    filters: dict[str, list[str]] = Field(default_factory=dict)
    currency: str | None = None
    minimum_n: int = MINIMUM_N

    def to_query(self, scope: str | None) -> OutcomeQuery:
        """Return the engine query, limited to the caller's org-unit scope."""
        return OutcomeQuery(
            by=tuple(self.by),
            date_from=self.date_from,
            date_to=self.date_to,
            filters=self.filters,
            scope=scope,
            currency=self.currency,
            minimum_n=self.minimum_n,
        )


class Estimate(BaseModel):
    """A value with its n and 95% interval."""

    value: float | None
    n: int
    low: float | None
    high: float | None

    @classmethod
    def of(cls, value: MetricValue) -> Estimate:
        """Return the schema of a metric value."""
        return cls(value=value.value, n=value.n, low=value.low, high=value.high)


class OutcomeGroup(BaseModel):
    """One group's NPS next to its customers' spend and churn."""

    keys: dict[str, str | None]
    labels: dict[str, str | None]
    customers: int
    suppressed: bool
    nps_all: Estimate
    nps_active: Estimate
    survivorship_gap: float | None
    spend: float | None
    spend_per_customer: float | None
    churn_rate: Estimate
    detractor_churn_rate: Estimate
    promoter_churn_rate: Estimate
    detractor_spend: float | None
    revenue_at_risk: float | None

    @classmethod
    def of(cls, row: OutcomeRow) -> OutcomeGroup:
        """Return the schema of an X/O row."""
        fields = dict(row.__dict__)
        for name in ("nps_all", "nps_active", "churn_rate", "detractor_churn_rate",
                     "promoter_churn_rate"):  # fmt: skip
            fields[name] = Estimate.of(fields[name])
        return cls(**fields)


class OutcomeResultRead(BaseModel):
    """X/O groups of one window."""

    by: list[str]
    date_from: date | None = Field(serialization_alias="from")
    date_to: date | None = Field(serialization_alias="to")
    minimum_n: int
    engine: str
    empty: bool
    total: int
    groups: list[OutcomeGroup]

    @classmethod
    def of(cls, result: OutcomeResult) -> OutcomeResultRead:
        """Return the schema of an X/O result."""
        return cls(
            by=list(result.by),
            date_from=result.date_from,
            date_to=result.date_to,
            minimum_n=result.minimum_n,
            engine=result.engine,
            empty=result.empty,
            total=len(result.rows),
            groups=[OutcomeGroup.of(row) for row in result.rows],
        )
