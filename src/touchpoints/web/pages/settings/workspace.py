"""Settings: the org-unit tree and API tokens."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from touchpoints.api.deps import SessionDep, client_address
from touchpoints.api.listing import ListParams
from touchpoints.audit import service as audit
from touchpoints.audit.actions import AuditAction
from touchpoints.auth import members
from touchpoints.auth import service as tokens
from touchpoints.auth.permissions import Permission
from touchpoints.auth.schemas import UserRead
from touchpoints.db.base import utcnow
from touchpoints.errors import TouchpointsError
from touchpoints.orgs import service as orgs
from touchpoints.orgs.models import OrgUnit
from touchpoints.orgs.schemas import OrgUnitCreate
from touchpoints.web.deps import WebCallerDep
from touchpoints.web.pages.settings.common import (
    ALL_ROWS,
    TOKEN_LIFETIMES,
    FormField,
    done,
    field_errors,
    list_units,
    problem_field,
    show,
)
from touchpoints.web.sessions import WebCaller

router = APIRouter()


def _tree(units: list[OrgUnit]) -> list[tuple[OrgUnit, int]]:
    """Order units as a tree (children under their parent, by name) with their depth."""
    by_parent: dict[str | None, list[OrgUnit]] = {}
    known = {unit.id for unit in units}
    for unit in units:
        parent = unit.parent_id if unit.parent_id in known else None
        by_parent.setdefault(parent, []).append(unit)
    ordered: list[tuple[OrgUnit, int]] = []

    def walk(parent: str | None, depth: int) -> None:
        for unit in sorted(by_parent.get(parent, []), key=lambda u: u.name.lower()):
            ordered.append((unit, depth))
            walk(unit.id, depth + 1)

    walk(None, 0)
    return ordered


def _units_page(
    request: Request, session: Session, caller: WebCaller, *, status_code: int = 200, **extra: Any
) -> HTMLResponse:
    if not caller.principal.can(Permission.WORKSPACE_MANAGE):
        return show(request, session, caller, "/settings/org-units", "settings/org_units.html")
    context = {
        "tree": _tree(list_units(session, caller)),
        "errors": {},
        "form": {},
        "done": request.query_params.get("done"),
        "status_code": status_code,
    } | extra
    return show(
        request, session, caller, "/settings/org-units", "settings/org_units.html", **context
    )


@router.get("/org-units")
def org_units(request: Request, caller: WebCallerDep, session: SessionDep) -> HTMLResponse:
    """Show the org-unit tree (admins)."""
    return _units_page(request, session, caller)


@router.post("/org-units", response_model=None)
def add_org_unit(
    request: Request,
    caller: WebCallerDep,
    session: SessionDep,
    code: FormField = "",
    name: FormField = "",
    kind: FormField = "unit",
    parent_id: FormField = "",
) -> Response:
    """Add an org unit under an optional parent (admins)."""
    if not caller.principal.can(Permission.WORKSPACE_MANAGE):
        return _units_page(request, session, caller)
    form = {"code": code, "name": name, "kind": kind, "parent_id": parent_id}
    try:
        unit_in = OrgUnitCreate(
            code=code.strip(),
            name=name.strip(),
            kind=kind.strip() or "unit",
            parent_id=parent_id or None,
        )
        unit = orgs.create_org_unit(db_session=session, actor=caller.principal, org_unit_in=unit_in)
    except ValidationError as exc:
        return _units_page(
            request, session, caller, status_code=422, errors=field_errors(exc), form=form
        )
    except TouchpointsError as problem:
        field = "parent_id" if problem.status_code == 404 else "code"
        return _units_page(
            request,
            session,
            caller,
            status_code=422,
            errors={problem_field(problem, field)[0]: problem.detail},
            form=form,
        )
    audit.record_change(
        db_session=session,
        actor=caller.principal,
        action=AuditAction.ORG_UNIT_CREATED,
        object_type="org_unit",
        object_id=unit.id,
        details={"code": unit.code, "name": unit.name},
        ip_address=client_address(request),
    )
    return done("/settings/org-units", "added")


def _tokens_page(
    request: Request, session: Session, caller: WebCaller, *, status_code: int = 200, **extra: Any
) -> HTMLResponse:
    if not caller.principal.can(Permission.TOKENS_MANAGE):
        return show(request, session, caller, "/settings/tokens", "settings/tokens.html")
    rows = tokens.list_tokens(db_session=session, actor=caller.principal)
    owner_ids = sorted({row.user_id for row in rows})
    owners: dict[str, UserRead] = {}
    if owner_ids:
        people, _ = members.list_members(
            db_session=session,
            actor=caller.principal,
            params=ListParams(limit=ALL_ROWS, filters=(f"id:in:{'|'.join(owner_ids)}",)),
        )
        owners = {person.id: person for person in people}
    context = {
        "tokens": rows,
        "owners": owners,
        "lifetimes": TOKEN_LIFETIMES,
        "errors": {},
        "now": utcnow(),
        "created": None,
        "done": request.query_params.get("done"),
        "status_code": status_code,
    } | extra
    return show(request, session, caller, "/settings/tokens", "settings/tokens.html", **context)


@router.get("/tokens")
def api_tokens(request: Request, caller: WebCallerDep, session: SessionDep) -> HTMLResponse:
    """List the workspace's API tokens without their secrets (admins)."""
    return _tokens_page(request, session, caller)


@router.post("/tokens", response_model=None)
def create_api_token(
    request: Request,
    caller: WebCallerDep,
    session: SessionDep,
    name: FormField = "",
    lifetime: FormField = "",
) -> Response:
    """Create a token for yourself and show its secret on this one page (admins).

    The answer is the page itself, not a redirect: the secret must never be in a URL or stored.
    """
    if not caller.principal.can(Permission.TOKENS_MANAGE):
        return _tokens_page(request, session, caller)
    if not name.strip() or len(name) > 200 or lifetime not in TOKEN_LIFETIMES:
        return _tokens_page(
            request,
            session,
            caller,
            status_code=422,
            errors={"name": "Give the token a name of 1 to 200 characters."},
        )
    expires_at = utcnow() + timedelta(days=int(lifetime)) if lifetime else None
    token, secret = tokens.create_token(
        db_session=session, actor=caller.principal, name=name.strip(), expires_at=expires_at
    )
    audit.record_change(
        db_session=session,
        actor=caller.principal,
        action=AuditAction.TOKEN_CREATED,
        object_type="api_token",
        object_id=token.id,
        details={"name": token.name, "prefix": token.prefix},
        ip_address=client_address(request),
    )
    response = _tokens_page(
        request, session, caller, status_code=201, created={"token": token, "secret": secret}
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/tokens/{token_id}/revoke", response_model=None)
def revoke_api_token(
    request: Request, caller: WebCallerDep, session: SessionDep, token_id: str
) -> Response:
    """Revoke a token; it stops working at once (admins)."""
    if not caller.principal.can(Permission.TOKENS_MANAGE):
        return _tokens_page(request, session, caller)
    try:
        token = tokens.revoke_token(db_session=session, actor=caller.principal, token_id=token_id)
    except TouchpointsError as problem:
        return _tokens_page(
            request, session, caller, status_code=404, errors={"revoke": problem.detail}
        )
    audit.record_change(
        db_session=session,
        actor=caller.principal,
        action=AuditAction.TOKEN_REVOKED,
        object_type="api_token",
        object_id=token.id,
        details={"name": token.name, "prefix": token.prefix},
        ip_address=client_address(request),
    )
    return done("/settings/tokens", "revoked")
