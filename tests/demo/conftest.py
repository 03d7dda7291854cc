"""Helpers for the demo tests: a small airline and ways to read it back."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy.orm import Session, sessionmaker

from touchpoints.demo import DemoSpec, DemoSummary, build_demo

Progress = Callable[[str, int, int], None]

END = date(2026, 10, 1)
SMALL = DemoSpec(customers=400, feedback=2_000, end=END)

Build = Callable[..., DemoSummary]


@pytest.fixture
def build(committed_factory: sessionmaker[Session]) -> Build:
    """Build a demo (the small one unless told otherwise); the store is emptied afterwards."""

    def run(spec: DemoSpec = SMALL, progress: Progress | None = None) -> DemoSummary:
        """Build the demo described by `spec`."""
        return build_demo(session_factory=committed_factory, spec=spec, progress=progress)

    return run
