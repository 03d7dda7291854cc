"""Roles, permissions and the caller (Principal) every service function checks."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import InstrumentedAttribute

from touchpoints.errors import NotFound, PermissionDenied


class Role(StrEnum):
    """What a member of a workspace may do."""

    ADMIN = "admin"
    ANALYST = "analyst"
    MANAGER = "manager"
    AGENT = "agent"
    VIEWER = "viewer"


class Permission(StrEnum):
    """One action on one kind of data."""

    WORKSPACE_READ = "workspace:read"
    WORKSPACE_MANAGE = "workspace:manage"
    USERS_MANAGE = "users:manage"
    TOKENS_MANAGE = "tokens:manage"
    CUSTOMERS_READ = "customers:read"
    CUSTOMERS_WRITE = "customers:write"
    JOURNEYS_READ = "journeys:read"
    JOURNEYS_WRITE = "journeys:write"
    FEEDBACK_READ = "feedback:read"
    FEEDBACK_WRITE = "feedback:write"
    EVENTS_READ = "events:read"
    EVENTS_WRITE = "events:write"
    SURVEYS_READ = "surveys:read"
    SURVEYS_WRITE = "surveys:write"
    JOBS_READ = "jobs:read"
    JOBS_MANAGE = "jobs:manage"
    AUDIT_READ = "audit:read"


_READ_ALL = {
    Permission.WORKSPACE_READ,
    Permission.CUSTOMERS_READ,
    Permission.JOURNEYS_READ,
    Permission.FEEDBACK_READ,
    Permission.EVENTS_READ,
    Permission.SURVEYS_READ,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.ANALYST: frozenset(
        _READ_ALL
        | {
            Permission.CUSTOMERS_WRITE,
            Permission.JOURNEYS_WRITE,
            Permission.FEEDBACK_WRITE,
            Permission.EVENTS_WRITE,
            Permission.SURVEYS_WRITE,
            Permission.JOBS_READ,
        }
    ),
    Role.MANAGER: frozenset(_READ_ALL),
    Role.AGENT: frozenset(_READ_ALL),
    # Viewers read dashboards and feedback, never customer identities.
    Role.VIEWER: frozenset(_READ_ALL - {Permission.CUSTOMERS_READ}),
}


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: their workspace, role and org-unit scope."""

    workspace_id: str
    user_id: str
    role: Role
    # Materialized path of the org unit the caller is limited to; None sees the whole workspace.
    org_unit_path: str | None = None

    def can(self, permission: Permission) -> bool:
        """Tell whether the caller's role grants the permission."""
        return permission in ROLE_PERMISSIONS[self.role]

    @property
    def is_scoped(self) -> bool:
        """Tell whether the caller sees only part of the organization."""
        return self.org_unit_path is not None


def require(actor: Principal, permission: Permission) -> None:
    """Raise PermissionDenied unless the caller's role grants the permission."""
    if not actor.can(permission):
        raise PermissionDenied(
            f"the {actor.role.value} role may not do this (needs {permission.value})"
        )


def scope_condition(
    actor: Principal, org_unit_column: InstrumentedAttribute[str | None]
) -> ColumnElement[bool] | None:
    """Return the WHERE condition limiting rows to the caller's org-unit subtree, if any."""
    if actor.org_unit_path is None:
        return None
    from touchpoints.orgs.models import OrgUnit

    in_scope = select(OrgUnit.id).where(
        OrgUnit.workspace_id == actor.workspace_id,
        OrgUnit.path.startswith(actor.org_unit_path, autoescape=True),
    )
    return org_unit_column.in_(in_scope)


def ensure_org_unit_in_scope(actor: Principal, org_unit_path: str | None) -> None:
    """Refuse a write placing data outside the caller's org-unit subtree."""
    if actor.org_unit_path is None:
        return
    if org_unit_path is None or not org_unit_path.startswith(actor.org_unit_path):
        raise NotFound("org unit not found in your scope")
