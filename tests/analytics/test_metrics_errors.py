"""Bad input gets a clear InvalidInput naming the field; nothing is computed."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.analytics.conftest import TOUCHPOINT_ROWS, WORKSPACE, at, feedback, write_dataset
from touchpoints.analytics.definitions import MetricSpec
from touchpoints.analytics.layout import FEEDBACK, TOUCHPOINTS
from touchpoints.analytics.query import MetricQuery, PostStratification
from touchpoints.errors import InvalidInput


@pytest.fixture
def small_store(analytics_root: Path) -> Path:
    write_dataset(analytics_root, FEEDBACK, [feedback(at("2024-05-02"), nps=10)])
    write_dataset(analytics_root, TOUCHPOINTS, TOUCHPOINT_ROWS)
    return analytics_root


WEIGHTS = PostStratification("channel", {"web": 0.5, "app": 0.5})
BAD: list[tuple[dict[str, Any], str, str]] = [
    ({"metric": "loyalty"}, "metric", "unknown metric 'loyalty'"),
    ({"by": ("colour",)}, "by", "unknown dimension 'colour'"),
    ({"by": ("channel", "source", "language")}, "by", "at most two"),
    ({"by": ("channel", "channel")}, "by", "named twice"),
    ({"by": ("month",)}, "by", "is a period"),
    ({"by": ("attribute:ti'er",)}, "by", "not a customer attribute name"),
    ({"period": "fortnight"}, "period", "unknown period"),
    ({"date_from": date(2024, 6, 1), "date_to": date(2024, 5, 1)}, "from", "after"),
    ({"minimum_n": 0}, "minimum_n", "between 1"),
    ({"confidence": 1.5}, "confidence", "between 0.5 and 1"),
    ({"nps_interval": "exact"}, "interval", "trinomial"),
    ({"compare": "yesterday"}, "compare", "previous"),
    ({"correction": "bonferroni"}, "correction", "holm"),
    ({"filters": {"channel": []}}, "filter.channel", "at least one value"),
    ({"filters": {"touchpoint": ["tp-nowhere"]}}, "filter.touchpoint", "no touchpoint"),
    ({"weights": PostStratification("segment", {"a": 1.0})}, "weights.dimension", "several"),
    ({"weights": PostStratification("channel", {"web": 0.7})}, "weights.targets", "add up"),
    ({"weights": WEIGHTS, "by": ("channel",)}, "weights.dimension", "do not group by"),
    ({"weights": WEIGHTS, "metric": "responses"}, "weights", "not to response counts"),
    ({"metric": MetricSpec(key="nps", kind="mean", column="nps")}, "metric.key", "built-in"),
    ({"metric": MetricSpec(key="x", kind="mean", column="sentiment")}, "metric.column", "numeric"),
    ({"metric": MetricSpec(key="x", kind="share", column="nps")}, "metric.values", "hits"),
    (
        {"metric": MetricSpec(key="x", kind="share", column="nps", values=[11])},
        "metric.values",
        "0 to 10",
    ),
    (
        {"metric": MetricSpec(key="x", kind="share", column="colour", values=["red"])},
        "metric.column",
        "unknown feedback column",
    ),
]


@pytest.mark.parametrize(("options", "field", "reason"), BAD, ids=[b[1] + ":" + b[2] for b in BAD])
def test_bad_queries_name_the_field_and_the_reason(
    small_store: Path, options: dict[str, Any], field: str, reason: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        MetricQuery(**options).run(root=small_store, workspace_id=WORKSPACE)
    assert raised.value.field == field
    assert reason in raised.value.reason


def test_an_empty_store_gives_an_empty_result_not_an_error(analytics_root: Path) -> None:
    result = MetricQuery("csat", by=("segment", "attribute:tier"), period="week").run(
        root=analytics_root, workspace_id="nobody"
    )
    assert result.empty and result.to_arrow().num_rows == 0
    # Filter ids are not checked when the store has no touchpoints yet: there is no data.
    result = MetricQuery(filters={"touchpoint": ["tp-x"]}).run(
        root=analytics_root, workspace_id="nobody"
    )
    assert result.empty
