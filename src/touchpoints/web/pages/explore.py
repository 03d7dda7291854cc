"""The metric explorer page: metric x dimension x period with intervals, and its exports."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from touchpoints.analytics.engine import analytics_root
from touchpoints.analytics.explorer import (
    Exploration,
    ExplorerForm,
    catalogue,
    explore,
    export_csv,
    export_parquet,
    group_label,
)
from touchpoints.analytics.explorer_charts import explorer_chart
from touchpoints.api.deps import SessionDep, SettingsDep
from touchpoints.errors import InvalidInput
from touchpoints.web.deps import WebCallerDep
from touchpoints.web.rendering import render

router = APIRouter()


@router.get("/explore", response_class=HTMLResponse)
def explorer_page(
    request: Request, caller: WebCallerDep, session: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    """Show a metric by a dimension (and a period) with intervals, changes and suppression."""
    form = ExplorerForm.of(request.query_params)
    exploration: Exploration | None = None
    error: InvalidInput | None = None
    try:
        exploration = explore(actor=caller.principal, root=analytics_root(settings), form=form)
    except InvalidInput as refused:
        error = refused
    return render(
        request,
        session,
        caller,
        "explore/explore.html",
        title="Metric explorer",
        status_code=422 if error else 200,
        form=form,
        error=error,
        exploration=exploration,
        chart=explorer_chart(exploration) if exploration else None,
        catalogue=catalogue(actor=caller.principal),
        group_label=group_label,
    )


@router.get("/explore/export.csv")
def explorer_csv(request: Request, caller: WebCallerDep, settings: SettingsDep) -> Response:
    """Download the groups the explorer shows as CSV."""
    exploration = _exploration(request, caller, settings)
    return Response(
        export_csv(exploration.result),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{_file_name(exploration)}.csv"'},
    )


@router.get("/explore/export.parquet")
def explorer_parquet(request: Request, caller: WebCallerDep, settings: SettingsDep) -> Response:
    """Download the groups the explorer shows as a Parquet file."""
    exploration = _exploration(request, caller, settings)
    name = _file_name(exploration)
    return Response(
        export_parquet(exploration.result),
        media_type="application/vnd.apache.parquet",
        headers={"Content-Disposition": f'attachment; filename="{name}.parquet"'},
    )


def _exploration(request: Request, caller: WebCallerDep, settings: SettingsDep) -> Exploration:
    form = ExplorerForm.of(request.query_params)
    return explore(actor=caller.principal, root=analytics_root(settings), form=form)


def _file_name(exploration: Exploration) -> str:
    parts = [exploration.result.metric.key, *exploration.result.by]
    if exploration.result.period:
        parts.append(exploration.result.period)
    stamp = datetime.now(UTC).strftime("%Y%m%d")
    return "-".join(part.replace(":", "_") for part in [*parts, stamp])
