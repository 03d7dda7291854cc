"""The change triggers: row marks for items and events, partition marks above the cap."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from tests.analytics.export_fixtures import MONTHS, add_response, at, build_estate
from tests.factories.feedback import make_feedback_item
from tests.factories.operations import make_event
from tests.factories.orgs import make_workspace
from touchpoints.analytics.changes import AnalyticsChange, AnalyticsRowChange
from touchpoints.db import migrate
from touchpoints.db.base import new_id
from touchpoints.db.engine import make_engine
from touchpoints.feedback.models import FeedbackItem
from touchpoints.surveys.models import SurveyResponse

# The revision before row marks existed.
BEFORE_ROW_MARKS = "67fa838e3b4b"


def _row_marks(factory: sessionmaker[Session], workspace_id: str) -> list[tuple[str, str, str]]:
    with factory() as session:
        statement = select(
            AnalyticsRowChange.dataset, AnalyticsRowChange.month, AnalyticsRowChange.row_id
        ).where(AnalyticsRowChange.workspace_id == workspace_id)
        return sorted(
            (dataset, month, row_id) for dataset, month, row_id in session.execute(statement)
        )


def _partition_marks(factory: sessionmaker[Session], workspace_id: str) -> set[tuple[str, str]]:
    with factory() as session:
        statement = select(AnalyticsChange.dataset, AnalyticsChange.month).where(
            AnalyticsChange.workspace_id == workspace_id
        )
        return {(dataset, month) for dataset, month in session.execute(statement)}


def _forget_marks(factory: sessionmaker[Session]) -> None:
    with factory() as session:
        session.execute(delete(AnalyticsChange))
        session.execute(delete(AnalyticsRowChange))
        session.commit()


def _workspace(factory: sessionmaker[Session]) -> str:
    with factory() as session:
        workspace_id = make_workspace(session).id
        session.commit()
    _forget_marks(factory)
    return workspace_id


def _item_rows(workspace_id: str, count: int, month: str) -> list[dict[str, Any]]:
    return [
        {
            "id": new_id(),
            "workspace_id": workspace_id,
            "solicited": True,
            "source": "import",
            "channel": "email",
            "occurred_at": at(month, day=1 + n % 28),
            "received_at": at(month),
            "metadata": {},
            "nps": n % 11,
        }
        for n in range(count)
    ]


def test_inserts_updates_moves_and_deletes_mark_the_rows(
    committed_factory: sessionmaker[Session],
) -> None:
    workspace_id = _workspace(committed_factory)
    with committed_factory() as session:
        item_id = make_feedback_item(
            session, workspace_id=workspace_id, occurred_at=at(MONTHS[0])
        ).id
        event_id = make_event(session, workspace_id=workspace_id, occurred_at=at(MONTHS[1])).id
        session.commit()
    assert _row_marks(committed_factory, workspace_id) == sorted(
        [("feedback", MONTHS[0], item_id), ("events", MONTHS[1], event_id)]
    )

    _forget_marks(committed_factory)
    with committed_factory() as session:
        session.execute(update(FeedbackItem).where(FeedbackItem.id == item_id).values(nps=4))
        session.commit()
    assert _row_marks(committed_factory, workspace_id) == [("feedback", MONTHS[0], item_id)]

    _forget_marks(committed_factory)
    with committed_factory() as session:
        moved = update(FeedbackItem).where(FeedbackItem.id == item_id)
        session.execute(moved.values(occurred_at=at(MONTHS[2])))
        session.commit()
    assert _row_marks(committed_factory, workspace_id) == [
        ("feedback", MONTHS[0], item_id),
        ("feedback", MONTHS[2], item_id),
    ], "a move marks the row in its old and its new month"

    _forget_marks(committed_factory)
    with committed_factory() as session:
        session.execute(delete(FeedbackItem).where(FeedbackItem.id == item_id))
        session.commit()
    assert _row_marks(committed_factory, workspace_id) == [("feedback", MONTHS[2], item_id)]
    assert _partition_marks(committed_factory, workspace_id) == set()


def test_a_survey_response_row_marks_the_items_it_links(
    committed_factory: sessionmaker[Session],
) -> None:
    estate = build_estate(committed_factory)
    first, second = estate.items[MONTHS[2]][1], estate.items[MONTHS[0]][1]
    _forget_marks(committed_factory)

    with committed_factory() as session:
        response = add_response(session, estate, first)
        session.commit()
        response_id = response.id
    assert _row_marks(committed_factory, estate.workspace_id) == [("feedback", MONTHS[2], first)]
    assert _partition_marks(committed_factory, estate.workspace_id) == set()

    _forget_marks(committed_factory)
    with committed_factory() as session:
        relink = update(SurveyResponse).where(SurveyResponse.id == response_id)
        session.execute(relink.values(feedback_item_id=second))
        session.commit()
    assert _row_marks(committed_factory, estate.workspace_id) == sorted(
        [("feedback", MONTHS[2], first), ("feedback", MONTHS[0], second)]
    ), "a relinked response marks the item it left and the one it joined"
    assert _partition_marks(committed_factory, estate.workspace_id) == set()


def test_a_statement_up_to_the_cap_leaves_one_row_mark_per_row(
    committed_factory: sessionmaker[Session], small_row_cap: int
) -> None:
    workspace_id = _workspace(committed_factory)
    rows = _item_rows(workspace_id, small_row_cap, "2025-05")

    with committed_factory() as session:
        session.execute(insert(FeedbackItem).values(rows))
        session.commit()

    marks = _row_marks(committed_factory, workspace_id)
    assert marks == sorted(("feedback", "2025-05", row["id"]) for row in rows)
    assert _partition_marks(committed_factory, workspace_id) == set()


def test_a_statement_above_the_cap_marks_the_partition(
    committed_factory: sessionmaker[Session], small_row_cap: int
) -> None:
    workspace_id = _workspace(committed_factory)
    rows = _item_rows(workspace_id, 5 * small_row_cap, "2025-05")

    with committed_factory() as session:
        session.execute(insert(FeedbackItem).values(rows))  # one statement
        session.commit()

    assert _partition_marks(committed_factory, workspace_id) == {("feedback", "2025-05")}
    # PostgreSQL counts the statement's rows first and writes no row mark; SQLite's row-level
    # triggers write row marks until the cap, then the partition mark, then nothing.
    assert len(_row_marks(committed_factory, workspace_id)) <= small_row_cap


def test_many_small_statements_stop_at_the_cap(
    committed_factory: sessionmaker[Session], small_row_cap: int
) -> None:
    workspace_id = _workspace(committed_factory)

    with committed_factory() as session:
        for row in _item_rows(workspace_id, small_row_cap + 10, "2025-05"):
            session.execute(insert(FeedbackItem).values(row))
        session.commit()

    assert _partition_marks(committed_factory, workspace_id) == {("feedback", "2025-05")}
    assert len(_row_marks(committed_factory, workspace_id)) == small_row_cap


def test_no_row_marks_while_the_partition_is_marked_whole(
    committed_factory: sessionmaker[Session],
) -> None:
    estate = build_estate(committed_factory)
    _forget_marks(committed_factory)
    with committed_factory() as session:  # as a stage change or a bulk load leaves
        session.add(
            AnalyticsChange(workspace_id=estate.workspace_id, dataset="feedback", month=MONTHS[1])
        )
        session.commit()

    with committed_factory() as session:
        make_feedback_item(session, workspace_id=estate.workspace_id, occurred_at=at(MONTHS[1]))
        session.commit()

    assert _row_marks(committed_factory, estate.workspace_id) == []
    assert _partition_marks(committed_factory, estate.workspace_id) == {("feedback", MONTHS[1])}


def _insert_item(connection: Any, item_id: str) -> None:
    connection.execute(
        text(
            "INSERT INTO feedback_items (id, workspace_id, solicited, source, channel, "
            "occurred_at, received_at, metadata) VALUES (:id, 'w1', 1, 'api', 'web', "
            "'2025-01-03 10:00:00.000000', '2025-01-04 10:00:00.000000', '{}')"
        ),
        {"id": item_id},
    )


def test_the_migration_adds_row_marks_and_its_downgrade_keeps_every_change(
    tmp_path: Path,
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    migrate.upgrade(engine, BEFORE_ROW_MARKS)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO workspaces (id, slug, name, settings, created_at, updated_at) "
                "VALUES ('w1', 'w1', 'W', '{}', '2025-01-01', '2025-01-01')"
            )
        )
        _insert_item(connection, "before")
        connection.execute(text("DELETE FROM analytics_changes"))

    migrate.upgrade(engine)
    with engine.begin() as connection:
        _insert_item(connection, "after")
        row_marks = connection.execute(text("SELECT row_id FROM analytics_row_changes")).all()
    config = migrate.alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, BEFORE_ROW_MARKS)
    with engine.begin() as connection:
        converted = connection.execute(text("SELECT dataset, month FROM analytics_changes")).all()
        connection.execute(text("DELETE FROM analytics_changes"))
        _insert_item(connection, "downgraded")
        marks = connection.execute(text("SELECT dataset, month FROM analytics_changes")).all()
    engine.dispose()

    assert row_marks == [("after",)]
    assert converted == [("feedback", "2025-01")], "the row mark became a partition mark"
    assert marks == [("feedback", "2025-01")], "the triggers mark partitions again"


def test_the_cap_counts_the_row_marks_of_every_partition(
    committed_factory: sessionmaker[Session], small_row_cap: int
) -> None:
    workspace_id = _workspace(committed_factory)
    first = _item_rows(workspace_id, small_row_cap - 5, "2025-05")

    with committed_factory() as session:
        session.execute(insert(FeedbackItem).values(first))
        session.execute(insert(FeedbackItem).values(_item_rows(workspace_id, 10, "2025-06")))
        session.commit()

    assert _partition_marks(committed_factory, workspace_id) == {("feedback", "2025-06")}
    marks = _row_marks(committed_factory, workspace_id)
    assert len(marks) <= small_row_cap
    assert {row_id for _, month, row_id in marks if month == "2025-05"} == {
        row["id"] for row in first
    }
