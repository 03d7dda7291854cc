"""Time a bulk CSV import of feedback into SQLite and PostgreSQL, next to a raw-insert baseline.

A realistic feedback export of N rows (response id, occurred_at, channel, NPS, CSAT, comment,
customer email, touchpoint name) is generated in a temp folder and imported with the real
importer (`import_file`, as `touchpoints import feedback` runs it: chunks of 10,000, each
committed with the run's progress) into a fresh store, with a mapping file that turns the
touchpoint names into the workspace's touchpoints. Customers are created and linked by email.

Baseline, measured in the same run: exactly the rows the importer stored (customers, their
identities, feedback items) written into an empty schema holding only the workspace and its
touchpoints: one `executemany` transaction on SQLite (the importer's pragmas, page cache
included; the full-text triggers fire), `COPY ... FROM STDIN` with psycopg on PostgreSQL.
Several runs (`--runs`) give medians.

With `--floors`, the same raw writes are also timed into schemas without the search index
(SQLite's FTS5 triggers, PostgreSQL's GIN index), without the change-tracking triggers, without
both, and without both and the secondary indexes: where the store's own write cost goes.

Usage: python bench/import_bulk.py [--rows 1000000] [--runs 1] [--stores sqlite,postgresql]
                                   [--floors]
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa

from touchpoints.auth.permissions import Principal, Role
from touchpoints.auth.service import first_admin
from touchpoints.db.engine import make_engine, make_session_factory
from touchpoints.db.registry import load_metadata
from touchpoints.imports.flows import IMPORT_PAGE_CACHE_KIB, ImportRequest, import_file
from touchpoints.imports.models import ImportFormat, ImportKind
from touchpoints.imports.readers import ImportFile
from touchpoints.imports.schemas import ColumnMapping
from touchpoints.journeys.models import Touchpoint
from touchpoints.orgs.models import Workspace

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CLI = [str(Path(sys.executable).with_name("touchpoints"))]
SECRET = "bench-secret-key-0123456789-abcdefghijklmnop"
CUSTOMERS_PER_ROW = 5  # a customer gives feedback five times on average
TOUCHPOINTS = ("Website", "Check-in", "Boarding", "In flight", "Baggage", "Call centre")
TEXTS = (
    "The boarding was quick and the crew friendly",
    "My bag arrived late and nobody at the desk could say where it was",
    "Seat was fine, food was cold",
    "Check-in app crashed twice before it let me in",
    "Great service on the phone, the agent rebooked me in minutes",
)
CHANNELS = ("web", "email", "sms", "phone", "app", "store")


def write_csv(path: Path, rows: int) -> None:
    """Write a feedback export with `rows` rows, as a survey tool would export it."""
    rng = random.Random(7)
    start = datetime(2025, 4, 1, tzinfo=UTC)
    customers = max(1, rows // CUSTOMERS_PER_ROW)
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(
            ["Response ID", "Recorded", "Channel", "NPS", "CSAT", "Comment", "Email", "Touchpoint"]
        )
        for n in range(rows):
            when = start + timedelta(seconds=rng.randrange(0, 540 * 86400))
            out.writerow(
                [
                    f"R_{n:08d}",
                    when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    rng.choice(CHANNELS),
                    rng.randrange(0, 11),
                    rng.choice(("", "", "3", "4", "5")),
                    rng.choice(TEXTS),
                    f"traveller{rng.randrange(customers)}@example.com",
                    rng.choice(TOUCHPOINTS),
                ]
            )


def mapping_for(touchpoints: dict[str, str]) -> ColumnMapping:
    """Return the column mapping of the export: touchpoint names become touchpoint ids."""
    return ColumnMapping(
        columns={
            "Response ID": "source_ref",
            "Recorded": "occurred_at",
            "Channel": "channel",
            "NPS": "scores.nps",
            "CSAT": "scores.csat",
            "Comment": "text",
            "Email": "customer.email",
            "Touchpoint": "touchpoint_id",
        },
        values={"Touchpoint": touchpoints},
        defaults={"source": "survey-tool", "solicited": True, "language": "en"},
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
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            workspace = session.scalars(sa.select(Workspace)).one()
            for name in TOUCHPOINTS:
                session.add(
                    Touchpoint(
                        workspace_id=workspace.id,
                        name=name,
                        channel="web",
                        owner_department="service",
                    )
                )
            session.commit()
    finally:
        engine.dispose()


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
            touchpoints = {t.name: t.id for t in session.scalars(sa.select(Touchpoint))}
            request = ImportRequest(
                source=ImportFile.from_path(csv_path),
                kind=ImportKind.FEEDBACK,
                fmt=ImportFormat.CSV,
                mapping=mapping_for(touchpoints),
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


STORED_TABLES = ("customers", "customer_identities", "feedback_items")
NOTHING: frozenset[str] = frozenset()
# --floors: the same raw writes into schemas with parts of the store's write work removed.
FLOORS = {
    "without search index": frozenset({"search"}),
    "without change tracking": frozenset({"tracking"}),
    "without both": frozenset({"search", "tracking"}),
    "without both and secondary indexes": frozenset({"search", "tracking", "indexes"}),
}
SETUP_TABLES = ("workspaces", "touchpoints")


def _columns(table: str) -> list[str]:
    return [c.name for c in load_metadata().tables[table].columns]


def sqlite_baseline(
    source: Path, target: Path, strip: frozenset[str] = NOTHING
) -> tuple[float, int]:
    """Insert the rows the importer stored into an empty SQLite schema with executemany."""
    target.unlink(missing_ok=True)
    _empty_schema(f"sqlite:///{target}")
    db = sqlite3.connect(target, isolation_level=None)
    # The importer's pragmas, page cache included.
    cache = f"cache_size=-{IMPORT_PAGE_CACHE_KIB}"
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", cache):
        db.execute(f"PRAGMA {pragma}")
    for kind, name in db.execute(
        "SELECT type, name FROM sqlite_master WHERE tbl_name IN "
        f"({', '.join(repr(t) for t in STORED_TABLES)}) AND sql IS NOT NULL "
        "AND type IN ('trigger', 'index')"
    ).fetchall():
        part = "search" if name.startswith("feedback_search") else "tracking"
        if kind == "index" and name.startswith("ix_"):
            part = "indexes"
        if part in strip and (kind == "trigger" or part == "indexes"):
            db.execute(f'DROP {kind.upper()} "{name}"')
    db.execute("ATTACH DATABASE ? AS src", (str(source),))
    for table in SETUP_TABLES:
        names = ", ".join(f'"{c}"' for c in _columns(table))
        db.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM src.{table}")
    stored = {}
    for table in STORED_TABLES:
        names = ", ".join(f'"{c}"' for c in _columns(table))
        stored[table] = (names, db.execute(f"SELECT {names} FROM src.{table}").fetchall())
    db.execute("DETACH DATABASE src")
    started = time.perf_counter()
    db.execute("BEGIN IMMEDIATE")
    for table, (names, rows) in stored.items():
        marks = ", ".join("?" * len(rows[0]))
        db.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
    db.execute("COMMIT")
    seconds = time.perf_counter() - started
    db.close()
    return seconds, len(stored["feedback_items"][1])


def pg_baseline(
    base_url: str, source_schema: str, strip: frozenset[str] = NOTHING
) -> tuple[float, int]:
    """COPY the rows the importer stored into an empty PostgreSQL schema with psycopg."""
    with pg_schema(base_url) as (url, schema):
        _empty_schema(url)
        dsn = base_url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(dsn, autocommit=False) as conn:
            # Triggers name their tables unqualified: they must see the new schema first.
            conn.execute(f'SET search_path TO "{schema}"')
            _strip_pg(conn, schema, strip)
            for table in SETUP_TABLES:
                names = ", ".join(f'"{c}"' for c in _columns(table))
                conn.execute(
                    f'INSERT INTO "{schema}".{table} ({names}) '
                    f'SELECT {names} FROM "{source_schema}".{table}'
                )
            conn.commit()
            stored = {}
            for table in STORED_TABLES:
                names = ", ".join(f'"{c}"' for c in _columns(table))
                as_text = ", ".join(f'"{c}"::text' for c in _columns(table))
                query = f'SELECT {as_text} FROM "{source_schema}".{table}'
                stored[table] = (names, conn.execute(query).fetchall())
            started = time.perf_counter()
            for table, (names, rows) in stored.items():
                with conn.cursor().copy(f'COPY "{schema}".{table} ({names}) FROM STDIN') as copy:
                    for row in rows:
                        copy.write_row(row)
            conn.commit()
            seconds = time.perf_counter() - started
        return seconds, len(stored["feedback_items"][1])


def _strip_pg(conn: psycopg.Connection[Any], schema: str, strip: frozenset[str]) -> None:
    """Drop the search index, the change triggers or the secondary indexes of stored tables."""
    tables = ", ".join(f"'{t}'" for t in STORED_TABLES)
    if "search" in strip:
        conn.execute("DROP INDEX ix_feedback_items_search")
    if "tracking" in strip:
        for table, trigger in conn.execute(
            "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            f"WHERE n.nspname = %s AND c.relname IN ({tables}) AND NOT t.tgisinternal",
            (schema,),
        ).fetchall():
            conn.execute(f'DROP TRIGGER "{trigger}" ON "{table}"')
    if "indexes" in strip:
        for (index,) in conn.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = %s "
            f"AND tablename IN ({tables}) AND indexname LIKE 'ix\\_%%'",
            (schema,),
        ).fetchall():
            conn.execute(f'DROP INDEX IF EXISTS "{index}"')
    conn.commit()


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


def _report(store: str, imports: list[tuple[float, int]], bases: list[tuple[float, int]]) -> None:
    """Print each run and the medians: rows/s of the import, of the baseline, and their ratio."""
    rates = [count / seconds for seconds, count in imports]
    raw = [count / seconds for seconds, count in bases]
    for (seconds, count), (raw_seconds, _) in zip(imports, bases, strict=True):
        print(
            f"{store} run: import {count:,} rows in {seconds:.1f} s, baseline {raw_seconds:.1f} s"
        )
    rate, raw_rate = statistics.median(rates), statistics.median(raw)
    print(
        f"{store}: import median {rate:,.0f} rows/s ({' / '.join(f'{r:,.0f}' for r in rates)}); "
        f"baseline median {raw_rate:,.0f} rows/s ({' / '.join(f'{r:,.0f}' for r in raw)}); "
        f"import/baseline speed {rate / raw_rate:.2f}",
        flush=True,
    )


def run_store(store: str, folder: Path, csv_path: Path, pg_url: str, floors: bool = False) -> None:
    """Import into a fresh store and run the baseline on what it stored, once."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    if store == "sqlite":
        url = f"sqlite:///{folder / 'touchpoints.db'}"
        _setup_store(url, folder)
        imported = import_once(url, csv_path)
        RESULTS.setdefault(store, ([], []))[0].append(imported)
        base = sqlite_baseline(folder / "touchpoints.db", folder / "raw.db")
        RESULTS[store][1].append(base)
        for label, strip in FLOORS.items() if floors else ():
            seconds, count = sqlite_baseline(folder / "touchpoints.db", folder / "raw.db", strip)
            print(f"{store} floor {label}: {count / seconds:,.0f} rows/s", flush=True)
        return
    with pg_schema(pg_url) as (url, schema):
        _setup_store(url, folder)
        imported = import_once(url, csv_path)
        RESULTS.setdefault(store, ([], []))[0].append(imported)
        RESULTS[store][1].append(pg_baseline(pg_url, schema))
        for label, strip in FLOORS.items() if floors else ():
            seconds, count = pg_baseline(pg_url, schema, strip)
            print(f"{store} floor {label}: {count / seconds:,.0f} rows/s", flush=True)


RESULTS: dict[str, tuple[list[tuple[float, int]], list[tuple[float, int]]]] = {}


def main() -> None:
    """Generate the CSV, import it into each store, run the baselines; print the figures."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default=PG_URL)
    parser.add_argument(
        "--floors",
        action="store_true",
        help="also time the raw writes without the search index, change tracking, indexes",
    )
    args = parser.parse_args()
    print(
        f"{date.today()} {platform.machine()} {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}; {args.rows:,} rows, "
        f"{args.runs} run(s)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        csv_path = folder / "feedback.csv"
        write_csv(csv_path, args.rows)
        print(f"CSV: {csv_path.stat().st_size / 1e6:.1f} MB", flush=True)
        for _ in range(args.runs):
            for store in args.stores.split(","):
                run_store(store, folder / store, csv_path, args.pg_url, args.floors)
                imports, bases = RESULTS[store]
                print(f"{store}: {imports[-1][1] / imports[-1][0]:,.0f} rows/s", flush=True)
        for store, (imports, bases) in RESULTS.items():
            _report(store, imports, bases)


if __name__ == "__main__":
    main()
