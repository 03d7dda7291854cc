"""Metric definitions, written once against narwhals and run by any engine.

A definition says which answers count (a row filter) and which sufficient statistics a group
needs (counts, sums, sums of squares); the engine computes those per group and Python turns
them into a value with its interval, so every engine gives the same numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import narwhals as nw
from pydantic import BaseModel, ConfigDict, Field

from touchpoints.errors import InvalidInput
from touchpoints.metrics.statistics import (
    CES_AGREE_MIN,
    CONFIDENCE,
    CSAT_TOP2_MIN,
    PASSIVE_MIN,
    PROMOTER_MIN,
    MetricValue,
    kish_effective_n,
    mean_from_moments,
    nps_from_shares,
    proportion_from_share,
)

__all__ = [
    "METRICS",
    "MetricDefinition",
    "MetricSpec",
    "Statistics",
    "custom_metric",
    "resolve_metric",
]

MetricKind = Literal["nps", "share", "mean", "count"]
# Kinds whose statistics are all counts and sums (see MetricDefinition.aggregations).
ADDITIVE_KINDS: frozenset[str] = frozenset({"nps", "share", "mean", "count"})
Statistics = dict[str, float]
RATING_POINTS = 5
NUMERIC_COLUMNS = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7), "rating": (0, 100)}
TEXT_COLUMNS = (
    "channel",
    "source",
    "language",
    "sentiment",
    "survey_id",
    "touchpoint_id",
    "stage_id",
    "journey_id",
    "org_unit_id",
)
FLAG_COLUMNS = ("solicited",)
Value = str | int | float | bool


@dataclass(frozen=True)
class MetricDefinition:
    """One metric: which answers it reads and how a group's value is computed."""

    key: str
    label: str
    description: str
    kind: MetricKind
    unit: str
    column: str | None = None
    # share: an answer is a hit when it is at least `at_least`, or one of `hits`.
    at_least: int | None = None
    hits: tuple[Value, ...] = ()
    where: tuple[tuple[str, tuple[Value, ...]], ...] = ()
    scale: float = 1.0
    custom: bool = False

    def answer(self) -> nw.Expr:
        """Return the expression of one answer (ratings rescaled to 0-5)."""
        assert self.column is not None
        if self.column == "rating" and not self.custom:
            scale = nw.col("rating_scale").fill_null(RATING_POINTS).cast(nw.Float64)
            return nw.col("rating").cast(nw.Float64) * RATING_POINTS / scale
        return nw.col(self.column)

    def row_filter(self) -> list[nw.Expr]:
        """Return the conditions a feedback item must meet to count as an answer."""
        conditions = [] if self.column is None else [~nw.col(self.column).is_null()]
        for column, values in self.where:
            conditions.append(nw.col(column).is_in(list(values)))
        return conditions

    def aggregations(self) -> dict[str, nw.Expr]:
        """Return the sufficient statistics of a group as named aggregations."""
        if self.kind == "count":
            return {"n": nw.len()}
        answer = self.answer()
        n = answer.count()
        if self.kind == "nps":
            return {
                "n": n,
                "promoters": (answer >= PROMOTER_MIN).cast(nw.Int64).sum(),
                "detractors": (answer < PASSIVE_MIN).cast(nw.Int64).sum(),
            }
        if self.kind == "share":
            hit = (
                answer >= self.at_least
                if self.at_least is not None
                else answer.is_in(list(self.hits))
            )
            return {"n": n, "hits": hit.cast(nw.Int64).sum()}
        exact = self.column in ("nps", "csat", "ces")
        numbers = answer.cast(nw.Int64 if exact else nw.Float64)
        return {"n": n, "total": numbers.sum(), "squares": (numbers * numbers).sum()}

    @property
    def additive(self) -> bool:
        """Tell whether the statistics of two parts of a group add up to the group's.

        Every statistic above is a count or a sum, so this holds for each kind; an engine
        may then aggregate in two steps (touchpoints.analytics.segment_groups).
        """
        return self.kind in ADDITIVE_KINDS

    def evaluate(
        self,
        strata: Sequence[tuple[float, Statistics]],
        confidence: float = CONFIDENCE,
        nps_interval: str = "trinomial",
    ) -> MetricValue:
        """Return the value of a group from its statistics, one entry per weighted stratum.

        Unweighted groups have one stratum of weight 1; weighted ones use Kish's n.
        """
        if self.kind == "nps" and len(strata) == 1 and strata[0][0] == 1.0:
            return self._scaled(_plain_nps(strata[0][1], confidence, nps_interval))
        n = int(sum(stats["n"] for weight, stats in strata if weight > 0))
        if self.kind == "count":
            return MetricValue(float(n), n)
        weight_total = sum(weight * stats["n"] for weight, stats in strata)
        squared = sum(weight * weight * stats["n"] for weight, stats in strata)
        if n == 0 or weight_total <= 0:
            return MetricValue(None, n)
        effective = kish_effective_n(weight_total, squared)
        if len(strata) == 1 and strata[0][0] == 1.0:
            effective = float(n)

        def share(name: str) -> float:
            return sum(weight * stats[name] for weight, stats in strata) / weight_total

        if self.kind == "nps":
            value = nps_from_shares(
                share("promoters"), share("detractors"), effective, n, confidence, nps_interval
            )
        elif self.kind == "share":
            value = proportion_from_share(share("hits"), effective, n, confidence)
        else:
            total = sum(weight * stats["total"] for weight, stats in strata)
            squares = sum(weight * stats["squares"] for weight, stats in strata)
            weighted = effective != n or weight_total != n
            value = mean_from_moments(
                total,
                squares,
                n,
                confidence,
                effective if weighted else None,
                weight_total if weighted else None,
            )
        return self._scaled(value)

    def _scaled(self, value: MetricValue) -> MetricValue:
        if self.scale == 1.0:
            return value

        def times(number: float | None) -> float | None:
            return None if number is None else number * self.scale

        return MetricValue(
            times(value.value),
            value.n,
            times(value.low),
            times(value.high),
            times(value.standard_error),
            value.effective_n,
        )

    def describe(self) -> dict[str, Any]:
        """Return the definition as shown in the metric catalogue."""
        return {
            "key": self.key,
            "label": self.label,
            "description": self.description,
            "kind": self.kind,
            "unit": self.unit,
            "custom": self.custom,
        }


METRICS: dict[str, MetricDefinition] = {
    metric.key: metric
    for metric in (
        MetricDefinition(
            "nps", "NPS", "Net Promoter Score: % promoters (9-10) minus % detractors (0-6), "
            "in points from -100 to 100.", "nps", "points", "nps"),
        MetricDefinition(
            "csat", "CSAT", "Customer satisfaction: the share of 1-5 answers in the top two "
            "boxes (4 or 5).", "share", "share", "csat", at_least=CSAT_TOP2_MIN),
        MetricDefinition(
            "ces", "CES", "Customer effort score: the mean 1-7 answer (7 = very easy).",
            "mean", "mean", "ces"),
        MetricDefinition(
            "ces_agree", "CES agreement", "The share of 1-7 effort answers that agree it was "
            "easy (5 or more).", "share", "share", "ces", at_least=CES_AGREE_MIN),
        MetricDefinition(
            "rating", "Average rating", "The mean rating on a 0-5 scale (ratings on other "
            "scales are rescaled: rating x 5 / rating_scale).", "mean", "mean", "rating"),
        MetricDefinition(
            "responses", "Responses", "The number of feedback items (with or without a "
            "score).", "count", "responses"),
    )
}  # fmt: skip


class MetricSpec(BaseModel):
    """A user-defined metric: the share of answers taking some values, or a mean."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(
        pattern=r"^[a-z][a-z0-9_]{0,39}$",
        description="Short name, lower case, e.g. `negative_share`.",
    )
    label: str | None = Field(default=None, max_length=120, description="Display name.")
    kind: Literal["share", "mean"] = Field(description="share of items, or mean of a column.")
    column: str = Field(description="The feedback column it reads, e.g. `sentiment`, `nps`.")
    values: list[Value] | None = Field(
        default=None, description="share: the values that count as hits."
    )
    where: dict[str, list[Value]] = Field(
        default_factory=dict, description="Count only items whose column takes these values."
    )
    scale: float = Field(
        default=1.0, gt=0, le=1000, description="Multiply the value, e.g. 100 for a percent."
    )


def custom_metric(spec: MetricSpec) -> MetricDefinition:
    """Validate a user-defined metric and return its definition."""
    if spec.key in METRICS:
        raise InvalidInput("metric.key", f"{spec.key!r} is a built-in metric; pick another key")
    _check_column(spec.column, "metric.column")
    if spec.kind == "mean" and spec.column not in NUMERIC_COLUMNS:
        numeric = ", ".join(NUMERIC_COLUMNS)
        raise InvalidInput("metric.column", f"a mean needs a numeric column: {numeric}")
    hits: tuple[Value, ...] = ()
    if spec.kind == "share":
        if not spec.values:
            raise InvalidInput("metric.values", "a share needs the values that count as hits")
        hits = _typed(spec.column, spec.values, "metric.values")
    elif spec.values:
        raise InvalidInput("metric.values", "a mean takes no values; use `where` to filter")
    where = []
    for column, values in spec.where.items():
        _check_column(column, f"metric.where.{column}")
        if not values:
            raise InvalidInput(f"metric.where.{column}", "give at least one value")
        where.append((column, _typed(column, values, f"metric.where.{column}")))
    return MetricDefinition(
        key=spec.key,
        label=spec.label or spec.key.replace("_", " ").capitalize(),
        description=_describe(spec),
        kind=spec.kind,
        unit="share" if spec.kind == "share" else "mean",
        column=spec.column,
        hits=hits,
        where=tuple(where),
        scale=spec.scale,
        custom=True,
    )


def resolve_metric(metric: str | MetricSpec | MetricDefinition) -> MetricDefinition:
    """Return the definition of a built-in metric name, a spec or a definition."""
    if isinstance(metric, MetricDefinition):
        return metric
    if isinstance(metric, MetricSpec):
        return custom_metric(metric)
    definition = METRICS.get(metric)
    if definition is None:
        known = ", ".join(METRICS)
        raise InvalidInput("metric", f"unknown metric {metric!r}; use one of {known}")
    return definition


def _check_column(column: str, field: str) -> None:
    if column not in (*NUMERIC_COLUMNS, *TEXT_COLUMNS, *FLAG_COLUMNS):
        known = ", ".join((*NUMERIC_COLUMNS, *TEXT_COLUMNS, *FLAG_COLUMNS))
        raise InvalidInput(field, f"unknown feedback column {column!r}; use one of {known}")


def _typed(column: str, values: Sequence[Value], field: str) -> tuple[Value, ...]:
    """Return the values in the column's type, refusing any it can never take."""
    if column in NUMERIC_COLUMNS:
        lowest, highest = NUMERIC_COLUMNS[column]
        numbers = []
        for value in values:
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                raise InvalidInput(field, f"{value!r} is not a number")
            try:
                number = float(value)
            except ValueError:
                raise InvalidInput(field, f"{value!r} is not a number") from None
            if not lowest <= number <= highest:
                raise InvalidInput(field, f"{column} runs from {lowest} to {highest}, not {value}")
            numbers.append(number if column == "rating" else int(number))
            if column != "rating" and not number.is_integer():
                raise InvalidInput(field, f"{column} answers are whole numbers, not {value}")
        return tuple(numbers)
    if column in FLAG_COLUMNS:
        if not all(isinstance(value, bool) for value in values):
            raise InvalidInput(field, f"{column} is true or false")
        return tuple(values)
    return tuple(str(value) for value in values)


def _describe(spec: MetricSpec) -> str:
    where = "; ".join(f"{c} in {list(v)}" for c, v in spec.where.items())
    what = (
        f"share of answers with {spec.column} in {spec.values}"
        if spec.kind == "share"
        else f"mean of {spec.column}"
    )
    scaled = f", x {spec.scale:g}" if spec.scale != 1 else ""
    return f"User-defined: {what}{' where ' + where if where else ''}{scaled}."


def statistics_of(row: Mapping[str, Any], names: Sequence[str]) -> Statistics:
    """Pick a group's sufficient statistics out of a result row (missing sums are 0)."""
    return {name: float(row[name] or 0) for name in names}


def _plain_nps(stats: Statistics, confidence: float, nps_interval: str) -> MetricValue:
    """NPS of one unweighted group: what `evaluate` gives, without the weighting arithmetic.

    The common case (a dashboard's NPS by segment and month evaluates thousands of groups).
    """
    n = int(stats["n"])
    if n == 0:
        return MetricValue(None, n)
    return nps_from_shares(
        stats["promoters"] / n, stats["detractors"] / n, float(n), n, confidence, nps_interval
    )
