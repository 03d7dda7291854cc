"""Workspace members as the API manages them: list, read, invite, change role or scope."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from touchpoints.api.listing import ListParams, paginate
from touchpoints.audit.actions import AuditAction
from touchpoints.audit.service import record_change
from touchpoints.auth.models import Membership, User
from touchpoints.auth.permissions import Permission, Principal, Role, require
from touchpoints.auth.schemas import UserCreate, UserRead, UserUpdate
from touchpoints.auth.service import create_member
from touchpoints.errors import InvalidInput, NotFound
from touchpoints.orgs.models import OrgUnit


def _fields() -> dict[str, Any]:
    return {
        "id": User.id,
        "email": User.email,
        "display_name": User.display_name,
        "role": Membership.role,
        "org_unit_id": Membership.org_unit_id,
        "is_active": User.is_active,
        "created_at": Membership.created_at,
    }


def to_read(user: User, membership: Membership) -> UserRead:
    """Combine a user and their membership into the API's view of a member."""
    return UserRead(
        id=user.id,
        email=user.email,
        display_name=user.display_name,
        role=Role(membership.role),
        org_unit_id=membership.org_unit_id,
        is_active=user.is_active,
        created_at=membership.created_at,
        last_login_at=user.last_login_at,
    )


def list_members(
    *, db_session: Session, actor: Principal, params: ListParams
) -> tuple[list[UserRead], int]:
    """List the members of the caller's workspace (admins)."""
    require(actor, Permission.USERS_MANAGE)
    statement = (
        select(Membership)
        .join(User, User.id == Membership.user_id)
        .where(Membership.workspace_id == actor.workspace_id)
    )
    memberships, total = paginate(
        db_session, statement, params=params, fields=_fields(), default_sort="email"
    )
    users = {
        u.id: u
        for u in db_session.scalars(
            select(User).where(User.id.in_([m.user_id for m in memberships]))
        )
    }
    return [to_read(users[m.user_id], m) for m in memberships], total


def get_member(*, db_session: Session, actor: Principal, user_id: str) -> UserRead:
    """Return one member of the caller's workspace (admins, or the caller themself)."""
    if user_id != actor.user_id:
        require(actor, Permission.USERS_MANAGE)
    user, membership = _load(db_session, actor.workspace_id, user_id)
    return to_read(user, membership)


def invite_member(
    *, db_session: Session, actor: Principal, user_in: UserCreate, ip_address: str | None = None
) -> UserRead:
    """Add a member with a role and an optional org-unit scope (admins)."""
    require(actor, Permission.USERS_MANAGE)
    _check_org_unit(db_session, actor.workspace_id, user_in.org_unit_id)
    member = create_member(
        db_session=db_session,
        workspace_id=actor.workspace_id,
        email=str(user_in.email),
        display_name=user_in.display_name,
        role=user_in.role,
        org_unit_id=user_in.org_unit_id,
        password=user_in.password,
    )
    record_change(
        db_session=db_session,
        actor=actor,
        action=AuditAction.MEMBER_ADDED,
        object_type="user",
        object_id=member.user.id,
        details={
            "email": member.user.email,
            "role": member.membership.role,
            "org_unit_id": member.membership.org_unit_id,
        },
        ip_address=ip_address,
    )
    return to_read(member.user, member.membership)


def update_member(
    *,
    db_session: Session,
    actor: Principal,
    user_id: str,
    user_in: UserUpdate,
    ip_address: str | None = None,
) -> UserRead:
    """Change a member's role, scope, name or active flag (admins)."""
    require(actor, Permission.USERS_MANAGE)
    user, membership = _load(db_session, actor.workspace_id, user_id)
    before = _audited_state(user, membership)
    changes = user_in.model_dump(exclude_unset=True)
    if "org_unit_id" in changes:
        _check_org_unit(db_session, actor.workspace_id, changes["org_unit_id"])
        membership.org_unit_id = changes["org_unit_id"]
    if changes.get("role") is not None:
        if user_id == actor.user_id and changes["role"] != Role.ADMIN:
            raise InvalidInput("role", "you cannot remove your own admin role")
        membership.role = Role(changes["role"]).value
    if changes.get("display_name") is not None:
        user.display_name = changes["display_name"]
    if changes.get("is_active") is not None:
        if user_id == actor.user_id and not changes["is_active"]:
            raise InvalidInput("is_active", "you cannot deactivate yourself")
        user.is_active = changes["is_active"]
    db_session.flush()
    _record_update(db_session, actor, user, before, _audited_state(user, membership), ip_address)
    return to_read(user, membership)


def _audited_state(user: User, membership: Membership) -> dict[str, Any]:
    return {
        "role": membership.role,
        "org_unit_id": membership.org_unit_id,
        "display_name": user.display_name,
        "is_active": user.is_active,
    }


def _record_update(
    db_session: Session,
    actor: Principal,
    user: User,
    before: dict[str, Any],
    after: dict[str, Any],
    ip_address: str | None,
) -> None:
    changed = {name: [before[name], after[name]] for name in after if before[name] != after[name]}
    if not changed:
        return
    record_change(
        db_session=db_session,
        actor=actor,
        action=AuditAction.MEMBER_UPDATED,
        object_type="user",
        object_id=user.id,
        details={"email": user.email, "changes": changed},
        ip_address=ip_address,
    )


def remove_member(
    *, db_session: Session, actor: Principal, user_id: str, ip_address: str | None = None
) -> None:
    """Remove a member from the workspace; their API tokens here stop working (admins)."""
    require(actor, Permission.USERS_MANAGE)
    if user_id == actor.user_id:
        raise InvalidInput("user_id", "you cannot remove yourself")
    user, membership = _load(db_session, actor.workspace_id, user_id)
    record_change(
        db_session=db_session,
        actor=actor,
        action=AuditAction.MEMBER_REMOVED,
        object_type="user",
        object_id=user.id,
        details={"email": user.email, "role": membership.role},
        ip_address=ip_address,
    )
    db_session.delete(membership)
    db_session.flush()


def _load(db_session: Session, workspace_id: str, user_id: str) -> tuple[User, Membership]:
    row = db_session.execute(
        select(User, Membership)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.workspace_id == workspace_id, User.id == user_id)
    ).first()
    if row is None:
        raise NotFound(f"user {user_id} not found in this workspace")
    return row[0], row[1]


def _check_org_unit(db_session: Session, workspace_id: str, org_unit_id: str | None) -> None:
    if org_unit_id is None:
        return
    unit = db_session.get(OrgUnit, org_unit_id)
    if unit is None or unit.workspace_id != workspace_id:
        raise InvalidInput("org_unit_id", f"org unit {org_unit_id} does not exist")
