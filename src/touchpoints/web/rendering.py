"""Render a page with what every page needs: the caller, navigation, filters, CSRF token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from touchpoints.auth.permissions import Permission
from touchpoints.orgs.models import OrgUnit
from touchpoints.web.sessions import WebCaller, workspaces_of
from touchpoints.web.templating import templates


@dataclass(frozen=True)
class NavItem:
    """One link of the main navigation."""

    label: str
    href: str
    permission: Permission


# Grouped by the capabilities of the product; later issues add their pages here.
NAVIGATION: tuple[tuple[str, tuple[NavItem, ...]], ...] = (
    (
        "Measure",
        (
            NavItem("Overview", "/overview", Permission.FEEDBACK_READ),
            NavItem("Metric explorer", "/explore", Permission.FEEDBACK_READ),
        ),
    ),
    (
        "Listen",
        (
            NavItem("Feedback inbox", "/inbox", Permission.FEEDBACK_READ),
            NavItem("Customers", "/customers", Permission.CUSTOMERS_READ),
            NavItem("Surveys", "/surveys", Permission.SURVEYS_READ),
            # Listed for roles that may import some kind of data (admins and analysts).
            NavItem("Imports", "/imports", Permission.FEEDBACK_WRITE),
        ),
    ),
    ("Analyze", (NavItem("Journey map", "/journeys", Permission.JOURNEYS_READ),)),
    ("Admin", (NavItem("Settings", "/settings", Permission.WORKSPACE_READ),)),
)


def navigation_for(caller: WebCaller) -> list[tuple[str, list[NavItem]]]:
    """Return the navigation groups with only the links the caller's role may open."""
    groups = []
    for label, items in NAVIGATION:
        allowed = [item for item in items if caller.principal.can(item.permission)]
        if allowed:
            groups.append((label, allowed))
    return groups


def filter_units(db_session: Session, caller: WebCaller) -> list[OrgUnit]:
    """Return the org units the caller may filter by (their own subtree)."""
    statement = select(OrgUnit).where(OrgUnit.workspace_id == caller.workspace.id)
    if caller.home_unit is not None:
        statement = statement.where(OrgUnit.path.startswith(caller.home_unit.path))
    return list(db_session.scalars(statement.order_by(OrgUnit.path)))


def render(
    request: Request,
    db_session: Session,
    caller: WebCaller,
    template: str,
    *,
    title: str,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render a full page (or, for an HTMX request, the same template's fragment)."""
    base = {
        "request": request,
        "caller": caller,
        "title": title,
        "navigation": navigation_for(caller),
        "workspaces": workspaces_of(db_session=db_session, user_id=caller.user.id),
        "filter_units": filter_units(db_session, caller),
        "csrf_token": caller.session.csrf_token,
        "current_path": request.url.path,
    }
    return templates().TemplateResponse(request, template, base | context, status_code=status_code)
