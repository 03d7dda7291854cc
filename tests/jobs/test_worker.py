"""The worker over really committed data, on both stores."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import Caller
from tests.factories.jobs import make_job
from tests.jobs.conftest import Clock, MakeWorker
from touchpoints.config import Settings
from touchpoints.db.engine import unit_of_work
from touchpoints.jobs import service
from touchpoints.jobs.handlers import PRUNE_JOBS
from touchpoints.jobs.models import Job, JobStatus
from touchpoints.jobs.registry import JobContext, JobRegistry, PermanentJobError
from touchpoints.jobs.worker import run_worker
from touchpoints.orgs.models import Workspace
from touchpoints.orgs.service import create_workspace


def _job(factory: sessionmaker[Session], job_id: str) -> Job:
    with factory() as session:
        job = session.get(Job, job_id)
        assert job is not None
        return job


def _create_workspace_from_payload(context: JobContext) -> None:
    slug = context.payload["slug"]
    with unit_of_work(context.session_factory) as session:
        exists = session.scalar(select(Workspace.id).where(Workspace.slug == slug))
        if exists is None:
            create_workspace(db_session=session, slug=slug, name=slug.title())


def test_a_job_enqueued_in_a_rolled_back_transaction_never_runs(
    committed_factory: sessionmaker[Session], registry: JobRegistry, make_worker: MakeWorker
) -> None:
    ran: list[str] = []
    registry.add("test.record", lambda context: ran.append(context.payload["name"]))
    with committed_factory() as session:
        create_workspace(db_session=session, slug="lost", name="Lost")
        service.enqueue(db_session=session, kind="test.record", payload={"name": "lost"})
        session.rollback()
    with committed_factory() as session:
        create_workspace(db_session=session, slug="kept", name="Kept")
        service.enqueue(db_session=session, kind="test.record", payload={"name": "kept"})
        session.commit()

    assert make_worker().run_once() == 1
    assert ran == ["kept"]
    with committed_factory() as session:
        assert session.scalar(select(func.count()).select_from(Job)) == 1


def test_a_handler_runs_once_and_its_job_is_done(
    committed_factory: sessionmaker[Session], registry: JobRegistry, make_worker: MakeWorker
) -> None:
    seen: list[JobContext] = []

    @registry.register("test.create_workspace")
    def handler(context: JobContext) -> None:
        seen.append(context)
        _create_workspace_from_payload(context)

    with unit_of_work(committed_factory) as session:
        job = service.enqueue(
            db_session=session, kind="test.create_workspace", payload={"slug": "acme"}
        )
    worker = make_worker()

    assert worker.run_once() == 1
    assert worker.run_once() == 0

    [context] = seen
    assert (context.job_id, context.attempt, context.payload) == (job.id, 1, {"slug": "acme"})
    done = _job(committed_factory, job.id)
    assert done.status == JobStatus.DONE
    assert done.finished_at is not None and done.locked_by is None and done.attempts == 0
    with committed_factory() as session:
        assert session.scalar(select(Workspace.name).where(Workspace.slug == "acme")) == "Acme"


def test_a_failing_job_retries_later_and_later_then_dies_and_can_be_revived(
    committed_factory: sessionmaker[Session],
    registry: JobRegistry,
    make_worker: MakeWorker,
    clock: Clock,
    committed_admin: Caller,
) -> None:
    broken = {"now": True}

    @registry.register("test.flaky")
    def flaky(context: JobContext) -> None:
        if broken["now"]:
            raise ConnectionError(f"mail server unreachable (attempt {context.attempt})")

    with unit_of_work(committed_factory) as session:
        job = service.enqueue(
            db_session=session,
            kind="test.flaky",
            payload={},
            workspace_id=committed_admin.workspace_id,
            max_attempts=3,
        )
    worker = make_worker()
    delays = []
    for _ in range(3):
        failed_at = clock()
        assert worker.run_once() == 1
        assert worker.run_once() == 0, "a failed job waits for its retry time"
        retry = _job(committed_factory, job.id)
        delays.append((retry.run_at - failed_at).total_seconds())
        clock.move_to(retry.run_at + timedelta(seconds=1))

    assert delays[0] < delays[1], "the second retry waits longer than the first"
    shown = committed_admin.http.get(f"/api/v1/jobs/{job.id}").json()
    assert (shown["status"], shown["attempts"]) == ("dead", 3)
    assert "ConnectionError: mail server unreachable (attempt 3)" in shown["last_error"]
    assert "Traceback" in shown["last_error"]
    assert worker.run_once() == 0, "dead jobs stay dead"

    broken["now"] = False
    revived = committed_admin.http.post(f"/api/v1/jobs/{job.id}/retry")
    assert revived.status_code == 200, revived.text
    clock.advance(1)
    assert worker.run_once() == 1
    assert committed_admin.http.get(f"/api/v1/jobs/{job.id}").json()["status"] == "done"


def test_an_unknown_kind_goes_dead_at_once_with_a_clear_error(
    committed_factory: sessionmaker[Session], registry: JobRegistry, make_worker: MakeWorker
) -> None:
    registry.add("test.known", lambda context: None)
    with unit_of_work(committed_factory) as session:
        job = service.enqueue(db_session=session, kind="test.renamed", payload={})

    assert make_worker().run_once() == 1

    dead = _job(committed_factory, job.id)
    assert (dead.status, dead.attempts) == (JobStatus.DEAD, 1)
    assert "no handler is registered for job kind 'test.renamed'" in (dead.last_error or "")
    assert "test.known" in (dead.last_error or "")


def test_a_permanent_error_skips_the_retries(
    committed_factory: sessionmaker[Session], registry: JobRegistry, make_worker: MakeWorker
) -> None:
    @registry.register("test.bad_payload")
    def refuse(context: JobContext) -> None:
        raise PermanentJobError("payload names no feedback item")

    with unit_of_work(committed_factory) as session:
        job = service.enqueue(db_session=session, kind="test.bad_payload", payload={})

    make_worker().run_once()

    dead = _job(committed_factory, job.id)
    assert dead.status == JobStatus.DEAD
    assert "payload names no feedback item" in (dead.last_error or "")


def test_one_failing_job_does_not_stop_the_others(
    committed_factory: sessionmaker[Session], registry: JobRegistry, make_worker: MakeWorker
) -> None:
    ran: list[int] = []

    @registry.register("test.number")
    def number(context: JobContext) -> None:
        if context.payload["n"] == 2:
            raise RuntimeError("two is unlucky")
        ran.append(context.payload["n"])

    with unit_of_work(committed_factory) as session:
        for n in range(1, 5):
            service.enqueue(db_session=session, kind="test.number", payload={"n": n})

    assert make_worker().run_once() == 4

    assert sorted(ran) == [1, 3, 4]
    with committed_factory() as session:
        statuses = session.scalars(select(Job.status).order_by(Job.status)).all()
    assert statuses == ["done", "done", "done", "queued"]


def test_a_job_left_running_by_a_crashed_worker_is_run_again(
    committed_factory: sessionmaker[Session],
    registry: JobRegistry,
    make_worker: MakeWorker,
    clock: Clock,
    settings: Settings,
) -> None:
    registry.register("test.create_workspace")(_create_workspace_from_payload)
    with unit_of_work(committed_factory) as session:
        job = make_job(
            session,
            kind="test.create_workspace",
            payload={"slug": "rescued"},
            status=JobStatus.RUNNING,
            locked_by="crashed-worker",
            locked_at=clock() - timedelta(seconds=settings.worker_lease_seconds + 1),
        )

    assert make_worker().run_once() == 1

    done = _job(committed_factory, job.id)
    assert (done.status, done.attempts) == (JobStatus.DONE, 1)
    assert "crashed-worker" in (done.last_error or "")
    with committed_factory() as session:
        assert session.scalar(select(Workspace.id).where(Workspace.slug == "rescued"))


def test_run_worker_runs_one_batch_from_settings(
    committed_factory: sessionmaker[Session], settings: Settings
) -> None:
    with unit_of_work(committed_factory) as session:
        job = service.enqueue(db_session=session, kind=PRUNE_JOBS, payload={"older_than_days": 1})

    ran = run_worker(settings, once=True)

    with committed_factory() as session:
        done = session.scalars(select(Job).where(Job.status == JobStatus.DONE)).all()
    assert job.id in {j.id for j in done}
    assert ran == len(done), "the hourly maintenance jobs were enqueued and ran too"
    assert {j.kind for j in done} == {
        PRUNE_JOBS,
        "maintenance.prune_idempotency",
        "distribution.reminders",
    }
