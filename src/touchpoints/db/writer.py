"""Take turns writing to an SQLite store across server processes, without polling.

SQLite lets one transaction write at a time. A process that finds the write lock taken sleeps
in SQLite's busy handler for 1, 2, 5, 10... ms before trying again, so under steady load from
several server processes the lock often sits free while every process sleeps. Writers that
run many small transactions back to back (the feedback intake) take a kernel file lock first:
a waiting process wakes the moment the holder releases it. PostgreSQL, and platforms without
`fcntl`, need no turn-taking: there the context manager does nothing.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

_guard = threading.Lock()
_locks: dict[str, tuple[threading.Lock, int]] = {}


@contextmanager
def writer_turn(bind: object) -> Iterator[None]:
    """Hold this process's turn to write to the SQLite file of `bind` (an engine or connection)."""
    engine = bind.engine if isinstance(bind, Engine | Connection) else None
    path = engine.url.database if engine is not None and engine.dialect.name == "sqlite" else None
    if fcntl is None or not path or path == ":memory:":
        yield
        return
    local, descriptor = _lock_for(f"{path}-writer.lock")
    with local:  # threads of one process share the descriptor, so they take turns here
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)


def _lock_for(path: str) -> tuple[threading.Lock, int]:
    with _guard:
        if path not in _locks:
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            _locks[path] = (threading.Lock(), descriptor)
        return _locks[path]
