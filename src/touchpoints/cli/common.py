"""What every command shares: options, settings, output as a table or as JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from touchpoints.config import Settings
from touchpoints.db.engine import engine_from_settings, make_session_factory
from touchpoints.errors import TouchpointsError

console = Console()
err_console = Console(stderr=True)

DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        envvar="TOUCHPOINTS_DATA_DIR",
        help="Folder of the SQLite store and analytics files [env: TOUCHPOINTS_DATA_DIR].",
        show_envvar=False,
    ),
]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print machine-readable JSON instead of a table.")
]


def load_settings(data_dir: Path | None) -> Settings:
    """Read settings from the environment; --data-dir wins over TOUCHPOINTS_DATA_DIR."""
    try:
        return Settings(data_dir=data_dir) if data_dir is not None else Settings()
    except ValueError as exc:
        fail(f"configuration error: {exc}")


def open_store(settings: Settings) -> tuple[Engine, sessionmaker[Session]]:
    """Create the engine and session factory of the operational store."""
    engine = engine_from_settings(settings)
    return engine, make_session_factory(engine)


def print_json(payload: Any) -> None:
    """Write JSON to standard output (dates as ISO 8601)."""
    sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")


def fail(message: str, code: int = 1) -> NoReturn:
    """Print an error a user can act on and stop with a non-zero exit code."""
    err_console.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


def report_error(exc: TouchpointsError) -> NoReturn:
    """Turn a platform error into a clear message and exit code 1."""
    fail(exc.detail)
