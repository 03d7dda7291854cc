"""Built-in maintenance handlers and their hourly schedule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.factories.jobs import make_job
from tests.factories.orgs import make_workspace
from touchpoints.db.base import utcnow
from touchpoints.idempotency.models import IdempotencyRecord
from touchpoints.jobs import service
from touchpoints.jobs.handlers import PRUNE_IDEMPOTENCY, PRUNE_JOBS, prune_idempotency, prune_jobs
from touchpoints.jobs.models import Job, JobStatus
from touchpoints.jobs.registry import JobContext, JobRegistry, PermanentJobError, default_registry
from touchpoints.jobs.schedule import enqueue_due_maintenance


def _context(factory: sessionmaker[Session], kind: str, **payload: object) -> JobContext:
    return JobContext(
        job_id="0" * 32,
        kind=kind,
        workspace_id=None,
        payload=dict(payload),
        attempt=1,
        max_attempts=3,
        session_factory=factory,
    )


def _remaining(db_session: Session, model: type[Job] | type[IdempotencyRecord]) -> set[str]:
    db_session.expire_all()
    return set(db_session.scalars(select(model.id)))


def test_prune_jobs_deletes_only_old_done_jobs(
    db_session: Session, session_factory: sessionmaker[Session]
) -> None:
    now = utcnow()
    old_done = make_job(db_session, status=JobStatus.DONE, finished_at=now - timedelta(days=31))
    recent_done = make_job(db_session, status=JobStatus.DONE, finished_at=now - timedelta(days=29))
    old_dead = make_job(db_session, status=JobStatus.DEAD, finished_at=now - timedelta(days=90))
    old_queued = make_job(db_session, run_at=now - timedelta(days=90))
    db_session.commit()
    kept = {recent_done.id, old_dead.id, old_queued.id}
    assert old_done.id not in kept
    context = _context(session_factory, PRUNE_JOBS, older_than_days=30)

    prune_jobs(context)
    prune_jobs(context)

    assert _remaining(db_session, Job) == kept


def test_prune_jobs_refuses_a_nonsense_age(session_factory: sessionmaker[Session]) -> None:
    for days in (0, "30", True):
        with pytest.raises(PermanentJobError, match="older_than_days"):
            prune_jobs(_context(session_factory, PRUNE_JOBS, older_than_days=days))


def test_prune_idempotency_deletes_only_expired_answers(
    db_session: Session, session_factory: sessionmaker[Session]
) -> None:
    workspace = make_workspace(db_session)
    records = {
        name: IdempotencyRecord(
            workspace_id=workspace.id,
            key=name,
            method="POST",
            path="/api/v1/feedback",
            request_hash="0" * 64,
            status_code=201,
            response_body={},
            expires_at=utcnow() + timedelta(hours=hours),
        )
        for name, hours in (("expired", -1), ("live", 1))
    }
    db_session.add_all(records.values())
    db_session.commit()

    prune_idempotency(_context(session_factory, PRUNE_IDEMPOTENCY))
    prune_idempotency(_context(session_factory, PRUNE_IDEMPOTENCY))

    assert _remaining(db_session, IdempotencyRecord) == {records["live"].id}


def test_the_default_registry_knows_the_maintenance_jobs() -> None:
    registry = default_registry()
    assert {PRUNE_IDEMPOTENCY, PRUNE_JOBS} <= set(registry.kinds())
    assert registry is default_registry()


def test_a_kind_has_one_handler() -> None:
    registry = JobRegistry()
    registry.add("feedback.enrich", lambda context: None)
    with pytest.raises(ValueError, match="already registered"):
        registry.add("feedback.enrich", lambda context: None)
    assert "feedback.enrich" in registry
    assert registry.get("feedback.missing") is None


REMINDERS = "distribution.reminders"


def test_maintenance_is_enqueued_at_most_once_an_hour(db_session: Session) -> None:
    ten = datetime(2026, 11, 22, 10, 5, tzinfo=UTC)

    first = enqueue_due_maintenance(db_session, now=ten)
    assert {job.kind for job in first} == {PRUNE_IDEMPOTENCY, PRUNE_JOBS, REMINDERS}
    assert {job.dedupe_key for job in first} == {
        "maintenance.prune_idempotency:2026-11-22T10",
        "maintenance.prune_jobs:2026-11-22T10",
        "distribution.reminders:2026-11-22T10",
    }
    assert enqueue_due_maintenance(db_session, now=ten + timedelta(minutes=1)) == []

    for job in service.claim(db_session, "w", 10):
        service.complete(db_session, "w", job.id)
    assert enqueue_due_maintenance(db_session, now=ten + timedelta(minutes=50)) == [], (
        "done this hour: not again before the next"
    )

    eleven = enqueue_due_maintenance(db_session, now=ten + timedelta(hours=1))
    assert len(eleven) == len(first)
    assert {job.status for job in eleven} == {JobStatus.QUEUED}


def test_only_maintenance_a_worker_can_run_is_enqueued(db_session: Session) -> None:
    added = enqueue_due_maintenance(db_session, kinds=[PRUNE_JOBS])
    assert [job.kind for job in added] == [PRUNE_JOBS]
