"""The store check answers at once, even while a SQLite writer holds the write lock."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from sqlalchemy import text

from touchpoints.db.engine import make_engine, store_answers


def test_the_store_check_does_not_wait_for_a_writer(tmp_path: Path) -> None:
    database = tmp_path / "touchpoints.db"
    engine = make_engine(f"sqlite:///{database}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE answers (n INTEGER)"))
    writer = sqlite3.connect(database, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # an import's chunk, say, holding the write lock
    writer.execute("INSERT INTO answers VALUES (1)")
    try:
        started = time.monotonic()
        store_answers(engine)  # a transaction would wait for the lock (30 s busy timeout)
        assert time.monotonic() - started < 2
    finally:
        writer.execute("ROLLBACK")
        writer.close()
        engine.dispose()


def test_sessions_still_take_the_write_lock_up_front(tmp_path: Path) -> None:
    database = tmp_path / "touchpoints.db"
    engine = make_engine(f"sqlite:///{database}")
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
        held = sqlite3.connect(database, timeout=0.1)
        try:
            held.execute("BEGIN IMMEDIATE")
            raise AssertionError("the write lock was free during the engine's transaction")
        except sqlite3.OperationalError as exc:
            assert "locked" in str(exc)
        finally:
            held.close()
    engine.dispose()
