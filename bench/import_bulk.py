"""Time a bulk CSV import of feedback into SQLite and PostgreSQL, next to a raw-insert baseline.

A CSV of N rows (source_ref, occurred_at, channel, text, scores.nps, language) is generated in a
temp folder and imported with the real importer (`import_file`, as `touchpoints import feedback`
runs it: chunks of 1,000, each committed with the run's progress) into a fresh store. The
baseline takes exactly the rows the importer stored in `feedback_items` and writes them into an
empty schema (holding only the workspace they belong to): `executemany` in one transaction on
SQLite (same pragmas), `COPY ... FROM STDIN` with psycopg on PostgreSQL.

Usage: python bench/import_bulk.py [--rows 1000000] [--stores sqlite,postgresql] [--pg-url URL]
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
import sqlalchemy as sa

from touchpoints.auth.permissions import Principal, Role
from touchpoints.auth.service import first_admin
from touchpoints.db.engine import make_engine, make_session_factory
from touchpoints.db.registry import load_metadata
from touchpoints.imports.flows import ImportRequest, import_file
from touchpoints.imports.models import ImportFormat, ImportKind
from touchpoints.imports.readers import ImportFile
from touchpoints.orgs.models import Workspace

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CLI = [str(Path(sys.executable).with_name("touchpoints"))]
SECRET = "bench-secret-key-0123456789-abcdefghijklmnop"
TEXTS = (
    "The boarding was quick and the crew friendly",
    "My bag arrived late and nobody at the desk could say where it was",
    "Seat was fine, food was cold",
    "Check-in app crashed twice before it let me in",
    "Great service on the phone, the agent rebooked me in minutes",
)
CHANNELS = ("web", "email", "sms", "phone", "app", "store")


def write_csv(path: Path, rows: int) -> None:
    """Write a feedback CSV with `rows` rows in the importer's own column names."""
    rng = random.Random(7)
    start = datetime(2025, 4, 1, tzinfo=UTC)
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["source_ref", "occurred_at", "channel", "text", "scores.nps", "language"])
        for n in range(rows):
            when = start + timedelta(seconds=rng.randrange(0, 540 * 86400))
            out.writerow(
                [
                    f"resp-{n:07d}",
                    when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    rng.choice(CHANNELS),
                    rng.choice(TEXTS),
                    rng.randrange(0, 11),
                    "en",
                ]
            )


def _setup_store(url: str, data_dir: Path) -> None:
    """Create the schema, a workspace and its admin with the CLI, as a user would."""
    engine = make_engine(url)
    try:
        load_metadata().create_all(engine)
    finally:
        engine.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOUCHPOINTS_")}
    env.update(
        TOUCHPOINTS_DATA_DIR=str(data_dir),
        TOUCHPOINTS_SECRET_KEY=SECRET,
        TOUCHPOINTS_DATABASE_URL=url,
    )
    for args in (
        ["workspaces", "create", "bench", "--name", "Bench Air"],
        ["users", "create", "--email", "admin@bench-air.example.com", "--role", "admin"],
    ):
        subprocess.run([*CLI, *args, "--json"], env=env, check=True, capture_output=True)


def import_once(url: str, csv_path: Path) -> tuple[float, int]:
    """Import the CSV with the real importer; return seconds and imported rows."""
    engine = make_engine(url)
    try:
        factory = make_session_factory(engine)
        with factory() as session:
            workspace = session.scalars(sa.select(Workspace)).one()
            admin = first_admin(db_session=session, workspace_id=workspace.id)
            assert admin is not None
            actor = Principal(workspace_id=workspace.id, user_id=admin.user.id, role=Role.ADMIN)
            request = ImportRequest(
                source=ImportFile.from_path(csv_path),
                kind=ImportKind.FEEDBACK,
                fmt=ImportFormat.CSV,
            )
            started = time.perf_counter()
            run = import_file(
                db_session=session, actor=actor, request=request, commit=session.commit
            )
            seconds = time.perf_counter() - started
            if run.quarantined or run.imported != run.total:
                raise RuntimeError(f"unexpected counts: {run.total=} {run.quarantined=}")
            return seconds, run.imported
    finally:
        engine.dispose()


def _empty_schema(url: str) -> None:
    engine = make_engine(url)
    try:
        load_metadata().create_all(engine)
    finally:
        engine.dispose()


def sqlite_baseline(source: Path, target: Path) -> tuple[float, int]:
    """Insert the imported feedback rows into an empty SQLite schema with executemany."""
    _empty_schema(f"sqlite:///{target}")
    db = sqlite3.connect(target, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
        db.execute(f"PRAGMA {pragma}")
    db.execute("ATTACH DATABASE ? AS src", (str(source),))
    db.execute("INSERT INTO workspaces SELECT * FROM src.workspaces")
    columns = ", ".join(f'"{c}"' for c in _feedback_columns())
    rows = db.execute(f"SELECT {columns} FROM src.feedback_items").fetchall()
    db.execute("DETACH DATABASE src")
    marks = ", ".join("?" * len(rows[0]))
    started = time.perf_counter()
    db.execute("BEGIN IMMEDIATE")
    db.executemany(f"INSERT INTO feedback_items ({columns}) VALUES ({marks})", rows)
    db.execute("COMMIT")
    seconds = time.perf_counter() - started
    db.close()
    return seconds, len(rows)


def _feedback_columns() -> list[str]:
    return [c.name for c in load_metadata().tables["feedback_items"].columns]


def pg_baseline(base_url: str, source_schema: str) -> tuple[float, int]:
    """COPY the imported feedback rows into an empty PostgreSQL schema with psycopg."""
    with pg_schema(base_url) as (url, schema):
        _empty_schema(url)
        dsn = base_url.replace("postgresql+psycopg://", "postgresql://")
        columns = ", ".join(f'"{c}"' for c in _feedback_columns())
        as_text = ", ".join(f'"{c}"::text' for c in _feedback_columns())
        with psycopg.connect(dsn, autocommit=False) as conn:
            conn.execute(
                f'INSERT INTO "{schema}".workspaces SELECT * FROM "{source_schema}".workspaces'
            )
            conn.commit()
            rows = conn.execute(
                f'SELECT {as_text} FROM "{source_schema}".feedback_items'
            ).fetchall()
            started = time.perf_counter()
            with conn.cursor().copy(
                f'COPY "{schema}".feedback_items ({columns}) FROM STDIN'
            ) as copy:
                for row in rows:
                    copy.write_row(row)
            conn.commit()
            seconds = time.perf_counter() - started
        return seconds, len(rows)


@contextmanager
def pg_schema(base_url: str) -> Iterator[tuple[str, str]]:
    """Create a throwaway schema in the PostgreSQL database; yield its URL and name."""
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{base_url}?options=-csearch_path%3D{schema}", schema
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _report(store: str, imported: tuple[float, int], base: tuple[float, int]) -> None:
    seconds, count = imported
    raw_seconds, raw_count = base
    print(f"{store} import: {count:,} rows in {seconds:.1f} s = {count / seconds:,.0f} rows/s")
    print(
        f"{store} baseline: {raw_count:,} rows in {raw_seconds:.2f} s = "
        f"{raw_count / raw_seconds:,.0f} rows/s; import/baseline time {seconds / raw_seconds:.1f}x",
        flush=True,
    )


def main() -> None:
    """Generate the CSV, import it into each store, run the baselines; print the figures."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default=PG_URL)
    args = parser.parse_args()
    print(
        f"{date.today()} {platform.machine()} {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; {args.rows:,} rows"
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        csv_path = folder / "feedback.csv"
        write_csv(csv_path, args.rows)
        print(f"CSV: {csv_path.stat().st_size / 1e6:.1f} MB", flush=True)
        for store in args.stores.split(","):
            if store == "sqlite":
                (folder / "sqlite").mkdir()
                url = f"sqlite:///{folder / 'sqlite' / 'touchpoints.db'}"
                _setup_store(url, folder / "sqlite")
                imported = import_once(url, csv_path)
                base = sqlite_baseline(folder / "sqlite" / "touchpoints.db", folder / "raw.db")
                _report(store, imported, base)
            else:
                with pg_schema(args.pg_url) as (url, schema):
                    (folder / "pg").mkdir()
                    _setup_store(url, folder / "pg")
                    imported = import_once(url, csv_path)
                    _report(store, imported, pg_baseline(args.pg_url, schema))


if __name__ == "__main__":
    main()
