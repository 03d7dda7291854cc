"""Record audit events in the caller's transaction and list them for admins."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from touchpoints.api.listing import ListParams, paginate
from touchpoints.audit.models import AuditEvent
from touchpoints.auth.models import Membership, User
from touchpoints.auth.permissions import Permission, Principal, require


def record(
    *,
    db_session: Session,
    action: str,
    workspace_id: str | None,
    actor_user_id: str | None = None,
    actor_email: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    details: dict[str, Any] | None = None,
    ip_address: str | None = None,
) -> AuditEvent:
    """Add an audit event to the current transaction (it commits with the change it records)."""
    event = AuditEvent(
        workspace_id=workspace_id,
        actor_user_id=actor_user_id,
        actor_email=actor_email,
        action=action,
        object_type=object_type,
        object_id=object_id,
        details=details or {},
        ip_address=ip_address,
    )
    db_session.add(event)
    return event


def record_change(
    *,
    db_session: Session,
    actor: Principal,
    action: str,
    object_type: str,
    object_id: str,
    details: dict[str, Any] | None = None,
    ip_address: str | None = None,
) -> AuditEvent:
    """Record a change a workspace member made (their email is kept with the event)."""
    actor_user = db_session.get(User, actor.user_id)
    return record(
        db_session=db_session,
        action=action,
        workspace_id=actor.workspace_id,
        actor_user_id=actor.user_id,
        actor_email=actor_user.email if actor_user else None,
        object_type=object_type,
        object_id=object_id,
        details=details,
        ip_address=ip_address,
    )


def audit_fields() -> dict[str, Any]:
    """Return the filterable and sortable audit columns."""
    return {
        "id": AuditEvent.id,
        "action": AuditEvent.action,
        "actor_email": AuditEvent.actor_email,
        "object_type": AuditEvent.object_type,
        "object_id": AuditEvent.object_id,
        "occurred_at": AuditEvent.occurred_at,
    }


def list_events(
    *, db_session: Session, actor: Principal, params: ListParams
) -> tuple[list[AuditEvent], int]:
    """List the workspace's audit events, newest first (admins).

    Account events without a workspace (failed sign-ins, lockouts, password resets) are shown
    to the admins of every workspace the account belongs to.
    """
    require(actor, Permission.AUDIT_READ)
    statement = select(AuditEvent).where(_visible_to(actor.workspace_id))
    return paginate(
        db_session, statement, params=params, fields=audit_fields(), default_sort="-occurred_at"
    )


def actions_in_use(*, db_session: Session, actor: Principal) -> list[str]:
    """Return the distinct actions in the workspace's audit log, for a filter menu (admins)."""
    require(actor, Permission.AUDIT_READ)
    statement = (
        select(AuditEvent.action)
        .where(_visible_to(actor.workspace_id))
        .distinct()
        .order_by(AuditEvent.action)
    )
    return list(db_session.scalars(statement))


def _visible_to(workspace_id: str) -> ColumnElement[bool]:
    members = select(Membership.user_id).where(Membership.workspace_id == workspace_id)
    return or_(
        AuditEvent.workspace_id == workspace_id,
        and_(AuditEvent.workspace_id.is_(None), AuditEvent.actor_user_id.in_(members)),
    )
