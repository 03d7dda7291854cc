"""Time GET /overview (and GET /inbox) at 1,000,000 feedback items on the embedded SQLite store.

Builds the demo airline with a million feedback items into a fresh SQLite file, exports it to
the analytics store the overview reads, signs its admin in, and times the pages server-side
through an in-process TestClient: a warm-up, then N requests each; median and p95. Baseline in
the same run: the monthly NPS query straight over feedback_items in the operational store.

Usage: python bench/overview_inbox.py [--customers N] [--feedback N] [--requests N] [--store PATH]
(--store reuses a store this script built before instead of building a new one).
"""

from __future__ import annotations

import argparse
import platform
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from touchpoints.analytics.export import AnalyticsExporter
from touchpoints.api.app import create_app
from touchpoints.auth.models import User
from touchpoints.config import Settings
from touchpoints.db.engine import make_engine, make_session_factory
from touchpoints.db.registry import load_metadata
from touchpoints.demo import DemoSpec, build_demo
from touchpoints.orgs.models import Workspace
from touchpoints.web.sessions import SESSION_COOKIE, start_session

END = date(2026, 10, 1)
BASELINE_SQL = """
SELECT substr(occurred_at, 1, 7) AS month,
       sum(nps >= 9), sum(nps BETWEEN 7 AND 8), sum(nps <= 6), count(nps)
FROM feedback_items
WHERE workspace_id = ? AND occurred_at >= ? AND occurred_at < ?
GROUP BY month
"""


def build_store(path: Path, spec: DemoSpec) -> float:
    """Build the demo into a new SQLite file; return the seconds it took."""
    engine = make_engine(f"sqlite:///{path}")
    try:
        load_metadata().create_all(engine)
        started = time.perf_counter()
        build_demo(session_factory=make_session_factory(engine), spec=spec)
        return time.perf_counter() - started
    finally:
        engine.dispose()


def export_store(path: Path) -> float:
    """Export the store to its analytics folder (the overview reads it); return the seconds."""
    engine = make_engine(f"sqlite:///{path}")
    try:
        summary = AnalyticsExporter(engine, analytics_dir(path)).export()
        return float(summary.seconds)
    finally:
        engine.dispose()


def analytics_dir(path: Path) -> Path:
    """Return the analytics folder next to a store file."""
    return path.parent / f"{path.stem}-analytics"


def timed(call: Callable[[], object], requests: int) -> list[float]:
    """Run `call` once to warm up, then `requests` times; return the milliseconds of each."""
    call()
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return times


def summary(label: str, times: list[float]) -> str:
    """Write the median and p95 of a list of milliseconds."""
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"{label:<44} median {statistics.median(ordered):8.1f} ms | p95 {p95:8.1f} ms"


def signed_in_client(path: Path, spec: DemoSpec) -> tuple[TestClient, str]:
    """Return a TestClient with the demo admin's session cookie, and the workspace id."""
    settings = Settings(
        environment="test",  # type: ignore[arg-type]
        database_url=f"sqlite:///{path}",
        analytics_dir=analytics_dir(path),
    )
    session_factory = make_session_factory(make_engine(f"sqlite:///{path}"))
    with session_factory() as session, session.begin():
        workspace = session.scalars(select(Workspace).where(Workspace.slug == spec.slug)).one()
        user = session.scalars(select(User).where(User.email == spec.admin_email)).one()
        _, cookie = start_session(
            db_session=session,
            settings=settings,
            user=user,
            workspace_id=workspace.id,
            ip_address="127.0.0.1",
            user_agent="bench",
        )
        workspace_id = workspace.id
    app = create_app(settings, session_factory=session_factory)
    client = TestClient(app, follow_redirects=False)
    client.cookies.set(SESSION_COOKIE, cookie)
    return client, workspace_id


def page_timer(client: TestClient, url: str) -> Callable[[], object]:
    """Return a call that GETs a page and insists on a 200."""

    def get() -> object:
        response = client.get(url)
        if url.startswith("/overview") and "\u00b1" not in response.text:
            raise SystemExit(f"GET {url} shows no interval: the analytics store is empty?")
        if response.status_code != 200:
            raise SystemExit(f"GET {url} answered {response.status_code}: {response.text[:300]}")
        return response

    return get


def baseline_timer(path: Path, workspace_id: str) -> Callable[[], object]:
    """Return a call running the monthly NPS GROUP BY over feedback_items (24 months)."""
    connection = sqlite3.connect(path)
    return lambda: connection.execute(
        BASELINE_SQL, (workspace_id, "2024-10-01", "2026-10-01")
    ).fetchall()


def inbox_is_served() -> bool:
    """Tell whether the inbox page module has a GET /inbox route yet."""
    from touchpoints.web.pages import inbox

    return any(getattr(route, "path", None) == "/inbox" for route in inbox.router.routes)


def main() -> None:
    """Build (or reuse) the store, time the pages and the baseline, print the figures."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--feedback", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--store", type=Path, default=None)
    args = parser.parse_args()
    spec = DemoSpec(customers=args.customers, feedback=args.feedback, end=END)
    print(f"{platform.node()} {platform.machine()} python {platform.python_version()}")
    with tempfile.TemporaryDirectory(prefix="tp-overview-bench-") as folder:
        path = args.store or Path(folder) / "touchpoints.db"
        if args.store is None or not path.exists():
            seconds = build_store(path, spec)
            print(f"built {args.feedback:,} feedback items in {seconds:.1f} s into {path}")
        print(f"analytics export: {export_store(path):.1f} s")
        client, workspace_id = signed_in_client(path, spec)
        with client:
            pages = ["/overview", "/overview?months=18", "/overview?months=3"]
            pages += ["/inbox"] if inbox_is_served() else []
            for url in pages:
                print(summary(f"GET {url}", timed(page_timer(client, url), args.requests)))
        baseline = timed(baseline_timer(path, workspace_id), args.requests)
        print(summary("baseline: monthly NPS GROUP BY on feedback_items", baseline))


if __name__ == "__main__":
    main()
