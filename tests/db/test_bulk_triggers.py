"""Bulk inserts: on SQLite the row triggers are lifted and their work done once per statement."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tests.factories.orgs import make_workspace
from touchpoints.analytics.triggers import install_change_tracking
from touchpoints.customers.bulk import NewCustomer, insert_customers
from touchpoints.customers.identities import IdentityKind, NormalizedIdentity
from touchpoints.db.bulk_triggers import MIN_SET_BASED_ROWS
from touchpoints.feedback.bulk import feedback_row, insert_feedback
from touchpoints.feedback.models import FeedbackItem
from touchpoints.feedback.search import matching_ids_condition

MONTHS = (9, 10, 11)
BULK = MIN_SET_BASED_ROWS + 100


def _rows(workspace_id: str, count: int, word: str) -> list[dict[str, Any]]:
    return [
        feedback_row(
            workspace_id,
            {
                "solicited": True,
                "source": "survey",
                "source_ref": f"r{n}",
                "channel": "web",
                "occurred_at": datetime(2026, MONTHS[n % 3], 1 + n % 28, tzinfo=UTC),
                "text": f"The {word} was quick" if n % 2 else "Friendly crew",
                "metadata": {},
            },
        )
        for n in range(count)
    ]


def _row_marks(db_session: Session, workspace_id: str) -> list[tuple[str, int]]:
    return [
        (month, count)
        for month, count in db_session.execute(
            text(
                "SELECT month, count(*) FROM analytics_row_changes WHERE workspace_id = :w "
                "AND dataset = 'feedback' GROUP BY month ORDER BY month"
            ),
            {"w": workspace_id},
        )
    ]


def _partition_marks(db_session: Session, workspace_id: str, dataset: str) -> list[str]:
    return list(
        db_session.scalars(
            text(
                "SELECT month FROM analytics_changes WHERE workspace_id = :w "
                "AND dataset = :d ORDER BY month"
            ),
            {"w": workspace_id, "d": dataset},
        )
    )


def _found(db_session: Session, workspace_id: str, words: str) -> int:
    dialect = db_session.get_bind().dialect.name
    statement = select(FeedbackItem.id).where(
        FeedbackItem.workspace_id == workspace_id, matching_ids_condition(dialect, words)
    )
    return len(db_session.scalars(statement).all())


def _triggers(db_session: Session) -> list[tuple[str, str]]:
    return [
        (str(name), str(sql))
        for name, sql in db_session.execute(
            text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name")
        )
    ]


def test_a_bulk_insert_is_searchable_and_marked_like_single_inserts(db_session: Session) -> None:
    bulk, single = make_workspace(db_session), make_workspace(db_session)
    insert_feedback(db_session, _rows(bulk.id, BULK, "boarding"))
    rows = _rows(single.id, BULK, "boarding")
    for first in range(0, BULK, 50):  # below the threshold: the triggers fire per row
        insert_feedback(db_session, rows[first : first + 50])

    assert _found(db_session, bulk.id, "boarding quick") == BULK // 2
    assert _found(db_session, bulk.id, "friendly") == BULK // 2
    expected = [(f"2026-{month:02d}", BULK // 3) for month in MONTHS]
    assert _row_marks(db_session, bulk.id) == _row_marks(db_session, single.id) == expected
    if db_session.get_bind().dialect.name == "sqlite":
        # FTS5 checks its index against the feedback it was built from.
        db_session.execute(
            text("INSERT INTO feedback_search(feedback_search) VALUES ('integrity-check')")
        )


@pytest.mark.sqlite
def test_the_lifted_triggers_come_back_unchanged(db_session: Session) -> None:
    before = _triggers(db_session)
    insert_feedback(db_session, _rows(make_workspace(db_session).id, BULK, "boarding"))
    assert _triggers(db_session) == before


@pytest.mark.sqlite
def test_a_bulk_insert_past_the_cap_marks_its_months(db_session: Session) -> None:
    install_change_tracking(db_session.connection(), row_cap=100)  # undone with the test
    workspace = make_workspace(db_session)
    insert_feedback(db_session, _rows(workspace.id, BULK, "boarding"))

    assert _row_marks(db_session, workspace.id) == []
    assert _partition_marks(db_session, workspace.id, "feedback") == [
        f"2026-{month:02d}" for month in MONTHS
    ]


@pytest.mark.sqlite
def test_a_failed_bulk_insert_leaves_triggers_and_index_whole(db_session: Session) -> None:
    before = _triggers(db_session)
    workspace = make_workspace(db_session)
    rows = _rows(workspace.id, BULK, "boarding")
    rows[-1]["id"] = rows[0]["id"]  # the last row breaks the primary key
    with pytest.raises(IntegrityError):
        insert_feedback(db_session, rows)

    assert _triggers(db_session) == before
    stored = db_session.scalar(
        select(text("count(*)"))
        .select_from(FeedbackItem)
        .where(FeedbackItem.workspace_id == workspace.id)
    )
    assert _found(db_session, workspace.id, "boarding") == stored // 2
    db_session.execute(
        text("INSERT INTO feedback_search(feedback_search) VALUES ('integrity-check')")
    )


def test_bulk_customers_leave_one_mark(db_session: Session) -> None:
    workspace = make_workspace(db_session)
    customers = [
        NewCustomer([NormalizedIdentity(IdentityKind.EMAIL, "", f"c{n}@example.com")])
        for n in range(BULK)
    ]
    insert_customers(db_session, workspace_id=workspace.id, customers=customers)

    assert _partition_marks(db_session, workspace.id, "customers") == ["all"]
