"""The shell: home, workspace switcher and the org-unit filter every page respects."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse
from sqlalchemy import select

from touchpoints.api.deps import SessionDep
from touchpoints.auth.models import Membership
from touchpoints.web.deps import WebCallerDep
from touchpoints.web.sessions import effective_filter

router = APIRouter()


def _back(next_url: str | None) -> RedirectResponse:
    target = next_url if next_url and next_url.startswith("/") and "//" not in next_url else "/"
    return RedirectResponse(target, status_code=303)


@router.get("/")
def home(caller: WebCallerDep) -> RedirectResponse:
    """Send a signed-in user to the overview."""
    return RedirectResponse("/overview", status_code=303)


@router.post("/session/workspace")
def switch_workspace(
    caller: WebCallerDep,
    session: SessionDep,
    workspace_id: Annotated[str, Form()],
    next_url: Annotated[str | None, Form(alias="next")] = None,
) -> RedirectResponse:
    """Switch to another workspace the user belongs to (the filter is reset)."""
    member = session.scalar(
        select(Membership.id).where(
            Membership.user_id == caller.user.id, Membership.workspace_id == workspace_id
        )
    )
    if member is not None:
        caller.session.workspace_id = workspace_id
        caller.session.org_unit_filter_id = None
    return _back(next_url)


@router.post("/session/org-unit")
def choose_org_unit(
    caller: WebCallerDep,
    session: SessionDep,
    org_unit_id: Annotated[str, Form()] = "",
    next_url: Annotated[str | None, Form(alias="next")] = None,
) -> RedirectResponse:
    """Limit every page to one org unit inside the user's own scope ('' shows all)."""
    chosen = effective_filter(session, org_unit_id or None, caller.workspace.id, caller.home_unit)
    caller.session.org_unit_filter_id = chosen.id if chosen else None
    return _back(next_url)
