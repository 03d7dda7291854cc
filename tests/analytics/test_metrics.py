"""Every metric and statistic through the engine, against values worked out by hand."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path
from statistics import NormalDist

import pytest

from tests.analytics.conftest import (
    ORG_TREE,
    TOUCHPOINT_ROWS,
    Estate,
    add_segment_sets,
    at,
    feedback,
    write_dataset,
)
from touchpoints.analytics.definitions import MetricSpec
from touchpoints.analytics.engine import open_engine
from touchpoints.analytics.layout import CUSTOMERS, FEEDBACK, ORG_UNITS, TOUCHPOINTS
from touchpoints.analytics.plan import group_statistics
from touchpoints.analytics.query import MetricQuery, PostStratification, metric_table
from touchpoints.analytics.results import MetricResult, MetricRow

Z = NormalDist().inv_cdf(0.975)
WS = "ws-metrics"


def run(root: Path, metric: object = "nps", **options: object) -> MetricResult:
    options.setdefault("minimum_n", 1)
    return metric_table(metric, root=root, workspace_id=WS, **options)  # type: ignore[arg-type]


def by_key(result: MetricResult, dimension: str) -> dict[str | None, MetricRow]:
    return {row.keys[dimension]: row for row in result.rows}


def answers(column: str, values: list[object], **fields: object) -> list[dict[str, object]]:
    return [feedback(at("2024-05-10"), **{column: value}, **fields) for value in values]


def scores(root: Path, column: str, values: list[object], **fields: object) -> None:
    write_dataset(root, FEEDBACK, answers(column, values, **fields))


def test_nps_by_channel_with_the_trinomial_interval(analytics_root: Path) -> None:
    web = [10, 9, 9, 8, 7, 6, 0, 3, 10, 10]  # 5 promoters, 2 passives, 3 detractors
    rows = [feedback(at("2024-05-10"), nps=s, channel="web") for s in web]
    rows += [feedback(at("2024-05-11"), nps=9, channel="email") for _ in range(3)]
    write_dataset(analytics_root, FEEDBACK, rows)
    groups = by_key(run(analytics_root, by="channel"), "channel")
    value = groups["web"].value
    error = math.sqrt((0.5 + 0.3 - 0.2**2) / 10) * 100
    assert (value.value, value.n) == (pytest.approx(20.0), 10)
    assert value.standard_error == pytest.approx(error)
    assert value.low == pytest.approx(20 - Z * error)
    assert value.high == pytest.approx(20 + Z * error)
    assert groups["email"].value.value == 100.0


def test_nps_adjusted_wald_adds_three_answers(analytics_root: Path) -> None:
    scores(analytics_root, "nps", [10, 9, 9, 8, 7, 6, 0, 3, 10, 10])
    value = run(analytics_root, nps_interval="adjusted_wald").rows[0].value
    promoters, detractors = 5.75 / 13, 3.75 / 13
    centre = promoters - detractors
    error = math.sqrt((promoters + detractors - centre**2) / 13) * 100
    assert value.value == pytest.approx(20.0), "the estimate stays the observed NPS"
    assert value.standard_error == pytest.approx(error)
    assert value.low == pytest.approx(centre * 100 - Z * error)
    assert value.high == pytest.approx(centre * 100 + Z * error)


def test_csat_is_a_wilson_interval_on_the_top_two_boxes(analytics_root: Path) -> None:
    scores(analytics_root, "csat", [5, 4, 3, 2, 1, 4])
    value = run(analytics_root, "csat").rows[0].value
    n, share, spread = 6, 0.5, Z * Z / 6
    half = Z / (1 + spread) * math.sqrt(share * (1 - share) / n + spread / (4 * n))
    centre = (share + spread / 2) / (1 + spread)
    assert (value.value, value.n) == (0.5, 6)
    assert value.low == pytest.approx(centre - half)
    assert value.high == pytest.approx(centre + half)


def test_ces_mean_with_a_t_interval_and_its_agreement_share(analytics_root: Path) -> None:
    scores(analytics_root, "ces", [7, 5, 3, 6, None])
    value = run(analytics_root, "ces").rows[0].value
    error = math.sqrt(8.75 / 3 / 4)
    assert (value.value, value.n) == (5.25, 4)
    assert value.standard_error == pytest.approx(error)
    assert value.high == pytest.approx(5.25 + 3.182446 * error, abs=1e-3)
    agree = run(analytics_root, "ces_agree").rows[0].value
    assert (agree.value, agree.n) == (0.75, 4)


def test_rating_is_rescaled_to_five_points_and_responses_count_every_item(
    analytics_root: Path,
) -> None:
    write_dataset(
        analytics_root,
        FEEDBACK,
        [
            feedback(at("2024-05-01"), rating=8.0, rating_scale=10),
            feedback(at("2024-05-01"), rating=3.0, rating_scale=5),
            feedback(at("2024-05-01"), rating=5.0),
            feedback(at("2024-05-01")),
        ],
    )
    assert run(analytics_root, "rating").rows[0].value.value == pytest.approx(4.0)
    responses = run(analytics_root, "responses").rows[0]
    assert (responses.value.value, responses.value.n, responses.suppressed) == (4.0, 4, False)


def test_small_groups_keep_their_n_but_lose_their_value(analytics_root: Path) -> None:
    rows = answers("nps", [10] * 3, channel="sms") + answers("nps", [10] * 30, channel="web")
    write_dataset(analytics_root, FEEDBACK, rows)
    groups = by_key(run(analytics_root, by="channel", minimum_n=30), "channel")
    small = groups["sms"]
    assert small.suppressed and small.value.value is None and small.value.n == 3
    assert small.value.low is None and small.value.high is None
    assert not groups["web"].suppressed


def test_periods_are_utc_days_weeks_months_and_quarters(analytics_root: Path) -> None:
    late = at("2024-03-31", 23).replace(minute=59, second=59)
    write_dataset(
        analytics_root,
        FEEDBACK,
        [
            feedback(late, nps=10),
            feedback(at("2024-04-01", 0), nps=0),
        ],
    )
    labels = {
        period: [
            (row.period_label, row.value.value) for row in run(analytics_root, period=period).rows
        ]
        for period in ("day", "week", "month", "quarter")
    }
    assert labels["day"] == [("2024-03-31", 100.0), ("2024-04-01", -100.0)]
    assert labels["week"] == [("2024-W13", 100.0), ("2024-W14", -100.0)]
    assert labels["month"] == [("2024-03", 100.0), ("2024-04", -100.0)]
    assert labels["quarter"] == [("2024-Q1", 100.0), ("2024-Q2", -100.0)]
    week = run(analytics_root, period="week").rows[1]
    assert week.period == date(2024, 4, 1)


def test_date_range_is_inclusive_in_utc(analytics_root: Path) -> None:
    write_dataset(
        analytics_root,
        FEEDBACK,
        [
            feedback(at("2024-03-31", 23), nps=10),
            feedback(at("2024-04-01", 0), nps=0),
            feedback(at("2024-04-30", 23), nps=0),
            feedback(at("2024-05-01", 0), nps=10),
        ],
    )
    result = run(analytics_root, date_from=date(2024, 4, 1), date_to=date(2024, 4, 30))
    assert result.rows[0].value.n == 2 and result.rows[0].value.value == -100.0


def test_filters_scope_and_the_org_unit_subtree(analytics_root: Path) -> None:
    rows = [
        feedback(at("2024-05-01"), nps=10, org_unit_id=unit, org_unit_path=path, channel=channel)
        for unit, path in ORG_TREE.items()
        for channel in ("web", "email")
    ]
    write_dataset(analytics_root, FEEDBACK, rows)
    write_dataset(
        analytics_root,
        ORG_UNITS,
        [{"org_unit_id": u, "name": u.title(), "path": p} for u, p in ORG_TREE.items()],
    )
    tree = {
        row.keys["org_unit_tree"]: (row.labels["org_unit_tree"], row.value.n)
        for row in run(analytics_root, "responses", by="org_unit_tree").rows
    }
    assert tree == {
        "north": ("North", 6),
        "north-a": ("North-A", 2),
        "north-b": ("North-B", 2),
        "south": ("South", 2),
    }
    scoped = run(analytics_root, "responses", by="org_unit_tree", scope="/north/north-a/")
    assert [(row.keys["org_unit_tree"], row.value.n) for row in scoped.rows] == [("north-a", 2)]
    filtered = run(
        analytics_root, "responses", filters={"org_unit_tree": ["north"], "channel": ["web"]}
    )
    assert filtered.rows[0].value.n == 3


def test_segments_explode_but_a_segment_filter_counts_each_answer_once(
    analytics_root: Path,
) -> None:
    customers = [
        {"customer_id": "c1", "segments": ["gold", "silver"], "attributes": '{"tier": "a"}'},
        {"customer_id": "c2", "segments": ["gold"], "attributes": '{"tier": 2}'},
        {"customer_id": "c3", "segments": [], "attributes": "{}"},
    ]
    items = [
        feedback(at("2024-05-01"), nps=10, customer_id="c1"),
        feedback(at("2024-05-01"), nps=0, customer_id="c2"),
        feedback(at("2024-05-01"), nps=10, customer_id="c3"),
        feedback(at("2024-05-01"), nps=10),
    ]
    add_segment_sets(customers, items)
    write_dataset(analytics_root, CUSTOMERS, customers)
    write_dataset(analytics_root, FEEDBACK, items)
    segments = {
        k: (r.value.n, r.value.value)
        for k, r in by_key(run(analytics_root, by="segment"), "segment").items()
    }
    assert segments == {"gold": (2, 0.0), "silver": (1, 100.0), None: (2, 100.0)}
    both = run(analytics_root, filters={"segment": ["gold", "silver"]})
    assert both.rows[0].value.n == 2, "c1 is in both segments but answered once"
    tiers = {
        k: r.value.n
        for k, r in by_key(run(analytics_root, by="attribute:tier"), "attribute:tier").items()
    }
    assert tiers == {"a": 1, "2": 1, None: 2}


def test_touchpoints_and_stages_carry_their_names(analytics_root: Path) -> None:
    write_dataset(analytics_root, TOUCHPOINTS, TOUCHPOINT_ROWS)
    write_dataset(
        analytics_root,
        FEEDBACK,
        [
            feedback(
                at("2024-05-01"), nps=10, touchpoint_id=t["touchpoint_id"], stage_id=t["stage_id"]
            )
            for t in TOUCHPOINT_ROWS
        ],
    )
    result = run(analytics_root, by=("stage", "touchpoint"))
    assert [(r.labels["stage"], r.labels["touchpoint"]) for r in result.rows] == [
        ("Plan", "Booking"),
        ("Travel", "Check-in"),
        ("Travel", "Lounge"),
    ]


def test_post_stratification_weights_with_kish_effective_n(analytics_root: Path) -> None:
    write_dataset(
        analytics_root,
        FEEDBACK,
        [
            feedback(at("2024-05-01"), nps=10, channel="web"),
            feedback(at("2024-05-01"), nps=10, channel="web"),
            feedback(at("2024-05-01"), nps=0, channel="web"),
            feedback(at("2024-05-01"), nps=0, channel="email"),
        ],
    )
    # Sample shares 3/4 and 1/4, targets 1/2 each: weights 2/3 (web) and 2 (email).
    weights = PostStratification("channel", {"web": 0.5, "email": 0.5})
    value = run(analytics_root, weights=weights).rows[0].value
    assert value.value == pytest.approx(100 / 3 - 200 / 3)
    assert value.effective_n == pytest.approx(16 / (3 * 4 / 9 + 4))
    assert value.standard_error == pytest.approx(math.sqrt((1 - 1 / 9) / 3) * 100)
    assert value.n == 4


def test_changes_between_months_are_holm_corrected(analytics_root: Path) -> None:
    def month(day: str, group: str, promoters: int, detractors: int) -> list[dict[str, object]]:
        return [feedback(at(day), nps=10, channel=group) for _ in range(promoters)] + [
            feedback(at(day), nps=0, channel=group) for _ in range(detractors)
        ]

    write_dataset(
        analytics_root,
        FEEDBACK,
        [
            *month("2024-04-10", "a", 20, 20),
            *month("2024-05-10", "a", 35, 5),
            *month("2024-04-10", "b", 20, 20),
            *month("2024-05-10", "b", 21, 19),
        ],
    )
    result = run(analytics_root, by="channel", period="month", minimum_n=30)
    may = {r.keys["channel"]: r.change for r in result.rows if r.period_label == "2024-05"}

    def p_value(first: tuple[float, float], second: tuple[float, float]) -> float:
        def error(p: float, d: float) -> float:
            return math.sqrt((p + d - (p - d) ** 2) / 40) * 100

        z = (
            ((second[0] - second[1]) - (first[0] - first[1]))
            * 100
            / math.hypot(error(*first), error(*second))
        )
        return 2 * (1 - NormalDist().cdf(abs(z)))

    p_a, p_b = p_value((0.5, 0.5), (35 / 40, 5 / 40)), p_value((0.5, 0.5), (21 / 40, 19 / 40))
    assert may["a"].difference == pytest.approx(75.0)
    assert may["a"].p_adjusted == pytest.approx(2 * p_a)
    assert may["b"].p_adjusted == pytest.approx(p_b)
    assert may["a"].significant and not may["b"].significant
    bh = run(analytics_root, by="channel", period="month", minimum_n=30, correction="bh")
    adjusted = [r.change.p_adjusted for r in bh.rows if r.change]
    assert adjusted == pytest.approx([2 * p_a, p_b])


def test_each_group_against_the_rest(analytics_root: Path) -> None:
    write_dataset(
        analytics_root,
        FEEDBACK,
        [
            *answers("nps", [10] * 40, channel="web"),
            *answers("nps", [10] * 20 + [0] * 20, channel="email"),
            *answers("nps", [10] * 20 + [0] * 20, channel="app"),
        ],
    )
    groups = by_key(run(analytics_root, by="channel", compare="groups", minimum_n=30), "channel")
    web = groups["web"].versus_rest
    assert web.difference == pytest.approx(100.0) and web.significant
    app = groups["app"].versus_rest
    # The rest of app: web and email pooled, 60 promoters and 20 detractors of 80 = 50.
    assert app.difference == pytest.approx(-50.0)


def test_previous_window_without_a_period(analytics_root: Path) -> None:
    rows = [feedback(at("2024-05-20"), nps=10, channel="web") for _ in range(40)]
    write_dataset(
        analytics_root,
        FEEDBACK,
        [
            *[feedback(at("2024-05-10"), nps=0, channel="web") for _ in range(40)],
            *rows,
        ],
    )
    result = run(analytics_root, date_from=date(2024, 5, 16), date_to=date(2024, 5, 25))
    assert result.rows[0].change is not None
    assert result.rows[0].change.difference == pytest.approx(200.0)


def test_user_defined_share_and_mean(analytics_root: Path) -> None:
    write_dataset(
        analytics_root,
        FEEDBACK,
        [
            feedback(at("2024-05-01"), sentiment="negative", nps=3, channel="web"),
            feedback(at("2024-05-01"), sentiment="positive", nps=9, channel="web"),
            feedback(at("2024-05-01"), sentiment="negative", nps=5, channel="app"),
            feedback(at("2024-05-01"), sentiment=None, nps=10, channel="web"),
        ],
    )
    negative = MetricSpec(
        key="negative", kind="share", column="sentiment", values=["negative"], scale=100
    )
    value = run(analytics_root, negative).rows[0].value
    assert (value.value, value.n) == (pytest.approx(200 / 3), 3)
    mean = MetricSpec(key="web_ltr", kind="mean", column="nps", where={"channel": ["web"]})
    assert run(analytics_root, mean).rows[0].value.value == pytest.approx(22 / 3)


def test_no_matching_feedback_is_an_explicit_empty_result(analytics_root: Path) -> None:
    empty = run(analytics_root, by="channel")
    assert empty.empty and empty.rows == [] and empty.to_arrow().num_rows == 0
    scores(analytics_root, "nps", [10])
    none_in_range = run(analytics_root, date_from=date(2030, 1, 1))
    assert none_in_range.empty
    assert list(none_in_range.to_pandas().columns)[:2] == ["metric", "value"]


def test_query_object_returns_pandas_and_arrow(analytics_root: Path) -> None:
    scores(analytics_root, "nps", [10, 0, 9], channel="web")
    result = MetricQuery("nps", by="channel", minimum_n=1).run(root=analytics_root, workspace_id=WS)
    frame = result.to_pandas()
    assert list(frame["channel"]) == ["web"] and frame["n"][0] == 3
    assert result.to_arrow().column("value").to_pylist() == [pytest.approx(100 / 3)]


@pytest.mark.parametrize("metric", ["nps", "csat", "ces", "rating"])
def test_groups_add_up_to_the_pooled_value(synthetic: Estate, metric: str) -> None:
    """Merging every group's sufficient statistics gives the ungrouped metric exactly."""
    grouped, pooled_plan = MetricQuery(metric, by="channel").plan(), MetricQuery(metric).plan()
    with open_engine("duckdb") as engine:
        groups = group_statistics(engine, synthetic.root, WS, grouped[1], grouped[0])
        total = group_statistics(engine, synthetic.root, WS, pooled_plan[1], pooled_plan[0])
    assert groups is not None and total is not None and groups.num_rows > 1
    names = list(grouped[0].aggregations())
    sums = {name: sum(groups.column(name).to_pylist()) for name in names}
    expected = {name: total.column(name)[0].as_py() for name in names}
    assert sums == pytest.approx(expected, rel=1e-12)
    pooled = grouped[0].evaluate([(1.0, {k: float(v) for k, v in sums.items()})])
    overall = run(synthetic.root, metric).rows[0].value
    assert pooled.value == pytest.approx(overall.value, rel=1e-12) and pooled.n == overall.n
