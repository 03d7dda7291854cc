"""Enqueue, claim, finish and inspect durable jobs (the outbox).

Dedupe keys: a queued or running job holds its key as given. When the job ends (done or
dead) the key is suffixed with `#<job id>`, which frees it for a new job while keeping it
searchable: the maintenance scheduler uses that to run each hourly job at most once per hour.
Reviving a dead job restores its key. Keys are global, so callers put the workspace id in them.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, Select, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from touchpoints.api.listing import ListParams, paginate
from touchpoints.auth.permissions import Permission, Principal, require
from touchpoints.db.base import utcnow
from touchpoints.errors import Conflict, InvalidInput, NotFound
from touchpoints.jobs.models import Job, JobStatus

MAX_KIND_LENGTH = 80
# The column holds 200 characters; the `#<32-hex id>` suffix added when a job ends needs 33.
MAX_DEDUPE_KEY_LENGTH = 160
MAX_ERROR_LENGTH = 4000
BACKOFF_BASE_SECONDS = 2.0
BACKOFF_CAP_SECONDS = 3600.0
PENDING = (JobStatus.QUEUED.value, JobStatus.RUNNING.value)


def enqueue(
    *,
    db_session: Session,
    kind: str,
    payload: dict[str, Any],
    workspace_id: str | None = None,
    run_at: datetime | None = None,
    max_attempts: int = 5,
    dedupe_key: str | None = None,
    priority: int = 0,
) -> Job:
    """Add a job to the caller's transaction; it runs only if that transaction commits.

    With a `dedupe_key`, a queued or running job holding the same key is returned instead
    of adding a second one.
    """
    _check_enqueue(kind, max_attempts, dedupe_key, run_at)
    job = Job(
        kind=kind,
        payload=payload,
        workspace_id=workspace_id,
        run_at=run_at or utcnow(),
        max_attempts=max_attempts,
        dedupe_key=dedupe_key,
        priority=priority,
    )
    if dedupe_key is None:
        db_session.add(job)
        db_session.flush()
        return job
    existing = pending_job_with_key(db_session=db_session, dedupe_key=dedupe_key)
    if existing is not None:
        return existing
    try:
        with db_session.begin_nested():
            db_session.add(job)
    except IntegrityError:
        # Another transaction committed the same key in between: that job is the one.
        existing = pending_job_with_key(db_session=db_session, dedupe_key=dedupe_key)
        if existing is None:
            raise
        return existing
    return job


def _check_enqueue(
    kind: str, max_attempts: int, dedupe_key: str | None, run_at: datetime | None
) -> None:
    if not kind or len(kind) > MAX_KIND_LENGTH:
        raise InvalidInput("kind", f"must be 1 to {MAX_KIND_LENGTH} characters")
    if max_attempts < 1:
        raise InvalidInput("max_attempts", "must be at least 1")
    if dedupe_key is not None and not 1 <= len(dedupe_key) <= MAX_DEDUPE_KEY_LENGTH:
        raise InvalidInput("dedupe_key", f"must be 1 to {MAX_DEDUPE_KEY_LENGTH} characters")
    if dedupe_key is not None and "#" in dedupe_key:
        raise InvalidInput("dedupe_key", "must not contain '#' (it marks finished jobs' keys)")
    if run_at is not None and run_at.tzinfo is None:
        raise InvalidInput("run_at", "needs a timezone (use UTC)")


def pending_job_with_key(*, db_session: Session, dedupe_key: str) -> Job | None:
    """Return the queued or running job holding this dedupe key, if any."""
    # Only pending jobs keep the bare key (finished ones carry a suffix), so the key decides.
    return db_session.scalar(select(Job).where(Job.dedupe_key == dedupe_key))


def key_was_used(*, db_session: Session, dedupe_key: str) -> bool:
    """Tell whether any job, pending or finished, was enqueued with this dedupe key."""
    statement = select(Job.id).where(
        or_(
            Job.dedupe_key == dedupe_key,
            Job.dedupe_key.startswith(f"{dedupe_key}#", autoescape=True),
        )
    )
    return db_session.scalar(statement.limit(1)) is not None


def _release_key(job: Job) -> None:
    if job.dedupe_key is not None and not job.dedupe_key.endswith(f"#{job.id}"):
        job.dedupe_key = f"{job.dedupe_key}#{job.id}"


# --- reading and reviving, for the API -------------------------------------------------------


def job_fields() -> dict[str, Any]:
    """Return the filterable and sortable job columns."""
    return {
        "id": Job.id,
        "kind": Job.kind,
        "status": Job.status,
        "priority": Job.priority,
        "attempts": Job.attempts,
        "run_at": Job.run_at,
        "finished_at": Job.finished_at,
        "created_at": Job.created_at,
        "updated_at": Job.updated_at,
    }


def list_jobs(
    *, db_session: Session, actor: Principal, params: ListParams
) -> tuple[list[Job], int]:
    """List the jobs of the caller's workspace."""
    require(actor, Permission.JOBS_READ)
    statement = select(Job).where(Job.workspace_id == actor.workspace_id)
    return paginate(
        db_session, statement, params=params, fields=job_fields(), default_sort="-created_at"
    )


def get_job(*, db_session: Session, actor: Principal, job_id: str) -> Job:
    """Return one job of the caller's workspace; other workspaces' jobs are not found."""
    require(actor, Permission.JOBS_READ)
    job = db_session.get(Job, job_id)
    if job is None or job.workspace_id != actor.workspace_id:
        raise NotFound(f"job {job_id} not found")
    return job


def retry_dead(*, db_session: Session, actor: Principal, job_id: str) -> Job:
    """Put a dead job of the caller's workspace back in the queue (admins)."""
    require(actor, Permission.JOBS_MANAGE)
    job = get_job(db_session=db_session, actor=actor, job_id=job_id)
    return requeue_dead(db_session=db_session, job=job)


def requeue_dead(*, db_session: Session, job: Job) -> Job:
    """Queue a dead job again with its attempts reset (operator tools call this directly)."""
    if job.status != JobStatus.DEAD.value:
        raise Conflict(f"job {job.id} is {job.status}; only dead jobs can be retried")
    if job.dedupe_key is not None:
        key = job.dedupe_key.removesuffix(f"#{job.id}")
        holder = pending_job_with_key(db_session=db_session, dedupe_key=key)
        if holder is not None:
            raise Conflict(f"job {holder.id} with the same dedupe key is already {holder.status}")
        job.dedupe_key = key
    job.status = JobStatus.QUEUED.value
    job.attempts = 0
    job.run_at = utcnow()
    job.finished_at = None
    job.locked_by = None
    job.locked_at = None
    db_session.flush()
    return job


# --- the worker's side -----------------------------------------------------------------------


def claim(
    session: Session, worker_id: str, limit: int, *, now: datetime | None = None
) -> list[Job]:
    """Take up to `limit` due jobs for this worker, highest priority and oldest first.

    PostgreSQL skips rows another worker holds (FOR UPDATE SKIP LOCKED); SQLite renders no
    locking clause, and needs none: its transactions begin IMMEDIATE, so claims are serial.
    """
    now = now or utcnow()
    statement: Select[Job] = (
        select(Job)
        .where(Job.status == JobStatus.QUEUED.value, Job.run_at <= now)
        .order_by(Job.priority.desc(), Job.run_at, Job.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    jobs = list(session.scalars(statement))
    for job in jobs:
        job.status = JobStatus.RUNNING.value
        job.locked_by = worker_id
        job.locked_at = now
    session.flush()
    return jobs


def _held_by(worker_id: str, job_id: str) -> ColumnElement[bool]:
    return (
        (Job.id == job_id) & (Job.status == JobStatus.RUNNING.value) & (Job.locked_by == worker_id)
    )


def complete(session: Session, worker_id: str, job_id: str, *, now: datetime | None = None) -> bool:
    """Mark a job this worker holds as done; False when its lease was lost meanwhile."""
    statement = (
        update(Job)
        .where(_held_by(worker_id, job_id))
        .values(
            status=JobStatus.DONE.value,
            finished_at=now or utcnow(),
            locked_by=None,
            locked_at=None,
            # NULL stays NULL: concatenating with NULL gives NULL on both stores.
            dedupe_key=Job.dedupe_key.concat("#").concat(Job.id),
        )
        .execution_options(synchronize_session=False)
    )
    result = cast(CursorResult[Any], session.execute(statement))
    return result.rowcount == 1


def fail(
    session: Session,
    worker_id: str,
    job_id: str,
    error: str,
    *,
    now: datetime | None = None,
    dead: bool = False,
) -> Job | None:
    """Record a failed attempt: retry later with backoff, or dead once attempts run out.

    `dead=True` buries the job at once (a failure no retry can fix, like an unknown kind).
    Return None when this worker no longer holds the job.
    """
    job = session.scalar(select(Job).where(_held_by(worker_id, job_id)).with_for_update())
    if job is None:
        return None
    now = now or utcnow()
    job.attempts += 1
    job.last_error = truncate_error(error)
    job.locked_by = None
    job.locked_at = None
    if dead or job.attempts >= job.max_attempts:
        _bury(job, now)
    else:
        job.status = JobStatus.QUEUED.value
        job.run_at = now + timedelta(seconds=backoff_seconds(job.attempts))
    session.flush()
    return job


def _bury(job: Job, now: datetime) -> None:
    job.status = JobStatus.DEAD.value
    job.finished_at = now
    _release_key(job)


def backoff_seconds(attempts: int, rng: random.Random | None = None) -> float:
    """Return the wait before retry number `attempts`: 2s doubling to 1h, less up to half."""
    doublings = min(max(attempts - 1, 0), 30)  # 2s * 2**30 is far past the cap already
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2.0**doublings)
    # Jitter spreads retries of jobs that failed together (an outage) over time.
    fraction: float = (rng or random).random()
    return ceiling * (0.5 + 0.5 * fraction)


def truncate_error(error: str) -> str:
    """Keep the end of a long traceback, where the exception itself is."""
    if len(error) <= MAX_ERROR_LENGTH:
        return error
    marker = "... (truncated)\n"
    return marker + error[-(MAX_ERROR_LENGTH - len(marker)) :]


def recover_stale(session: Session, lease_seconds: float, *, now: datetime | None = None) -> int:
    """Queue again the running jobs whose worker has held them past the lease; return how many.

    A lost lease counts as an attempt, so a job that kills its worker every time ends dead
    (visible, revivable) instead of looping forever.
    """
    now = now or utcnow()
    statement = (
        select(Job)
        .where(
            Job.status == JobStatus.RUNNING.value,
            Job.locked_at < now - timedelta(seconds=lease_seconds),
        )
        .with_for_update(skip_locked=True)
    )
    jobs = list(session.scalars(statement))
    for job in jobs:
        job.attempts += 1
        job.last_error = (
            f"worker {job.locked_by} did not finish within the {lease_seconds:g}s lease "
            "(it stopped or crashed)"
        )
        job.locked_by = None
        job.locked_at = None
        if job.attempts >= job.max_attempts:
            _bury(job, now)
        else:
            job.status = JobStatus.QUEUED.value
            job.run_at = now
    session.flush()
    return len(jobs)
