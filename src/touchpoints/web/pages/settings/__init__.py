"""Settings: users and roles, org units, API tokens, the audit log and privacy facts."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from touchpoints.api.deps import SessionDep
from touchpoints.web.deps import WebCallerDep
from touchpoints.web.pages.settings import records, users, workspace
from touchpoints.web.pages.settings.common import SECTIONS
from touchpoints.web.rendering import render

router = APIRouter(prefix="/settings")


@router.get("")
def settings_index(request: Request, caller: WebCallerDep, session: SessionDep) -> HTMLResponse:
    """Show the settings pages the caller's role may open, and what they may do."""
    allowed = [s for s in SECTIONS if caller.principal.can(s.permission)]
    return render(
        request,
        session,
        caller,
        "settings/index.html",
        title="Settings",
        sections=allowed,
        section=None,
    )


for _module in (users, workspace, records):
    router.include_router(_module.router)
