"""Merged partitions: an incremental export after row changes equals a full rebuild."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from tests.analytics.export_fixtures import (
    MONTHS,
    Estate,
    add_response,
    at,
    build_estate,
    expected_feedback,
    read_rows,
)
from tests.conftest import Store
from tests.factories.feedback import make_feedback_item
from tests.factories.operations import make_event
from touchpoints.analytics import merge
from touchpoints.analytics.changes import AnalyticsChange, AnalyticsRowChange
from touchpoints.analytics.export import AnalyticsExporter, DatasetExport, ExportSummary
from touchpoints.analytics.layout import EVENTS, FEEDBACK, Dataset
from touchpoints.db.base import new_id
from touchpoints.feedback.models import FeedbackItem
from touchpoints.operations.models import OperationalEvent


class Crash(Exception):
    """Stands for the process dying at a checkpoint."""


# Items added to each month of the estate: with 15 rows a partition takes a few changes as a
# small share (touchpoints.analytics.merge.MERGE_MAX_SHARE) and is merged.
PADDING = 12


@pytest.fixture
def estate(committed_factory: sessionmaker[Session]) -> Estate:
    """A committed workspace with fifteen feedback items in each of three months."""
    estate = build_estate(committed_factory)
    with committed_factory() as session:
        for month in MONTHS:
            for day in range(PADDING):
                make_feedback_item(
                    session, workspace_id=estate.workspace_id, occurred_at=at(month, 10 + day)
                )
        session.commit()
    return estate


@pytest.fixture
def exporter(estate: Estate, store: Store, tmp_path: Path) -> AnalyticsExporter:
    """An exporter whose first (full) export of the estate is done."""
    exporter = AnalyticsExporter(store.engine, tmp_path / "analytics")
    exporter.export()
    return exporter


def _stats(summary: ExportSummary, dataset: Dataset = FEEDBACK) -> DatasetExport:
    return next(d for d in summary.datasets if d.dataset == dataset.name)


def _assert_equals_rebuild(exporter: AnalyticsExporter, estate: Estate, tmp_path: Path) -> None:
    """Check the incremental files hold exactly the rows a fresh rebuild writes."""
    rebuilt = AnalyticsExporter(exporter.engine, tmp_path / "rebuilt")
    rebuilt.rebuild()
    for dataset in (FEEDBACK, EVENTS):
        merged = read_rows(exporter.root, dataset, estate.workspace_id)
        assert merged == read_rows(rebuilt.root, dataset, estate.workspace_id)
        keys = [row[dataset.key] for row in merged]
        assert len(keys) == len(set(keys)), f"a {dataset.name} row was written twice"


def _expected(factory: sessionmaker[Session], estate: Estate) -> list[dict[str, Any]]:
    with factory() as session:
        return expected_feedback(session, estate.workspace_id)


def test_new_items_are_merged_into_their_partition(
    committed_factory: sessionmaker[Session],
    estate: Estate,
    exporter: AnalyticsExporter,
    tmp_path: Path,
) -> None:
    with committed_factory() as session:
        new = make_feedback_item(
            session, workspace_id=estate.workspace_id, occurred_at=at(MONTHS[1], 20), nps=2
        ).id
        session.commit()

    summary = exporter.export()

    feedback = _stats(summary)
    assert (feedback.partitions_written, feedback.partitions_merged) == (1, 1)
    assert feedback.rows_from_store == 1, "only the new item is read from the store"
    assert feedback.rows == 16, "the merged file holds the old rows and the new one"
    rows = read_rows(exporter.root, FEEDBACK, estate.workspace_id)
    assert new in {row["feedback_item_id"] for row in rows}
    assert rows == _expected(committed_factory, estate)
    _assert_equals_rebuild(exporter, estate, tmp_path)


def test_updates_and_moves_are_merged_into_both_months(
    committed_factory: sessionmaker[Session],
    estate: Estate,
    exporter: AnalyticsExporter,
    tmp_path: Path,
) -> None:
    updated, moved = estate.items[MONTHS[0]][1], estate.items[MONTHS[1]][2]
    with committed_factory() as session:
        changes = update(FeedbackItem)
        session.execute(changes.where(FeedbackItem.id == updated).values(nps=0, topics=["refund"]))
        session.execute(changes.where(FeedbackItem.id == moved).values(occurred_at=at(MONTHS[2])))
        session.commit()

    summary = exporter.export()

    feedback = _stats(summary)
    assert (feedback.partitions_written, feedback.partitions_merged) == (3, 3)
    assert feedback.rows_from_store == 2
    months = {
        r["feedback_item_id"]: r["month"]
        for r in read_rows(exporter.root, FEEDBACK, estate.workspace_id)
    }
    assert months[moved] == MONTHS[2]
    assert read_rows(exporter.root, FEEDBACK, estate.workspace_id) == _expected(
        committed_factory, estate
    )
    _assert_equals_rebuild(exporter, estate, tmp_path)


def test_a_move_to_a_month_without_a_file_rewrites_only_that_month(
    committed_factory: sessionmaker[Session],
    estate: Estate,
    exporter: AnalyticsExporter,
    tmp_path: Path,
) -> None:
    moved = estate.items[MONTHS[0]][2]
    with committed_factory() as session:
        session.execute(
            update(FeedbackItem).where(FeedbackItem.id == moved).values(occurred_at=at("2024-12"))
        )
        session.commit()

    feedback = _stats(exporter.export())

    assert (feedback.partitions_written, feedback.partitions_merged) == (2, 1)
    assert (exporter.root / "feedback" / estate.workspace_id / "2024-12").is_dir()
    _assert_equals_rebuild(exporter, estate, tmp_path)


def test_a_survey_linked_to_an_item_is_merged_not_rewritten(
    committed_factory: sessionmaker[Session],
    estate: Estate,
    exporter: AnalyticsExporter,
    tmp_path: Path,
) -> None:
    answered = estate.items[MONTHS[1]][2]
    with committed_factory() as session:
        add_response(session, estate, answered)
        session.commit()

    feedback = _stats(exporter.export())

    assert (feedback.partitions_written, feedback.partitions_merged) == (1, 1)
    assert feedback.rows_from_store == 1
    surveys = {
        r["feedback_item_id"]: r["survey_id"]
        for r in read_rows(exporter.root, FEEDBACK, estate.workspace_id)
    }
    assert surveys[answered] == estate.survey_id
    _assert_equals_rebuild(exporter, estate, tmp_path)


def test_deleted_items_leave_their_merged_partition(
    committed_factory: sessionmaker[Session],
    estate: Estate,
    exporter: AnalyticsExporter,
    tmp_path: Path,
) -> None:
    gone = estate.items[MONTHS[2]][0]
    with committed_factory() as session:
        session.execute(delete(FeedbackItem).where(FeedbackItem.id == gone))
        session.commit()

    feedback = _stats(exporter.export())

    assert (feedback.partitions_merged, feedback.rows_from_store, feedback.rows) == (1, 0, 14)
    rows = read_rows(exporter.root, FEEDBACK, estate.workspace_id)
    assert gone not in {row["feedback_item_id"] for row in rows}
    _assert_equals_rebuild(exporter, estate, tmp_path)


def test_events_are_merged_too(
    committed_factory: sessionmaker[Session],
    estate: Estate,
    exporter: AnalyticsExporter,
    tmp_path: Path,
) -> None:
    with committed_factory() as session:
        for day in range(10, 15):
            make_event(session, workspace_id=estate.workspace_id, occurred_at=at(MONTHS[0], day))
        session.commit()
    exporter.export()
    with committed_factory() as session:
        event_id = session.scalars(
            select(OperationalEvent.id).where(OperationalEvent.workspace_id == estate.workspace_id)
        ).first()
        session.execute(
            update(OperationalEvent).where(OperationalEvent.id == event_id).values(value=7.5)
        )
        session.commit()

    events = _stats(exporter.export(), EVENTS)

    assert (events.partitions_merged, events.rows_from_store) == (1, 1)
    values = {
        r["event_id"]: r["value"] for r in read_rows(exporter.root, EVENTS, estate.workspace_id)
    }
    assert values[event_id] == 7.5
    _assert_equals_rebuild(exporter, estate, tmp_path)


def test_a_merged_file_keeps_the_layout(
    committed_factory: sessionmaker[Session], estate: Estate, exporter: AnalyticsExporter
) -> None:
    with committed_factory() as session:
        make_feedback_item(session, workspace_id=estate.workspace_id, occurred_at=at(MONTHS[0]))
        session.commit()

    assert _stats(exporter.export()).partitions_merged == 1

    folder = exporter.root / "feedback" / estate.workspace_id / MONTHS[0]
    assert sorted(path.name for path in folder.iterdir()) == ["part-0.parquet"]
    assert pq.read_schema(folder / "part-0.parquet").equals(FEEDBACK.schema)


def test_many_changes_in_a_partition_rewrite_it(
    committed_factory: sessionmaker[Session], estate: Estate, exporter: AnalyticsExporter
) -> None:
    with committed_factory() as session:
        some = select(FeedbackItem.id).where(
            FeedbackItem.workspace_id == estate.workspace_id,
            FeedbackItem.occurred_at < at(MONTHS[1], 1),
        )
        changed = session.scalars(some.limit(4)).all()  # 4 of 15: more than a quarter
        session.execute(
            update(FeedbackItem).where(FeedbackItem.id.in_(changed)).values(sentiment="negative")
        )
        session.commit()

    feedback = _stats(exporter.export())

    assert (feedback.partitions_merged, feedback.rows_from_store) == (0, 15)
    assert read_rows(exporter.root, FEEDBACK, estate.workspace_id) == _expected(
        committed_factory, estate
    )


def test_a_partition_mark_rewrites_the_partition(
    committed_factory: sessionmaker[Session], estate: Estate, exporter: AnalyticsExporter
) -> None:
    with committed_factory() as session:  # as a stage change or a bulk load leaves
        session.add(
            AnalyticsChange(workspace_id=estate.workspace_id, dataset="feedback", month=MONTHS[2])
        )
        make_feedback_item(session, workspace_id=estate.workspace_id, occurred_at=at(MONTHS[2]))
        session.commit()

    feedback = _stats(exporter.export())

    assert (feedback.partitions_merged, feedback.rows_from_store) == (0, 16)
    assert read_rows(exporter.root, FEEDBACK, estate.workspace_id) == _expected(
        committed_factory, estate
    )


def test_a_bulk_statement_above_the_cap_rewrites_the_partition(
    committed_factory: sessionmaker[Session],
    estate: Estate,
    exporter: AnalyticsExporter,
    small_row_cap: int,
    tmp_path: Path,
) -> None:
    rows = [
        {
            "id": new_id(),
            "workspace_id": estate.workspace_id,
            "solicited": True,
            "source": "import",
            "channel": "email",
            "occurred_at": at(MONTHS[1], day=1 + n % 28),
            "received_at": at(MONTHS[1]),
            "metadata": {},
        }
        for n in range(small_row_cap + 1)
    ]
    with committed_factory() as session:
        session.execute(insert(FeedbackItem).values(rows))
        session.commit()

    feedback = _stats(exporter.export())

    assert feedback.partitions_merged == 0
    assert feedback.rows == feedback.rows_from_store == small_row_cap + 16
    _assert_equals_rebuild(exporter, estate, tmp_path)


def test_an_unreadable_file_is_rewritten_not_merged(
    committed_factory: sessionmaker[Session], estate: Estate, exporter: AnalyticsExporter
) -> None:
    part = exporter.root / "feedback" / estate.workspace_id / MONTHS[0] / "part-0.parquet"
    part.write_bytes(b"not parquet at all")
    with committed_factory() as session:
        item = estate.items[MONTHS[0]][0]
        session.execute(update(FeedbackItem).where(FeedbackItem.id == item).values(nps=1))
        session.commit()

    feedback = _stats(exporter.export())

    assert (feedback.partitions_merged, feedback.rows_from_store) == (0, 15)
    assert read_rows(exporter.root, FEEDBACK, estate.workspace_id) == _expected(
        committed_factory, estate
    )


def _crash_at(step: str):  # type: ignore[no-untyped-def]
    def checkpoint(reached: str, dataset: str) -> None:
        if (reached, dataset) == (step, "feedback"):
            raise Crash(f"crashed after {step}")

    return checkpoint


def _row_marks_left(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return len(session.scalars(select(AnalyticsRowChange.id)).all())


@pytest.mark.parametrize("step", ["written", "published"])
def test_a_crash_mid_merge_then_a_rerun_gives_every_row_once(
    committed_factory: sessionmaker[Session],
    estate: Estate,
    exporter: AnalyticsExporter,
    tmp_path: Path,
    step: str,
) -> None:
    moved, deleted = estate.items[MONTHS[0]][1], estate.items[MONTHS[1]][0]
    with committed_factory() as session:
        make_feedback_item(session, workspace_id=estate.workspace_id, occurred_at=at(MONTHS[1]))
        session.execute(
            update(FeedbackItem).where(FeedbackItem.id == moved).values(occurred_at=at(MONTHS[1]))
        )
        session.execute(delete(FeedbackItem).where(FeedbackItem.id == deleted))
        session.commit()
    before = read_rows(exporter.root, FEEDBACK, estate.workspace_id)
    crashing = AnalyticsExporter(exporter.engine, exporter.root, checkpoint=_crash_at(step))

    with pytest.raises(Crash):
        crashing.export()

    for month in MONTHS[:2]:
        folder = exporter.root / "feedback" / estate.workspace_id / month
        assert sorted(p.name for p in folder.iterdir()) == ["part-0.parquet"], "no stray files"
    after_crash = read_rows(exporter.root, FEEDBACK, estate.workspace_id)
    expected = _expected(committed_factory, estate)
    assert after_crash == (before if step == "written" else expected)
    assert _row_marks_left(committed_factory) == 4, "the row marks survive the crash"

    feedback = _stats(exporter.export())

    assert feedback.partitions_merged == 2, "the rerun merges the same partitions again"
    assert read_rows(exporter.root, FEEDBACK, estate.workspace_id) == expected
    _assert_equals_rebuild(exporter, estate, tmp_path)
    with committed_factory() as session:
        left = [
            len(session.scalars(select(log.id)).all())
            for log in (AnalyticsChange, AnalyticsRowChange)
        ]
    assert left == [0, 0]


def test_many_changed_rows_are_read_in_several_queries(
    committed_factory: sessionmaker[Session],
    estate: Estate,
    exporter: AnalyticsExporter,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(merge, "IDS_PER_QUERY", 1)
    with committed_factory() as session:
        for month in MONTHS:
            make_feedback_item(session, workspace_id=estate.workspace_id, occurred_at=at(month, 20))
        session.commit()

    feedback = _stats(exporter.export())

    assert (feedback.partitions_merged, feedback.rows_from_store) == (3, 3)
    _assert_equals_rebuild(exporter, estate, tmp_path)


def test_a_write_during_a_merge_is_merged_by_the_next_export(
    committed_factory: sessionmaker[Session],
    estate: Estate,
    exporter: AnalyticsExporter,
    tmp_path: Path,
) -> None:
    with committed_factory() as session:
        make_feedback_item(session, workspace_id=estate.workspace_id, occurred_at=at(MONTHS[1]))
        session.commit()
    late: list[str] = []

    def write_meanwhile(step: str, dataset: str) -> None:
        if (step, dataset) == ("written", "feedback") and not late:
            with committed_factory() as session:
                item = make_feedback_item(
                    session, workspace_id=estate.workspace_id, occurred_at=at(MONTHS[1], 25)
                )
                session.commit()
                late.append(item.id)

    during = AnalyticsExporter(exporter.engine, exporter.root, checkpoint=write_meanwhile)
    assert _stats(during.export()).partitions_merged == 1
    assert late[0] not in {r["feedback_item_id"] for r in _feedback_rows(exporter, estate)}
    assert _row_marks_left(committed_factory) == 1, "the late write's mark waits"

    feedback = _stats(exporter.export())

    assert (feedback.partitions_merged, feedback.rows_from_store) == (1, 1)
    assert late[0] in {r["feedback_item_id"] for r in _feedback_rows(exporter, estate)}
    _assert_equals_rebuild(exporter, estate, tmp_path)


def _feedback_rows(exporter: AnalyticsExporter, estate: Estate) -> list[dict[str, Any]]:
    return read_rows(exporter.root, FEEDBACK, estate.workspace_id)
