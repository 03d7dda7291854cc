"""Analytics fixtures: small Parquet stores written in the layout, and one Spark session.

The metric tests write their own files with pyarrow, exactly as the layout says, so they
test the engine without the exporter. Spark starts once per run (6-10 s); without Java the
Spark tests skip, except under CI=true, where they fail.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import Store
from touchpoints.analytics.engine import SparkEngine, spark_session
from touchpoints.analytics.layout import (
    CUSTOMERS,
    EVENTS,
    FEEDBACK,
    ORG_UNITS,
    TOUCHPOINTS,
    Dataset,
    partition_dir,
)
from touchpoints.analytics.segment_sets import segment_set_id
from touchpoints.analytics.triggers import install_change_tracking

WORKSPACE = "ws-metrics"
FEEDBACK_DEFAULTS: dict[str, Any] = {
    "solicited": True,
    "source": "survey",
    "channel": "web",
    "language": "en",
    "topics": [],
}


def write_dataset(
    root: Path,
    dataset: Dataset,
    rows: Sequence[dict[str, Any]],
    workspace_id: str = WORKSPACE,
    file_name: str = "part-0.parquet",
) -> None:
    """Write rows into a dataset's partitions (by the UTC month of occurred_at if it has one)."""
    parts: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        row = {"workspace_id": workspace_id, **row}
        if dataset.by_month:
            row["month"] = f"{row['occurred_at'].astimezone(UTC):%Y-%m}"
        parts[row.get("month") if dataset.by_month else None].append(row)
    for month, part in parts.items():
        folder = partition_dir(root, dataset, workspace_id, month)
        folder.mkdir(parents=True, exist_ok=True)
        table = pa.Table.from_pylist(
            [{name: row.get(name) for name in dataset.schema.names} for row in part],
            schema=dataset.schema,
        )
        # Several small row groups, as a real export of many rows would have.
        pq.write_table(table, folder / file_name, row_group_size=500)


def add_segment_sets(customers: list[dict[str, Any]], items: list[dict[str, Any]]) -> None:
    """Give customer rows, and the feedback rows of those customers, their segment set.

    As the exporter does; here the segment names stand for the segment ids it hashes.
    """
    sets = {}
    for customer in customers:
        customer["segment_set"] = segment_set_id(customer.get("segments") or [])
        sets[customer["customer_id"]] = customer["segment_set"]
    for item in items:
        item["segment_set"] = sets.get(item.get("customer_id"))


def feedback(occurred_at: datetime, **fields: Any) -> dict[str, Any]:
    """Return one feedback row with defaults for what the test does not care about."""
    number = fields.pop("number", None) or random.getrandbits(48)
    return {
        **FEEDBACK_DEFAULTS,
        "feedback_item_id": f"f-{number}",
        "occurred_at": occurred_at,
        **fields,
    }


def at(day: str, hour: int = 12) -> datetime:
    """Return a UTC time on a YYYY-MM-DD day."""
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


@pytest.fixture
def analytics_root(tmp_path: Path) -> Path:
    """An empty analytics store folder."""
    root = tmp_path / "analytics"
    root.mkdir()
    return root


@dataclass(frozen=True)
class Estate:
    """A synthetic store: its root, workspace and the org units' paths."""

    root: Path
    workspace_id: str
    units: dict[str, str]


ORG_TREE = {
    "north": "/north/",
    "north-a": "/north/north-a/",
    "north-b": "/north/north-b/",
    "south": "/south/",
}
TOUCHPOINT_ROWS = [
    {
        "touchpoint_id": "tp-checkin",
        "name": "Check-in",
        "channel": "airport",
        "stage_id": "st-travel",
        "stage_name": "Travel",
        "stage_position": 2,
        "journey_id": "jr-trip",
        "journey_name": "Trip",
    },
    {
        "touchpoint_id": "tp-booking",
        "name": "Booking",
        "channel": "web",
        "stage_id": "st-plan",
        "stage_name": "Plan",
        "stage_position": 1,
        "journey_id": "jr-trip",
        "journey_name": "Trip",
    },
    {
        "touchpoint_id": "tp-lounge",
        "name": "Lounge",
        "channel": "airport",
        "stage_id": "st-travel",
        "stage_name": "Travel",
        "stage_position": 2,
        "journey_id": "jr-trip",
        "journey_name": "Trip",
    },
]


def build_synthetic(root: Path, rows: int = 4000, seed: int = 7) -> Estate:
    """Write a reproducible store: feedback over 5 months, customers, events, lookups."""
    rng = random.Random(seed)
    customers = []
    for index in range(300):
        segments = rng.sample(["gold", "silver", "business", "family"], rng.choice([0, 1, 1, 2]))
        attributes = {"tier": rng.choice(["a", "b", "c"]), "age": rng.randint(20, 70)}
        if index % 17 == 0:
            attributes = {}
        customers.append(
            {
                "customer_id": f"c-{index}",
                "segments": segments,
                "attributes": json.dumps(attributes),
            }
        )
    units = list(ORG_TREE)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    items = []
    for index in range(rows):
        unit = rng.choice([*units, None])
        touchpoint = rng.choice([*TOUCHPOINT_ROWS, None])
        kind = rng.random()
        items.append(
            feedback(
                start + timedelta(seconds=rng.randrange(0, 151 * 86400)),
                number=index,
                channel=rng.choice(["web", "email", "app", None]),
                source=rng.choice(["survey", "review"]),
                language=rng.choice(["en", "de", "fr"]),
                sentiment=rng.choice(["positive", "neutral", "negative", None]),
                survey_id=rng.choice(["sv-1", "sv-2", None]),
                touchpoint_id=touchpoint and touchpoint["touchpoint_id"],
                stage_id=touchpoint and touchpoint["stage_id"],
                journey_id=touchpoint and touchpoint["journey_id"],
                org_unit_id=unit,
                org_unit_path=unit and ORG_TREE[unit],
                customer_id=rng.choice([f"c-{rng.randrange(300)}", None]),
                nps=rng.randint(0, 10) if kind < 0.7 else None,
                csat=rng.randint(1, 5) if 0.3 < kind < 0.8 else None,
                ces=rng.randint(1, 7) if kind > 0.6 else None,
                rating=round(rng.uniform(0, 10), 1) if kind > 0.85 else None,
                rating_scale=10 if kind > 0.85 else None,
            )
        )
    events = []
    for index in range(1500):
        kind = rng.choice(["order", "order", "order", "churn", "digital"])
        events.append(
            {
                "event_id": f"e-{index}",
                "type": kind,
                "name": kind,
                "occurred_at": start + timedelta(seconds=rng.randrange(0, 151 * 86400)),
                "customer_id": f"c-{rng.randrange(300)}",
                "org_unit_id": "north-a",
                "org_unit_path": ORG_TREE["north-a"],
                "value": round(rng.uniform(10, 500), 2) if kind == "order" else None,
                "currency": "EUR" if kind == "order" else None,
            }
        )
    add_segment_sets(customers, items)
    write_dataset(root, FEEDBACK, items)
    write_dataset(root, CUSTOMERS, customers)
    write_dataset(root, EVENTS, events)
    write_dataset(root, TOUCHPOINTS, TOUCHPOINT_ROWS)
    write_dataset(
        root,
        ORG_UNITS,
        [
            {"org_unit_id": unit, "name": unit.replace("-", " ").title(), "path": path}
            for unit, path in ORG_TREE.items()
        ],
    )
    return Estate(root, WORKSPACE, dict(ORG_TREE))


@pytest.fixture(scope="session")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Estate]:
    """One synthetic store shared by the whole run (read only)."""
    root = tmp_path_factory.mktemp("synthetic") / "analytics"
    yield build_synthetic(root)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def spark_engine() -> Iterator[SparkEngine]:
    """The Spark engine on one local session for the whole run (UI off, few partitions)."""
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        message = "Spark needs Java 17 (apt-get install openjdk-17-jre-headless)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    session = spark_session("local[2]")
    session.conf.set("spark.sql.shuffle.partitions", "1")
    try:
        yield SparkEngine(session)
    finally:
        session.stop()


SMALL_ROW_CAP = 20


@pytest.fixture
def small_row_cap(store: Store) -> Iterator[int]:
    """Change triggers with a row-mark cap of 20, so a test reaches it with a few rows."""
    with store.engine.begin() as connection:
        install_change_tracking(connection, row_cap=SMALL_ROW_CAP)
    try:
        yield SMALL_ROW_CAP
    finally:
        with store.engine.begin() as connection:
            install_change_tracking(connection)
