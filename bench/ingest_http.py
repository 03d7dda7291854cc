"""Load-test HTTP ingestion of single feedback items, next to GET /healthz served the same way.

The real app (`touchpoints serve --no-worker`, one uvicorn process) serves a fresh store: a new
SQLite data directory, then a new schema in the PostgreSQL database `test`. The load comes from
`wrk` (C, one thread, N keep-alive connections; `apt-get install wrk`), a separate process that
leaves the server most of the second core. Each POST /api/v1/feedback carries a distinct
`source_ref`, so every request stores a new item. The baselines, under the same load: GET
/healthz (routing plus one `SELECT 1`) and GET /livez (routing only: the most any endpoint
served this way can do).

Usage: python bench/ingest_http.py [--seconds 15] [--connections 16] [--runs 3]
                                   [--processes 1] [--stores sqlite,postgresql] [--pg-url URL]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from touchpoints.db.engine import make_engine
from touchpoints.db.registry import load_metadata

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CLI = [str(Path(sys.executable).with_name("touchpoints"))]
SECRET = "bench-secret-key-0123456789-abcdefghijklmnop"

# wrk script: a distinct source_ref per request; `done` prints one JSON line of results.
POST_SCRIPT = """
local counter = 0
local prefix = "%(prefix)s"
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %(token)s"
request = function()
  counter = counter + 1
  local body = '{"source":"bench","source_ref":"' .. prefix .. counter ..
    '","channel":"web","occurred_at":"2026-11-01T10:00:00Z",' ..
    '"text":"The boarding was quick and the crew friendly","scores":{"nps":9}}'
  return wrk.format(nil, nil, nil, body)
end
%(done)s
"""
GET_SCRIPT = """
wrk.headers["Authorization"] = "Bearer %(token)s"
%(done)s
"""
DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,' ..
    '"non2xx":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect, e.read, e.write, e.timeout))
end
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(data_dir: Path, url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOUCHPOINTS_")}
    env.update(TOUCHPOINTS_DATA_DIR=str(data_dir), TOUCHPOINTS_SECRET_KEY=SECRET)
    if url is not None:
        env["TOUCHPOINTS_DATABASE_URL"] = url
    return env


def _cli(env: dict[str, str], *args: str) -> Any:
    done = subprocess.run([*CLI, *args, "--json"], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"touchpoints {' '.join(args)} failed: {done.stderr}")
    return json.loads(done.stdout)


def prepare(env: dict[str, str], url: str) -> str:
    """Create the schema, a workspace and its admin; return an admin API token."""
    engine = make_engine(url)
    try:
        load_metadata().create_all(engine)
    finally:
        engine.dispose()
    _cli(env, "workspaces", "create", "bench", "--name", "Bench Air")
    _cli(env, "users", "create", "--email", "admin@bench-air.example.com", "--role", "admin")
    token = _cli(env, "tokens", "create", "--name", "bench")
    return str(token["token"])


@contextmanager
def serving(
    env: dict[str, str], port: int, log: Path, processes: int = 1, access_log: bool = True
) -> Iterator[str]:
    """Run `touchpoints serve` in a subprocess until the block ends; yield its base URL."""
    cmd = [*CLI, "serve", "--no-worker", "--no-migrate", "--port", str(port)]
    cmd += ["--processes", str(processes)]
    if not access_log:
        cmd.append("--no-access-log")
    with log.open("w") as out:
        server = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"server did not start; see {log}")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def run_wrk(url: str, script: str, seconds: int, connections: int) -> dict[str, float]:
    """Drive `url` with wrk; return requests/s, p50/p99 in ms and the error count."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", "-s"]
    done = subprocess.run([*cmd, handle.name, url], capture_output=True, text=True, check=True)
    os.unlink(handle.name)
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    raw = json.loads(line.removeprefix("RESULT "))
    errors = sum(raw[k] for k in ("non2xx", "connect", "read", "write", "timeout"))
    return {
        "rps": raw["requests"] / (raw["duration_us"] / 1e6),
        "p50_ms": raw["p50_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "errors": errors,
        "requests": raw["requests"],
    }


def bench_store(name: str, env: dict[str, str], args: argparse.Namespace, log: Path) -> None:
    """Measure POST /api/v1/feedback, GET /healthz and GET /livez in turn; print runs, medians."""
    token = prepare(env, env.get("TOUCHPOINTS_DATABASE_URL") or _sqlite_url(env))
    results: dict[str, list[dict[str, float]]] = {"post": [], "healthz": [], "livez": []}
    with serving(env, _free_port(), log, args.processes, args.access_log) as base:
        run_wrk(f"{base}/healthz", GET_SCRIPT % {"token": token, "done": DONE}, 3, 4)  # warm-up
        for run in range(args.runs):
            post = POST_SCRIPT % {"prefix": f"r{run}-", "token": token, "done": DONE}
            results["post"].append(
                run_wrk(f"{base}/api/v1/feedback", post, args.seconds, args.connections)
            )
            get = GET_SCRIPT % {"token": token, "done": DONE}
            for kind in ("healthz", "livez"):
                results[kind].append(run_wrk(f"{base}/{kind}", get, args.seconds, args.connections))
            for kind in ("post", "healthz", "livez"):
                print(f"{name} run {run + 1} {kind}: {_fmt(results[kind][-1])}", flush=True)
    stored = _count_items(env.get("TOUCHPOINTS_DATABASE_URL") or _sqlite_url(env))
    _summary(name, results, stored)


def _fmt(r: dict[str, float]) -> str:
    return (
        f"{r['rps']:,.0f} req/s, p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, "
        f"errors {r['errors']:.0f} of {r['requests']:,.0f}"
    )


def _summary(name: str, results: dict[str, list[dict[str, float]]], stored: int) -> None:
    med = {
        kind: {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        for kind, runs in results.items()
    }
    sent_ok = sum(r["requests"] - r["errors"] for r in results["post"])
    print(f"{name} median POST /api/v1/feedback: {_fmt(med['post'])}")
    print(f"{name} median GET /healthz: {_fmt(med['healthz'])}")
    print(f"{name} median GET /livez: {_fmt(med['livez'])}")
    for kind in ("healthz", "livez"):
        ratio = med["post"]["rps"] / med[kind]["rps"]
        print(f"{name} ratio POST/{kind} throughput: {ratio:.2f}")
    print(f"{name} items stored: {stored:,} (successful POSTs: {sent_ok:,.0f})", flush=True)


def _sqlite_url(env: dict[str, str]) -> str:
    return f"sqlite:///{env['TOUCHPOINTS_DATA_DIR']}/touchpoints.db"


def _count_items(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text("SELECT count(*) FROM feedback_items")).scalar_one())
    finally:
        engine.dispose()


@contextmanager
def pg_schema(base_url: str) -> Iterator[str]:
    """Create a throwaway schema in the PostgreSQL database; yield a URL that uses it."""
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{base_url}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def main() -> None:
    """Run the benchmark on each store and print every run and the medians."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--processes", type=int, default=1, help="server processes")
    parser.add_argument(
        "--access-log",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="serve with uvicorn's per-request access log (`touchpoints serve --no-access-log`)",
    )
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default=PG_URL)
    args = parser.parse_args()
    print(
        f"{date.today()} {platform.machine()} {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; wrk -t1 -c{args.connections} -d{args.seconds}s; "
        f"{args.processes} server process(es), access log {'on' if args.access_log else 'off'}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for store in args.stores.split(","):
            data_dir = folder / store
            data_dir.mkdir()
            if store == "sqlite":
                bench_store(store, _env(data_dir, None), args, folder / "sqlite.log")
            else:
                with pg_schema(args.pg_url) as url:
                    bench_store(store, _env(data_dir, url), args, folder / "pg.log")


if __name__ == "__main__":
    main()
