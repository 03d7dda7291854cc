"""Killing a real import process (kill -9) half-way, then importing again: every row once.

Real processes on the real stores: `touchpoints import feedback` runs as a subprocess and is
killed once the database shows committed chunks; `touchpoints serve` runs as a subprocess and
is killed while it imports an upload. The same file is then imported again to the end.
"""

from __future__ import annotations

import csv
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import Store
from tests.factories.orgs import make_member_with_token, make_workspace
from touchpoints.customers.models import Customer
from touchpoints.feedback.models import FeedbackItem
from touchpoints.imports.models import ImportRun, QuarantinedRow

CLI = str(Path(sys.executable).with_name("touchpoints"))
SECRET = "crash-test-secret-key-0123456789-abcdefghijkl"
ROWS = 30_000
BAD_EVERY = 997  # these rows give an NPS of 12: quarantined
CUSTOMERS = 1_500
TIMEOUT_S = 240


@dataclass(frozen=True)
class Installation:
    """A workspace in the test store, its admin's API token and the CLI's environment."""

    workspace_id: str
    slug: str
    token: str
    env: dict[str, str]


def write_feedback_csv(path: Path, rows: int = ROWS) -> tuple[int, int]:
    """Write a feedback export; return (good rows, bad rows)."""
    start = datetime(2025, 1, 1, tzinfo=UTC)
    bad = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(
            ["source_ref", "occurred_at", "channel", "text", "scores.nps", "customer.email"]
        )
        for n in range(rows):
            broken = n % BAD_EVERY == BAD_EVERY - 1
            bad += broken
            out.writerow(
                [
                    f"crash-{n:06d}",
                    (start + timedelta(minutes=17 * n)).isoformat(),
                    ("web", "email", "app")[n % 3],
                    f"Comment number {n}, about the flight",
                    12 if broken else n % 11,
                    f"traveller{n % CUSTOMERS}@example.com",
                ]
            )
    return rows - bad, bad


@pytest.fixture
def installation(
    store: Store, committed_factory: sessionmaker[Session], tmp_path: Path
) -> Installation:
    """A workspace with an admin in the shared test store, reachable by subprocesses."""
    with committed_factory() as session:
        workspace = make_workspace(session)
        _, token = make_member_with_token(session, workspace_id=workspace.id)
        session.commit()
        ids = (workspace.id, workspace.slug)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOUCHPOINTS_")}
    env.update(
        TOUCHPOINTS_DATA_DIR=str(tmp_path / "data"),
        TOUCHPOINTS_DATABASE_URL=store.url,
        TOUCHPOINTS_SECRET_KEY=SECRET,
        TOUCHPOINTS_API_MAX_BODY_BYTES=str(64 * 1024 * 1024),
    )
    return Installation(ids[0], ids[1], token, env)


def _wait_for(condition: Callable[[], bool], what: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        if condition():
            return
        if process.poll() is not None:
            pytest.fail(f"the process ended (code {process.returncode}) before {what}")
        time.sleep(0.05)
    process.kill()
    pytest.fail(f"timed out waiting for {what}")


def _committed_lines(factory: sessionmaker[Session], workspace_id: str) -> int:
    with factory() as session:
        line = session.scalar(
            select(func.max(ImportRun.last_line)).where(ImportRun.workspace_id == workspace_id)
        )
        return int(line or 0)


def _assert_every_row_once(
    factory: sessionmaker[Session], workspace_id: str, good: int, bad: int
) -> None:
    with factory() as session:
        items = session.scalar(
            select(func.count()).where(FeedbackItem.workspace_id == workspace_id)
        )
        refs = session.scalar(
            select(func.count(func.distinct(FeedbackItem.source_ref))).where(
                FeedbackItem.workspace_id == workspace_id
            )
        )
        assert (items, refs) == (good, good)
        lines = session.scalars(
            select(QuarantinedRow.line).where(QuarantinedRow.workspace_id == workspace_id)
        ).all()
        assert len(lines) == len(set(lines)) == bad
        customers = session.scalar(
            select(func.count()).where(Customer.workspace_id == workspace_id)
        )
        assert customers == CUSTOMERS
        [run] = session.scalars(select(ImportRun).where(ImportRun.workspace_id == workspace_id))
        assert run.status == "completed"
        assert (run.total, run.imported, run.quarantined) == (ROWS, good, bad)


def _import_command(setup: Installation, path: Path) -> list[str]:
    # Small chunks: many commits, so the kill lands between two of them on any machine.
    return [
        *(CLI, "import", "feedback", str(path), "--workspace", setup.slug, "--json"),
        *("--chunk-rows", "1000"),
    ]


def test_a_killed_cli_import_resumes_and_stores_every_good_row_once(
    installation: Installation, committed_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    path = tmp_path / "feedback.csv"
    good, bad = write_feedback_csv(path)
    command = _import_command(installation, path)
    process = subprocess.Popen(
        command, env=installation.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        _wait_for(
            lambda: _committed_lines(committed_factory, installation.workspace_id) > 0,
            "the first chunk was committed",
            process,
        )
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    stopped_at = _committed_lines(committed_factory, installation.workspace_id)
    assert 0 < stopped_at < ROWS, "the kill must land in the middle of the import"
    finished = subprocess.run(
        command, env=installation.env, capture_output=True, timeout=TIMEOUT_S, check=False
    )
    assert finished.returncode == 0, finished.stderr.decode()
    _assert_every_row_once(committed_factory, installation.workspace_id, good, bad)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(setup: Installation) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """Run `touchpoints serve` on a free port; kill it at the end if it still runs."""
    port = _free_port()
    process = subprocess.Popen(
        [CLI, "serve", "--no-worker", "--no-migrate", "--port", str(port)],
        env=setup.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(lambda: _answers(base), "the server answered", process)
        yield process, base
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait()


def _answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _upload(base: str, token: str, path: Path) -> httpx.Response:
    with path.open("rb") as handle:
        return httpx.post(
            f"{base}/api/v1/imports",
            headers={"Authorization": f"Bearer {token}"},
            data={"kind": "feedback"},
            files={"file": (path.name, handle, "text/csv")},
            timeout=TIMEOUT_S,
        )


def test_a_server_killed_mid_import_then_a_retry_stores_every_good_row_once(
    installation: Installation, committed_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    path = tmp_path / "feedback.csv"
    good, bad = write_feedback_csv(path)
    outcome: list[BaseException | httpx.Response] = []
    with serving(installation) as (process, base):

        def send() -> None:
            try:
                outcome.append(_upload(base, installation.token, path))
            except httpx.HTTPError as exc:
                outcome.append(exc)

        sender = threading.Thread(target=send)
        sender.start()
        # The request imports in one transaction (30,000 rows take several seconds): kill the
        # server once it is busy with them, well before it could answer.
        time.sleep(1.5)
        process.send_signal(signal.SIGKILL)
        process.wait()
        sender.join(TIMEOUT_S)
    assert outcome and isinstance(outcome[0], httpx.HTTPError), "killed before it answered"
    with committed_factory() as session:
        stored = session.scalar(
            select(func.count()).where(FeedbackItem.workspace_id == installation.workspace_id)
        )
    assert stored == 0  # nothing of the killed request was committed
    with serving(installation) as (_, base):
        answer = _upload(base, installation.token, path)
    assert answer.status_code == 201, answer.text
    assert (answer.json()["imported"], answer.json()["quarantined"]) == (good, bad)
    _assert_every_row_once(committed_factory, installation.workspace_id, good, bad)
