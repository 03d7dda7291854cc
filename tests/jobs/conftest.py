"""Fixtures for worker tests: really committed data, a controllable clock, test handlers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import Caller
from tests.factories.orgs import make_member_with_token, make_workspace
from touchpoints.api.app import create_app
from touchpoints.auth.permissions import Role
from touchpoints.config import Settings
from touchpoints.db.base import utcnow
from touchpoints.jobs.registry import JobRegistry
from touchpoints.jobs.worker import Worker


class Clock:
    """Real time plus an offset the test moves forward, so retries fall due without waiting."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return utcnow() + self.offset

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        self.offset += timedelta(seconds=seconds)

    def move_to(self, moment: datetime) -> None:
        """Move the clock forward to a moment (never backwards)."""
        self.offset = max(self.offset, moment - utcnow())


@pytest.fixture
def clock() -> Clock:
    """A test clock starting at the real current time."""
    return Clock()


@pytest.fixture
def registry() -> JobRegistry:
    """An empty registry the test fills with its own handlers."""
    return JobRegistry()


MakeWorker = Callable[..., Worker]


@pytest.fixture
def make_worker(
    committed_factory: sessionmaker[Session],
    settings: Settings,
    registry: JobRegistry,
    clock: Clock,
) -> MakeWorker:
    """Build workers over committed sessions, the test registry and the test clock."""

    def build(worker_id: str = "worker-1", **options: object) -> Worker:
        options.setdefault("maintenance", False)
        options.setdefault("clock", clock)
        return Worker(committed_factory, settings, registry, worker_id, **options)  # type: ignore[arg-type]

    return build


@pytest.fixture
def committed_admin(
    committed_factory: sessionmaker[Session], settings: Settings
) -> Iterator[Caller]:
    """An admin of a committed workspace, calling an app whose sessions really commit."""
    with committed_factory() as session:
        workspace_id = make_workspace(session).id
        principal, token = make_member_with_token(
            session, workspace_id=workspace_id, role=Role.ADMIN
        )
        session.commit()
    app = create_app(settings, session_factory=committed_factory)
    with TestClient(app, raise_server_exceptions=False) as http:
        http.headers["Authorization"] = f"Bearer {token}"
        yield Caller(principal=principal, token=token, http=http)
