"""Fixtures for worker tests: really committed data, a controllable clock, test handlers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

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
