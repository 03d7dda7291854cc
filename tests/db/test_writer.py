"""SQLite writers of several processes take turns through a file lock."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine

from touchpoints.db.writer import writer_turn

HOLD = """
import fcntl, os, sys, time
descriptor = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(descriptor, fcntl.LOCK_EX)
print("held", flush=True)
time.sleep(float(sys.argv[2]))
"""


def test_a_writer_waits_for_another_process_and_starts_as_soon_as_it_is_done(
    tmp_path: Path,
) -> None:
    database = tmp_path / "touchpoints.db"
    engine = create_engine(f"sqlite:///{database}")
    lock = f"{database}-writer.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, lock, "0.6"], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    started = time.monotonic()
    with writer_turn(engine):
        waited = time.monotonic() - started
    holder.wait(timeout=10)
    assert 0.4 < waited < 3.0
    engine.dispose()


def test_postgres_and_unbound_sessions_need_no_turn() -> None:
    with writer_turn(None):
        pass
    engine = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    with writer_turn(engine):  # no connection is made
        pass
