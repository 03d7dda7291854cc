"""Customer-experience metrics with their confidence intervals and significance tests.

Every metric comes back as a MetricValue: the value, the number of answers it rests on (n),
a 95% interval and its standard error. NPS is in points (-100..100) with the trinomial
variance; CSAT is the top-2-box share on 1-5 with a Wilson interval; CES is the 1-7 mean
with a Student t interval.

>>> nps = nps_score([10, 9, 8, 3])
>>> nps.value, nps.n, round(nps.low, 1), nps.high
(25.0, 4, -56.3, 100.0)
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from statistics import NormalDist

__all__ = [
    "CONFIDENCE",
    "MINIMUM_N",
    "Change",
    "MetricValue",
    "ces_from_moments",
    "ces_score",
    "compare",
    "csat_from_counts",
    "csat_score",
    "is_reportable",
    "nps_from_counts",
    "nps_score",
    "t_quantile",
]

CONFIDENCE = 0.95
MINIMUM_N = 30
PROMOTER_MIN = 9
PASSIVE_MIN = 7
CSAT_TOP2_MIN = 4
_NORMAL = NormalDist()


@dataclass(frozen=True)
class MetricValue:
    """A metric with its sample size, 95% interval and standard error (None without data)."""

    value: float | None
    n: int
    low: float | None = None
    high: float | None = None
    standard_error: float | None = None


@dataclass(frozen=True)
class Change:
    """The difference between two periods and whether it is more than noise."""

    difference: float
    z: float
    p_value: float
    significant: bool


def _z(confidence: float) -> float:
    return _NORMAL.inv_cdf(0.5 + confidence / 2)


def is_reportable(metric: MetricValue, minimum_n: int = MINIMUM_N) -> bool:
    """Tell whether a metric rests on enough answers to be shown (the minimum-n rule)."""
    return metric.value is not None and metric.n >= minimum_n


def nps_from_counts(
    promoters: int, passives: int, detractors: int, confidence: float = CONFIDENCE
) -> MetricValue:
    """Return NPS in points from answer counts, with the trinomial-variance interval."""
    n = promoters + passives + detractors
    if n == 0:
        return MetricValue(None, 0)
    share_promoters, share_detractors = promoters / n, detractors / n
    score = share_promoters - share_detractors
    variance = max(share_promoters + share_detractors - score * score, 0.0) / n
    error = math.sqrt(variance) * 100
    half = _z(confidence) * error
    value = score * 100
    return MetricValue(value, n, max(value - half, -100.0), min(value + half, 100.0), error)


def nps_score(scores: Iterable[int], confidence: float = CONFIDENCE) -> MetricValue:
    """Return NPS in points from 0-10 answers (promoters 9-10, detractors 0-6)."""
    promoters = passives = detractors = 0
    for score in scores:
        if score >= PROMOTER_MIN:
            promoters += 1
        elif score >= PASSIVE_MIN:
            passives += 1
        else:
            detractors += 1
    return nps_from_counts(promoters, passives, detractors, confidence)


def csat_from_counts(top2: int, n: int, confidence: float = CONFIDENCE) -> MetricValue:
    """Return the CSAT top-2-box share (0..1) with its Wilson score interval."""
    if n == 0:
        return MetricValue(None, 0)
    share = top2 / n
    z = _z(confidence)
    spread = z * z / n
    centre = (share + spread / 2) / (1 + spread)
    half = z / (1 + spread) * math.sqrt(share * (1 - share) / n + spread / (4 * n))
    error = math.sqrt(share * (1 - share) / n)
    return MetricValue(share, n, max(centre - half, 0.0), min(centre + half, 1.0), error)


def csat_score(scores: Iterable[int], confidence: float = CONFIDENCE) -> MetricValue:
    """Return the CSAT top-2-box share from 1-5 answers (4 and 5 count as satisfied)."""
    answers = list(scores)
    top2 = sum(1 for score in answers if score >= CSAT_TOP2_MIN)
    return csat_from_counts(top2, len(answers), confidence)


def ces_from_moments(
    total: float, total_squares: float, n: int, confidence: float = CONFIDENCE
) -> MetricValue:
    """Return the CES mean from the sum and sum of squares of n answers, with a t interval."""
    if n == 0:
        return MetricValue(None, 0)
    mean = total / n
    if n == 1:
        return MetricValue(mean, 1)
    variance = max(total_squares - n * mean * mean, 0.0) / (n - 1)
    error = math.sqrt(variance / n)
    half = t_quantile(0.5 + confidence / 2, n - 1) * error
    return MetricValue(mean, n, mean - half, mean + half, error)


def ces_score(scores: Iterable[int], confidence: float = CONFIDENCE) -> MetricValue:
    """Return the mean customer effort score from 1-7 answers."""
    answers = list(scores)
    total = float(sum(answers))
    squares = float(sum(score * score for score in answers))
    return ces_from_moments(total, squares, len(answers), confidence)


def compare(
    current: MetricValue,
    previous: MetricValue,
    confidence: float = CONFIDENCE,
    minimum_n: int = MINIMUM_N,
) -> Change | None:
    """Test the change from `previous` to `current` with a two-sample z test.

    The standard errors are those of each metric (trinomial for NPS, binomial for CSAT, the
    sample's for CES); None when either side falls under the minimum n.
    """
    if not (is_reportable(current, minimum_n) and is_reportable(previous, minimum_n)):
        return None
    assert current.value is not None and previous.value is not None
    difference = current.value - previous.value
    error = math.hypot(current.standard_error or 0.0, previous.standard_error or 0.0)
    if error == 0.0:
        z = 0.0 if difference == 0 else math.copysign(math.inf, difference)
    else:
        z = difference / error
    p_value = 2 * (1 - _NORMAL.cdf(abs(z))) if math.isfinite(z) else 0.0
    return Change(difference, z, p_value, p_value < 1 - confidence)


def t_quantile(probability: float, df: int) -> float:
    """Return the Student t quantile: P(T <= t) = probability with `df` degrees of freedom.

    Hill's algorithm 396 (Comm. ACM 13, 1970): exact for 1 and 2 degrees of freedom, an
    error below 1e-4 above that.
    """
    if df < 1:
        raise ValueError("degrees of freedom must be at least 1")
    if not 0 < probability < 1:
        raise ValueError("probability must lie strictly between 0 and 1")
    if probability == 0.5:
        return 0.0
    upper = _hill_upper(2 * min(probability, 1 - probability), df)
    return upper if probability > 0.5 else -upper


def _hill_upper(two_sided: float, df: int) -> float:
    """Return t with P(|T| > t) = two_sided (Hill 1970)."""
    if df == 1:
        angle = two_sided * math.pi / 2
        return math.cos(angle) / math.sin(angle)
    if df == 2:
        return math.sqrt(2 / (two_sided * (2 - two_sided)) - 2)
    a = 1 / (df - 0.5)
    b = 48 / (a * a)
    c = ((20700 * a / b - 98) * a - 16) * a + 96.36
    d = ((94.5 / (b + c) - 3) / b + 1) * math.sqrt(a * math.pi / 2) * df
    y = (d * two_sided) ** (2 / df)
    if y > 0.05 + a:
        x = _NORMAL.inv_cdf(two_sided / 2)
        y = x * x
        if df < 5:
            c += 0.3 * (df - 4.5) * (x + 0.6)
        c = (((0.05 * d * x - 5) * x - 7) * x - 2) * x + b + c
        y = (((((0.4 * y + 6.3) * y + 36) * y + 94.5) / c - y - 3) / b + 1) * x
        y = math.expm1(a * y * y)
    else:
        y = (
            (1 / (((df + 6) / (df * y) - 0.089 * d - 0.822) * (df + 2) * 3) + 0.5 / (df + 4)) * y
            - 1
        ) * (df + 1) / (df + 2) + 1 / y
    return math.sqrt(df * y)
