"""Customer-experience metrics with their confidence intervals and significance tests.

Every metric comes back as a MetricValue: the value, the number of answers it rests on (n),
a 95% interval and its standard error. NPS is in points (-100..100) with the trinomial
variance (or the adjusted-Wald interval of Rocks 2016); CSAT is the top-2-box share on 1-5
with a Wilson interval; CES is the 1-7 mean with a Student t interval. Weighted estimates
(post-stratification) use Kish's effective sample size in place of n.

>>> nps = nps_score([10, 9, 8, 3])
>>> nps.value, nps.n, round(nps.low, 1), nps.high
(25.0, 4, -56.3, 100.0)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

__all__ = [
    "CONFIDENCE",
    "CORRECTIONS",
    "MINIMUM_N",
    "NPS_INTERVALS",
    "Change",
    "MetricValue",
    "adjust_p_values",
    "benjamini_hochberg",
    "ces_agree_score",
    "ces_from_moments",
    "ces_score",
    "compare",
    "csat_from_counts",
    "csat_score",
    "holm",
    "is_reportable",
    "kish_effective_n",
    "mean_from_moments",
    "nps_from_counts",
    "nps_from_shares",
    "nps_score",
    "proportion_from_share",
    "rating_score",
    "response_rate_score",
    "t_quantile",
]

CONFIDENCE = 0.95
MINIMUM_N = 30
PROMOTER_MIN = 9
PASSIVE_MIN = 7
CSAT_TOP2_MIN = 4
CES_AGREE_MIN = 5
NPS_INTERVALS = ("trinomial", "adjusted_wald")
CORRECTIONS = ("holm", "bh", "none")
_NORMAL = NormalDist()


@dataclass(frozen=True)
class MetricValue:
    """A metric with its sample size, 95% interval and standard error (None without data)."""

    value: float | None
    n: int
    low: float | None = None
    high: float | None = None
    standard_error: float | None = None
    # Kish's effective sample size of a weighted estimate; None when unweighted.
    effective_n: float | None = None


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
    promoters: int,
    passives: int,
    detractors: int,
    confidence: float = CONFIDENCE,
    method: str = "trinomial",
) -> MetricValue:
    """Return NPS in points from answer counts, with the trinomial or adjusted-Wald interval."""
    n = promoters + passives + detractors
    if n == 0:
        return MetricValue(None, 0)
    return nps_from_shares(promoters / n, detractors / n, n, n, confidence, method)


def nps_from_shares(
    share_promoters: float,
    share_detractors: float,
    effective_n: float,
    n: int,
    confidence: float = CONFIDENCE,
    method: str = "trinomial",
) -> MetricValue:
    """Return NPS from (possibly weighted) shares; the interval rests on `effective_n`.

    trinomial: var = (p+ + p- - (p+ - p-)^2) / n. adjusted_wald (Rocks 2016): the same
    variance after adding 3 answers, 3/4 to promoters and 3/4 to detractors; the interval is
    centred on the adjusted score while the value stays the observed one.
    """
    if method not in NPS_INTERVALS:
        raise ValueError(f"unknown NPS interval {method!r}; use one of {NPS_INTERVALS}")
    if n == 0 or effective_n <= 0:
        return MetricValue(None, n)
    value = (share_promoters - share_detractors) * 100
    size, promoters, detractors = effective_n, share_promoters, share_detractors
    if method == "adjusted_wald":
        size = effective_n + 3
        promoters = (share_promoters * effective_n + 0.75) / size
        detractors = (share_detractors * effective_n + 0.75) / size
    centre = promoters - detractors
    error = math.sqrt(max(promoters + detractors - centre * centre, 0.0) / size) * 100
    half = _z(confidence) * error
    weighted = None if effective_n == n else effective_n
    return MetricValue(
        value,
        n,
        max(centre * 100 - half, -100.0),
        min(centre * 100 + half, 100.0),
        error,
        weighted,
    )


def nps_score(
    scores: Iterable[Any], confidence: float = CONFIDENCE, method: str = "trinomial"
) -> MetricValue:
    """Return NPS in points from 0-10 answers (promoters 9-10, detractors 0-6).

    Takes a list, a numpy array or a pandas Series; missing answers (None, NaN) are skipped.
    """
    promoters = passives = detractors = 0
    for score in _answers(scores, 0, 10, "NPS"):
        if score >= PROMOTER_MIN:
            promoters += 1
        elif score >= PASSIVE_MIN:
            passives += 1
        else:
            detractors += 1
    return nps_from_counts(promoters, passives, detractors, confidence, method)


def csat_from_counts(top2: int, n: int, confidence: float = CONFIDENCE) -> MetricValue:
    """Return the CSAT top-2-box share (0..1) with its Wilson score interval."""
    if n == 0:
        return MetricValue(None, 0)
    return proportion_from_share(top2 / n, n, n, confidence)


def proportion_from_share(
    share: float, effective_n: float, n: int, confidence: float = CONFIDENCE
) -> MetricValue:
    """Return a (possibly weighted) share with its Wilson interval on `effective_n` answers."""
    if n == 0 or effective_n <= 0:
        return MetricValue(None, n)
    z = _z(confidence)
    spread = z * z / effective_n
    centre = (share + spread / 2) / (1 + spread)
    half = (
        z / (1 + spread) * math.sqrt(share * (1 - share) / effective_n + spread / (4 * effective_n))
    )
    error = math.sqrt(share * (1 - share) / effective_n)
    weighted = None if effective_n == n else effective_n
    low, high = max(centre - half, 0.0), min(centre + half, 1.0)
    # Rounding can put a bound a hair past an observed share of exactly 0 or 1.
    return MetricValue(share, n, min(low, share), max(high, share), error, weighted)


def csat_score(
    scores: Iterable[Any], confidence: float = CONFIDENCE, top_box_min: int = CSAT_TOP2_MIN
) -> MetricValue:
    """Return the CSAT top-2-box share from 1-5 answers (4 and 5 count as satisfied)."""
    answers = list(_answers(scores, 1, 5, "CSAT"))
    top2 = sum(1 for score in answers if score >= top_box_min)
    return csat_from_counts(top2, len(answers), confidence)


def ces_from_moments(
    total: float, total_squares: float, n: int, confidence: float = CONFIDENCE
) -> MetricValue:
    """Return the CES mean from the sum and sum of squares of n answers, with a t interval."""
    return mean_from_moments(total, total_squares, n, confidence)


def mean_from_moments(
    total: float,
    total_squares: float,
    n: int,
    confidence: float = CONFIDENCE,
    effective_n: float | None = None,
    weight_total: float | None = None,
) -> MetricValue:
    """Return a mean with its t interval from the sum and sum of squares of n answers.

    Weighted: `total` and `total_squares` are weighted sums, `weight_total` the sum of the
    weights and `effective_n` Kish's effective n, which sets the error and degrees of freedom.
    """
    if n == 0:
        return MetricValue(None, 0)
    weights = float(n) if weight_total is None else weight_total
    if weights <= 0:
        return MetricValue(None, n)
    size = float(n) if effective_n is None else effective_n
    mean = total / weights
    if size <= 1:
        return MetricValue(mean, n, effective_n=effective_n)
    spread = max(total_squares / weights - mean * mean, 0.0)
    variance = spread * size / (size - 1)
    error = math.sqrt(variance / size)
    half = t_quantile(0.5 + confidence / 2, max(math.floor(size - 1), 1)) * error
    return MetricValue(mean, n, mean - half, mean + half, error, effective_n)


def ces_score(scores: Iterable[Any], confidence: float = CONFIDENCE) -> MetricValue:
    """Return the mean customer effort score from 1-7 answers."""
    answers = list(_answers(scores, 1, 7, "CES"))
    total = float(sum(answers))
    squares = float(sum(score * score for score in answers))
    return ces_from_moments(total, squares, len(answers), confidence)


def ces_agree_score(scores: Iterable[Any], confidence: float = CONFIDENCE) -> MetricValue:
    """Return the share of 1-7 effort answers that agree it was easy (5 or more)."""
    answers = list(_answers(scores, 1, 7, "CES"))
    agree = sum(1 for score in answers if score >= CES_AGREE_MIN)
    return csat_from_counts(agree, len(answers), confidence)


def rating_score(
    ratings: Iterable[Any], scale: int = 5, confidence: float = CONFIDENCE
) -> MetricValue:
    """Return the mean rating on a 0-`scale` rating scale, with a t interval."""
    answers = [float(r) for r in _answers(ratings, 0, scale, "rating", integers=False)]
    squares = sum(r * r for r in answers)
    return mean_from_moments(sum(answers), squares, len(answers), confidence)


def response_rate_score(
    responses: int, invitations: int, confidence: float = CONFIDENCE
) -> MetricValue:
    """Return the share of invitations answered, with a Wilson interval."""
    if not 0 <= responses <= invitations:
        raise ValueError("responses must lie between 0 and the number of invitations")
    return csat_from_counts(responses, invitations, confidence)


def kish_effective_n(weight_total: float, squared_weight_total: float) -> float:
    """Return Kish's effective sample size (sum w)^2 / sum w^2 of a weighted sample."""
    if squared_weight_total <= 0:
        return 0.0
    return weight_total * weight_total / squared_weight_total


def _answers(
    scores: Iterable[Any], lowest: int, highest: int, name: str, integers: bool = True
) -> Iterator[Any]:
    """Yield the answers present, refusing any outside the scale (None and NaN are skipped)."""
    for score in scores:
        if score is None or (isinstance(score, float) and math.isnan(score)):
            continue
        number = float(score)
        if math.isnan(number):
            continue
        if not lowest <= number <= highest or (integers and not number.is_integer()):
            kind = "whole numbers" if integers else "numbers"
            raise ValueError(f"{name} answers are {kind} from {lowest} to {highest}, not {score}")
        yield int(number) if integers else number


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


def holm(p_values: Sequence[float]) -> list[float]:
    """Return Holm's step-down adjusted p-values (family-wise error control)."""
    count = len(p_values)
    order = sorted(range(count), key=lambda i: p_values[i])
    adjusted = [0.0] * count
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min((count - rank) * p_values[index], 1.0))
        adjusted[index] = running
    return adjusted


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Return Benjamini-Hochberg adjusted p-values (false-discovery-rate control)."""
    count = len(p_values)
    order = sorted(range(count), key=lambda i: p_values[i], reverse=True)
    adjusted = [0.0] * count
    running = 1.0
    for position, index in enumerate(order):
        rank = count - position
        running = min(running, p_values[index] * count / rank)
        adjusted[index] = min(running, 1.0)
    return adjusted


def adjust_p_values(p_values: Sequence[float], method: str = "holm") -> list[float]:
    """Correct p-values for multiple comparisons: holm, bh (Benjamini-Hochberg) or none."""
    if method == "holm":
        return holm(p_values)
    if method == "bh":
        return benjamini_hochberg(p_values)
    if method == "none":
        return list(p_values)
    raise ValueError(f"unknown correction {method!r}; use one of {CORRECTIONS}")


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
