"""Built-in maintenance jobs; each is idempotent, so running it twice does no harm."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete

from touchpoints.db.base import utcnow
from touchpoints.db.engine import unit_of_work
from touchpoints.idempotency.service import prune_expired
from touchpoints.jobs.models import Job, JobStatus
from touchpoints.jobs.registry import JobContext, JobRegistry, PermanentJobError

PRUNE_IDEMPOTENCY = "maintenance.prune_idempotency"
PRUNE_JOBS = "maintenance.prune_jobs"
DEFAULT_KEEP_DONE_DAYS = 30

logger = logging.getLogger(__name__)


def prune_idempotency(context: JobContext) -> None:
    """Delete stored Idempotency-Key answers whose time to live has passed."""
    with unit_of_work(context.session_factory) as session:
        removed = prune_expired(db_session=session)
    logger.info("pruned %d expired idempotency records", removed)


def prune_jobs(context: JobContext) -> None:
    """Delete done jobs finished more than `older_than_days` days ago (dead ones stay)."""
    days = context.payload.get("older_than_days", DEFAULT_KEEP_DONE_DAYS)
    if not isinstance(days, int) or isinstance(days, bool) or days < 1:
        raise PermanentJobError(
            f"older_than_days must be a whole number of days >= 1, not {days!r}"
        )
    cutoff = utcnow() - timedelta(days=days)
    statement = delete(Job).where(Job.status == JobStatus.DONE.value, Job.finished_at < cutoff)
    with unit_of_work(context.session_factory) as session:
        result = cast(CursorResult[Any], session.execute(statement))
    logger.info("pruned %d jobs done before %s", result.rowcount, cutoff.isoformat())


def register_handlers(registry: JobRegistry) -> None:
    """Register the built-in maintenance handlers."""
    registry.add(PRUNE_IDEMPOTENCY, prune_idempotency)
    registry.add(PRUNE_JOBS, prune_jobs)
