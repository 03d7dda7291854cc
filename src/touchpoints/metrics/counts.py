"""The additive counts behind NPS, CSAT and CES for a group of feedback, and their metrics."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from touchpoints.metrics.statistics import (
    MetricValue,
    ces_from_moments,
    csat_from_counts,
    nps_from_counts,
)

# The counts, in the order the engine's grouped query returns them.
COUNT_COLUMNS = (
    "responses",
    "nps_n",
    "promoters",
    "passives",
    "detractors",
    "csat_n",
    "csat_top2",
    "csat_sum",
    "ces_n",
    "ces_sum",
    "ces_sumsq",
    "rating_n",
    "rating_sum",
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
