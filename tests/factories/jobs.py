"""Factories for jobs in any state (queued, running with a lease, done, dead)."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from touchpoints.db.base import utcnow
from touchpoints.jobs.models import Job, JobStatus

_sequence = itertools.count(1)


def make_job(
    db_session: Session,
    *,
    kind: str | None = None,
    status: JobStatus = JobStatus.QUEUED,
    workspace_id: str | None = None,
    payload: dict[str, Any] | None = None,
    run_at: datetime | None = None,
    attempts: int = 0,
    max_attempts: int = 5,
    locked_by: str | None = None,
    locked_at: datetime | None = None,
    finished_at: datetime | None = None,
    last_error: str | None = None,
    dedupe_key: str | None = None,
    priority: int = 0,
) -> Job:
    """Insert a job directly in the given state (the service only ever creates queued ones)."""
    job = Job(
        kind=kind or f"test.kind-{next(_sequence)}",
        status=status.value,
        workspace_id=workspace_id,
        payload=payload or {},
        run_at=run_at or utcnow(),
        attempts=attempts,
        max_attempts=max_attempts,
        locked_by=locked_by,
        locked_at=locked_at,
        finished_at=finished_at,
        last_error=last_error,
        dedupe_key=dedupe_key,
        priority=priority,
    )
    db_session.add(job)
    db_session.flush()
    return job
