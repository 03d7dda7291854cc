"""The statistics added for the metric engine: adjusted Wald, weights, corrections, inputs."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import touchpoints
from touchpoints.analytics.definitions import METRICS
from touchpoints.metrics.statistics import (
    adjust_p_values,
    benjamini_hochberg,
    ces_agree_score,
    holm,
    kish_effective_n,
    mean_from_moments,
    nps_from_counts,
    nps_score,
    proportion_from_share,
    rating_score,
    response_rate_score,
)

Z = NormalDist().inv_cdf(0.975)


def test_adjusted_wald_adds_three_answers_and_three_quarters() -> None:
    # 60 promoters, 25 passives, 15 detractors: p = 60.75/103, d = 15.75/103.
    value = nps_from_counts(60, 25, 15, method="adjusted_wald")
    promoters, detractors = 60.75 / 103, 15.75 / 103
    centre = promoters - detractors
    error = math.sqrt((promoters + detractors - centre**2) / 103) * 100
    assert value.value == pytest.approx(45.0)
    assert value.standard_error == pytest.approx(error)
    assert (value.low, value.high) == (
        pytest.approx(centre * 100 - Z * error),
        pytest.approx(centre * 100 + Z * error),
    )
    with pytest.raises(ValueError, match="unknown NPS interval"):
        nps_from_counts(1, 0, 0, method="exact")


def test_holm_and_benjamini_hochberg_match_worked_examples() -> None:
    p_values = [0.01, 0.04, 0.03, 0.005]
    # Holm: sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1, made monotone.
    assert holm(p_values) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    # BH: p * 4 / rank from the largest down, made monotone: 0.04, 0.04, 0.04, 0.02.
    assert benjamini_hochberg(p_values) == pytest.approx([0.02, 0.04, 0.04, 0.02])
    assert adjust_p_values(p_values, "none") == p_values
    assert holm([0.9, 0.8]) == [1.0, 1.0]
    assert holm([]) == [] and benjamini_hochberg([]) == []
    with pytest.raises(ValueError, match="unknown correction"):
        adjust_p_values(p_values, "bonferroni")


def test_kish_effective_n_and_weighted_intervals() -> None:
    assert kish_effective_n(4.0, 16 / 3) == pytest.approx(3.0)
    assert kish_effective_n(10.0, 10.0) == 10.0 and kish_effective_n(0.0, 0.0) == 0.0
    share = proportion_from_share(0.25, 3.0, 4)
    assert share.effective_n == 3.0 and share.n == 4
    spread = Z * Z / 3
    half = Z / (1 + spread) * math.sqrt(0.25 * 0.75 / 3 + spread / 12)
    assert share.high == pytest.approx((0.25 + spread / 2) / (1 + spread) + half)
    # Weighted mean of 1 (weight 3) and 5 (weight 1): 2; weighted variance 3 -> n/(n-1).
    mean = mean_from_moments(3 * 1 + 5, 3 * 1 + 25, 2, effective_n=1.6, weight_total=4.0)
    assert mean.value == pytest.approx(2.0)
    assert mean.standard_error == pytest.approx(math.sqrt(3 * 1.6 / 0.6 / 1.6))


def test_python_api_takes_lists_arrays_and_series_with_missing_answers() -> None:
    expected = nps_score([10, 9, 8, 3])
    assert touchpoints.nps_score(np.array([10, 9, 8, 3])) == expected
    assert touchpoints.nps_score(pd.Series([10, 9, None, 8, 3])) == expected
    assert touchpoints.nps_score([10.0, float("nan"), 9, 8, 3]) == expected
    assert touchpoints.csat_score(pd.Series([5, 4, 1])).value == pytest.approx(2 / 3)
    assert touchpoints.ces_score(np.array([7, 5])).value == 6.0
    assert ces_agree_score([7, 5, 4, 1]).value == 0.5
    assert rating_score([4.5, 3.5]).value == 4.0
    assert rating_score([8, 6], scale=10).value == 7.0
    assert response_rate_score(25, 100).value == 0.25
    for bad in ([11], [-1], [9.5], ["x"]):
        with pytest.raises(ValueError):
            nps_score(bad)
    with pytest.raises(ValueError, match="from 1 to 5"):
        touchpoints.csat_score([0])
    with pytest.raises(ValueError):
        response_rate_score(5, 4)


def test_import_touchpoints_is_cheap_and_lists_the_api() -> None:
    import subprocess
    import sys

    code = (
        "import sys, touchpoints; heavy = {'duckdb', 'pyspark', 'pandas', 'narwhals', "
        "'pyarrow', 'fastapi', 'sqlalchemy'} & set(sys.modules); print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    assert {
        "nps_score",
        "csat_score",
        "ces_score",
        "rating_score",
        "metric_table",
        "MetricQuery",
        "MetricValue",
    } <= set(touchpoints.__all__)
    with pytest.raises(AttributeError):
        touchpoints.no_such_thing  # noqa: B018


counts = st.integers(min_value=0, max_value=5000)


@settings(max_examples=300, deadline=None)
@given(counts, counts, counts, st.sampled_from(["trinomial", "adjusted_wald"]))
def test_nps_stays_in_range_and_its_interval_holds_the_estimate(
    promoters: int, passives: int, detractors: int, method: str
) -> None:
    value = nps_from_counts(promoters, passives, detractors, method=method)
    if promoters + passives + detractors == 0:
        assert value.value is None
        return
    assert value.value is not None and value.low is not None and value.high is not None
    assert -100 <= value.low <= value.high <= 100 and -100 <= value.value <= 100
    if method == "trinomial" or value.n >= 30:
        # The adjusted-Wald interval is centred on a shrunken score; from 30 answers on it
        # holds the observed one too.
        assert value.low - 1e-9 <= value.value <= value.high + 1e-9


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 5000), st.integers(1, 5000))
def test_wilson_interval_holds_the_share(hits: int, n: int) -> None:
    hits = min(hits, n)
    value = proportion_from_share(hits / n, n, n)
    assert value.low is not None and value.high is not None
    assert 0 <= value.low <= hits / n <= value.high <= 1


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(1, 7), min_size=2, max_size=300))
def test_t_interval_holds_the_mean(answers: list[int]) -> None:
    value = touchpoints.ces_score(answers)
    assert value.low is not None and value.high is not None and value.value is not None
    assert value.low - 1e-9 <= value.value <= value.high + 1e-9


groups = st.lists(st.lists(st.integers(0, 10), min_size=1, max_size=60), min_size=1, max_size=6)


@settings(max_examples=200, deadline=None)
@given(groups)
def test_pooled_sufficient_statistics_give_the_value_of_all_answers(
    answer_groups: list[list[int]],
) -> None:
    """Adding groups' statistics gives exactly the metric of their answers together."""
    nps, ces = METRICS["nps"], METRICS["ces"]
    pooled_nps = {"n": 0.0, "promoters": 0.0, "detractors": 0.0}
    pooled_ces = {"n": 0.0, "total": 0.0, "squares": 0.0}
    for answers in answer_groups:
        pooled_nps["n"] += len(answers)
        pooled_nps["promoters"] += sum(a >= 9 for a in answers)
        pooled_nps["detractors"] += sum(a <= 6 for a in answers)
        effort = [a % 7 + 1 for a in answers]
        pooled_ces["n"] += len(effort)
        pooled_ces["total"] += sum(effort)
        pooled_ces["squares"] += sum(e * e for e in effort)
    everyone = [a for answers in answer_groups for a in answers]
    assert nps.evaluate([(1.0, pooled_nps)]) == nps_score(everyone)
    merged = ces.evaluate([(1.0, pooled_ces)])
    direct = touchpoints.ces_score([a % 7 + 1 for a in everyone])
    assert merged.value == pytest.approx(direct.value) and merged.n == direct.n
