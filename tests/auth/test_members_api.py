"""Members: admins add people with roles and scopes; other roles cannot."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.conftest import Caller, MakeCaller
from tests.factories.orgs import make_org_unit
from touchpoints.auth.permissions import Role


def test_admin_adds_a_scoped_manager(admin: Caller, db_session: Session) -> None:
    store = make_org_unit(db_session, workspace_id=admin.workspace_id)
    db_session.commit()
    response = admin.http.post(
        "/api/v1/users",
        json={
            "email": "Maria.Lopez@Example.com",
            "display_name": "Maria Lopez",
            "role": "manager",
            "org_unit_id": store.id,
        },
    )
    assert response.status_code == 201, response.text
    member = response.json()
    assert member["email"] == "maria.lopez@example.com"
    assert member["role"] == "manager"
    assert member["org_unit_id"] == store.id
    listing = admin.http.get("/api/v1/users", params={"filter": "role:eq:manager"})
    assert [m["email"] for m in listing.json()["items"]] == ["maria.lopez@example.com"]


def test_adding_the_same_member_twice_is_a_conflict(admin: Caller) -> None:
    body = {"email": "a@example.com", "display_name": "A", "role": "viewer"}
    assert admin.http.post("/api/v1/users", json=body).status_code == 201
    again = admin.http.post("/api/v1/users", json=body)
    assert again.status_code == 409
    assert "already a member" in again.json()["detail"]


def test_invalid_role_and_email_are_named(admin: Caller) -> None:
    response = admin.http.post(
        "/api/v1/users", json={"email": "nope", "display_name": "X", "role": "owner"}
    )
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"email", "role"}


def test_unknown_org_unit_is_named(admin: Caller) -> None:
    response = admin.http.post(
        "/api/v1/users",
        json={"email": "b@example.com", "display_name": "B", "org_unit_id": "missing"},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "org_unit_id"


@pytest.mark.parametrize("role", [Role.ANALYST, Role.MANAGER, Role.AGENT, Role.VIEWER])
def test_only_admins_manage_members_and_tokens(make_caller: MakeCaller, role: Role) -> None:
    caller = make_caller(role)
    assert caller.http.get("/api/v1/users").status_code == 403
    body = {"email": "c@example.com", "display_name": "C"}
    assert caller.http.post("/api/v1/users", json=body).status_code == 403
    assert caller.http.post("/api/v1/tokens", json={"name": "x"}).status_code == 403
    me = caller.http.get("/api/v1/me")
    assert me.status_code == 200
    assert me.json()["role"] == role.value


def test_admin_cannot_demote_or_remove_themself(admin: Caller) -> None:
    me = admin.principal.user_id
    demote = admin.http.patch(f"/api/v1/users/{me}", json={"role": "viewer"})
    assert demote.status_code == 422
    assert admin.http.delete(f"/api/v1/users/{me}").status_code == 422


def test_removed_member_loses_access(admin: Caller, make_caller: MakeCaller) -> None:
    analyst = make_caller(Role.ANALYST, workspace_id=admin.workspace_id)
    assert analyst.http.get("/api/v1/me").status_code == 200
    removed = admin.http.delete(f"/api/v1/users/{analyst.principal.user_id}")
    assert removed.status_code == 204
    assert analyst.http.get("/api/v1/me").status_code == 401


def test_member_of_another_workspace_is_not_found(admin: Caller, make_caller: MakeCaller) -> None:
    stranger = make_caller(Role.ADMIN)
    response = admin.http.get(f"/api/v1/users/{stranger.principal.user_id}")
    assert response.status_code == 404
