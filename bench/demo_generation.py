"""Time `build_demo` with the default spec into a fresh SQLite file; print the median of 3 runs.

Usage: python bench/demo_generation.py [--runs N] [--customers N] [--feedback N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from touchpoints.db.engine import make_engine, make_session_factory
from touchpoints.db.registry import load_metadata
from touchpoints.demo import DemoSpec, DemoSummary, build_demo

END = date(2026, 10, 1)


def run_once(folder: Path, spec: DemoSpec) -> tuple[float, DemoSummary]:
    """Build the demo into a new SQLite store in `folder`; return the seconds and the summary."""
    engine = make_engine(f"sqlite:///{folder / 'touchpoints.db'}")
    try:
        # The schema is created outside the timing: only the demo build is measured.
        load_metadata().create_all(engine)
        started = time.perf_counter()
        summary = build_demo(session_factory=make_session_factory(engine), spec=spec)
        return time.perf_counter() - started, summary
    finally:
        engine.dispose()


def main() -> None:
    """Run the benchmark and print each run and the median."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--customers", type=int, default=DemoSpec.customers)
    parser.add_argument("--feedback", type=int, default=DemoSpec.feedback)
    args = parser.parse_args()
    spec = DemoSpec(customers=args.customers, feedback=args.feedback, end=END)
    timings = []
    for run in range(1, args.runs + 1):
        with tempfile.TemporaryDirectory(prefix="tp-demo-bench-") as folder:
            seconds, summary = run_once(Path(folder), spec)
            size_mb = (Path(folder) / "touchpoints.db").stat().st_size / 1e6
        timings.append(seconds)
        print(
            f"run {run}: {seconds:6.2f} s  ({summary.customers:,} customers, "
            f"{summary.feedback_items:,} feedback items, {summary.events:,} events, "
            f"{size_mb:.0f} MB)"
        )
    print(f"median of {len(timings)}: {statistics.median(timings):.2f} s")


if __name__ == "__main__":
    main()
