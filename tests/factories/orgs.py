"""Factories for workspaces, org units and members."""

from __future__ import annotations

import itertools

from sqlalchemy.orm import Session

from touchpoints.auth.permissions import Principal, Role
from touchpoints.auth.service import create_member, issue_token
from touchpoints.orgs.models import OrgUnit, Workspace
from touchpoints.orgs.service import build_org_unit, create_workspace

_sequence = itertools.count(1)


def make_workspace(db_session: Session, *, name: str | None = None) -> Workspace:
    """Create a workspace with a unique slug."""
    number = next(_sequence)
    return create_workspace(
        db_session=db_session, slug=f"ws-{number}", name=name or f"Workspace {number}"
    )


def make_org_unit(
    db_session: Session,
    *,
    workspace_id: str,
    parent_id: str | None = None,
    kind: str = "store",
    name: str | None = None,
) -> OrgUnit:
    """Create an org unit (a store by default) under an optional parent."""
    number = next(_sequence)
    return build_org_unit(
        db_session=db_session,
        workspace_id=workspace_id,
        code=f"unit-{number}",
        name=name or f"Unit {number}",
        kind=kind,
        parent_id=parent_id,
    )


def make_member_with_token(
    db_session: Session,
    *,
    workspace_id: str,
    role: Role = Role.ADMIN,
    org_unit_id: str | None = None,
) -> tuple[Principal, str]:
    """Create a member with an API token; return the Principal and the plaintext token."""
    number = next(_sequence)
    member = create_member(
        db_session=db_session,
        workspace_id=workspace_id,
        email=f"member{number}@example.com",
        display_name=f"Member {number}",
        role=role,
        org_unit_id=org_unit_id,
    )
    _, token = issue_token(
        db_session=db_session, workspace_id=workspace_id, user_id=member.user.id, name="tests"
    )
    path = None
    if org_unit_id is not None:
        unit = db_session.get(OrgUnit, org_unit_id)
        path = unit.path if unit else None
    return Principal(
        workspace_id=workspace_id, user_id=member.user.id, role=role, org_unit_path=path
    ), token
