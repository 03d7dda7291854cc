"""Helpers for the demo tests: a small airline and ways to read it back."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from touchpoints.db.registry import load_metadata
from touchpoints.demo import DemoSpec, DemoSummary, build_demo

Progress = Callable[[str, int, int], None]

END = date(2026, 10, 1)
SMALL = DemoSpec(customers=400, feedback=2_000, end=END)

Build = Callable[..., DemoSummary]


@pytest.fixture
def build(committed_factory: sessionmaker[Session]) -> Build:
    """Build a demo (the small one unless told otherwise) into the committed store."""

    def run(spec: DemoSpec = SMALL, progress: Progress | None = None) -> DemoSummary:
        return build_demo(session_factory=committed_factory, spec=spec, progress=progress)

    return run


def empty_store(factory: sessionmaker[Session]) -> None:
    """Delete every row of every table, children first."""
    with factory() as session, session.begin():
        if session.connection().dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in load_metadata().sorted_tables)
            session.execute(text(f"TRUNCATE {names} CASCADE"))
            return
        for table in reversed(load_metadata().sorted_tables):
            session.execute(table.delete())
