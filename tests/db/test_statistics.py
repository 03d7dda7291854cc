"""PostgreSQL statistics kept fresh for tables that fill fast, so lookups probe their indexes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from tests.factories.orgs import make_workspace
from touchpoints.db.statistics import TableStatistics
from touchpoints.feedback.bulk import feedback_row, insert_feedback

ITEM = {
    "solicited": False,
    "source": "chat",
    "channel": "chat",
    "occurred_at": datetime(2026, 11, 1, tzinfo=UTC),
    "text": "The agent fixed my booking.",
    "metadata": {},
}
LOOKUP = (
    "EXPLAIN ANALYZE SELECT id FROM feedback_items WHERE workspace_id = :workspace_id "
    "AND source = 'chat' AND source_ref IN ('r5', 'r7', 'new')"
)


def _add_items(db_session: Session, workspace_id: str, first: int, count: int) -> None:
    rows = [{**ITEM, "source_ref": f"r{n}"} for n in range(first, first + count)]
    insert_feedback(db_session, [feedback_row(workspace_id, row) for row in rows])


@pytest.mark.postgres
def test_lookups_probe_the_unique_index_once_the_keeper_analyzed(db_session: Session) -> None:
    # Planned from the statistics of a nearly empty table (this test database's autovacuum
    # may never run), the lookup reads all 5,000 items of the workspace and filters the refs.
    workspace = make_workspace(db_session)
    _add_items(db_session, workspace.id, 0, 5_000)
    keeper = TableStatistics(("feedback_items",), first_rows=1_000)
    keeper.added(db_session, 5_000)
    after = "\n".join(db_session.execute(text(LOOKUP), {"workspace_id": workspace.id}).scalars())
    assert keeper.analyzed == 1
    assert "source_ref" in after.split("Index Cond:")[1].splitlines()[0], after
    assert "Rows Removed by Filter" not in after


@pytest.mark.postgres
def test_the_keeper_analyzes_each_time_the_table_doubles(db_session: Session) -> None:
    workspace = make_workspace(db_session)
    db_session.execute(text("ANALYZE feedback_items"))  # statistics of this test's table only
    keeper = TableStatistics(("feedback_items",), first_rows=50)
    first = 0
    for count in (30, 30, 30, 30):  # 30, 60, 90, 120 rows added
        _add_items(db_session, workspace.id, first, count)
        first += count
        keeper.added(db_session, count)
    # Analyzed at 60 rows (past 50), not again until 60 more arrived (120).
    assert keeper.analyzed == 2


@pytest.mark.postgres
def test_the_keeper_trusts_statistics_taken_meanwhile(db_session: Session) -> None:
    workspace = make_workspace(db_session)
    _add_items(db_session, workspace.id, 0, 300)
    db_session.execute(text("ANALYZE feedback_items"))  # as autovacuum would
    keeper = TableStatistics(("feedback_items",), first_rows=50)
    _add_items(db_session, workspace.id, 300, 60)
    keeper.added(db_session, 60)
    assert keeper.analyzed == 0  # the statistics count 300 rows or more: not stale yet


@pytest.mark.sqlite
def test_sqlite_needs_no_statistics(db_session: Session) -> None:
    keeper = TableStatistics(("feedback_items",), first_rows=1)
    keeper.added(db_session, 10)
    assert keeper.analyzed == 0


@pytest.mark.postgres
def test_a_background_keeper_analyzes_on_its_own_connection(
    committed_factory: sessionmaker[Session],
) -> None:
    keeper = TableStatistics(("feedback_items",), first_rows=50, background=True)
    with committed_factory() as db_session:
        workspace = make_workspace(db_session)
        db_session.execute(text("ANALYZE feedback_items"))
        _add_items(db_session, workspace.id, 0, 80)
        keeper.added(db_session, 80)
        db_session.commit()
    assert keeper.running is not None
    keeper.running.join(timeout=30)
    assert keeper.analyzed == 1
    with committed_factory() as db_session:
        counted = db_session.scalar(
            text("SELECT reltuples FROM pg_class WHERE oid = to_regclass('feedback_items')")
        )
    assert counted is not None and counted >= 80  # the ANALYZE saw the committed rows
