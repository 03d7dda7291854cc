"""Time NPS with intervals by 50 segments x 24 months over 10,000,000 responses.

Writes the responses in the analytics layout (feedback partitioned by month, customers with
their segments), then times, interleaved and repeated (median):

* our metric engine on DuckDB (`MetricQuery("nps", by="segment", period="month")`: plan,
  engine, intervals, suppression and month-on-month significance with Holm);
* a hand-written DuckDB SQL query computing the same numbers (counts and trinomial
  intervals in SQL), joining the answers to the customers' segments;
* the same hand-written SQL through the segment sets on the feedback rows, as the engine
  groups them (counts by set and month, then the few (set, segment) pairs joined);
* pandas: merge and groupby over the columns already in memory (loading them is reported too);
* PostgreSQL: the same GROUP BY over the same rows COPYed into a scratch schema (dropped after);
* Spark local mode through the same metric engine (session start reported apart).

Also reported: NPS by touchpoint x month, which needs no join (the scan-and-aggregate cost).

Usage: python bench/metrics_nps.py [--rows N] [--customers N] [--runs N] [--store DIR]
       [--skip-postgres] [--skip-spark] [--postgres-url URL]
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from touchpoints.analytics.engine import DuckDBEngine, SparkEngine, spark_session
from touchpoints.analytics.layout import CUSTOMERS, FEEDBACK, dataset_glob, partition_dir
from touchpoints.analytics.query import MetricQuery
from touchpoints.analytics.segment_sets import segment_set_id

WORKSPACE = "bench"
SEGMENTS, MONTHS, TOUCHPOINTS = 50, 24, 50
# NPS and its trinomial interval from the counts of each (segment, month): both hand SQLs.
NPS_FROM_COUNTS = """
SELECT segment, month, n, promoters, detractors,
       100.0 * (promoters - detractors) / n AS nps,
       100.0 * sqrt(greatest((promoters + detractors) / n
                    - ((promoters - detractors) / n) ^ 2, 0) / n) AS se,
       nps - 1.959963984540054 * se AS low, nps + 1.959963984540054 * se AS high
FROM counts
"""
HAND_SQL = (
    """
WITH counts AS (
  SELECT s.segment, f.month, count(f.nps) AS n,
         count_if(f.nps >= 9) AS promoters, count_if(f.nps <= 6) AS detractors
  FROM read_parquet('{feedback}') f
  LEFT JOIN (SELECT customer_id, unnest(segments) AS segment
             FROM read_parquet('{customers}')) s USING (customer_id)
  WHERE f.nps IS NOT NULL
  GROUP BY ALL
)
"""
    + NPS_FROM_COUNTS
)
HAND_SQL_SETS = (
    """
WITH by_set AS (
  SELECT segment_set, month, count(nps) AS n,
         count_if(nps >= 9) AS promoters, count_if(nps <= 6) AS detractors
  FROM read_parquet('{feedback}')
  WHERE nps IS NOT NULL
  GROUP BY ALL
), names AS (
  SELECT DISTINCT segment_set, unnest(segments) AS segment
  FROM read_parquet('{customers}') WHERE segment_set IS NOT NULL
), counts AS (
  SELECT s.segment, b.month, sum(b.n) AS n, sum(b.promoters) AS promoters,
         sum(b.detractors) AS detractors
  FROM by_set b LEFT JOIN names s USING (segment_set)
  GROUP BY ALL
)
"""
    + NPS_FROM_COUNTS
)
PG_SQL = """
SELECT s.segment, f.month, count(f.nps), count(*) FILTER (WHERE f.nps >= 9),
       count(*) FILTER (WHERE f.nps <= 6)
FROM feedback f LEFT JOIN customer_segments s USING (customer_id)
WHERE f.nps IS NOT NULL GROUP BY 1, 2
"""


def write_store(root: Path, rows: int, customers: int, seed: int = 1) -> None:
    """Write `rows` responses over 24 months and `customers` customers in 50 segments."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"cust-{i:08d}" for i in range(customers)], dtype=object)
    segment = rng.integers(0, SEGMENTS, customers)
    # The set of each segment's id, as the exporter writes it on customers and their answers.
    set_of_segment = np.array([segment_set_id([f"sg-{s:02d}"]) for s in range(SEGMENTS)])
    sets = set_of_segment[segment]
    table = pa.table(
        {
            "customer_id": pa.array(ids, pa.string()),
            "workspace_id": pa.array(np.full(customers, WORKSPACE)),
            "segments": pa.array([[f"segment-{s:02d}"] for s in segment], pa.list_(pa.string())),
            "segment_set": pa.array(sets, pa.int64()),
            "attributes": pa.array(np.full(customers, "{}")),
        }
    )
    folder = partition_dir(root, CUSTOMERS, WORKSPACE, None)
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(_conform(table, CUSTOMERS.schema), folder / "part-0.parquet")
    per_month = rows // MONTHS
    for index in range(MONTHS):
        year, month = 2023 + index // 12, index % 12 + 1
        start = int(datetime(year, month, 1, tzinfo=UTC).timestamp() * 1e6)
        times = start + rng.integers(0, 28 * 86_400_000_000, per_month)
        scores = rng.choice(11, per_month, p=_nps_mix(index)).astype(np.int8)
        # Drawn in the order of earlier versions, so the rows stay the same.
        touchpoints = rng.integers(0, TOUCHPOINTS, per_month)
        answering = rng.integers(0, customers, per_month)
        part = pa.table(
            {
                "feedback_item_id": pa.array(
                    np.char.add(f"fb-{index}-", np.arange(per_month).astype(str))
                ),
                "workspace_id": pa.array(np.full(per_month, WORKSPACE)),
                "month": pa.array(np.full(per_month, f"{year}-{month:02d}")),
                "occurred_at": pa.array(times, pa.timestamp("us", tz="UTC")),
                "channel": pa.array(np.full(per_month, "email")),
                "touchpoint_id": pa.array(np.char.add("tp-", touchpoints.astype(str))),
                "customer_id": pa.array(ids[answering], pa.string()),
                "segment_set": pa.array(sets[answering], pa.int64()),
                "nps": pa.array(scores),
            }
        )
        folder = partition_dir(root, FEEDBACK, WORKSPACE, f"{year}-{month:02d}")
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(
            _conform(part, FEEDBACK.schema), folder / "part-0.parquet", row_group_size=122_880
        )


def _in_layout(root: Path) -> bool:
    """Tell whether `root` holds a store written in the current layout; clear an older one."""
    files = {
        dataset: sorted((root / dataset.name).glob("*/*/*.parquet"))
        for dataset in (FEEDBACK, CUSTOMERS)
    }
    if all(files.values()) and all(
        pq.read_schema(path).equals(dataset.schema)
        for dataset, paths in files.items()
        for path in paths
    ):
        return True
    for dataset in files:  # e.g. written before segment sets: write it anew
        shutil.rmtree(root / dataset.name, ignore_errors=True)
    return False


def _nps_mix(month: int) -> list[float]:
    drift = 0.002 * month
    weights = [0.04, 0.02, 0.02, 0.03, 0.04, 0.07, 0.08, 0.12, 0.18, 0.2 + drift, 0.2 - drift]
    return [w / sum(weights) for w in weights]


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    columns = [
        table.column(f.name).cast(f.type)
        if f.name in table.column_names
        else pa.nulls(table.num_rows, f.type)
        for f in schema
    ]
    return pa.Table.from_arrays(columns, schema=schema)


def timed(runs: int, **calls: Callable[[], object]) -> dict[str, list[float]]:
    """Run each call once to warm up, then `runs` rounds interleaved; seconds per run."""
    for call in calls.values():
        call()
    times: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(runs):
        for name, call in calls.items():
            started = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - started)
    return times


def bench_duckdb(root: Path, runs: int) -> dict[str, list[float]]:
    """Time the metric engine against hand-written SQL, both on DuckDB in this process."""
    engine = DuckDBEngine()
    files = {
        "feedback": dataset_glob(root, FEEDBACK, WORKSPACE),
        "customers": dataset_glob(root, CUSTOMERS, WORKSPACE),
    }
    sql, sql_sets = HAND_SQL.format(**files), HAND_SQL_SETS.format(**files)
    by_segment = MetricQuery("nps", by=("segment",), period="month")
    by_touchpoint = MetricQuery("nps", by=("touchpoint",), period="month")
    result = by_segment.run(root=root, workspace_id=WORKSPACE, engine=engine)
    for query in (sql, sql_sets):
        check = engine.connection.sql(query).to_arrow_table()
        _same_numbers(result.records(), check.to_pylist())
    return timed(
        runs,
        engine=lambda: by_segment.run(root=root, workspace_id=WORKSPACE, engine=engine),
        hand_sql=lambda: engine.connection.sql(sql).to_arrow_table(),
        hand_sql_sets=lambda: engine.connection.sql(sql_sets).to_arrow_table(),
        engine_touchpoint=lambda: by_touchpoint.run(
            root=root, workspace_id=WORKSPACE, engine=engine
        ),
    )


def _same_numbers(ours: list[dict[str, Any]], theirs: list[dict[str, Any]]) -> None:
    expected = {(row["segment"], row["month"]): row for row in theirs}
    assert len(ours) == len(expected) == SEGMENTS * MONTHS, (len(ours), len(expected))
    for row in ours:
        other = expected[(row["segment"], row["period_label"])]
        assert row["n"] == other["n"]
        assert abs(row["value"] - other["nps"]) < 1e-9 and abs(row["low"] - other["low"]) < 1e-9


def bench_pandas(root: Path, runs: int) -> tuple[float, list[float]]:
    """Time pandas merge + groupby on columns already loaded; return (load s, runs)."""
    import pandas as pd

    started = time.perf_counter()
    answers = pq.read_table(root / "feedback", columns=["customer_id", "month", "nps"]).to_pandas()
    customers = pq.read_table(root / "customers", columns=["customer_id", "segments"])
    segments = customers.to_pandas().explode("segments").rename(columns={"segments": "segment"})
    load = time.perf_counter() - started

    def nps_by_segment() -> pd.DataFrame:
        joined = answers.merge(segments, on="customer_id", how="left")
        joined = joined[joined["nps"].notna()]
        score = joined["nps"]
        frame = joined.assign(promoter=score >= 9, detractor=score <= 6)
        counts = frame.groupby(["segment", "month"]).agg(
            n=("nps", "size"), promoters=("promoter", "sum"), detractors=("detractor", "sum")
        )
        share_p, share_d = counts.promoters / counts.n, counts.detractors / counts.n
        counts["nps"] = 100 * (share_p - share_d)
        counts["se"] = 100 * np.sqrt((share_p + share_d - (share_p - share_d) ** 2) / counts.n)
        return counts

    return load, timed(runs, pandas=nps_by_segment)["pandas"]


def bench_postgres(root: Path, runs: int, url: str) -> tuple[float, list[float]]:
    """COPY the rows into a scratch schema, time the GROUP BY, drop the schema."""
    import duckdb
    import psycopg

    schema = f"bench_metrics_{int(time.time())}"
    with tempfile.TemporaryDirectory() as scratch, psycopg.connect(url, autocommit=True) as pg:
        feedback_csv, segments_csv = Path(scratch) / "f.csv", Path(scratch) / "s.csv"
        local = duckdb.connect()
        local.sql(
            f"COPY (SELECT customer_id, month, nps FROM read_parquet("
            f"'{dataset_glob(root, FEEDBACK, WORKSPACE)}')) TO '{feedback_csv}'"
        )
        local.sql(
            f"COPY (SELECT customer_id, unnest(segments) FROM read_parquet("
            f"'{dataset_glob(root, CUSTOMERS, WORKSPACE)}')) TO '{segments_csv}'"
        )
        pg.execute(f'CREATE SCHEMA "{schema}"')
        try:
            pg.execute(f'SET search_path TO "{schema}"')
            pg.execute("CREATE TABLE feedback (customer_id text, month text, nps smallint)")
            pg.execute("CREATE TABLE customer_segments (customer_id text, segment text)")
            started = time.perf_counter()
            for table, path in (("feedback", feedback_csv), ("customer_segments", segments_csv)):
                with (
                    pg.cursor().copy(f"COPY {table} FROM STDIN (FORMAT csv, HEADER)") as copy,
                    path.open("rb") as source,
                ):
                    while chunk := source.read(1 << 20):
                        copy.write(chunk)
            pg.execute("ANALYZE")
            load = time.perf_counter() - started
            times = timed(runs, postgres=lambda: pg.execute(PG_SQL).fetchall())["postgres"]
        finally:
            pg.execute(f'DROP SCHEMA "{schema}" CASCADE')
    return load, times


def bench_spark(root: Path, runs: int) -> tuple[float, list[float]]:
    """Time the same metric engine on Spark local mode; return (session start s, runs)."""
    started = time.perf_counter()
    session = spark_session("local[2]")
    start = time.perf_counter() - started
    engine = SparkEngine(session)
    query = MetricQuery("nps", by=("segment",), period="month")
    times = timed(runs, spark=lambda: query.run(root=root, workspace_id=WORKSPACE, engine=engine))[
        "spark"
    ]
    session.stop()
    return start, times


def main() -> None:
    """Write (or reuse) the store, run every timing and print medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--store", type=Path, help="reuse (or create) the store in this folder")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-spark", action="store_true")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = args.store or Path(scratch) / "analytics"
        if not _in_layout(root):
            started = time.perf_counter()
            write_store(root, args.rows, args.customers)
            print(f"wrote {args.rows:,} responses in {time.perf_counter() - started:.1f} s")
        figures: dict[str, Any] = {
            "machine": f"{platform.machine()}, Python {platform.python_version()}",
            "rows": args.rows,
        }
        figures.update({k: statistics.median(v) for k, v in bench_duckdb(root, args.runs).items()})
        load, runs = bench_pandas(root, max(args.runs // 2, 3))
        figures.update(pandas=statistics.median(runs), pandas_load=load)
        if not args.skip_postgres:
            load, runs = bench_postgres(root, max(args.runs // 2, 3), args.postgres_url)
            figures.update(postgres=statistics.median(runs), postgres_load=load)
        if not args.skip_spark:
            start, runs = bench_spark(root, 3)
            figures.update(spark=statistics.median(runs), spark_session_start=start)
        figures["engine_vs_hand_sql"] = figures["engine"] / figures["hand_sql"]
        figures["engine_vs_hand_sql_sets"] = figures["engine"] / figures["hand_sql_sets"]
        print(
            json.dumps(
                {k: round(v, 4) if isinstance(v, float) else v for k, v in figures.items()},
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
