"""The journey map: stages and touchpoints with volume, NPS, CSAT, sentiment and drop-off."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from touchpoints.api.deps import SessionDep
from touchpoints.auth.permissions import Permission, require
from touchpoints.db.base import utcnow
from touchpoints.journeys.map import SENTIMENTS, default_period, journey_maps
from touchpoints.metrics.statistics import MINIMUM_N
from touchpoints.web.deps import WebCallerDep
from touchpoints.web.rendering import render

router = APIRouter()


@router.get("/journeys")
def journey_map(
    request: Request,
    caller: WebCallerDep,
    session: SessionDep,
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
) -> HTMLResponse:
    """Show every journey as stages of touchpoints with their feedback in a period."""
    require(caller.principal, Permission.JOURNEYS_READ)
    default_start, default_end = default_period(utcnow().date())
    start, end = start or default_start, end or default_end
    error = "The period ends before it starts; swap the dates." if end < start else None
    maps = (
        []
        if error
        else journey_maps(db_session=session, actor=caller.principal, start=start, end=end)
    )
    return render(
        request,
        session,
        caller,
        "pages/journeys.html",
        title="Journey map",
        status_code=422 if error else 200,
        maps=maps,
        start=start,
        end=end,
        error=error,
        sentiments=SENTIMENTS,
        minimum_n=MINIMUM_N,
    )
