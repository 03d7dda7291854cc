"""Benchmark: export feedback from PostgreSQL to the analytics store, full and incremental.

Builds a dedicated database (`bench_analytics` by default, dropped at the end unless --keep)
at the newest schema, loads one workspace with N feedback items over 24 months (plus
customers, segments, survey responses for 10% of the items and operational events) with
`INSERT ... SELECT generate_series`, then times:

- a full export (`AnalyticsExporter.rebuild`) of every dataset into a fresh folder; baseline:
  draining `COPY (<the exporter's own feedback SELECT>) TO STDOUT` through psycopg, bytes only
  (PostgreSQL's cost of producing the same rows, no parsing, no Parquet);
- an incremental export after inserting `--new` items into the latest month (the triggers on,
  as in production, leave row marks): the partition is merged from its file plus the new
  rows; reported: rows read from PostgreSQL and rows written. Baseline: draining the COPY of
  the whole partition (what PostgreSQL alone needs for a rewrite); for comparison, the same
  partition rewritten (a partition mark added by hand, then an incremental export);
- the change triggers' cost on inserts (statement-level), with and without them, rolled back:
  100,000 rows (above the row-mark cap: partition marks) and `--new` rows (row marks).

    .venv/bin/python bench/analytics_export.py                # 10,000,000 items
    .venv/bin/python bench/analytics_export.py --rows 1000000 --keep
    .venv/bin/python bench/analytics_export.py --reuse        # skip the load (after --keep)
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Engine, text

from touchpoints.analytics.export import AnalyticsExporter, DatasetExport
from touchpoints.analytics.layout import FEEDBACK
from touchpoints.analytics.sources import Dialect, dataset_query
from touchpoints.db import migrate
from touchpoints.db.engine import make_engine

WORKSPACE = "b" * 32
MONTHS = 24
SECONDS = MONTHS * 30 * 86400  # 2024-01-01 onwards: 24 months minus a few days
LAST_MONTH = "2025-12"
CUSTOMERS = 500_000
EVENTS_PER_ITEM = 10  # one event per ten items
CHUNK = 1_000_000
T = TypeVar("T")
TRIGGERED = ("feedback_items", "survey_responses", "operational_events", "customers")


def _sql(engine: Engine, statement: str, **params: object) -> None:
    with engine.begin() as connection:
        connection.execute(text(statement), params)


def _timed(action: Callable[[], T]) -> tuple[float, T]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def create_database(base_url: str, name: str, *, reuse: bool) -> Engine:
    """Create (or reuse) the benchmark database and bring it to the newest schema."""
    admin = make_engine(f"{base_url}/postgres", pool_size=1)
    with admin.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT")
        exists = connection.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
        )
        if exists and not reuse:
            connection.execute(text(f'DROP DATABASE "{name}"'))
        if not exists or not reuse:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    engine = make_engine(f"{base_url}/{name}", pool_size=4)
    migrate.upgrade(engine)
    return engine


def drop_database(base_url: str, name: str) -> None:
    """Drop the benchmark database."""
    admin = make_engine(f"{base_url}/postgres", pool_size=1)
    with admin.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT")
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def load_reference_rows(engine: Engine) -> None:
    """Insert the workspace, org units, journeys, touchpoints, segments and a survey."""
    now = "timestamptz '2023-12-01'"
    common = f"'{WORKSPACE}', {now}, {now}"
    statements = [
        f"INSERT INTO workspaces (id, slug, name, settings, created_at, updated_at) "
        f"VALUES ('{WORKSPACE}', 'bench', 'Bench airline', '{{}}', {now}, {now})",
        f"INSERT INTO org_units (id, code, name, kind, path, parent_id, workspace_id, created_at, "
        f"updated_at) SELECT md5('region' || r), 'region-' || r, 'Region ' || r, 'region', "
        f"'/' || md5('region' || r) || '/', NULL, {common} FROM generate_series(0, 3) r",
        f"INSERT INTO org_units (id, code, name, kind, path, parent_id, workspace_id, created_at, "
        f"updated_at) SELECT md5('ou' || s), 'store-' || s, 'Store ' || s, 'store', "
        f"'/' || md5('region' || s % 4) || '/' || md5('ou' || s) || '/', md5('region' || s % 4), "
        f"{common} FROM generate_series(1, 48) s",
        f"INSERT INTO journeys (id, name, workspace_id, created_at, updated_at) "
        f"SELECT md5('j' || j), 'Journey ' || j, {common} FROM generate_series(0, 1) j",
        f"INSERT INTO journey_stages (id, journey_id, name, position, workspace_id, created_at, "
        f"updated_at) SELECT md5('st' || s), md5('j' || s / 4), 'Stage ' || s, s % 4, {common} "
        f"FROM generate_series(0, 7) s",
        f"INSERT INTO touchpoints (id, stage_id, name, channel, owner_department, controllable, "
        f"workspace_id, created_at, updated_at) SELECT md5('tp' || t), md5('st' || t % 8), "
        f"'Touchpoint ' || t, 'web', 'service', true, {common} FROM generate_series(0, 39) t",
        f"INSERT INTO segments (id, name, workspace_id, created_at, updated_at) "
        f"SELECT md5('sg' || s), 'Segment ' || s, {common} FROM generate_series(0, 19) s",
        f"INSERT INTO surveys (id, name, status, default_language, languages, workspace_id, "
        f"created_at, updated_at) VALUES (md5('survey'), 'Post-flight', 'active', 'en', "
        f"'[\"en\"]', {common})",
        f"INSERT INTO survey_versions (id, survey_id, number, definition, published_at, "
        f"workspace_id) VALUES (md5('version'), md5('survey'), 1, '{{}}', {now}, '{WORKSPACE}')",
        f"INSERT INTO customers (id, display_name, org_unit_id, attributes, first_seen_at, "
        f"workspace_id, created_at, updated_at) SELECT md5('c' || g), 'Customer ' || g, "
        f"md5('ou' || (1 + g % 48)), jsonb_build_object('tier', (ARRAY['blue', 'silver', "
        f"'gold', 'platinum'])[1 + g % 4]), {now}, {common} "
        f"FROM generate_series(0, {CUSTOMERS - 1}) g",
        f"INSERT INTO customer_segments (customer_id, segment_id) "
        f"SELECT md5('c' || g), md5('sg' || g % 20) FROM generate_series(0, {CUSTOMERS - 1}) g",
    ]
    for statement in statements:
        _sql(engine, statement)


def feedback_select(first: int, last: int, start: str = "2024-01-01", span: int = SECONDS) -> str:
    """Return the SELECT generating feedback items number `first` to `last`."""
    return f"""
SELECT md5('f' || g), '{WORKSPACE}', g % 3 <> 0,
  (ARRAY['survey', 'app_store', 'email', 'chat'])[1 + g % 4], 'r' || g,
  (ARRAY['web', 'app', 'email', 'phone', 'chat', 'store'])[1 + g % 6],
  md5('tp' || g % 40),
  CASE WHEN g % 5 = 0 THEN NULL ELSE md5('c' || g % {CUSTOMERS}) END,
  md5('ou' || (1 + g % 48)),
  timestamptz '{start}' + ((g::bigint * 7919) % {span}) * interval '1 second',
  timestamptz '{start}' + ((g::bigint * 7919) % {span} + 3600) * interval '1 second',
  CASE WHEN g % 3 = 0 THEN 'Boarding took ' || g % 90 || ' minutes; the crew was kind.' END,
  'en',
  CASE WHEN g % 3 <> 0 THEN (g * 31) % 11 END,
  CASE WHEN g % 2 = 0 THEN 1 + g % 5 END,
  CASE WHEN g % 7 = 0 THEN 1 + g % 7 END,
  CASE WHEN g % 3 = 0 THEN (1 + g % 5)::float END,
  CASE WHEN g % 3 = 0 THEN 5 END,
  '{{}}'::jsonb,
  CASE WHEN g % 10 < 8 THEN (ARRAY['negative', 'neutral', 'positive'])[1 + g % 3] END,
  (ARRAY[NULL, '[]', '["delay"]', '["delay", "crew"]', '["price", "seat", "food"]'])
    [1 + g % 5]::jsonb
FROM generate_series({first}::bigint, {last}::bigint) g"""


FEEDBACK_COLUMNS = (
    "id, workspace_id, solicited, source, source_ref, channel, touchpoint_id, customer_id, "
    "org_unit_id, occurred_at, received_at, text, language, nps, csat, ces, rating, "
    "rating_scale, metadata, sentiment, topics"
)


def _drop_indexes(engine: Engine) -> list[str]:
    """Drop the secondary indexes of the big tables (rebuilt after the load); return their DDL."""
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(:tables) "
                "AND indexname LIKE 'ix_%'"
            ),
            {"tables": list(TRIGGERED)},
        ).all()
    for name, _ in rows:
        _sql(engine, f'DROP INDEX "{name}"')
    return [definition for _, definition in rows]


def load_facts(engine: Engine, rows: int) -> None:
    """Insert the feedback items, their survey responses and the operational events."""
    for table in TRIGGERED:  # set-up, not what is measured: no marks for the bulk load
        _sql(engine, f"ALTER TABLE {table} DISABLE TRIGGER USER")
    indexes = _drop_indexes(engine)
    for first in range(0, rows, CHUNK):
        last = min(first + CHUNK, rows) - 1
        started = time.perf_counter()
        _sql(
            engine,
            f"INSERT INTO feedback_items ({FEEDBACK_COLUMNS}) {feedback_select(first, last)}",
        )
        _sql(
            engine,
            "INSERT INTO survey_responses (id, survey_id, version_id, resume_token, status, "
            "language, answers, page, completed_at, feedback_item_id, workspace_id, created_at, "
            "updated_at) SELECT md5('r' || g), md5('survey'), md5('version'), md5('t' || g), "
            "'completed', 'en', '{}', 0, now(), md5('f' || g), :ws, now(), now() "
            "FROM generate_series(:first, :last) g WHERE g % 10 = 1",
            ws=WORKSPACE,
            first=first,
            last=last,
        )
        _sql(
            engine,
            "INSERT INTO operational_events (id, workspace_id, type, name, source, occurred_at, "
            "received_at, customer_id, org_unit_id, value, currency, metadata) "
            "SELECT md5('e' || g), :ws, 'order', 'booking', 'shop', "
            f"timestamptz '2024-01-01' + ((g::bigint * 104729) % {SECONDS}) * interval '1 second', "
            "now(), md5('c' || g % :customers), md5('ou' || (1 + g % 48)), 100 + g % 400, 'EUR', "
            "'{}' FROM generate_series(:first, :last) g WHERE g % :every = 0",
            ws=WORKSPACE,
            first=first,
            last=last,
            customers=CUSTOMERS,
            every=EVENTS_PER_ITEM,
        )
        print(f"  loaded items {first:,}..{last:,} in {time.perf_counter() - started:.1f}s")
    started = time.perf_counter()
    for definition in indexes:
        with engine.begin() as connection:
            connection.execute(text("SET LOCAL maintenance_work_mem = '1GB'"))
            connection.execute(text(definition))
    print(f"  rebuilt {len(indexes)} indexes in {time.perf_counter() - started:.1f}s")
    for table in TRIGGERED:
        _sql(engine, f"ALTER TABLE {table} ENABLE TRIGGER USER")
    with engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT")
        connection.execute(text("VACUUM ANALYZE"))


def drain_copy(engine: Engine, sql: str, params: list[object]) -> int:
    """Run COPY (sql) TO STDOUT as CSV and drain it; return the bytes received."""
    raw = engine.raw_connection()
    received = 0
    try:
        connection = raw.driver_connection
        assert connection is not None
        with (
            connection.cursor() as cursor,
            cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)", params) as copy,
        ):
            for chunk in copy:
                received += len(chunk)
        connection.rollback()
    finally:
        raw.close()
    return received


def insert_new_items(engine: Engine, start: int, count: int) -> float:
    """Insert `count` new items into the latest month (triggers on); return the seconds."""
    select = feedback_select(start, start + count - 1, start=f"{LAST_MONTH}-01", span=20 * 86400)
    seconds, _ = _timed(
        lambda: _sql(engine, f"INSERT INTO feedback_items ({FEEDBACK_COLUMNS}) {select}")
    )
    return seconds


def mark_partition_stale(engine: Engine) -> None:
    """Add a partition mark for the latest month, so the next export rewrites it whole."""
    _sql(
        engine,
        "INSERT INTO analytics_changes (workspace_id, dataset, month, claimed) "
        "VALUES (:ws, 'feedback', :month, false)",
        ws=WORKSPACE,
        month=LAST_MONTH,
    )


def trigger_cost(engine: Engine, rows: int) -> dict[str, float]:
    """Time inserting `rows` items with the change triggers off and on (rolled back)."""
    select = feedback_select(10**9, 10**9 + rows - 1, start=f"{LAST_MONTH}-01", span=20 * 86400)
    timings = {}
    for state in ("DISABLE", "ENABLE"):
        with engine.connect() as connection:
            transaction = connection.begin()
            connection.execute(text(f"ALTER TABLE feedback_items {state} TRIGGER USER"))
            started = time.perf_counter()
            connection.execute(text(f"INSERT INTO feedback_items ({FEEDBACK_COLUMNS}) {select}"))
            timings[state.lower() + "d"] = time.perf_counter() - started
            transaction.rollback()
    return timings


def main() -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--new", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3, help="incremental runs (median)")
    parser.add_argument("--full-repeat", type=int, default=1, help="full export runs")
    parser.add_argument("--server", default="postgresql+psycopg://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default="bench_analytics")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true", help="reuse a kept database as loaded")
    args = parser.parse_args()

    engine = create_database(args.server, args.database, reuse=args.reuse)
    if not args.reuse:
        print(f"loading {args.rows:,} feedback items into {args.database} ...")
        started = time.perf_counter()
        load_reference_rows(engine)
        load_facts(engine, args.rows)
        print(f"loaded in {time.perf_counter() - started:.0f}s")
    with engine.connect() as connection:
        items = connection.scalar(text("SELECT count(*) FROM feedback_items")) or 0
    dialect = Dialect("postgresql")
    results: dict[str, object] = {"feedback_items": items}
    workdir = Path(tempfile.mkdtemp(prefix="tp-bench-analytics-"))
    try:
        full_runs, baseline_runs = [], []
        for run in range(args.full_repeat):
            root = workdir / f"full-{run}"
            seconds, summary = _timed(partial(AnalyticsExporter(engine, root).rebuild))
            full_runs.append((seconds, summary))
            print(f"full export {run + 1}: {seconds:.1f}s {summary.as_dict()['datasets']}")
            sql, params = dataset_query(FEEDBACK, dialect, None)
            baseline, size = _timed(partial(drain_copy, engine, sql, params))
            baseline_runs.append(baseline)
            print(
                f"baseline COPY of the feedback SELECT: {baseline:.1f}s ({size / 1e9:.2f} GB CSV)"
            )
        full = statistics.median(s for s, _ in full_runs)
        feedback_seconds = statistics.median(
            next(d.seconds for d in summary.datasets if d.dataset == "feedback")
            for _, summary in full_runs
        )
        results |= {
            "full_export_s": round(full, 2),
            "full_export_feedback_s": round(feedback_seconds, 2),
            "baseline_copy_feedback_s": round(statistics.median(baseline_runs), 2),
            "full_runs_s": [round(s, 2) for s, _ in full_runs],
        }
        root = workdir / f"full-{args.full_repeat - 1}"
        incremental_runs, inserts, partition_baselines, rewrites = [], [], [], []
        exported: list[DatasetExport] = []
        # New ids after every item there is, so a kept database can be timed again.
        first_new = 10**8 + items
        for run in range(args.repeat):
            inserts.append(insert_new_items(engine, first_new + run * args.new, args.new))
            seconds, summary = _timed(partial(AnalyticsExporter(engine, root).export))
            incremental_runs.append(seconds)
            feedback = next(d for d in summary.datasets if d.dataset == "feedback")
            exported.append(feedback)
            sql, params = dataset_query(FEEDBACK, dialect, {WORKSPACE: frozenset({LAST_MONTH})})
            baseline, _ = _timed(partial(drain_copy, engine, sql, params))
            partition_baselines.append(baseline)
            mark_partition_stale(engine)
            rewrite, _ = _timed(partial(AnalyticsExporter(engine, root).export))
            rewrites.append(rewrite)
            print(
                f"incremental {run + 1}: {seconds:.2f}s ({feedback.partitions_merged} of "
                f"{feedback.partitions_written} partitions merged, {feedback.rows_from_store:,} "
                f"rows read from PostgreSQL, {feedback.rows:,} rows written), insert "
                f"{inserts[-1]:.2f}s, baseline COPY of the partition {baseline:.2f}s, "
                f"the same partition rewritten {rewrite:.2f}s"
            )
        results |= {
            "incremental_export_s": round(statistics.median(incremental_runs), 3),
            "incremental_runs_s": [round(s, 3) for s in incremental_runs],
            "incremental_rows_from_store": [d.rows_from_store for d in exported],
            "incremental_rows_written": [d.rows for d in exported],
            "incremental_partitions_merged": [d.partitions_merged for d in exported],
            "baseline_copy_partition_s": round(statistics.median(partition_baselines), 3),
            "partition_rewrite_s": round(statistics.median(rewrites), 3),
            "insert_new_items_s": round(statistics.median(inserts), 3),
            "trigger_cost_100k_rows_s": {
                k: round(v, 3) for k, v in trigger_cost(engine, 100_000).items()
            },
            f"trigger_cost_{args.new}_rows_s": {
                k: round(v, 3) for k, v in trigger_cost(engine, args.new).items()
            },
        }
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        engine.dispose()
        if not args.keep:
            drop_database(args.server, args.database)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
