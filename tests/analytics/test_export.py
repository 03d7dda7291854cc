"""The analytics exporter: the files equal the store, stay equal after changes, survive crashes."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from tests.analytics.export_fixtures import (
    MONTHS,
    Estate,
    add_response,
    at,
    build_estate,
    expected_customers,
    expected_event_ids,
    expected_feedback,
    parsed_customers,
    part_files,
    read_rows,
)
from tests.conftest import Store
from tests.factories.feedback import make_feedback_item
from touchpoints.analytics.changes import AnalyticsRowChange
from touchpoints.analytics.export import AnalyticsExporter
from touchpoints.analytics.layout import CUSTOMERS, EVENTS, FEEDBACK, ORG_UNITS, TOUCHPOINTS
from touchpoints.customers.models import Segment
from touchpoints.feedback.models import FeedbackItem
from touchpoints.journeys.models import Touchpoint
from touchpoints.orgs.models import OrgUnit


class Crash(Exception):
    """Stands for the process dying at a checkpoint."""


@pytest.fixture
def estate(committed_factory: sessionmaker[Session]) -> Estate:
    """A committed workspace with feedback in three months."""
    return build_estate(committed_factory)


@pytest.fixture
def exporter(store: Store, tmp_path: Path) -> AnalyticsExporter:
    """An exporter into a fresh analytics folder."""
    return AnalyticsExporter(store.engine, tmp_path / "analytics")


def _feedback(exporter: AnalyticsExporter, estate: Estate) -> list[dict[str, object]]:
    return read_rows(exporter.root, FEEDBACK, estate.workspace_id)


def _expected(factory: sessionmaker[Session], estate: Estate) -> list[dict[str, object]]:
    with factory() as session:
        return expected_feedback(session, estate.workspace_id)


def test_export_writes_what_the_store_holds(
    committed_factory: sessionmaker[Session], estate: Estate, exporter: AnalyticsExporter
) -> None:
    summary = exporter.export()

    assert summary.mode == "rebuild", "the first export into an empty folder rebuilds"
    rows = _feedback(exporter, estate)
    assert rows == _expected(committed_factory, estate)
    assert {row["month"] for row in rows} == set(MONTHS)
    linked = next(row for row in rows if row["feedback_item_id"] == estate.items[MONTHS[0]][0])
    assert linked["survey_id"] == estate.survey_id
    assert linked["stage_id"] and linked["journey_id"] and linked["org_unit_path"]
    with committed_factory() as session:
        customers = expected_customers(session, estate.workspace_id)
        events = expected_event_ids(session, estate.workspace_id)
    exported = parsed_customers(read_rows(exporter.root, CUSTOMERS, estate.workspace_id))
    assert exported == customers
    assert [
        row["event_id"] for row in read_rows(exporter.root, EVENTS, estate.workspace_id)
    ] == events
    touchpoints = read_rows(exporter.root, TOUCHPOINTS, estate.workspace_id)
    assert [(row["touchpoint_id"], row["stage_position"]) for row in touchpoints] == [
        (estate.touchpoint_id, 1)
    ]
    units = read_rows(exporter.root, ORG_UNITS, estate.workspace_id)
    assert {row["org_unit_id"] for row in units} == {estate.region_id, estate.store_id}


def test_duckdb_reads_the_layout_glob(estate: Estate, exporter: AnalyticsExporter) -> None:
    exporter.export()
    pattern = f"{exporter.root}/feedback/{estate.workspace_id}/*/*.parquet"
    query = f"SELECT count(*), count(DISTINCT month) FROM read_parquet('{pattern}')"
    assert duckdb.sql(query).fetchall() == [(9, 3)]


def test_nothing_changed_means_nothing_written(estate: Estate, exporter: AnalyticsExporter) -> None:
    exporter.export()
    before = part_files(exporter.root, estate.workspace_id)

    summary = exporter.export()

    assert (summary.mode, summary.datasets) == ("incremental", [])
    assert part_files(exporter.root, estate.workspace_id) == before


def test_an_update_rewrites_only_its_partition(
    committed_factory: sessionmaker[Session], estate: Estate, exporter: AnalyticsExporter
) -> None:
    exporter.export()
    before = part_files(exporter.root, estate.workspace_id)
    changed = estate.items[MONTHS[1]][2]
    with committed_factory() as session:
        session.execute(
            update(FeedbackItem)
            .where(FeedbackItem.id == changed)
            .values(sentiment="negative", topics=["refund"])
        )
        session.commit()

    summary = exporter.export()

    after = part_files(exporter.root, estate.workspace_id)
    rewritten = {path for path in before if after.get(path) != before[path]}
    assert rewritten == {f"feedback/{estate.workspace_id}/{MONTHS[1]}/part-0.parquet"}
    assert [(d.dataset, d.partitions_written) for d in summary.datasets] == [("feedback", 1)]
    row = next(r for r in _feedback(exporter, estate) if r["feedback_item_id"] == changed)
    assert (row["sentiment"], row["topics"]) == ("negative", ["refund"])


def test_deleted_items_and_emptied_months_disappear(
    committed_factory: sessionmaker[Session], estate: Estate, exporter: AnalyticsExporter
) -> None:
    exporter.export()
    gone = estate.items[MONTHS[0]][1]
    with committed_factory() as session:
        session.execute(delete(FeedbackItem).where(FeedbackItem.id == gone))
        session.execute(delete(FeedbackItem).where(FeedbackItem.id.in_(estate.items[MONTHS[2]])))
        session.commit()

    exporter.export()

    rows = _feedback(exporter, estate)
    assert rows == _expected(committed_factory, estate)
    assert gone not in {row["feedback_item_id"] for row in rows}
    assert not (exporter.root / "feedback" / estate.workspace_id / MONTHS[2]).exists()


def test_an_item_moved_to_another_month_leaves_its_old_partition(
    committed_factory: sessionmaker[Session], estate: Estate, exporter: AnalyticsExporter
) -> None:
    exporter.export()
    moved = estate.items[MONTHS[0]][2]
    with committed_factory() as session:
        session.execute(
            update(FeedbackItem).where(FeedbackItem.id == moved).values(occurred_at=at("2024-12"))
        )
        session.commit()

    exporter.export()

    months = {row["feedback_item_id"]: row["month"] for row in _feedback(exporter, estate)}
    assert months[moved] == "2024-12"
    assert len(months) == 9


def test_denormalised_columns_follow_their_sources(
    committed_factory: sessionmaker[Session], estate: Estate, exporter: AnalyticsExporter
) -> None:
    exporter.export()
    with committed_factory() as session:
        touchpoint = session.get(Touchpoint, estate.touchpoint_id)
        assert touchpoint is not None
        touchpoint.stage_id = estate.second_stage_id
        store = session.get(OrgUnit, estate.store_id)
        assert store is not None
        store.path = f"/{estate.store_id}/"  # the store moved to the top of the tree
        segment = session.get(Segment, estate.segment_id)
        assert segment is not None
        segment.name = "Loyal flyers"
        add_response(session, estate, estate.items[MONTHS[2]][1])
        session.commit()

    exporter.export()

    rows = _feedback(exporter, estate)
    assert rows == _expected(committed_factory, estate)
    assert {row["stage_id"] for row in rows} == {estate.second_stage_id}
    assert {row["org_unit_path"] for row in rows} == {f"/{estate.store_id}/"}
    linked = {row["feedback_item_id"] for row in rows if row["survey_id"] == estate.survey_id}
    assert linked == {estate.items[MONTHS[0]][0], estate.items[MONTHS[2]][1]}
    with committed_factory() as session:
        customers = expected_customers(session, estate.workspace_id)
    assert parsed_customers(read_rows(exporter.root, CUSTOMERS, estate.workspace_id)) == customers
    assert ["Loyal flyers"] in [row["segments"] for row in customers]
    stages = read_rows(exporter.root, TOUCHPOINTS, estate.workspace_id)
    assert stages[0]["stage_id"] == estate.second_stage_id


def _update_one(factory: sessionmaker[Session], item_id: str, nps: int) -> None:
    with factory() as session:
        session.execute(update(FeedbackItem).where(FeedbackItem.id == item_id).values(nps=nps))
        session.commit()


def _crash_at(step: str):  # type: ignore[no-untyped-def]
    def checkpoint(reached: str, dataset: str) -> None:
        if (reached, dataset) == (step, "feedback"):
            raise Crash(f"crashed after {step}")

    return checkpoint


@pytest.mark.parametrize("step", ["written", "published"])
def test_a_crash_mid_export_then_a_rerun_gives_exactly_the_rows(
    committed_factory: sessionmaker[Session],
    estate: Estate,
    exporter: AnalyticsExporter,
    step: str,
) -> None:
    exporter.export()
    changed = estate.items[MONTHS[1]][0]
    _update_one(committed_factory, changed, 10)
    old_rows = _feedback(exporter, estate)
    crashing = AnalyticsExporter(exporter.engine, exporter.root, checkpoint=_crash_at(step))

    with pytest.raises(Crash):
        crashing.export()

    partition = exporter.root / "feedback" / estate.workspace_id / MONTHS[1]
    assert sorted(p.name for p in partition.iterdir()) == ["part-0.parquet"], "no stray files"
    if step == "written":
        assert _feedback(exporter, estate) == old_rows, "the old partition is still whole"
    else:
        assert _feedback(exporter, estate) == _expected(committed_factory, estate)
    with committed_factory() as session:
        left = session.scalars(
            select(AnalyticsRowChange.month).where(
                AnalyticsRowChange.workspace_id == estate.workspace_id,
                AnalyticsRowChange.dataset == "feedback",
            )
        ).all()
    assert left == [MONTHS[1]], "the row mark survives the crash"

    exporter.export()

    rows = _feedback(exporter, estate)
    assert rows == _expected(committed_factory, estate)
    assert len(rows) == len({row["feedback_item_id"] for row in rows}) == 9


def test_a_file_left_by_a_killed_export_is_never_read_and_is_cleaned(
    committed_factory: sessionmaker[Session], estate: Estate, exporter: AnalyticsExporter
) -> None:
    exporter.export()
    partition = exporter.root / "feedback" / estate.workspace_id / MONTHS[0]
    (partition / ".part-deadbeef0000.tmp").write_bytes(b"half a file")
    assert len(_feedback(exporter, estate)) == 9, "readers' globs skip temporaries"

    _update_one(committed_factory, estate.items[MONTHS[0]][1], 0)
    exporter.export()

    assert sorted(p.name for p in partition.iterdir()) == ["part-0.parquet"]


def test_a_write_during_an_export_is_picked_up_by_the_next(
    committed_factory: sessionmaker[Session], estate: Estate, exporter: AnalyticsExporter
) -> None:
    exporter.export()
    _update_one(committed_factory, estate.items[MONTHS[1]][0], 1)
    late: list[str] = []

    def write_meanwhile(step: str, dataset: str) -> None:
        if (step, dataset) == ("written", "feedback") and not late:
            with committed_factory() as session:
                item = make_feedback_item(
                    session, workspace_id=estate.workspace_id, occurred_at=at(MONTHS[1], 20)
                )
                session.commit()
                late.append(item.id)

    AnalyticsExporter(exporter.engine, exporter.root, checkpoint=write_meanwhile).export()
    assert late[0] not in {row["feedback_item_id"] for row in _feedback(exporter, estate)}

    exporter.export()

    assert late[0] in {row["feedback_item_id"] for row in _feedback(exporter, estate)}
    assert _feedback(exporter, estate) == _expected(committed_factory, estate)


def test_rebuild_equals_incremental_and_drops_vanished_partitions(
    committed_factory: sessionmaker[Session], estate: Estate, exporter: AnalyticsExporter
) -> None:
    exporter.export()
    _update_one(committed_factory, estate.items[MONTHS[2]][2], 3)
    with committed_factory() as session:
        make_feedback_item(session, workspace_id=estate.workspace_id, occurred_at=at("2025-04"))
        session.commit()
    exporter.export()
    incremental = {name: read_rows(exporter.root, d, estate.workspace_id) for name, d in _all()}
    stray = exporter.root / "feedback" / ("0" * 32) / "2020-01"
    stray.mkdir(parents=True)
    (stray / "part-0.parquet").write_bytes(b"from a workspace deleted long ago")

    summary = exporter.rebuild()

    assert summary.mode == "rebuild"
    assert {name: read_rows(exporter.root, d, estate.workspace_id) for name, d in _all()} == (
        incremental
    )
    assert not (exporter.root / "feedback" / ("0" * 32)).exists()


def _all() -> list[tuple[str, object]]:
    return [(d.name, d) for d in (FEEDBACK, EVENTS, CUSTOMERS, TOUCHPOINTS, ORG_UNITS)]


def test_an_export_waits_for_or_skips_a_running_one(
    estate: Estate, exporter: AnalyticsExporter
) -> None:
    from touchpoints.analytics.locking import export_lock

    with export_lock(exporter.root, exporter.engine, wait=True):
        summary = exporter.export(wait=False)
    assert summary.skipped
    assert not exporter.marker.exists()
    assert not exporter.export(wait=False).skipped
