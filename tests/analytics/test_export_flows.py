"""Change marks, the `analytics.export` job, freshness with the in-process worker, the CLI."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from tests.analytics.export_fixtures import MONTHS, at, build_estate, read_rows
from tests.conftest import Store
from tests.factories.feedback import make_feedback_item
from tests.factories.orgs import make_workspace
from touchpoints.analytics.changes import AnalyticsChange, AnalyticsRowChange
from touchpoints.analytics.export import AnalyticsExporter
from touchpoints.analytics.flows import EXPORT, enqueue_export_when_changed, register_handlers
from touchpoints.analytics.layout import FEEDBACK
from touchpoints.cli.main import app
from touchpoints.config import Settings
from touchpoints.jobs.models import Job
from touchpoints.jobs.registry import JobRegistry
from touchpoints.jobs.worker import BackgroundWorker

FRESHNESS_SECONDS = 10.0


def _marks(factory: sessionmaker[Session], workspace_id: str) -> list[tuple[str, str]]:
    """Return the (dataset, month) of every partition and row mark of a workspace."""
    marks = []
    with factory() as session:
        for log in (AnalyticsChange, AnalyticsRowChange):
            statement = select(log.dataset, log.month).where(log.workspace_id == workspace_id)
            marks += [(dataset, month) for dataset, month in session.execute(statement)]
    return sorted(marks)


def test_writes_mark_each_stale_partition(committed_factory: sessionmaker[Session]) -> None:
    estate = build_estate(committed_factory)

    marks = set(_marks(committed_factory, estate.workspace_id))

    by_month = {(dataset, month) for dataset in ("feedback", "events") for month in MONTHS}
    unpartitioned = {(name, "all") for name in ("customers", "touchpoints", "org_units")}
    assert marks == by_month | unpartitioned


def test_one_export_job_is_pending_while_changes_wait(
    committed_factory: sessionmaker[Session], settings: Settings
) -> None:
    with committed_factory() as session:
        session.execute(delete(AnalyticsChange))
        session.execute(delete(AnalyticsRowChange))
        session.commit()
        assert enqueue_export_when_changed(session, settings=settings) is None, "nothing changed"
        make_feedback_item(session, workspace_id=make_workspace(session).id)
        session.commit()

        first = enqueue_export_when_changed(session, settings=settings)
        session.commit()
        second = enqueue_export_when_changed(session, settings=settings)
        session.commit()
        jobs = session.scalars(select(Job).where(Job.kind == EXPORT)).all()

    assert first is not None and second is None
    assert [job.id for job in jobs] == [first.id]
    assert jobs[0].payload == {"root": str(settings.analytics_root)}


def test_a_new_response_reaches_the_files_within_ten_seconds(
    committed_factory: sessionmaker[Session], settings: Settings
) -> None:
    fast = settings.model_copy(update={"worker_poll_seconds": 0.2})
    registry = JobRegistry()
    register_handlers(registry, settings=fast)
    worker = BackgroundWorker(session_factory=committed_factory, settings=fast, registry=registry)
    with committed_factory() as session:
        workspace_id = make_workspace(session).id
        session.commit()
    worker.start()
    try:
        started = time.monotonic()
        with committed_factory() as session:
            item_id = make_feedback_item(session, workspace_id=workspace_id, nps=9).id
            session.commit()
        seen = False
        while not seen and time.monotonic() - started < FRESHNESS_SECONDS:
            time.sleep(0.1)
            rows = read_rows(fast.analytics_root, FEEDBACK, workspace_id)
            seen = any(row["feedback_item_id"] == item_id for row in rows)
        elapsed = time.monotonic() - started
    finally:
        worker.stop()
    assert seen, f"the item was not in the analytics store after {FRESHNESS_SECONDS:g}s"
    assert elapsed < FRESHNESS_SECONDS


def test_the_cli_exports_and_rebuilds(
    committed_factory: sessionmaker[Session],
    store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    estate = build_estate(committed_factory)
    monkeypatch.setenv("TOUCHPOINTS_DATABASE_URL", store.url)
    root = tmp_path / "lake"
    options = ["--data-dir", str(tmp_path), "--analytics-dir", str(root)]
    runner = CliRunner()

    exported = runner.invoke(app, ["analytics", "export", *options, "--json"])
    rebuilt = runner.invoke(app, ["analytics", "rebuild", *options])

    assert exported.exit_code == 0, exported.output
    summary = json.loads(exported.output)
    assert summary["mode"] == "rebuild" and summary["rows"] >= 9
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "rebuild export" in rebuilt.output
    assert len(read_rows(root, FEEDBACK, estate.workspace_id)) == 9

    with committed_factory() as session:
        make_feedback_item(session, workspace_id=estate.workspace_id, occurred_at=at(MONTHS[1]))
        session.commit()
    merged = runner.invoke(app, ["analytics", "export", *options])
    assert merged.exit_code == 0, merged.output
    assert "merged" in merged.output and "incremental export" in merged.output


def test_the_cli_explains_an_unmigrated_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TOUCHPOINTS_DATABASE_URL", raising=False)
    result = CliRunner().invoke(app, ["analytics", "export", "--data-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "touchpoints db upgrade" in result.output


def test_marks_are_cleared_once_exported(
    committed_factory: sessionmaker[Session], store: Store, tmp_path: Path
) -> None:
    estate = build_estate(committed_factory)
    AnalyticsExporter(store.engine, tmp_path / "lake").export()
    assert _marks(committed_factory, estate.workspace_id) == []
    with committed_factory() as session:
        left = [
            session.scalar(select(func.count()).select_from(log))
            for log in (AnalyticsChange, AnalyticsRowChange)
        ]
    assert left == [0, 0]
