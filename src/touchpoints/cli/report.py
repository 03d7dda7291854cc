"""`touchpoints report`: a metric by a dimension, with intervals, from the analytics store."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer
from rich.table import Table

from touchpoints.cli.common import (
    DataDirOption,
    JsonOption,
    console,
    fail,
    load_settings,
    open_store,
    print_json,
    report_error,
)
from touchpoints.errors import TouchpointsError

EngineOption = Annotated[
    str, typer.Option("--engine", help="duckdb (in-process) or spark (local mode).")
]


def report_command(
    metric: Annotated[str, typer.Argument(help="nps, csat, ces, ces_agree, rating, responses.")],
    by: Annotated[
        list[str] | None,
        typer.Option("--by", help="Dimension to group by (twice for two), e.g. segment."),
    ] = None,
    period: Annotated[
        str | None, typer.Option("--period", help="Also group by day, week, month or quarter.")
    ] = None,
    date_from: Annotated[
        str | None, typer.Option("--from", help="First day, YYYY-MM-DD (UTC).")
    ] = None,
    date_to: Annotated[
        str | None, typer.Option("--to", help="Last day, YYYY-MM-DD (UTC, inclusive).")
    ] = None,
    filters: Annotated[
        list[str] | None,
        typer.Option("--filter", help="dimension=value[,value], e.g. channel=web,email."),
    ] = None,
    minimum_n: Annotated[
        int, typer.Option("--minimum-n", help="Hide groups with fewer answers.")
    ] = 30,
    interval: Annotated[
        str, typer.Option("--interval", help="NPS interval: trinomial or adjusted_wald.")
    ] = "trinomial",
    workspace: Annotated[
        str | None,
        typer.Option("--workspace", "-w", help="Workspace slug; optional when there is only one."),
    ] = None,
    engine: EngineOption = "duckdb",
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Print a metric by a dimension with 95% intervals; small groups show as suppressed."""
    from touchpoints.analytics.engine import ENGINES, analytics_root
    from touchpoints.analytics.query import MetricQuery

    if engine not in ENGINES:
        fail(f"unknown engine {engine!r}; use duckdb or spark")
    settings = load_settings(data_dir)
    workspace_id = _workspace_id(settings, workspace)
    query = MetricQuery(
        metric,
        by=tuple(by or ()),
        period=period,
        date_from=_day(date_from, "--from"),
        date_to=_day(date_to, "--to"),
        filters=_filters(filters or []),
        minimum_n=minimum_n,
        nps_interval=interval,
    )
    try:
        result = query.run(root=analytics_root(settings), workspace_id=workspace_id, engine=engine)
    except TouchpointsError as exc:
        report_error(exc)
    if as_json:
        print_json({"metric": metric, "engine": result.engine, "rows": result.records()})
        return
    _print_table(result)


def _workspace_id(settings: Any, slug: str | None) -> str:
    from touchpoints.cli.workspaces import resolve_workspace

    engine, factory = open_store(settings)
    try:
        with factory() as session:
            return resolve_workspace(session, slug).id
    finally:
        engine.dispose()


def _day(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"{option} {text!r} is not a date: write YYYY-MM-DD")


def _filters(options: list[str]) -> dict[str, list[str]]:
    filters: dict[str, list[str]] = {}
    for option in options:
        name, separator, values = option.partition("=")
        if not separator or not name or not values:
            fail(f"--filter {option!r}: write dimension=value[,value], e.g. channel=web")
        filters.setdefault(name.strip(), []).extend(v for v in values.split(",") if v.strip())
    return filters


def _print_table(result: Any) -> None:
    metric = result.metric
    if result.empty:
        console.print(f"No feedback matches: no {metric.label} to show.")
        return
    table = Table(title=f"{metric.label} ({result.engine})")
    for key in result.by:
        table.add_column(key)
    if result.period:
        table.add_column(result.period)
    table.add_column(metric.label, justify="right")
    table.add_column("95% interval", justify="right")
    table.add_column("n", justify="right")
    table.add_column("change", justify="right")
    for row in result.rows:
        cells = [str(row.labels.get(key) or "(none)") for key in result.by]
        if result.period:
            cells.append(row.period_label or "")
        if row.suppressed:
            cells += [f"[dim]suppressed (n < {result.minimum_n})[/]", "", str(row.value.n), ""]
        else:
            value = row.value
            interval = ""
            if value.low is not None and value.high is not None:
                interval = f"{_number(metric, value.low)} to {_number(metric, value.high)}"
            cells += [_number(metric, value.value), interval, str(value.n), _change(metric, row)]
        table.add_row(*cells)
    console.print(table)
    console.print(
        f"[dim]Groups under {result.minimum_n} answers are suppressed; * marks a significant "
        f"change ({result.correction}-corrected).[/]"
    )


def _number(metric: Any, number: float | None) -> str:
    if number is None:
        return ""
    if metric.unit == "points":
        return f"{number:+.1f}"
    if metric.unit == "share" and metric.scale == 1:
        return f"{number * 100:.1f}%"
    if metric.unit == "responses":
        return f"{number:,.0f}"
    return f"{number:.2f}"


def _change(metric: Any, row: Any) -> str:
    change = row.change
    if change is None:
        return ""
    scale = 100 if metric.unit == "share" and metric.scale == 1 else 1
    mark = "*" if change.significant else ""
    return f"{change.difference * scale:+.1f}{mark}"
