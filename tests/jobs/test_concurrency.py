"""Workers in threads: no job runs twice, and the embedded worker starts and stops."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import Store
from tests.jobs.conftest import MakeWorker
from touchpoints.config import Settings
from touchpoints.db.engine import unit_of_work
from touchpoints.jobs import service
from touchpoints.jobs.models import Job, JobStatus
from touchpoints.jobs.registry import JobContext, JobRegistry
from touchpoints.jobs.worker import BackgroundWorker, Worker


def _wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def _statuses(factory: sessionmaker[Session]) -> list[str]:
    with factory() as session:
        return list(session.scalars(select(Job.status)))


@pytest.mark.postgres
def test_two_workers_run_every_job_exactly_once(
    store: Store,
    committed_factory: sessionmaker[Session],
    registry: JobRegistry,
    make_worker: MakeWorker,
) -> None:
    assert store.kind == "postgres"
    lock = threading.Lock()
    runs: list[tuple[str, str]] = []

    @registry.register("test.slow")
    def slow(context: JobContext) -> None:
        time.sleep(0.01)
        with lock:
            runs.append((context.job_id, threading.current_thread().name))

    with unit_of_work(committed_factory) as session:
        ids = {
            service.enqueue(db_session=session, kind="test.slow", payload={}).id for _ in range(50)
        }
    workers = [make_worker(f"worker-{n}", batch_size=3) for n in (1, 2)]
    start = threading.Barrier(len(workers))
    errors: list[BaseException] = []

    def drain(worker: Worker) -> None:
        try:
            start.wait()
            while worker.run_once():
                pass
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=drain, args=(w,), name=w.worker_id) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    ran = [job_id for job_id, _ in runs]
    assert len(ran) == len(set(ran)) == 50, "no job ran twice"
    assert set(ran) == ids
    assert _statuses(committed_factory) == ["done"] * 50
    assert {name for _, name in runs} == {"worker-1", "worker-2"}, "both workers took a share"


def test_the_background_worker_runs_jobs_until_stopped(
    committed_factory: sessionmaker[Session], settings: Settings, registry: JobRegistry
) -> None:
    ran: list[str] = []
    registry.add("test.record", lambda context: ran.append(context.job_id))

    @registry.register("test.explode")
    def explode(context: JobContext) -> None:
        raise RuntimeError("handler bug")

    fast = settings.model_copy(update={"worker_poll_seconds": 0.05})
    background = BackgroundWorker(
        session_factory=committed_factory, settings=fast, registry=registry
    )
    background.start()
    try:
        with unit_of_work(committed_factory) as session:
            service.enqueue(db_session=session, kind="test.explode", payload={}, priority=1)
            first = service.enqueue(db_session=session, kind="test.record", payload={})
        assert _wait_until(lambda: ran == [first.id]), "the worker picked the job up"
        with unit_of_work(committed_factory) as session:
            second = service.enqueue(db_session=session, kind="test.record", payload={})
        assert _wait_until(lambda: ran == [first.id, second.id]), "a failing job left it alive"
        assert background.running
    finally:
        background.stop()
    assert not background.running
    with committed_factory() as session:
        exploded = session.scalars(select(Job).where(Job.kind == "test.explode")).one()
    assert exploded.status == JobStatus.QUEUED and exploded.attempts == 1
    assert "RuntimeError: handler bug" in (exploded.last_error or "")
