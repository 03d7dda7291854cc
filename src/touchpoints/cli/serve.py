"""`touchpoints serve` and `touchpoints worker`: run the API and the job workers."""

from __future__ import annotations

import os
from typing import Annotated

import typer
import uvicorn

from touchpoints.cli.common import DataDirOption, console, load_settings
from touchpoints.config import Settings
from touchpoints.db import migrate
from touchpoints.db.engine import engine_from_settings

HostOption = Annotated[str, typer.Option(help="Address to listen on.")]
PortOption = Annotated[int, typer.Option(help="Port to listen on.")]


def prepare_store(settings: Settings) -> None:
    """Create the data directory and bring the store to the newest schema."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = engine_from_settings(settings)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()


def run_server(
    settings: Settings,
    *,
    host: str,
    port: int,
    worker: bool,
    trusted_proxies: str | None = None,
    processes: int = 1,
    access_log: bool = True,
) -> None:
    """Serve the app (and, on request, in-process job workers) until interrupted."""
    options: dict[str, object] = {
        "host": host,
        "port": port,
        "log_level": "info",
        "access_log": access_log,
        "proxy_headers": trusted_proxies is not None,
        "forwarded_allow_ips": trusted_proxies,
    }
    if processes > 1:
        # Each process builds its own app from the environment; pass on what the CLI decided.
        os.environ["TOUCHPOINTS_DATA_DIR"] = str(settings.data_dir)
        os.environ["TOUCHPOINTS_EMBEDDED_WORKER"] = "true" if worker else "false"
        uvicorn.run(
            "touchpoints.api.app:create_app_from_environment",
            factory=True,
            workers=processes,
            **options,  # type: ignore[arg-type]
        )
        return
    from touchpoints.api.app import create_app

    uvicorn.run(create_app(settings, run_worker=worker), **options)  # type: ignore[arg-type]


def serve_command(
    data_dir: DataDirOption = None,
    host: HostOption = "127.0.0.1",
    port: PortOption = 8000,
    worker: Annotated[
        bool | None,
        typer.Option(
            "--worker/--no-worker",
            help="Run one job worker inside the server (default: on for SQLite, off for "
            "PostgreSQL, where `touchpoints worker` processes run separately).",
        ),
    ] = None,
    migrate_first: Annotated[
        bool, typer.Option("--migrate/--no-migrate", help="Apply migrations before serving.")
    ] = True,
    trusted_proxies: Annotated[
        str | None,
        typer.Option(
            help="Addresses of reverse proxies whose X-Forwarded-For is trusted (e.g. "
            "`127.0.0.1`), so sign-in limits and the audit log see the client's address.",
        ),
    ] = None,
    processes: Annotated[
        int,
        typer.Option(
            "--processes",
            min=1,
            max=64,
            help="Server processes sharing the port (about one per core). Each runs its own "
            "in-process worker when workers are on; rate limits are counted per process.",
        ),
    ] = 1,
    access_log: Annotated[
        bool,
        typer.Option(
            "--access-log/--no-access-log",
            help="Log a line per request. Off saves about a quarter of the CPU of a small API "
            "request; turn it off under heavy ingestion when a reverse proxy keeps the log.",
        ),
    ] = True,
) -> None:
    """Serve the web app and the REST API (docs at /docs) on http://HOST:PORT."""
    settings = load_settings(data_dir)
    if migrate_first:
        prepare_store(settings)
    in_process = settings.is_sqlite and settings.embedded_worker if worker is None else worker
    console.print(f"Touchpoints on [bold]http://{host}:{port}[/] (API docs: /docs)")
    run_server(
        settings,
        host=host,
        port=port,
        worker=in_process,
        trusted_proxies=trusted_proxies,
        processes=processes,
        access_log=access_log,
    )


def worker_command(
    data_dir: DataDirOption = None,
    once: Annotated[
        bool, typer.Option("--once", help="Process what is due now, then exit.")
    ] = False,
) -> None:
    """Process background jobs (retries with backoff; dead letters stay visible in /jobs)."""
    from touchpoints.jobs.worker import run_worker

    settings = load_settings(data_dir)
    processed = run_worker(settings, once=once)
    if once:
        console.print(f"processed {processed} job(s)")
