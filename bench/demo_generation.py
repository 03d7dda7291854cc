"""Time the default demo build into a fresh SQLite file, next to a raw-insert baseline.

The baseline writes exactly the rows the demo produced, with the sqlite3 module's
executemany into an empty schema in one transaction (same pragmas): the floor for storing
that data. The ratio says what generating it costs on top.

Usage: python bench/demo_generation.py [--runs N] [--customers N] [--feedback N]
"""

from __future__ import annotations

import argparse
import platform
import sqlite3
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from touchpoints.db.engine import make_engine, make_session_factory
from touchpoints.db.registry import load_metadata
from touchpoints.demo import DemoSpec, DemoSummary, build_demo

END = date(2026, 10, 1)


def _empty_store(path: Path) -> None:
    engine = make_engine(f"sqlite:///{path}")
    try:
        load_metadata().create_all(engine)
    finally:
        engine.dispose()


def build_once(folder: Path, spec: DemoSpec) -> tuple[float, DemoSummary]:
    """Build the demo into a new SQLite store; return the seconds and the summary."""
    path = folder / "touchpoints.db"
    _empty_store(path)  # the schema is created outside the timing
    engine = make_engine(f"sqlite:///{path}")
    try:
        started = time.perf_counter()
        summary = build_demo(session_factory=make_session_factory(engine), spec=spec)
        return time.perf_counter() - started, summary
    finally:
        engine.dispose()


def baseline_once(folder: Path) -> tuple[float, int]:
    """Insert the demo's rows into an empty schema with raw executemany; return seconds, rows."""
    source = sqlite3.connect(folder / "touchpoints.db")
    tables = {
        table.name: source.execute(f'SELECT * FROM "{table.name}"').fetchall()
        for table in load_metadata().sorted_tables
    }
    source.close()
    target_path = folder / "baseline.db"
    _empty_store(target_path)
    target = sqlite3.connect(target_path, isolation_level=None)
    target.execute("PRAGMA journal_mode=WAL")
    target.execute("PRAGMA synchronous=NORMAL")
    target.execute("PRAGMA foreign_keys=ON")
    target.execute("PRAGMA cache_size=-262144")  # the 256 MB the demo build uses too
    started = time.perf_counter()
    target.execute("BEGIN IMMEDIATE")
    for name, rows in tables.items():
        if rows:
            marks = ", ".join("?" * len(rows[0]))
            target.executemany(f'INSERT INTO "{name}" VALUES ({marks})', rows)
    target.execute("COMMIT")
    seconds = time.perf_counter() - started
    target.close()
    return seconds, sum(len(rows) for rows in tables.values())


def main() -> None:
    """Run the benchmark and print each run and the medians."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--customers", type=int, default=DemoSpec.customers)
    parser.add_argument("--feedback", type=int, default=DemoSpec.feedback)
    args = parser.parse_args()
    spec = DemoSpec(customers=args.customers, feedback=args.feedback, end=END)
    print(f"{platform.node()} {platform.machine()} python {platform.python_version()}")
    builds, baselines = [], []
    for run in range(1, args.runs + 1):
        with tempfile.TemporaryDirectory(prefix="tp-demo-bench-") as name:
            folder = Path(name)
            seconds, summary = build_once(folder, spec)
            raw_seconds, rows = baseline_once(folder)
        builds.append(seconds)
        baselines.append(raw_seconds)
        print(
            f"run {run}: demo {seconds:6.2f} s | raw executemany of the same {rows:,} rows "
            f"{raw_seconds:5.2f} s | {summary.customers:,} customers, "
            f"{summary.feedback_items:,} feedback items, {summary.events:,} events"
        )
    demo, raw = statistics.median(builds), statistics.median(baselines)
    print(
        f"median of {len(builds)}: demo {demo:.2f} s, baseline {raw:.2f} s, ratio {demo / raw:.1f}x"
    )


if __name__ == "__main__":
    main()
