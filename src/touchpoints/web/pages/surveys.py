"""Surveys: the list of surveys, and (included below) the builder, distribution and rates."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from touchpoints.api.deps import SessionDep
from touchpoints.auth.permissions import Permission
from touchpoints.surveys.models import SurveyStatus
from touchpoints.surveys.overview import survey_summaries
from touchpoints.web.deps import WebCallerDep
from touchpoints.web.pages import surveys_builder, surveys_distribution
from touchpoints.web.rendering import render

router = APIRouter()
STATUSES = [status.value for status in SurveyStatus]


@router.get("/surveys")
def surveys(
    request: Request, caller: WebCallerDep, session: SessionDep, status: str = ""
) -> HTMLResponse:
    """List surveys with where they are asked, their versions and how they are answered."""
    chosen = status if status in STATUSES else None
    rows = survey_summaries(db_session=session, actor=caller.principal, status=chosen)
    return render(
        request,
        session,
        caller,
        "surveys/list.html",
        title="Surveys",
        rows=rows,
        statuses=STATUSES,
        status=chosen or "",
        can_write=caller.principal.can(Permission.SURVEYS_WRITE),
    )


for _module in (surveys_builder, surveys_distribution):
    router.include_router(_module.router)
