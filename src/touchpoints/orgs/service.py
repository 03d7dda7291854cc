"""Workspaces and the org-unit tree (materialized paths for fast subtree scoping)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from touchpoints.api.listing import ListParams, paginate
from touchpoints.auth.permissions import Permission, Principal, require
from touchpoints.errors import Conflict, InvalidInput, NotFound
from touchpoints.orgs.models import OrgUnit, Workspace
from touchpoints.orgs.schemas import OrgUnitCreate, OrgUnitUpdate

SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def create_workspace(
    *, db_session: Session, slug: str, name: str, settings: dict[str, Any] | None = None
) -> Workspace:
    """Create a tenant; the slug is its stable, URL-safe name."""
    if not SLUG_PATTERN.match(slug):
        raise InvalidInput("slug", "use lowercase letters, digits and dashes (at most 63)")
    if db_session.scalar(select(Workspace.id).where(Workspace.slug == slug)) is not None:
        raise Conflict(f"a workspace with slug {slug!r} already exists")
    workspace = Workspace(slug=slug, name=name, settings=settings or {})
    db_session.add(workspace)
    db_session.flush()
    return workspace


def get_workspace_by_slug(*, db_session: Session, slug: str) -> Workspace | None:
    """Return the workspace with this slug, if any."""
    return db_session.scalar(select(Workspace).where(Workspace.slug == slug))


def list_workspaces(*, db_session: Session) -> list[Workspace]:
    """Return every workspace, oldest first (for administration tools)."""
    return list(db_session.scalars(select(Workspace).order_by(Workspace.created_at, Workspace.id)))


def get_workspace(*, db_session: Session, actor: Principal, workspace_id: str) -> Workspace:
    """Return the caller's workspace; any other id is reported as not found."""
    require(actor, Permission.WORKSPACE_READ)
    workspace = db_session.get(Workspace, workspace_id)
    if workspace is None or workspace.id != actor.workspace_id:
        raise NotFound(f"workspace {workspace_id} not found")
    return workspace


def build_org_unit(
    *,
    db_session: Session,
    workspace_id: str,
    code: str,
    name: str,
    kind: str = "unit",
    parent_id: str | None = None,
) -> OrgUnit:
    """Insert an org unit under its parent, computing its materialized path."""
    parent_path = "/"
    if parent_id is not None:
        parent = db_session.get(OrgUnit, parent_id)
        if parent is None or parent.workspace_id != workspace_id:
            raise NotFound(f"parent org unit {parent_id} not found")
        parent_path = parent.path
    duplicate = db_session.scalar(
        select(OrgUnit.id).where(OrgUnit.workspace_id == workspace_id, OrgUnit.code == code)
    )
    if duplicate is not None:
        raise Conflict(f"an org unit with code {code!r} already exists")
    unit = OrgUnit(
        workspace_id=workspace_id, code=code, name=name, kind=kind, parent_id=parent_id, path=""
    )
    db_session.add(unit)
    db_session.flush()
    unit.path = f"{parent_path}{unit.id}/"
    db_session.flush()
    return unit


def org_unit_fields() -> dict[str, Any]:
    """Return the filterable and sortable org-unit columns."""
    return {
        "id": OrgUnit.id,
        "code": OrgUnit.code,
        "name": OrgUnit.name,
        "kind": OrgUnit.kind,
        "parent_id": OrgUnit.parent_id,
        "created_at": OrgUnit.created_at,
    }


def list_org_units(
    *, db_session: Session, actor: Principal, params: ListParams
) -> tuple[list[OrgUnit], int]:
    """List the org units the caller can see (their subtree when scoped)."""
    require(actor, Permission.WORKSPACE_READ)
    statement = select(OrgUnit).where(OrgUnit.workspace_id == actor.workspace_id)
    if actor.org_unit_path is not None:
        statement = statement.where(OrgUnit.path.startswith(actor.org_unit_path, autoescape=True))
    return paginate(
        db_session, statement, params=params, fields=org_unit_fields(), default_sort="name"
    )


def get_org_unit(*, db_session: Session, actor: Principal, org_unit_id: str) -> OrgUnit:
    """Return one org unit in the caller's workspace and scope."""
    require(actor, Permission.WORKSPACE_READ)
    unit = db_session.get(OrgUnit, org_unit_id)
    if unit is None or unit.workspace_id != actor.workspace_id:
        raise NotFound(f"org unit {org_unit_id} not found")
    if actor.org_unit_path is not None and not unit.path.startswith(actor.org_unit_path):
        raise NotFound(f"org unit {org_unit_id} not found")
    return unit


def create_org_unit(
    *, db_session: Session, actor: Principal, org_unit_in: OrgUnitCreate
) -> OrgUnit:
    """Add an org unit to the caller's workspace."""
    require(actor, Permission.WORKSPACE_MANAGE)
    return build_org_unit(
        db_session=db_session,
        workspace_id=actor.workspace_id,
        code=org_unit_in.code,
        name=org_unit_in.name,
        kind=org_unit_in.kind,
        parent_id=org_unit_in.parent_id,
    )


def update_org_unit(
    *, db_session: Session, actor: Principal, org_unit_id: str, org_unit_in: OrgUnitUpdate
) -> OrgUnit:
    """Rename an org unit or change its kind."""
    require(actor, Permission.WORKSPACE_MANAGE)
    unit = get_org_unit(db_session=db_session, actor=actor, org_unit_id=org_unit_id)
    for name, value in org_unit_in.model_dump(exclude_unset=True).items():
        if value is not None:
            setattr(unit, name, value)
    db_session.flush()
    return unit


def delete_org_unit(*, db_session: Session, actor: Principal, org_unit_id: str) -> None:
    """Delete an org unit that has no children."""
    require(actor, Permission.WORKSPACE_MANAGE)
    unit = get_org_unit(db_session=db_session, actor=actor, org_unit_id=org_unit_id)
    child = db_session.scalar(select(OrgUnit.id).where(OrgUnit.parent_id == unit.id).limit(1))
    if child is not None:
        raise Conflict("this org unit has children; move or delete them first")
    db_session.delete(unit)
    db_session.flush()
