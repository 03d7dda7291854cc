"""Segment sets: the id, its Arrow look-ups, and grouping by segment without the join."""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.analytics.conftest import Estate, add_segment_sets, at, feedback, write_dataset
from touchpoints.analytics.definitions import METRICS, resolve_metric
from touchpoints.analytics.dimensions import parse_dimensions, parse_filters
from touchpoints.analytics.engine import DuckDBEngine, Engine, SparkEngine
from touchpoints.analytics.layout import CUSTOMERS, FEEDBACK
from touchpoints.analytics.plan import Plan, group_statistics, joined_statistics
from touchpoints.analytics.query import metric_table
from touchpoints.analytics.segment_groups import set_grouping
from touchpoints.analytics.segment_sets import (
    CustomerSegmentSets,
    segment_set_column,
    segment_set_id,
)

SEPARATOR = "\x1f"


def test_the_id_names_the_set_of_ids_and_stays_the_same() -> None:
    assert segment_set_id(["sg-2", "sg-1"]) == segment_set_id(["sg-1", "sg-2"])
    assert segment_set_id(["sg-1"]) != segment_set_id(["sg-1", "sg-2"])
    assert segment_set_id([]) is None
    # Written into files: it must never change between versions or machines.
    assert segment_set_id(["sg-1", "sg-2"]) == 3166750193247962783
    assert segment_set_id(["a"]) == 4681665781835383343


def test_texts_of_ids_in_any_order_become_their_set() -> None:
    texts = pa.array([f"b{SEPARATOR}a", f"a{SEPARATOR}b", "a", "", None])
    assert segment_set_column(texts).to_pylist() == [
        segment_set_id(["a", "b"]),
        segment_set_id(["a", "b"]),
        segment_set_id(["a"]),
        None,
        None,
    ]
    assert segment_set_column(pa.array([], pa.string())).to_pylist() == []


def _customer_id(shape: str, number: int) -> str:
    if shape == "hex":  # what the store makes: 32 hex digits
        return f"{number:032x}"
    return f"c-{number}" + "x" * (number % 13)  # any length, some longer than 8 bytes


@pytest.mark.parametrize("shape", ["hex", "any"])
@pytest.mark.parametrize("way", ["fingerprints", "arrow", "clashing"])
def test_customers_are_looked_up_by_id(
    shape: str, way: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(3)
    members = {_customer_id(shape, n): [f"sg-{rng.randrange(5)}"] for n in range(0, 2000, 2)}
    texts = [SEPARATOR.join(ids) for ids in members.values()]
    sets = CustomerSegmentSets(pa.array(list(members)), pa.array(texts))
    if way == "arrow":  # as when two customers share a fingerprint
        sets._index = None
    if way == "clashing":  # every id asked for prints like the first customer's
        first = sets._fingerprints(sets.customer_ids)[1][:1]
        monkeypatch.setattr(
            sets, "_fingerprints", lambda ids: (np.arange(len(ids)), first.repeat(len(ids)))
        )
    asked = [rng.choice([_customer_id(shape, rng.randrange(2100)), None]) for _ in range(5000)]
    asked += ["", "c-" + "9" * 60]  # empty, and longer than any customer id
    expected = [segment_set_id(members[c]) if c in members else None for c in asked]
    assert sets.of(pa.array(asked, pa.string())).to_pylist() == expected
    sliced = pa.array(asked, pa.string()).slice(7, 300)
    assert sets.of(sliced).to_pylist() == expected[7:307]
    assert sets.of(pa.array([], pa.string())).to_pylist() == []
    nobody = CustomerSegmentSets(pa.array([], pa.string()), pa.array([], pa.string()))
    assert nobody.of(pa.array(["c-1", None])).to_pylist() == [None, None]


def test_customers_come_packed_from_the_store() -> None:
    packed = pa.array(
        [f"c1\x1esg-2{SEPARATOR}sg-1\x1dc2\x1esg-3", None, f"d7\x1esg-1{SEPARATOR}sg-2"]
    )
    sets = CustomerSegmentSets.from_packed(packed)
    assert sets.customer_ids.to_pylist() == ["c1", "c2", "d7"]
    asked = pa.array(["d7", "c2", "c3", None, "c1"])
    both = segment_set_id(["sg-1", "sg-2"])
    assert sets.of(asked).to_pylist() == [both, segment_set_id(["sg-3"]), None, None, both]
    empty = CustomerSegmentSets.from_packed(pa.array([], pa.string()))
    assert empty.of(asked).to_pylist() == [None] * 5


def _plan(by: tuple[str, ...] = (), filters: dict[str, list[str]] | None = None, **kw: Any) -> Plan:
    return Plan(dimensions=parse_dimensions(by), filters=parse_filters(filters or {}), **kw)


# Plans whose only customer-side keys and filters are segments: grouped through the sets.
SET_PLANS = [
    ("nps", _plan(("segment",), period="month")),
    ("csat", _plan(("segment", "channel"), period="quarter")),
    ("ces", _plan(("touchpoint", "segment"), date_from=date(2024, 2, 1))),
    ("responses", _plan(("survey",), {"segment": ["gold", "family"]})),
    ("rating", _plan(("segment",), {"segment": ["gold"]}, period="week")),
    ("nps", _plan((), {"segment": ["silver"], "channel": ["web"]})),
    ("nps", _plan(("org_unit_tree", "segment"), scope="/north/")),
]


def test_only_segment_plans_skip_the_join() -> None:
    nps = METRICS["nps"]
    for _, plan in SET_PLANS:
        named = [(f"k{n}", d) for n, d in enumerate(plan.dimensions)]
        assert set_grouping(named, plan.filters, plan.key_columns, nps) is not None
    for by, filters in (((), {}), (("channel",), {}), (("segment", "attribute:tier"), {})):
        plan = _plan(by, filters)
        named = [(f"k{n}", d) for n, d in enumerate(plan.dimensions)]
        assert set_grouping(named, plan.filters, plan.key_columns, nps) is None
    plan = _plan(("segment",), {"attribute:tier": ["a"]})
    assert set_grouping([("k0", plan.dimensions[0])], plan.filters, ["k0"], nps) is None


def _rows(table: pa.Table | None, plan: Plan) -> list[dict[str, Any]]:
    assert table is not None
    rows = [row for row in table.to_pylist() if row["n"]]
    return sorted(rows, key=lambda row: [(row[k] is None, str(row[k])) for k in plan.key_columns])


def _same(left: list[dict[str, Any]], right: list[dict[str, Any]]) -> None:
    assert len(left) == len(right) > 0
    for mine, theirs in zip(left, right, strict=True):
        assert mine.keys() == theirs.keys()
        for key, value in mine.items():
            if isinstance(value, float):
                assert value == pytest.approx(theirs[key], rel=1e-12), key
            else:
                assert value == theirs[key], key


def _compare_paths(engine: Engine, estate: Estate) -> None:
    for metric, plan in SET_PLANS:
        definition = resolve_metric(metric)
        by_set = group_statistics(engine, estate.root, estate.workspace_id, plan, definition)
        joined = joined_statistics(engine, estate.root, estate.workspace_id, plan, definition)
        _same(_rows(by_set, plan), _rows(joined, plan))


def test_sets_give_the_numbers_of_the_join_on_duckdb(synthetic: Estate) -> None:
    customers = pq.read_table(next((synthetic.root / "customers").rglob("*.parquet")))
    answers = pq.read_table(synthetic.root / "feedback", columns=["customer_id"])
    # The cases the join treats apart: answers without a customer, customers in no segment.
    assert [] in customers.column("segments").to_pylist()
    assert answers.column("customer_id").null_count > 0
    _compare_paths(DuckDBEngine(), synthetic)


def test_sets_give_the_numbers_of_the_join_on_spark(
    synthetic: Estate, spark_engine: SparkEngine
) -> None:
    _compare_paths(spark_engine, synthetic)


def test_a_store_without_sets_is_still_grouped_by_segment(analytics_root: Path) -> None:
    customers = [
        {"customer_id": "c1", "segments": ["gold", "silver"], "attributes": "{}"},
        {"customer_id": "c2", "segments": [], "attributes": "{}"},
    ]
    items = [
        feedback(at("2024-05-01"), nps=10, customer_id="c1"),
        feedback(at("2024-05-01"), nps=0, customer_id="c2"),
        feedback(at("2024-05-01"), nps=0),
    ]
    add_segment_sets(customers, items)
    write_dataset(analytics_root, CUSTOMERS, customers)
    write_dataset(analytics_root, FEEDBACK, items)
    for path in analytics_root.glob("feedback/ws-metrics/*/*.parquet"):
        old = pq.read_table(path)  # as written before feedback rows carried their set
        pq.write_table(old.drop_columns(["segment_set"]), path)
    result = metric_table("nps", root=analytics_root, workspace_id="ws-metrics", by="segment")
    groups = {row.keys["segment"]: row.value.n for row in result.rows}
    assert groups == {"gold": 1, "silver": 1, None: 2}
