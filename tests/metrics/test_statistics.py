"""Metric values, intervals and significance against hand-computed examples."""

from __future__ import annotations

import doctest
import math

import pytest

from touchpoints.metrics import statistics
from touchpoints.metrics.statistics import (
    MetricValue,
    ces_from_moments,
    ces_score,
    compare,
    csat_from_counts,
    csat_score,
    is_reportable,
    nps_from_counts,
    nps_score,
    t_quantile,
)

Z95 = 1.959963984540054


def test_nps_counts_promoters_minus_detractors_with_the_trinomial_interval() -> None:
    # 2 promoters, 1 passive, 1 detractor: NPS = 50% - 25% = 25 points.
    # var = (0.5 + 0.25 - 0.25^2) / 4 = 0.171875; se = 0.414578 -> 41.4578 points.
    nps = nps_score([10, 9, 8, 3])
    assert nps.value == pytest.approx(25.0)
    assert nps.n == 4
    assert nps.standard_error == pytest.approx(41.4578, abs=1e-4)
    assert nps.low == pytest.approx(25.0 - Z95 * 41.4578, abs=1e-3)
    assert nps.high == 100.0, "the interval is clipped to the NPS range"


def test_nps_from_counts_matches_the_scores() -> None:
    # 60 promoters, 25 passives, 15 detractors of 100: NPS 45,
    # var = (0.6 + 0.15 - 0.45^2) / 100 = 0.005475, se = 7.3993 points, half-width 14.502.
    nps = nps_from_counts(60, 25, 15)
    assert nps == nps_score([9] * 60 + [7] * 25 + [6] * 15)
    assert nps.value == pytest.approx(45.0)
    assert nps.low == pytest.approx(30.498, abs=1e-3)
    assert nps.high == pytest.approx(59.502, abs=1e-3)


def test_nps_boundaries_classify_9_as_promoter_and_6_as_detractor() -> None:
    assert nps_score([9]).value == 100.0
    assert nps_score([7, 8]).value == 0.0
    assert nps_score([6, 0]).value == -100.0
    unanimous = nps_score([10] * 40)
    assert (unanimous.low, unanimous.high) == (100.0, 100.0)


def test_no_answers_give_no_value() -> None:
    for metric in (nps_score([]), csat_score([]), ces_score([])):
        assert metric == MetricValue(None, 0)
        assert not is_reportable(metric)


def test_csat_is_the_top_two_box_share_with_a_wilson_interval() -> None:
    # 8 of 10 answered 4 or 5. Wilson: centre (0.8 + 1.92/10) / 1.384 = 0.71676,
    # half = 1.96/1.384 * sqrt(0.016 + 0.0096) = 0.22659 -> [0.4902, 0.9433].
    csat = csat_score([5, 5, 5, 4, 4, 4, 4, 4, 3, 1])
    assert csat.value == pytest.approx(0.8)
    assert csat.n == 10
    assert csat.low == pytest.approx(0.4902, abs=1e-4)
    assert csat.high == pytest.approx(0.9433, abs=1e-4)
    assert csat == csat_from_counts(8, 10)


def test_wilson_interval_stays_inside_zero_and_one() -> None:
    everyone = csat_from_counts(30, 30)
    assert everyone.high == 1.0
    assert everyone.low == pytest.approx(0.8865, abs=1e-4)
    nobody = csat_from_counts(0, 30)
    assert nobody.low == 0.0


def test_ces_is_the_mean_with_a_t_interval() -> None:
    # 2, 4, 4, 5, 7: mean 4.4, sample variance (2.4^2 + 2 * 0.4^2 + 0.6^2 + 2.6^2) / 4 = 3.3,
    # se = sqrt(3.3 / 5) = 0.8124, t(0.975, 4) = 2.7764 -> half-width 2.2556.
    ces = ces_score([2, 4, 4, 5, 7])
    assert ces.value == pytest.approx(4.4)
    assert ces.standard_error == pytest.approx(math.sqrt(3.3 / 5))
    assert ces.low == pytest.approx(4.4 - 2.7764 * 0.81240, abs=1e-3)
    assert ces.high == pytest.approx(4.4 + 2.7764 * 0.81240, abs=1e-3)
    assert ces == ces_from_moments(22.0, 110.0, 5)


def test_a_single_ces_answer_has_no_interval() -> None:
    assert ces_score([6]) == MetricValue(6.0, 1)


@pytest.mark.parametrize(
    ("probability", "df", "expected"),
    [
        (0.975, 1, 12.7062),
        (0.975, 2, 4.3027),
        (0.975, 3, 3.1824),
        (0.975, 4, 2.7764),
        (0.975, 5, 2.5706),
        (0.975, 10, 2.2281),
        (0.975, 20, 2.0860),
        (0.975, 30, 2.0423),
        (0.975, 120, 1.9799),
        (0.975, 100_000, 1.9600),
        (0.995, 3, 5.8409),
        (0.995, 10, 3.1693),
        (0.95, 7, 1.8946),
        (0.9, 5, 1.4759),
        (0.025, 10, -2.2281),
    ],
)
def test_t_quantile_matches_published_tables(probability: float, df: int, expected: float) -> None:
    assert t_quantile(probability, df) == pytest.approx(expected, abs=2e-4)


def test_t_quantile_refuses_impossible_arguments() -> None:
    assert t_quantile(0.5, 9) == 0.0
    with pytest.raises(ValueError):
        t_quantile(1.0, 5)
    with pytest.raises(ValueError):
        t_quantile(0.9, 0)


def test_change_between_periods_is_a_z_test_on_the_trinomial_variances() -> None:
    # Before: 40/30/30 of 100 -> NPS 10, var = (0.4 + 0.3 - 0.01) / 100 = 0.0069.
    # After: 60/25/15 of 100 -> NPS 45, var = 0.005475. z = 35 / sqrt(0.012375 * 1e4) = 3.1463.
    before, after = nps_from_counts(40, 30, 30), nps_from_counts(60, 25, 15)
    change = compare(after, before)
    assert change is not None
    assert change.difference == pytest.approx(35.0)
    assert change.z == pytest.approx(3.1463, abs=1e-4)
    assert change.p_value == pytest.approx(0.00165, abs=1e-5)
    assert change.significant


def test_a_small_change_is_not_significant() -> None:
    change = compare(nps_from_counts(42, 30, 28), nps_from_counts(40, 30, 30))
    assert change is not None
    assert not change.significant


def test_no_comparison_when_a_period_is_under_the_minimum_n() -> None:
    assert compare(nps_from_counts(60, 25, 15), nps_from_counts(20, 5, 4)) is None
    assert compare(nps_from_counts(60, 25, 15), nps_from_counts(20, 5, 4), minimum_n=20)


def test_minimum_n_suppresses_small_groups() -> None:
    assert not is_reportable(nps_from_counts(20, 5, 4))
    assert is_reportable(nps_from_counts(20, 5, 5))
    assert is_reportable(nps_from_counts(2, 1, 1), minimum_n=4)


def test_docstring_examples_run() -> None:
    assert doctest.testmod(statistics).failed == 0


def test_chart_specs_carry_their_rows_in_every_layer() -> None:
    """Layers must read the rows given to the chart, not a placeholder dataset."""
    from datetime import date

    from touchpoints.metrics.charts import trend_spec
    from touchpoints.metrics.service import MonthPoint

    point = MonthPoint(
        month=date(2026, 1, 1),
        nps=statistics.nps_from_counts(50, 20, 30),
        csat=statistics.csat_from_counts(40, 50),
        ces=statistics.ces_from_moments(n=50, total=200.0, total_squares=900.0),
    )
    spec = trend_spec([point], "nps", minimum_n=1)
    assert spec["data"]["values"][0]["value"] == 20.0
    assert "datasets" not in spec
    assert all("data" not in layer for layer in spec["layer"])
