"""The worker side of the analytics store: the `analytics.export` job and what enqueues it.

Every worker loop (about once a second when idle) asks one cheap question: did writes leave
change marks that wait for an export? If so, and no export job is queued or running, it
enqueues one, a couple of seconds ahead so a burst of writes becomes one export. There is
never more than one pending export job, and none at all while nothing changes, so the outbox
is not flooded; on the embedded default a new response reaches the Parquet files within a
few seconds.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection, Engine, delete, select
from sqlalchemy.orm import Session, sessionmaker

from touchpoints.analytics.changes import AnalyticsChange, AnalyticsRowChange
from touchpoints.analytics.export import AnalyticsExporter
from touchpoints.config import Settings, get_settings
from touchpoints.db.base import utcnow
from touchpoints.db.engine import unit_of_work
from touchpoints.jobs.models import Job, JobStatus
from touchpoints.jobs.registry import JobContext, JobRegistry, PermanentJobError
from touchpoints.jobs.service import enqueue, pending_job_with_key

EXPORT = "analytics.export"
EXPORT_KEY = "analytics.export"
# Writes wait this long for company before an export starts (one export per burst).
EXPORT_DELAY_SECONDS = 2.0
# Finished export jobs are kept this long; frequent exports would otherwise fill the outbox.
KEEP_DONE_EXPORTS = timedelta(hours=1)

logger = logging.getLogger(__name__)


def enqueue_export_when_changed(
    session: Session, *, settings: Settings, now: datetime | None = None
) -> Job | None:
    """Enqueue one analytics export if writes left marks to export and none is pending."""
    # Row marks have no claim: one may belong to an export under way, which at worst queues
    # one more export that finds nothing to do.
    marks = [
        select(AnalyticsChange.id).where(AnalyticsChange.claimed.is_(False)).limit(1),
        select(AnalyticsRowChange.id).limit(1),
    ]
    if all(session.scalar(changed) is None for changed in marks):
        return None
    if pending_job_with_key(db_session=session, dedupe_key=EXPORT_KEY) is not None:
        return None
    now = now or utcnow()
    return enqueue(
        db_session=session,
        kind=EXPORT,
        # The worker that saw the change says where its analytics store is.
        payload={"root": str(settings.analytics_root)},
        dedupe_key=EXPORT_KEY,
        run_at=now + timedelta(seconds=EXPORT_DELAY_SECONDS),
        max_attempts=3,
    )


def engine_of(factory: sessionmaker[Session]) -> Engine:
    """Return the engine a session factory is bound to."""
    bind = factory.kw.get("bind")
    if isinstance(bind, Engine):
        return bind
    if isinstance(bind, Connection):
        return bind.engine
    raise PermanentJobError("the worker's session factory is not bound to a database engine")


class AnalyticsExport:
    """Run an incremental export (the `analytics.export` job)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._pruned_at: float | None = None

    def __call__(self, context: JobContext) -> None:
        """Export the changed partitions; skip quietly when another export is running."""
        root = context.payload.get("root") or self.settings.analytics_root
        exporter = AnalyticsExporter(engine_of(context.session_factory), Path(root))
        summary = exporter.export(wait=False)
        if summary.skipped:
            logger.info("analytics export skipped: another export holds the lock")
        else:
            logger.info(
                "analytics %s export: %d rows in %d partitions, %.2fs",
                summary.mode,
                summary.rows,
                sum(dataset.partitions_written for dataset in summary.datasets),
                summary.seconds,
            )
        now = time.monotonic()
        if self._pruned_at is None or now - self._pruned_at > KEEP_DONE_EXPORTS.total_seconds():
            prune_done_exports(context.session_factory)
            self._pruned_at = now


def prune_done_exports(factory: sessionmaker[Session]) -> None:
    """Delete finished export jobs older than an hour (failed ones stay visible)."""
    cutoff = utcnow() - KEEP_DONE_EXPORTS
    statement = delete(Job).where(
        Job.kind == EXPORT, Job.status == JobStatus.DONE.value, Job.finished_at < cutoff
    )
    with unit_of_work(factory) as session:
        session.execute(statement)


def register_handlers(registry: JobRegistry, *, settings: Settings | None = None) -> None:
    """Register the analytics jobs; settings default to the environment's."""
    registry.add(EXPORT, AnalyticsExport(settings or get_settings()))
