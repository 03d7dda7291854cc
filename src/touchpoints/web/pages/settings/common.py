"""What every settings page shares: its sections, permission check and form helpers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session

from touchpoints.api.listing import ListParams
from touchpoints.auth.permissions import Permission
from touchpoints.errors import TouchpointsError
from touchpoints.orgs import service as orgs
from touchpoints.orgs.models import OrgUnit
from touchpoints.web.rendering import render
from touchpoints.web.sessions import WebCaller

PAGE_SIZE = 50
ALL_ROWS = 5_000
TOKEN_LIFETIMES = {"": "Never expires", "30": "30 days", "90": "90 days", "365": "1 year"}
FormField = Annotated[str, Form()]


@dataclass(frozen=True)
class Section:
    """One settings page and the permission that opens it."""

    title: str
    href: str
    permission: Permission
    summary: str


SECTIONS = (
    Section(
        "Users and roles",
        "/settings/users",
        Permission.USERS_MANAGE,
        "Add members, change their role and org-unit scope, deactivate them.",
    ),
    Section(
        "Org units",
        "/settings/org-units",
        Permission.WORKSPACE_MANAGE,
        "The organization tree that data and people are scoped to.",
    ),
    Section(
        "API tokens",
        "/settings/tokens",
        Permission.TOKENS_MANAGE,
        "Bearer tokens for the REST API; create and revoke them.",
    ),
    Section(
        "Audit log",
        "/settings/audit",
        Permission.AUDIT_READ,
        "Sign-ins and every change to users, roles, org units and tokens.",
    ),
    Section(
        "Privacy",
        "/settings/privacy",
        Permission.WORKSPACE_READ,
        "What this release stores about customers and how to delete it.",
    ),
)
SECTION_BY_HREF = {section.href: section for section in SECTIONS}


def show(
    request: Request, session: Session, caller: WebCaller, href: str, template: str, **context: Any
) -> HTMLResponse:
    """Render a settings page, or a 403 page when the caller's role may not open it."""
    section = SECTION_BY_HREF[href]
    allowed = [s for s in SECTIONS if caller.principal.can(s.permission)]
    if not caller.principal.can(section.permission):
        return render(
            request,
            session,
            caller,
            "settings/forbidden.html",
            title="Not allowed",
            status_code=403,
            section=section,
            sections=allowed,
        )
    status_code = context.pop("status_code", 200)
    return render(
        request,
        session,
        caller,
        template,
        title=section.title,
        status_code=status_code,
        section=section,
        sections=allowed,
        **context,
    )


def done(href: str, what: str) -> RedirectResponse:
    """Redirect after a successful form (303) to the page, saying what was done."""
    return RedirectResponse(f"{href}?done={what}", status_code=303)


def field_errors(exc: ValidationError) -> dict[str, str]:
    """Map each invalid form field to the reason, for showing next to the field."""
    return {str(err["loc"][0]) if err["loc"] else "form": err["msg"] for err in exc.errors()}


def problem_field(problem: TouchpointsError, default: str) -> tuple[str, str]:
    """Return the field a service error is about (or `default`) and its reason."""
    return getattr(problem, "field", default), getattr(problem, "reason", problem.detail)


def list_units(session: Session, caller: WebCaller) -> list[OrgUnit]:
    """Return the org units the caller can see, by name."""
    units, _ = orgs.list_org_units(
        db_session=session, actor=caller.principal, params=ListParams(limit=ALL_ROWS, sort="name")
    )
    return units
