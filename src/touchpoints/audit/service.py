"""Record audit events in the caller's transaction and list them for admins."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from touchpoints.api.listing import ListParams, paginate
from touchpoints.audit.models import AuditEvent
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
    """List the workspace's audit events, newest first (admins)."""
    require(actor, Permission.AUDIT_READ)
    statement = select(AuditEvent).where(AuditEvent.workspace_id == actor.workspace_id)
    return paginate(
        db_session, statement, params=params, fields=audit_fields(), default_sort="-occurred_at"
    )
