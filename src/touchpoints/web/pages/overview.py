"""The overview: NPS, CSAT and CES of a period with intervals, trends, stages and movers."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from touchpoints.analytics.engine import analytics_root
from touchpoints.api.deps import SessionDep, SettingsDep
from touchpoints.metrics.charts import overview_charts
from touchpoints.metrics.service import DEFAULT_MONTHS, PERIOD_MONTHS, overview
from touchpoints.web.deps import WebCallerDep
from touchpoints.web.rendering import render

router = APIRouter()


def _period(months: str | None) -> int:
    # A hand-edited or stale link falls back to the default period instead of an error page.
    chosen = int(months) if months and months.isdigit() else DEFAULT_MONTHS
    return chosen if chosen in PERIOD_MONTHS else DEFAULT_MONTHS


@router.get("/overview", response_class=HTMLResponse)
def overview_page(
    request: Request,
    caller: WebCallerDep,
    session: SessionDep,
    settings: SettingsDep,
    months: str | None = None,
) -> HTMLResponse:
    """Show the headline metrics of the period, their trends, stages, touchpoints and movers."""
    summary = overview(
        db_session=session,
        actor=caller.principal,
        root=analytics_root(settings),
        months=_period(months),
    )
    return render(
        request,
        session,
        caller,
        "pages/overview.html",
        title="Overview",
        overview=summary,
        charts=overview_charts(summary),
        periods=PERIOD_MONTHS,
    )
