"""Settings: the workspace members, their roles and org-unit scopes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from touchpoints.api.deps import SessionDep, client_address
from touchpoints.api.listing import ListParams
from touchpoints.auth import members
from touchpoints.auth.permissions import Permission, Role
from touchpoints.auth.schemas import UserCreate, UserUpdate
from touchpoints.errors import TouchpointsError
from touchpoints.web.deps import WebCallerDep
from touchpoints.web.pages.settings.common import (
    PAGE_SIZE,
    FormField,
    done,
    field_errors,
    list_units,
    problem_field,
    show,
)
from touchpoints.web.sessions import WebCaller

router = APIRouter()


def _users_page(
    request: Request, session: Session, caller: WebCaller, *, status_code: int = 200, **extra: Any
) -> HTMLResponse:
    if not caller.principal.can(Permission.USERS_MANAGE):
        return show(request, session, caller, "/settings/users", "settings/users.html")
    offset = max(0, int(request.query_params.get("offset", "0") or 0))
    people, total = members.list_members(
        db_session=session,
        actor=caller.principal,
        params=ListParams(limit=PAGE_SIZE, offset=offset, sort="email"),
    )
    context = {
        "people": people,
        "total": total,
        "offset": offset,
        "page_size": PAGE_SIZE,
        "units": list_units(session, caller),
        "roles": list(Role),
        "done": request.query_params.get("done"),
        "errors": {},
        "row_errors": {},
        "form": {},
        "status_code": status_code,
    } | extra
    return show(request, session, caller, "/settings/users", "settings/users.html", **context)


@router.get("/users")
def users(request: Request, caller: WebCallerDep, session: SessionDep) -> HTMLResponse:
    """List the workspace's members with their role and scope (admins)."""
    return _users_page(request, session, caller)


@router.post("/users", response_model=None)
def add_user(
    request: Request,
    caller: WebCallerDep,
    session: SessionDep,
    email: FormField = "",
    display_name: FormField = "",
    role: FormField = Role.VIEWER.value,
    org_unit_id: FormField = "",
    password: FormField = "",
) -> Response:
    """Add a member with a role and an optional org-unit scope (admins)."""
    if not caller.principal.can(Permission.USERS_MANAGE):
        return _users_page(request, session, caller)
    form = {"email": email, "display_name": display_name, "role": role, "org_unit_id": org_unit_id}
    try:
        user_in = UserCreate.model_validate(
            {
                "email": email.strip(),
                "display_name": display_name.strip(),
                "role": role,
                "org_unit_id": org_unit_id or None,
                "password": password or None,
            }
        )
        members.invite_member(
            db_session=session,
            actor=caller.principal,
            user_in=user_in,
            ip_address=client_address(request),
        )
    except ValidationError as exc:
        return _users_page(
            request, session, caller, status_code=422, errors=field_errors(exc), form=form
        )
    except TouchpointsError as problem:
        field, reason = problem_field(problem, "email")
        return _users_page(
            request, session, caller, status_code=422, errors={field: reason}, form=form
        )
    return done("/settings/users", "added")


@router.post("/users/{user_id}", response_model=None)
def change_user(
    request: Request,
    caller: WebCallerDep,
    session: SessionDep,
    user_id: str,
    role: FormField = "",
    org_unit_id: FormField = "",
) -> Response:
    """Change a member's role and org-unit scope (admins; nobody can raise their own role)."""
    known = {choice.value for choice in Role}
    if role not in known:
        reason = f"choose one of the roles: {', '.join(sorted(known))}"
        return _users_page(request, session, caller, status_code=422, row_errors={user_id: reason})
    update = UserUpdate(role=Role(role), org_unit_id=org_unit_id or None)
    return _update_user(request, session, caller, user_id, update, "changed")


@router.post("/users/{user_id}/active", response_model=None)
def set_user_active(
    request: Request,
    caller: WebCallerDep,
    session: SessionDep,
    user_id: str,
    active: FormField = "false",
) -> Response:
    """Deactivate a member (they cannot sign in or use tokens) or activate them again."""
    is_active = active == "true"
    update = UserUpdate(is_active=is_active)
    return _update_user(
        request, session, caller, user_id, update, "activated" if is_active else "deactivated"
    )


def _update_user(
    request: Request,
    session: Session,
    caller: WebCaller,
    user_id: str,
    update: UserUpdate,
    outcome: str,
) -> Response:
    if not caller.principal.can(Permission.USERS_MANAGE):
        return _users_page(request, session, caller)
    try:
        members.update_member(
            db_session=session,
            actor=caller.principal,
            user_id=user_id,
            user_in=update,
            ip_address=client_address(request),
        )
    except TouchpointsError as problem:
        _, reason = problem_field(problem, "user")
        return _users_page(request, session, caller, status_code=422, row_errors={user_id: reason})
    return done("/settings/users", outcome)
