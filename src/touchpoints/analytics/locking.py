"""One export at a time per analytics store: a file lock, and a PostgreSQL advisory lock.

Two exporters writing the same partition could publish an older snapshot over a newer one.
The file lock covers processes on one machine; the advisory lock (held by a connection for
the whole run) covers workers on several machines sharing one PostgreSQL store and one
analytics folder on shared storage, where file locks are unreliable.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine

LOCK_NAME = ".export.lock"
# Per schema, so stores sharing one database (tests, tenants) do not block each other.
ADVISORY_KEY = "hashtext(current_schema() || ':touchpoints.analytics.export')"

try:  # POSIX; on other systems only the database lock applies
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


@contextmanager
def _file_lock(root: Path, *, wait: bool) -> Iterator[bool]:
    root.mkdir(parents=True, exist_ok=True)
    with open(root / LOCK_NAME, "a+b") as handle:
        if fcntl is None:  # pragma: no cover - Windows
            yield True
            return
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


@contextmanager
def _advisory_lock(engine: Engine, *, wait: bool) -> Iterator[bool]:
    if engine.dialect.name != "postgresql":
        yield True  # SQLite lives on one machine: the file lock is enough
        return
    function = "pg_advisory_lock" if wait else "pg_try_advisory_lock"
    with engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT")
        acquired = connection.exec_driver_sql(f"SELECT {function}({ADVISORY_KEY})").scalar()
        held = True if wait else bool(acquired)
        try:
            yield held
        finally:
            if held:
                connection.exec_driver_sql(f"SELECT pg_advisory_unlock({ADVISORY_KEY})")


@contextmanager
def export_lock(root: Path, engine: Engine, *, wait: bool) -> Iterator[bool]:
    """Hold the export lock of `root` for the block; yield False if busy and not waiting."""
    with _file_lock(root, wait=wait) as file_held:
        if not file_held:
            yield False
            return
        with _advisory_lock(engine, wait=wait) as database_held:
            yield database_held
