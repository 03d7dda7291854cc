"""The worker loop: claim due jobs, run their handlers, record each outcome."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from touchpoints.config import Settings
from touchpoints.db.base import utcnow
from touchpoints.db.engine import engine_from_settings, make_session_factory, unit_of_work
from touchpoints.jobs.models import Job, JobStatus
from touchpoints.jobs.registry import JobContext, JobRegistry, PermanentJobError, default_registry
from touchpoints.jobs.schedule import enqueue_due_maintenance, enqueue_follow_ups
from touchpoints.jobs.service import claim, complete, fail, recover_stale

SCHEDULE_EVERY_SECONDS = 60.0
DEFAULT_BATCH_SIZE = 10

logger = logging.getLogger(__name__)


def default_worker_id() -> str:
    """Return a worker name unique across hosts and processes: host:pid:random."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Worker:
    """Run due jobs from the outbox table; each job's outcome commits in its own transaction."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        settings: Settings,
        registry: JobRegistry | None = None,
        worker_id: str | None = None,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        maintenance: bool = True,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.session_factory = session_factory
        self.settings = settings
        self.registry = registry if registry is not None else default_registry()
        self.worker_id = worker_id or default_worker_id()
        self.batch_size = batch_size
        self.maintenance = maintenance
        self.clock = clock
        self.processed = 0
        self._last_schedule: float | None = None

    def run_once(self) -> int:
        """Recover stale jobs, claim a batch, run it; return how many jobs were run."""
        self._schedule_maintenance()
        enqueue_follow_ups(self.session_factory, self.settings, self.registry.kinds(), self.clock())
        with unit_of_work(self.session_factory) as session:
            recovered = recover_stale(session, self.settings.worker_lease_seconds, now=self.clock())
        if recovered:
            logger.warning("recovered %d jobs whose worker's lease had expired", recovered)
        with unit_of_work(self.session_factory) as session:
            jobs = claim(session, self.worker_id, self.batch_size, now=self.clock())
            contexts = [self._context(job) for job in jobs]
        for context in contexts:
            try:
                self._run(context)
            except Exception:
                # The store failed while recording the outcome; the lease brings the job back.
                logger.exception("could not record the outcome of job %s", context.job_id)
        self.processed += len(contexts)
        return len(contexts)

    def run_forever(self, stop_event: threading.Event) -> int:
        """Run jobs until `stop_event` is set, polling when idle; return how many ran."""
        logger.info("worker %s started (kinds: %s)", self.worker_id, self.registry.kinds())
        while not stop_event.is_set():
            try:
                ran = self.run_once()
            except Exception:
                logger.exception("worker %s: a loop iteration failed; retrying", self.worker_id)
                ran = 0
            if ran == 0:
                stop_event.wait(self.settings.worker_poll_seconds)
        logger.info("worker %s stopped after %d jobs", self.worker_id, self.processed)
        return self.processed

    def _context(self, job: Job) -> JobContext:
        return JobContext(
            job_id=job.id,
            kind=job.kind,
            workspace_id=job.workspace_id,
            payload=dict(job.payload),
            attempt=job.attempts + 1,
            max_attempts=job.max_attempts,
            session_factory=self.session_factory,
        )

    def _run(self, context: JobContext) -> None:
        handler = self.registry.get(context.kind)
        if handler is None:
            known = ", ".join(self.registry.kinds()) or "none"
            error = (
                f"no handler is registered for job kind {context.kind!r} (known kinds: {known}); "
                "register one, then retry the job"
            )
            self._record_failure(context, error, dead=True)
            return
        started = time.monotonic()
        try:
            handler(context)
        except PermanentJobError:
            self._record_failure(context, traceback.format_exc(), dead=True)
        except Exception:
            self._record_failure(context, traceback.format_exc(), dead=False)
        else:
            self._record_success(context, time.monotonic() - started)

    def _record_success(self, context: JobContext, seconds: float) -> None:
        with unit_of_work(self.session_factory) as session:
            held = complete(session, self.worker_id, context.job_id, now=self.clock())
        if held:
            logger.info("job %s (%s) done in %.3fs", context.job_id, context.kind, seconds)
        else:
            logger.warning("job %s finished after its lease was lost", context.job_id)

    def _record_failure(self, context: JobContext, error: str, *, dead: bool) -> None:
        with unit_of_work(self.session_factory) as session:
            job = fail(session, self.worker_id, context.job_id, error, now=self.clock(), dead=dead)
            outcome = None if job is None else (job.status, job.attempts, job.run_at)
        if outcome is None:
            logger.warning("job %s failed after its lease was lost:\n%s", context.job_id, error)
            return
        status, attempts, run_at = outcome
        if status == JobStatus.DEAD.value:
            logger.error(
                "job %s (%s) is dead after %d attempts:\n%s",
                context.job_id,
                context.kind,
                attempts,
                error,
            )
        else:
            logger.warning(
                "job %s (%s) failed (attempt %d), retrying at %s:\n%s",
                context.job_id,
                context.kind,
                attempts,
                run_at.isoformat(),
                error,
            )

    def _schedule_maintenance(self) -> None:
        if not self.maintenance:
            return
        now = time.monotonic()
        if self._last_schedule is not None and now - self._last_schedule < SCHEDULE_EVERY_SECONDS:
            return
        self._last_schedule = now
        try:
            with unit_of_work(self.session_factory) as session:
                added = enqueue_due_maintenance(
                    session, now=self.clock(), kinds=self.registry.kinds()
                )
        except Exception:
            logger.exception("could not enqueue the maintenance jobs; will try next minute")
            return
        if added:
            logger.info("enqueued maintenance: %s", ", ".join(job.kind for job in added))


class BackgroundWorker:
    """Run one Worker in a daemon thread (the embedded worker of `touchpoints serve`)."""

    def __init__(
        self,
        *,
        session_factory: sessionmaker[Session],
        settings: Settings,
        registry: JobRegistry | None = None,
    ) -> None:
        self.worker = Worker(session_factory, settings, registry)
        self._stop_event = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """Tell whether the worker thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the worker thread; starting a running worker does nothing."""
        if self.running:
            return
        self._stop_event.clear()
        self._thread = threading.Thread(
            target=self.worker.run_forever,
            args=(self._stop_event,),
            name=f"touchpoints-worker-{self.worker.worker_id}",
            daemon=True,
        )
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the worker to stop after its current job and wait up to `timeout` seconds."""
        self._stop_event.set()
        if self._thread is None:
            return
        self._thread.join(timeout)
        if self._thread.is_alive():
            logger.warning(
                "worker %s still busy after %.0fs; leaving it to finish",
                self.worker.worker_id,
                timeout,
            )
            return
        self._thread = None


def run_worker(
    settings: Settings, *, once: bool = False, stop_event: threading.Event | None = None
) -> int:
    """Run a worker against the configured store: one batch, or until `stop_event` is set."""
    engine = engine_from_settings(settings)
    try:
        worker = Worker(make_session_factory(engine), settings)
        if once:
            return worker.run_once()
        return worker.run_forever(stop_event or threading.Event())
    finally:
        engine.dispose()
