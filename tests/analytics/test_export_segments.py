"""Segment sets in the export: a customer's segment change re-exports the customer's feedback."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, delete, insert, select, text
from sqlalchemy.orm import Session, sessionmaker

from tests.analytics.export_fixtures import MONTHS, Estate, at, build_estate, part_files
from tests.conftest import DEFAULT_POSTGRES_URL, Store
from tests.factories.customers import make_segment
from tests.factories.feedback import make_customer, make_feedback_item
from tests.factories.orgs import make_workspace
from touchpoints.analytics.changes import AnalyticsChange, AnalyticsRowChange
from touchpoints.analytics.export import MARKER_NAME, AnalyticsExporter
from touchpoints.analytics.query import metric_table
from touchpoints.customers.models import Customer, CustomerSegment, Segment
from touchpoints.db import migrate
from touchpoints.db.engine import make_engine
from touchpoints.db.registry import load_metadata

# The revision before segment changes marked feedback.
BEFORE_SEGMENT_SETS = "e8f23199141b"


def _marks(engine: Engine, workspace_id: str) -> tuple[set[str], set[tuple[str, str]]]:
    """Return the feedback row marks' ids and the partition marks of a workspace."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(AnalyticsRowChange.row_id).where(
                AnalyticsRowChange.workspace_id == workspace_id,
                AnalyticsRowChange.dataset == "feedback",
            )
        )
        partitions = connection.execute(
            select(AnalyticsChange.dataset, AnalyticsChange.month).where(
                AnalyticsChange.workspace_id == workspace_id
            )
        )
        return {row_id for (row_id,) in rows}, {(d, m) for d, m in partitions}


def _forget_marks(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(delete(AnalyticsChange))
        connection.execute(delete(AnalyticsRowChange))


def _set_segments(factory: sessionmaker[Session], customer_id: str, *segment_ids: str) -> None:
    with factory() as session:
        customer = session.get_one(Customer, customer_id)
        customer.segments = [session.get_one(Segment, s) for s in segment_ids]
        session.commit()


def _customer_items(estate: Estate) -> set[str]:
    # build_estate links the first two items of every month to its customer.
    return {item for month in MONTHS for item in estate.items[month][:2]}


def test_joining_or_leaving_a_segment_row_marks_the_customers_items(
    committed_factory: sessionmaker[Session], store: Store
) -> None:
    estate = build_estate(committed_factory)
    with committed_factory() as session:
        business = make_segment(session, workspace_id=estate.workspace_id, name="Business").id
        session.commit()
    _forget_marks(store.engine)

    _set_segments(committed_factory, estate.customer_id, estate.segment_id, business)
    rows, partitions = _marks(store.engine, estate.workspace_id)
    assert rows == _customer_items(estate)
    assert partitions == {("customers", "all")}

    _forget_marks(store.engine)
    _set_segments(committed_factory, estate.customer_id)  # leaves both
    rows, partitions = _marks(store.engine, estate.workspace_id)
    assert rows == _customer_items(estate)
    assert partitions == {("customers", "all")}


def test_above_the_cap_a_segment_change_marks_the_customers_months(
    committed_factory: sessionmaker[Session], store: Store, small_row_cap: int
) -> None:
    with committed_factory() as session:
        workspace_id = make_workspace(session).id
        customer_id = make_customer(session, workspace_id=workspace_id).id
        segment_id = make_segment(session, workspace_id=workspace_id).id
        for n in range(small_row_cap + 5):
            month = MONTHS[n % 2]
            make_feedback_item(
                session, workspace_id=workspace_id, customer_id=customer_id, occurred_at=at(month)
            )
        session.commit()
    _forget_marks(store.engine)

    with committed_factory() as session:
        membership = {"customer_id": customer_id, "segment_id": segment_id}
        session.execute(insert(CustomerSegment).values(membership))
        session.commit()

    rows, partitions = _marks(store.engine, workspace_id)
    assert rows == set(), "one membership would mark more items than the cap allows"
    assert partitions == {("customers", "all"), ("feedback", MONTHS[0]), ("feedback", MONTHS[1])}


def test_a_big_membership_change_loses_no_item(
    committed_factory: sessionmaker[Session], store: Store, small_row_cap: int
) -> None:
    with committed_factory() as session:
        workspace_id = make_workspace(session).id
        segment_id = make_segment(session, workspace_id=workspace_id).id
        items = {}
        for n in range(small_row_cap + 5):
            customer_id = make_customer(session, workspace_id=workspace_id).id
            month = MONTHS[n % 2]
            items[
                make_feedback_item(
                    session,
                    workspace_id=workspace_id,
                    customer_id=customer_id,
                    occurred_at=at(month),
                ).id
            ] = (customer_id, month)
        session.commit()
    _forget_marks(store.engine)

    with committed_factory() as session:  # one statement, more rows than the cap
        members = [{"customer_id": c, "segment_id": segment_id} for c, _ in items.values()]
        session.execute(insert(CustomerSegment).values(members))
        session.commit()

    rows, partitions = _marks(store.engine, workspace_id)
    assert ("customers", "all") in partitions
    for item_id, (_, month) in items.items():
        stale = {("feedback", month), ("feedback", "*")} & partitions
        assert item_id in rows or stale, f"the item of {month} is not marked"
    if store.kind == "postgres":  # above the cap: every month, not a join to every item
        assert ("feedback", "*") in partitions and not rows


def _groups(root: Path, workspace_id: str) -> dict[str | None, int]:
    result = metric_table("nps", root=root, workspace_id=workspace_id, by="segment", minimum_n=1)
    return {row.keys["segment"]: row.value.n for row in result.rows}


def test_an_incremental_export_regroups_the_customers_answers(
    committed_factory: sessionmaker[Session], store: Store, tmp_path: Path
) -> None:
    estate = build_estate(committed_factory)
    with committed_factory() as session:
        business = make_segment(session, workspace_id=estate.workspace_id, name="Business").id
        for month in MONTHS:  # items without a score, so the months are merged, not rewritten
            for _ in range(10):
                make_feedback_item(session, workspace_id=estate.workspace_id, occurred_at=at(month))
        session.commit()
    exporter = AnalyticsExporter(store.engine, tmp_path / "analytics")
    exporter.export()
    assert _groups(exporter.root, estate.workspace_id) == {"Frequent flyers": 6, None: 3}

    _set_segments(committed_factory, estate.customer_id, estate.segment_id, business)
    summary = exporter.export()
    feedback = next(d for d in summary.datasets if d.dataset == "feedback")
    assert (summary.mode, feedback.partitions_merged) == ("incremental", len(MONTHS))
    assert feedback.rows_from_store == len(_customer_items(estate))
    assert _groups(exporter.root, estate.workspace_id) == {
        "Business": 6,
        "Frequent flyers": 6,
        None: 3,
    }

    _set_segments(committed_factory, estate.customer_id, business)
    exporter.export()
    assert _groups(exporter.root, estate.workspace_id) == {"Business": 6, None: 3}

    files = part_files(exporter.root, estate.workspace_id)
    with committed_factory() as session:
        session.get_one(Segment, business).name = "Business class"
        session.commit()
    exporter.export()
    assert _groups(exporter.root, estate.workspace_id) == {"Business class": 6, None: 3}
    after = part_files(exporter.root, estate.workspace_id)
    rewritten = {path for path in files if after.get(path) != files[path]}
    assert rewritten == {f"customers/{estate.workspace_id}/all/part-0.parquet"}, (
        "a renamed segment rewrites the customers file, not the feedback"
    )


def test_a_store_in_the_older_layout_is_rebuilt(
    committed_factory: sessionmaker[Session], store: Store, tmp_path: Path
) -> None:
    estate = build_estate(committed_factory)
    exporter = AnalyticsExporter(store.engine, tmp_path / "analytics")
    exporter.export()
    marker = exporter.root / MARKER_NAME
    marker.write_text(json.dumps({"format": 1, "rebuilt_at": "2026-01-01T00:00:00+00:00"}))

    assert exporter.export().mode == "rebuild"
    assert exporter.export().mode == "incremental"
    assert _groups(exporter.root, estate.workspace_id) == {"Frequent flyers": 6, None: 3}


# --- the migration ------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgres"])
def scratch_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty store of each kind, for migrating by hand."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
        yield engine
        engine.dispose()
        return
    base_url = os.environ.get("TOUCHPOINTS_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    admin = make_engine(base_url, pool_size=1)
    schema = f"tp_mig_{secrets.token_hex(4)}"
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # pragma: no cover - depends on the machine
        admin.dispose()
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL not reachable at {base_url}: {exc}")
    engine = make_engine(f"{base_url}?options=-csearch_path%3D{schema}", pool_size=1)
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _join_segment(engine: Engine) -> set[str]:
    """Put a new customer with one item in a new segment; return the feedback rows marked."""
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    with factory() as session:
        workspace_id = make_workspace(session).id
        customer_id = make_customer(session, workspace_id=workspace_id).id
        segment_id = make_segment(session, workspace_id=workspace_id).id
        moment = datetime(2025, 1, 5, tzinfo=UTC)
        make_feedback_item(
            session, workspace_id=workspace_id, customer_id=customer_id, occurred_at=moment
        )
        session.commit()
    _forget_marks(engine)
    with factory() as session:
        membership = {"customer_id": customer_id, "segment_id": segment_id}
        session.execute(insert(CustomerSegment).values(membership))
        session.commit()
    rows, partitions = _marks(engine, workspace_id)
    assert ("customers", "all") in partitions
    return rows


def test_the_migration_makes_segment_changes_mark_feedback(scratch_engine: Engine) -> None:
    migrate.upgrade(scratch_engine, BEFORE_SEGMENT_SETS)
    assert _join_segment(scratch_engine) == set()

    migrate.upgrade(scratch_engine)
    assert len(_join_segment(scratch_engine)) == 1

    config = migrate.alembic_config()
    with scratch_engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, BEFORE_SEGMENT_SETS)
    assert migrate.current_revision(scratch_engine) == BEFORE_SEGMENT_SETS
    assert _join_segment(scratch_engine) == set()


def _triggers(engine: Engine) -> list[tuple[str, str]]:
    with engine.connect() as connection:
        query = text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name")
        return [(name, sql) for name, sql in connection.execute(query)]


def test_create_all_and_the_migrations_install_the_same_triggers(tmp_path: Path) -> None:
    migrated = make_engine(f"sqlite:///{tmp_path / 'migrated.db'}")
    created = make_engine(f"sqlite:///{tmp_path / 'created.db'}")
    migrate.upgrade(migrated)
    load_metadata().create_all(created)
    try:
        assert _triggers(migrated) == _triggers(created)
        joining = dict(_triggers(created))["analytics_mark_customer_segments_insert"]
        assert "feedback_items f" in joining, "a new membership marks the customer's items"
    finally:
        migrated.dispose()
        created.dispose()
