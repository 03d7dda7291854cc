"""Recurring maintenance: each job is enqueued at most once per hour, by any worker."""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from touchpoints.config import Settings
from touchpoints.db.base import utcnow
from touchpoints.db.engine import unit_of_work
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

logger = logging.getLogger(__name__)


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


def enqueue_follow_ups(
    factory: sessionmaker[Session], settings: Settings, kinds: Collection[str], now: datetime
) -> None:
    """Enqueue the jobs that follow data changes; the worker calls this on every loop.

    Each check costs one small query when nothing changed and keeps at most one job pending.
    """
    from touchpoints.analytics.flows import EXPORT, enqueue_export_when_changed

    if EXPORT not in kinds:
        return
    try:
        with unit_of_work(factory) as session:
            enqueue_export_when_changed(session, settings=settings, now=now)
    except Exception:
        logger.exception("could not check for analytics changes; will try on the next loop")
