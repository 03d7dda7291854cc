"""Settings: the audit log and the privacy facts of this release."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from touchpoints.api.deps import SessionDep
from touchpoints.api.listing import ListParams
from touchpoints.audit import service as audit
from touchpoints.auth.permissions import Permission
from touchpoints.web.deps import WebCallerDep
from touchpoints.web.pages.settings.common import (
    PAGE_SIZE,
    show,
)

router = APIRouter()


@router.get("/audit")
def audit_log(
    request: Request,
    caller: WebCallerDep,
    session: SessionDep,
    action: str = "",
    actor: str = "",
    offset: int = 0,
) -> HTMLResponse:
    """Page through the audit log, filtered by action and by who did it (admins)."""
    if not caller.principal.can(Permission.AUDIT_READ):
        return show(request, session, caller, "/settings/audit", "settings/audit.html")
    filters = [f"action:eq:{action}"] if action else []
    if actor.strip():
        filters.append(f"actor_email:contains:{actor.strip().lower()}")
    offset = max(0, offset)
    params = ListParams(limit=PAGE_SIZE, offset=offset, filters=tuple(filters))
    events, total = audit.list_events(db_session=session, actor=caller.principal, params=params)
    actions = audit.actions_in_use(db_session=session, actor=caller.principal)
    return show(
        request,
        session,
        caller,
        "/settings/audit",
        "settings/audit.html",
        events=events,
        total=total,
        offset=offset,
        page_size=PAGE_SIZE,
        actions=actions,
        action=action,
        actor=actor.strip(),
        describe=describe_details,
    )


def describe_details(details: dict[str, Any]) -> str:
    """Write an audit event's details for people: `role: manager → admin; email: ...`."""
    parts: list[str] = []
    for name, value in details.items():
        if name == "changes" and isinstance(value, dict):
            parts.extend(f"{field}: {old} → {new}" for field, (old, new) in value.items())
        elif value is not None:
            parts.append(f"{name}: {value}")
    return "; ".join(parts)


@router.get("/privacy")
def privacy(request: Request, caller: WebCallerDep, session: SessionDep) -> HTMLResponse:
    """Explain what this release stores about customers and how to delete a customer."""
    return show(
        request,
        session,
        caller,
        "/settings/privacy",
        "settings/privacy.html",
        can_delete=caller.principal.can(Permission.CUSTOMERS_WRITE),
    )
