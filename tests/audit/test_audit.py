"""The audit log records member and token changes made through the API, and who may read it."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import MakeCaller
from touchpoints.api.listing import ListParams
from touchpoints.audit.models import AuditEvent
from touchpoints.audit.service import actions_in_use, list_events, record
from touchpoints.auth.permissions import Principal, Role
from touchpoints.errors import PermissionDenied


def events(db_session: Session, workspace_id: str) -> list[AuditEvent]:
    """Return the workspace's audit events, oldest first."""
    db_session.expire_all()
    statement = (
        select(AuditEvent)
        .where(AuditEvent.workspace_id == workspace_id)
        .order_by(AuditEvent.occurred_at, AuditEvent.id)
    )
    return list(db_session.scalars(statement))


def test_member_changes_through_the_api_are_audited_with_who_and_from_where(
    make_caller: MakeCaller, db_session: Session
) -> None:
    admin = make_caller(Role.ADMIN)
    created = admin.http.post(
        "/api/v1/users",
        json={"email": "kai@air.example", "display_name": "Kai", "role": "agent"},
    )
    user_id = created.json()["id"]
    admin.http.patch(f"/api/v1/users/{user_id}", json={"role": "manager", "is_active": False})
    admin.http.patch(f"/api/v1/users/{user_id}", json={"role": "manager"})  # no change
    admin.http.delete(f"/api/v1/users/{user_id}")
    added, updated, removed = events(db_session, admin.workspace_id)
    assert [added.action, updated.action, removed.action] == [
        "member.added",
        "member.updated",
        "member.removed",
    ]
    assert added.details == {"email": "kai@air.example", "role": "agent", "org_unit_id": None}
    assert updated.details["changes"] == {"role": ["agent", "manager"], "is_active": [True, False]}
    assert removed.details == {"email": "kai@air.example", "role": "manager"}
    for event in (added, updated, removed):
        assert event.actor_user_id == admin.principal.user_id
        assert event.actor_email is not None
        assert event.ip_address == "testclient"
        assert event.object_id == user_id


def test_tokens_created_and_revoked_through_the_api_are_audited(
    make_caller: MakeCaller, db_session: Session
) -> None:
    admin = make_caller(Role.ADMIN)
    token = admin.http.post("/api/v1/tokens", json={"name": "ETL"}).json()
    admin.http.delete(f"/api/v1/tokens/{token['id']}")
    created, revoked = events(db_session, admin.workspace_id)
    assert (created.action, revoked.action) == ("token.created", "token.revoked")
    assert created.details == {"name": "ETL", "prefix": token["prefix"]}
    assert token["token"] not in str(created.details), "the secret is never logged"


def test_only_admins_read_the_audit_log(make_caller: MakeCaller, db_session: Session) -> None:
    admin = make_caller(Role.ADMIN)
    record(db_session=db_session, action="member.added", workspace_id=admin.workspace_id)
    for role in (Role.ANALYST, Role.MANAGER, Role.AGENT, Role.VIEWER):
        other = Principal(workspace_id=admin.workspace_id, user_id="someone", role=role)
        with pytest.raises(PermissionDenied):
            list_events(db_session=db_session, actor=other, params=ListParams())
    _, total = list_events(db_session=db_session, actor=admin.principal, params=ListParams())
    assert total == 1
    assert actions_in_use(db_session=db_session, actor=admin.principal) == ["member.added"]


def test_account_events_are_shown_to_the_admins_of_the_accounts_workspaces_only(
    make_caller: MakeCaller, db_session: Session
) -> None:
    admin = make_caller(Role.ADMIN)
    member = make_caller(Role.VIEWER, workspace_id=admin.workspace_id)
    stranger_admin = make_caller(Role.ADMIN)
    record(
        db_session=db_session,
        action="auth.account_locked",
        workspace_id=None,
        actor_user_id=member.principal.user_id,
        actor_email="viewer@air.example",
    )
    record(
        db_session=db_session,
        action="auth.sign_in_failed",
        workspace_id=None,
        actor_email="nobody@air.example",
    )
    db_session.flush()
    mine, _ = list_events(db_session=db_session, actor=admin.principal, params=ListParams())
    theirs, _ = list_events(
        db_session=db_session, actor=stranger_admin.principal, params=ListParams()
    )
    assert [event.action for event in mine] == ["auth.account_locked"]
    assert theirs == []
