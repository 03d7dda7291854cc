"""Group commit of POST /api/v1/feedback: a batch answers every request as if it came alone."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import Caller
from tests.factories.feedback import make_feedback_item
from tests.factories.orgs import make_member_with_token, make_org_unit, make_workspace
from touchpoints.api.writes import WriteRequest
from touchpoints.auth.permissions import Role
from touchpoints.db.base import utcnow
from touchpoints.db.statistics import TableStatistics
from touchpoints.errors import TouchpointsError
from touchpoints.feedback import intake as intake_module
from touchpoints.feedback.intake import FeedbackIntake, FeedbackSubmission, Outcome
from touchpoints.feedback.models import FeedbackItem
from touchpoints.feedback.schemas import FeedbackItemCreate
from touchpoints.idempotency.models import IdempotencyRecord
from touchpoints.idempotency.service import request_fingerprint


def submission(token: str, ref: str, key: str | None = None, **fields: Any) -> FeedbackSubmission:
    body = {
        "source": "chat",
        "source_ref": ref,
        "occurred_at": "2026-11-01T10:00:00Z",
        "text": "The agent fixed my booking.",
        "scores": {"csat": 5},
    } | fields
    feedback_in = FeedbackItemCreate.model_validate(body)
    fingerprint = request_fingerprint(
        "POST", "/api/v1/feedback", repr(sorted(body.items())).encode()
    )
    write = WriteRequest(key, "POST", "/api/v1/feedback", fingerprint, timedelta(hours=1))
    return FeedbackSubmission(token, feedback_in, write)


def answer(outcome: Outcome) -> dict[str, Any]:
    assert not isinstance(outcome, TouchpointsError)
    body = outcome[1]
    return json.loads(body) if isinstance(body, bytes) else body


def status(outcome: Outcome) -> int:
    return outcome.status_code if isinstance(outcome, TouchpointsError) else outcome[0]


def stored(db_session: Session, workspace_id: str, ref: str | None = None) -> int:
    statement = select(func.count()).where(FeedbackItem.workspace_id == workspace_id)
    if ref is not None:
        statement = statement.where(FeedbackItem.source_ref == ref)
    return int(db_session.scalar(statement) or 0)


def test_a_batch_answers_each_request_as_it_would_alone(
    session_factory: sessionmaker[Session], db_session: Session
) -> None:
    workspace_id = make_workspace(db_session).id
    unit = make_org_unit(db_session, workspace_id=workspace_id)
    _, admin = make_member_with_token(db_session, workspace_id=workspace_id, role=Role.ADMIN)
    _, viewer = make_member_with_token(db_session, workspace_id=workspace_id, role=Role.VIEWER)
    _, scoped = make_member_with_token(
        db_session, workspace_id=workspace_id, role=Role.ANALYST, org_unit_id=unit.id
    )
    earlier = make_feedback_item(db_session, workspace_id=workspace_id, source="chat")
    earlier.source_ref = "old"
    db_session.commit()
    batch = [
        submission(admin, "a"),
        submission(admin, "a"),  # the same source_ref later in the batch
        submission("tp_nonsense", "b"),
        submission(admin, "c", key="k1"),
        submission(admin, "c", key="k1"),  # a retry landing in the same batch
        submission(viewer, "d"),
        submission(admin, "old"),
        submission(admin, "e", touchpoint_id="f" * 32),
        submission(scoped, "f"),  # a scoped member must place the item in their unit
        submission(scoped, "g", org_unit_id=unit.id),
    ]
    outcomes = FeedbackIntake(session_factory).store(batch)

    assert [status(o) for o in outcomes] == [201, 409, 401, 201, 201, 403, 409, 422, 422, 201]
    first = answer(outcomes[0])
    assert first["id"] in str(outcomes[1])
    assert earlier.id in str(outcomes[6])
    assert answer(outcomes[3]) == answer(outcomes[4])
    assert outcomes[4][2] is True  # type: ignore[index]  # replayed, not written again
    assert first["scores"] == {
        "nps": None,
        "csat": 5,
        "ces": None,
        "rating": None,
        "rating_scale": 5,
    }
    db_session.expire_all()
    assert stored(db_session, workspace_id) == 4  # earlier + a, c, g
    assert stored(db_session, workspace_id, "c") == 1


def test_a_batch_that_cannot_commit_is_redone_one_by_one(
    session_factory: sessionmaker[Session], db_session: Session
) -> None:
    workspace_id = make_workspace(db_session).id
    _, admin = make_member_with_token(db_session, workspace_id=workspace_id, role=Role.ADMIN)
    # An expired answer still holds its key: the batch's insert of a new answer clashes.
    db_session.add(
        IdempotencyRecord(
            workspace_id=workspace_id,
            key="stale",
            method="POST",
            path="/api/v1/feedback",
            request_hash="0" * 64,
            status_code=201,
            response_body={},
            expires_at=utcnow() - timedelta(minutes=1),
        )
    )
    db_session.commit()
    batch = [submission(admin, "x"), submission(admin, "y", key="stale"), submission(admin, "x")]

    outcomes = FeedbackIntake(session_factory).store(batch)

    assert [status(o) for o in outcomes] == [201, 201, 409]
    db_session.expire_all()
    assert stored(db_session, workspace_id) == 2


def test_concurrent_posts_are_each_stored_once(committed_admin: Caller) -> None:
    answers: list[int] = []
    lock = threading.Lock()

    def send(worker: int) -> None:
        for n in range(10):
            body = {
                "source": "web",
                "source_ref": f"w{worker}-{n}",
                "occurred_at": "2026-11-01T10:00:00Z",
                "scores": {"nps": n},
            }
            headers = {"Idempotency-Key": f"k{worker}-{n}"}
            first = committed_admin.http.post("/api/v1/feedback", json=body, headers=headers)
            again = committed_admin.http.post("/api/v1/feedback", json=body, headers=headers)
            with lock:
                answers.extend([first.status_code, again.status_code])
                assert again.json()["id"] == first.json()["id"]

    threads = [threading.Thread(target=send, args=(worker,)) for worker in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert answers.count(201) == 160
    listed = committed_admin.http.get("/api/v1/feedback", params={"limit": 1}).json()
    assert listed["total"] == 80


def test_a_batch_reports_its_new_items_to_the_statistics_keeper(
    committed_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    keeper = TableStatistics(("feedback_items",), first_rows=20)
    monkeypatch.setattr(intake_module, "FEEDBACK_STATISTICS", keeper)
    with committed_factory() as db_session:
        workspace = make_workspace(db_session)
        _, token = make_member_with_token(db_session, workspace_id=workspace.id)
        db_session.commit()
    intake = FeedbackIntake(committed_factory)
    for batch in range(3):
        intake.store([submission(token, f"s{batch}-{n}") for n in range(10)])
    postgres = committed_factory.kw["bind"].dialect.name == "postgresql"
    # PostgreSQL: analyzed once 20 items were stored (then not again before 20 more); SQLite
    # plans without statistics.
    assert keeper.analyzed == (1 if postgres else 0)
