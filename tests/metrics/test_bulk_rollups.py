"""Rollups stay equal to a GROUP BY over feedback_items when whole chunks are added at once."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories.orgs import make_org_unit, make_workspace
from touchpoints.auth.permissions import Principal, Role
from touchpoints.feedback.bulk import feedback_row, insert_feedback
from touchpoints.feedback.schemas import FeedbackItemCreate
from touchpoints.feedback.service import create_feedback, delete_feedback
from touchpoints.metrics.models import COUNT_COLUMNS, FeedbackMonthRollup, FeedbackRollup
from touchpoints.metrics.rollups import rebuild_rollups

CHANNELS = ("web", "email", "app")


def _snapshot(db_session: Session, workspace_id: str) -> dict[str, set[tuple[Any, ...]]]:
    """Return every rollup row of the workspace as comparable tuples."""
    db_session.expire_all()
    days = db_session.scalars(
        select(FeedbackRollup).where(FeedbackRollup.workspace_id == workspace_id)
    )
    months = db_session.scalars(
        select(FeedbackMonthRollup).where(FeedbackMonthRollup.workspace_id == workspace_id)
    )
    return {
        "days": {(r.day, r.org_unit_id, r.touchpoint_id, r.channel, *_counts(r)) for r in days},
        "months": {(r.month, r.org_unit_id, r.touchpoint_id, *_counts(r)) for r in months},
    }


def _counts(row: FeedbackRollup | FeedbackMonthRollup) -> tuple[Any, ...]:
    return tuple(getattr(row, name) for name in COUNT_COLUMNS)


def _values(rng: random.Random, n: int, org_unit_id: str | None) -> dict[str, Any]:
    # Offsets around midnight and month ends: the UTC day decides the cell.
    zone = timezone(timedelta(hours=rng.choice((-8, 0, 2, 14))))
    moment = datetime(2025, 1, 31, 23, 30, tzinfo=UTC) + timedelta(hours=rng.randrange(0, 800))
    rating = rng.choice((None, 2.5, 4.0, 5.0))
    return {
        "solicited": bool(n % 2),
        "source": "bulk-test",
        "source_ref": f"ref-{n}",
        "channel": rng.choice(CHANNELS),
        "touchpoint_id": None,
        "customer_id": None,
        "org_unit_id": org_unit_id,
        "occurred_at": moment.astimezone(zone),
        "title": None,
        "text": f"said {n}",
        "language": "en",
        "nps": rng.choice((None, 0, 6, 7, 8, 9, 10)),
        "csat": rng.choice((None, 1, 3, 4, 5)),
        "ces": rng.choice((None, 1, 4, 7)),
        "rating": rating,
        "rating_scale": 5 if rating is not None else None,
        "metadata": {"n": n},
    }


def test_bulk_added_chunks_equal_a_group_by(db_session: Session) -> None:
    workspace_id = make_workspace(db_session).id
    unit = make_org_unit(db_session, workspace_id=workspace_id).id
    actor = Principal(workspace_id=workspace_id, user_id="tester", role=Role.ADMIN)
    rng = random.Random(11)
    for chunk in range(3):
        rows = [
            feedback_row(workspace_id, _values(rng, chunk * 400 + n, rng.choice((None, unit))))
            for n in range(400)
        ]
        insert_feedback(db_session, rows)
    # Single writes on top of the bulk ones keep the same rows exact.
    single = create_feedback(
        db_session=db_session,
        actor=actor,
        feedback_in=FeedbackItemCreate.model_validate(
            {"occurred_at": "2025-02-03T10:00:00Z", "text": "one more", "scores": {"nps": 9}}
        ),
    )
    delete_feedback(db_session=db_session, actor=actor, feedback_id=single.id)
    db_session.flush()
    added = _snapshot(db_session, workspace_id)
    assert sum(row[4] for row in added["days"]) == 1200
    rebuild_rollups(db_session, workspace_id=workspace_id)
    assert _snapshot(db_session, workspace_id) == added


def test_a_chunk_adds_to_rows_that_already_hold_counts(db_session: Session) -> None:
    workspace_id = make_workspace(db_session).id
    rng = random.Random(5)
    first = [feedback_row(workspace_id, _values(rng, n, None)) for n in range(50)]
    insert_feedback(db_session, first)
    # The same days and cells again: every upsert lands on an existing row.
    again = [
        feedback_row(workspace_id, {**row, "source_ref": f"again-{n}"})
        for n, row in enumerate(first)
    ]
    insert_feedback(db_session, again)
    added = _snapshot(db_session, workspace_id)
    assert sum(row[4] for row in added["days"]) == 100
    rebuild_rollups(db_session, workspace_id=workspace_id)
    assert _snapshot(db_session, workspace_id) == added
