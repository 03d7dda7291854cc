"""`touchpoints analytics`: keep the analytics store (Parquet files) in step with the store."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.exc import DBAPIError

from touchpoints.cli.common import (
    DataDirOption,
    JsonOption,
    console,
    fail,
    load_settings,
    print_json,
)
from touchpoints.db.engine import engine_from_settings

if TYPE_CHECKING:
    from touchpoints.analytics.export import ExportSummary

app = typer.Typer(
    help="Export the operational store to the analytics store read by DuckDB and Spark.",
    no_args_is_help=True,
)

RootOption = Annotated[
    Path | None,
    typer.Option(
        "--analytics-dir",
        help="Folder of the analytics store [default: TOUCHPOINTS_ANALYTICS_DIR, or "
        "<data-dir>/analytics].",
    ),
]


@app.command("export")
def export_command(
    data_dir: DataDirOption = None, analytics_dir: RootOption = None, as_json: JsonOption = False
) -> None:
    """Export the partitions changed since the last export (everything the first time)."""
    _run(data_dir, analytics_dir, as_json, rebuild=False)


@app.command("rebuild")
def rebuild_command(
    data_dir: DataDirOption = None, analytics_dir: RootOption = None, as_json: JsonOption = False
) -> None:
    """Rewrite the whole analytics store and remove files of partitions that no longer exist."""
    _run(data_dir, analytics_dir, as_json, rebuild=True)


def _run(
    data_dir: Path | None, analytics_dir: Path | None, as_json: bool, *, rebuild: bool
) -> None:
    # Imported here: pyarrow is not loaded for every `touchpoints` command.
    from touchpoints.analytics.export import AnalyticsExporter

    settings = load_settings(data_dir)
    root = analytics_dir or settings.analytics_root
    engine = engine_from_settings(settings)
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    try:
        with Progress(*columns, console=console, disable=as_json, transient=True) as progress:
            task = progress.add_task("reading the store", total=None)

            def show(dataset: str, rows: int) -> None:
                progress.update(task, description=f"{dataset}: {rows:,} rows")

            exporter = AnalyticsExporter(engine, root, progress=show)
            summary = exporter.rebuild() if rebuild else exporter.export()
    except DBAPIError as exc:
        fail(
            f"the operational store could not be read ({type(exc.orig).__name__}); check "
            "TOUCHPOINTS_DATABASE_URL and run `touchpoints db upgrade`"
        )
    except OSError as exc:
        fail(f"could not write the analytics store under {root}: {exc}")
    finally:
        engine.dispose()
    if as_json:
        print_json(summary.as_dict())
        return
    _print_summary(summary)


def _print_summary(summary: ExportSummary) -> None:
    table = Table(
        "dataset",
        "rows written",
        "rows read from the store",
        "partitions written",
        "of which merged",
        "partitions removed",
    )
    for dataset in summary.datasets:
        table.add_row(
            dataset.dataset,
            f"{dataset.rows:,}",
            f"{dataset.rows_from_store:,}",
            str(dataset.partitions_written),
            str(dataset.partitions_merged),
            str(dataset.partitions_removed),
        )
    if summary.datasets:
        console.print(table)
    what = "nothing had changed" if not summary.datasets else f"{summary.rows:,} rows"
    console.print(
        f"{summary.mode} export: {what} in {summary.seconds:.2f}s "
        f"({summary.stale_partitions} stale partitions) into [bold]{summary.root}[/]"
    )
