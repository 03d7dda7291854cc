"""Recurring maintenance: each job is enqueued at most once per hour, by any worker."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from touchpoints.db.base import utcnow
from touchpoints.jobs.handlers import DEFAULT_KEEP_DONE_DAYS, PRUNE_IDEMPOTENCY, PRUNE_JOBS
from touchpoints.jobs.models import Job
from touchpoints.jobs.service import enqueue, key_was_used

# (kind, payload) of every hourly maintenance job.
HOURLY_MAINTENANCE: tuple[tuple[str, dict[str, Any]], ...] = (
    (PRUNE_IDEMPOTENCY, {}),
    (PRUNE_JOBS, {"older_than_days": DEFAULT_KEEP_DONE_DAYS}),
    # Survey reminders that fell due (touchpoints.distribution.flows).
    ("distribution.reminders", {}),
)
# Housekeeping yields to the work customers wait for.
MAINTENANCE_PRIORITY = -10


def hourly_key(kind: str, now: datetime) -> str:
    """Return the dedupe key of `kind` for the UTC hour containing `now`."""
    return f"{kind}:{now.astimezone(UTC):%Y-%m-%dT%H}"


def enqueue_due_maintenance(
    session: Session, *, now: datetime | None = None, kinds: Collection[str] | None = None
) -> list[Job]:
    """Enqueue the maintenance jobs not yet enqueued this hour; return the new ones.

    The hour is in the dedupe key, and a finished job keeps its key (suffixed), so a job
    done at 10:05 is not enqueued again before 11:00, whichever worker asks. `kinds` limits
    the schedule to the kinds a worker can run.
    """
    now = now or utcnow()
    added = []
    for kind, payload in HOURLY_MAINTENANCE:
        key = hourly_key(kind, now)
        if kinds is not None and kind not in kinds:
            continue
        if key_was_used(db_session=session, dedupe_key=key):
            continue
        added.append(
            enqueue(
                db_session=session,
                kind=kind,
                payload=dict(payload),
                dedupe_key=key,
                priority=MAINTENANCE_PRIORITY,
                max_attempts=3,
            )
        )
    return added
