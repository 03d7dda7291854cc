"""Enqueue, claim, fail, recover: the outbox rules, on both stores."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories.jobs import make_job
from touchpoints.db.base import utcnow
from touchpoints.errors import Conflict, InvalidInput
from touchpoints.jobs import service
from touchpoints.jobs.models import Job, JobStatus


def test_enqueue_adds_a_queued_job_due_now(db_session: Session) -> None:
    before = utcnow()
    job = service.enqueue(db_session=db_session, kind="feedback.enrich", payload={"id": "f1"})
    stored = db_session.scalars(select(Job)).one()
    assert stored.id == job.id
    assert stored.status == JobStatus.QUEUED
    assert stored.payload == {"id": "f1"}
    assert stored.attempts == 0
    assert before <= stored.run_at <= utcnow()


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"kind": ""}, "kind"),
        ({"kind": "x" * 81}, "kind"),
        ({"max_attempts": 0}, "max_attempts"),
        ({"dedupe_key": "a#b"}, "dedupe_key"),
        ({"dedupe_key": "k" * 161}, "dedupe_key"),
        ({"run_at": utcnow().replace(tzinfo=None)}, "run_at"),
    ],
)
def test_enqueue_names_the_wrong_field(
    db_session: Session, options: dict[str, object], field: str
) -> None:
    arguments: dict[str, object] = {"kind": "feedback.enrich", "payload": {}} | options
    with pytest.raises(InvalidInput) as raised:
        service.enqueue(db_session=db_session, **arguments)  # type: ignore[arg-type]
    assert raised.value.field == field


def test_dedupe_key_enqueues_once_while_pending(db_session: Session) -> None:
    first = service.enqueue(db_session=db_session, kind="k", payload={}, dedupe_key="ws1:f1")
    second = service.enqueue(db_session=db_session, kind="k", payload={}, dedupe_key="ws1:f1")
    assert second.id == first.id
    assert db_session.scalars(select(Job)).all() == [first]

    [claimed] = service.claim(db_session, "w", 10)
    assert service.enqueue(db_session=db_session, kind="k", payload={}, dedupe_key="ws1:f1") is (
        claimed
    )

    assert service.complete(db_session, "w", first.id)
    db_session.expire_all()
    third = service.enqueue(db_session=db_session, kind="k", payload={}, dedupe_key="ws1:f1")
    assert third.id != first.id
    assert db_session.get(Job, first.id).dedupe_key == f"ws1:f1#{first.id}"  # type: ignore[union-attr]
    assert service.key_was_used(db_session=db_session, dedupe_key="ws1:f1")
    assert not service.key_was_used(db_session=db_session, dedupe_key="ws1:f")


def test_claim_takes_due_jobs_by_priority_then_age(db_session: Session) -> None:
    now = utcnow()
    old = make_job(db_session, run_at=now - timedelta(minutes=5))
    older = make_job(db_session, run_at=now - timedelta(minutes=9))
    urgent = make_job(db_session, run_at=now - timedelta(minutes=1), priority=5)
    make_job(db_session, run_at=now + timedelta(minutes=1))
    make_job(db_session, status=JobStatus.DEAD, run_at=now - timedelta(hours=1))

    claimed = service.claim(db_session, "worker-a", 10, now=now)

    assert [job.id for job in claimed] == [urgent.id, older.id, old.id]
    assert all(job.status == JobStatus.RUNNING for job in claimed)
    assert {(job.locked_by, job.locked_at) for job in claimed} == {("worker-a", now)}
    assert service.claim(db_session, "worker-b", 10, now=now) == []


def test_claim_respects_the_limit(db_session: Session) -> None:
    for _ in range(5):
        make_job(db_session)
    assert len(service.claim(db_session, "w", 2)) == 2
    assert len(service.claim(db_session, "w", 10)) == 3


def test_failures_back_off_longer_each_time_then_the_job_dies(db_session: Session) -> None:
    job = service.enqueue(
        db_session=db_session, kind="k", payload={}, max_attempts=4, dedupe_key="once"
    )
    now = utcnow()
    delays = []
    for attempt in range(1, 5):
        [claimed] = service.claim(db_session, "w", 1, now=now)
        failed = service.fail(db_session, "w", claimed.id, f"boom {attempt}", now=now)
        assert failed is not None and failed.attempts == attempt
        if attempt < 4:
            assert failed.status == JobStatus.QUEUED
            delays.append((failed.run_at - now).total_seconds())
            now = failed.run_at
    assert delays == sorted(delays)
    for attempt, delay in enumerate(delays, start=1):
        assert 2 ** (attempt - 1) <= delay <= 2**attempt
    assert job.status == JobStatus.DEAD
    assert job.last_error == "boom 4"
    assert job.finished_at == now
    assert job.locked_by is None
    assert job.dedupe_key == f"once#{job.id}"


def test_fail_can_bury_at_once(db_session: Session) -> None:
    make_job(db_session, max_attempts=5)
    [job] = service.claim(db_session, "w", 1)
    service.fail(db_session, "w", job.id, "cannot work", dead=True)
    assert (job.status, job.attempts) == (JobStatus.DEAD, 1)


def test_backoff_doubles_from_two_seconds_up_to_an_hour() -> None:
    rng = random.Random(7)
    for attempts, ceiling in [(1, 2), (2, 4), (3, 8), (10, 1024), (12, 3600), (500, 3600)]:
        samples = [service.backoff_seconds(attempts, rng) for _ in range(50)]
        assert all(ceiling / 2 <= s <= ceiling for s in samples)
        assert len(set(samples)) > 1, "jitter spreads retries"


def test_long_errors_keep_their_end() -> None:
    error = "Traceback\n" + "frame\n" * 2000 + "ValueError: the reason"
    kept = service.truncate_error(error)
    assert len(kept) == service.MAX_ERROR_LENGTH
    assert kept.startswith("... (truncated)")
    assert kept.endswith("ValueError: the reason")


def test_a_job_past_its_lease_goes_back_to_the_queue(db_session: Session) -> None:
    now = utcnow()
    stale = make_job(
        db_session,
        status=JobStatus.RUNNING,
        locked_by="crashed",
        locked_at=now - timedelta(seconds=301),
    )
    fresh = make_job(
        db_session, status=JobStatus.RUNNING, locked_by="busy", locked_at=now - timedelta(seconds=5)
    )
    last_try = make_job(
        db_session,
        status=JobStatus.RUNNING,
        locked_by="crashed",
        locked_at=now - timedelta(hours=1),
        attempts=2,
        max_attempts=3,
    )

    assert service.recover_stale(db_session, 300, now=now) == 2

    assert (stale.status, stale.attempts, stale.run_at, stale.locked_by) == (
        JobStatus.QUEUED,
        1,
        now,
        None,
    )
    assert "crashed" in (stale.last_error or "") and "300s lease" in (stale.last_error or "")
    assert (fresh.status, fresh.locked_by) == (JobStatus.RUNNING, "busy")
    assert last_try.status == JobStatus.DEAD
    assert [job.id for job in service.claim(db_session, "w", 10, now=now)] == [stale.id]


def test_a_worker_that_lost_its_lease_changes_nothing(db_session: Session) -> None:
    make_job(db_session)
    [job] = service.claim(db_session, "slow", 1)
    service.recover_stale(db_session, 10, now=utcnow() + timedelta(seconds=11))
    service.claim(db_session, "other", 1, now=utcnow() + timedelta(seconds=11))

    assert not service.complete(db_session, "slow", job.id)
    assert service.fail(db_session, "slow", job.id, "late") is None
    db_session.refresh(job)
    assert (job.status, job.locked_by) == (JobStatus.RUNNING, "other")


def test_requeue_dead_restores_the_dedupe_key(db_session: Session) -> None:
    job = service.enqueue(db_session=db_session, kind="k", payload={}, dedupe_key="sync:ws1")
    service.claim(db_session, "w", 1)
    service.fail(db_session, "w", job.id, "boom", dead=True)

    service.requeue_dead(db_session=db_session, job=job)

    assert (job.status, job.attempts, job.finished_at, job.dedupe_key) == (
        JobStatus.QUEUED,
        0,
        None,
        "sync:ws1",
    )
    assert job.last_error == "boom", "the reason it died stays readable"
    with pytest.raises(Conflict, match="only dead jobs"):
        service.requeue_dead(db_session=db_session, job=job)


def test_requeue_dead_refuses_when_the_key_is_taken_again(db_session: Session) -> None:
    job = service.enqueue(db_session=db_session, kind="k", payload={}, dedupe_key="sync:ws1")
    service.claim(db_session, "w", 1)
    service.fail(db_session, "w", job.id, "boom", dead=True)
    newer = service.enqueue(db_session=db_session, kind="k", payload={}, dedupe_key="sync:ws1")

    with pytest.raises(Conflict, match=newer.id):
        service.requeue_dead(db_session=db_session, job=job)
