"""Settings pages: who may open them, members and roles, org units, API tokens, audit log."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories.orgs import make_org_unit
from tests.web.conftest import Browser, MakeBrowser
from touchpoints.audit.models import AuditEvent
from touchpoints.auth.models import Membership, User
from touchpoints.auth.permissions import Role

ADMIN_PAGES = ("/settings/users", "/settings/org-units", "/settings/tokens", "/settings/audit")
NON_ADMINS = (Role.ANALYST, Role.MANAGER, Role.AGENT, Role.VIEWER)


def audited(db_session: Session, workspace_id: str, action: str) -> list[AuditEvent]:
    """Return the workspace's audit events of one kind."""
    db_session.expire_all()
    return list(
        db_session.scalars(
            select(AuditEvent).where(
                AuditEvent.workspace_id == workspace_id, AuditEvent.action == action
            )
        )
    )


def role_of(db_session: Session, user_id: str) -> str:
    """Return a member's role as stored."""
    db_session.expire_all()
    return db_session.scalars(select(Membership.role).where(Membership.user_id == user_id)).one()


@pytest.mark.parametrize("role", NON_ADMINS)
def test_other_roles_get_403_on_every_admin_page_but_may_open_settings(
    make_browser: MakeBrowser, role: Role
) -> None:
    browser = make_browser(role)
    for page in ADMIN_PAGES:
        response = browser.http.get(page)
        assert response.status_code == 403, page
        assert "open to admins only" in response.text
    index = browser.http.get("/settings")
    assert index.status_code == 200
    assert f"with the <strong>{role.value}</strong> role" in index.text
    assert 'href="/settings/users"' not in index.text
    assert browser.http.get("/settings/privacy").status_code == 200


@pytest.mark.parametrize("role", NON_ADMINS)
def test_other_roles_cannot_post_to_admin_forms(
    make_browser: MakeBrowser, db_session: Session, role: Role
) -> None:
    browser = make_browser(role)
    forms = {
        "/settings/users": {"email": "x@air.example", "display_name": "X", "role": "admin"},
        f"/settings/users/{browser.user.id}": {"role": "admin"},
        "/settings/org-units": {"code": "hq", "name": "HQ"},
        "/settings/tokens": {"name": "mine"},
    }
    for url, data in forms.items():
        assert browser.post_form(url, data).status_code == 403, url  # type: ignore[attr-defined]
    assert role_of(db_session, browser.user.id) == role.value


def test_a_manager_cannot_promote_themself(make_browser: MakeBrowser, db_session: Session) -> None:
    manager = make_browser(Role.MANAGER)
    response = manager.post_form(f"/settings/users/{manager.user.id}", {"role": "admin"})
    assert response.status_code == 403  # type: ignore[attr-defined]
    assert role_of(db_session, manager.user.id) == "manager"
    assert manager.http.get("/settings/users").status_code == 403


def test_admins_see_every_admin_page(make_browser: MakeBrowser) -> None:
    admin = make_browser(Role.ADMIN)
    for page in (*ADMIN_PAGES, "/settings", "/settings/privacy"):
        response = admin.http.get(page)
        assert response.status_code == 200, page
        assert 'aria-current="page"' in response.text


def test_an_admin_adds_a_member_with_role_and_scope(
    make_browser: MakeBrowser, db_session: Session
) -> None:
    admin = make_browser(Role.ADMIN)
    workspace_id = admin.principal.workspace_id
    store = make_org_unit(db_session, workspace_id=workspace_id, name="Leeds store")
    db_session.commit()
    added = admin.post_form(
        "/settings/users",
        {
            "email": "Lee@Air.example",
            "display_name": "Lee Park",
            "role": "manager",
            "org_unit_id": store.id,
            "password": "",
        },
    )
    assert added.status_code == 303  # type: ignore[attr-defined]
    assert added.headers["location"] == "/settings/users?done=added"  # type: ignore[attr-defined]
    page = admin.http.get("/settings/users?done=added").text
    assert "The member was added." in page
    assert "lee@air.example" in page
    lee = db_session.scalars(select(User).where(User.email == "lee@air.example")).one()
    assert role_of(db_session, lee.id) == "manager"
    [event] = audited(db_session, workspace_id, "member.added")
    assert event.actor_email == admin.user.email
    assert event.details["org_unit_id"] == store.id


def test_a_bad_member_form_shows_the_error_next_to_the_field(make_browser: MakeBrowser) -> None:
    admin = make_browser(Role.ADMIN)
    response = admin.post_form(
        "/settings/users", {"email": "not-an-email", "display_name": "X", "role": "viewer"}
    )
    assert response.status_code == 422  # type: ignore[attr-defined]
    html = response.text  # type: ignore[attr-defined]
    assert 'id="new-email" name="email"' in html
    assert 'aria-invalid="true" aria-describedby="email-error"' in html
    assert re.search(r'id="email-error" class="field-error">[^<]*email', html)
    duplicate = admin.post_form(
        "/settings/users", {"email": admin.user.email, "display_name": "Me", "role": "viewer"}
    )
    assert "already a member" in duplicate.text  # type: ignore[attr-defined]


def test_changing_a_role_is_audited_and_shown_in_the_audit_log(
    make_browser: MakeBrowser, db_session: Session
) -> None:
    admin = make_browser(Role.ADMIN)
    agent = make_browser(Role.AGENT, workspace_id=admin.principal.workspace_id)
    changed = admin.post_form(f"/settings/users/{agent.user.id}", {"role": "analyst"})
    assert changed.status_code == 303  # type: ignore[attr-defined]
    assert role_of(db_session, agent.user.id) == "analyst"
    [event] = audited(db_session, admin.principal.workspace_id, "member.updated")
    assert event.details["changes"] == {"role": ["agent", "analyst"]}
    log = admin.http.get("/settings/audit?action=member.updated").text
    assert "role: agent → analyst" in log


def test_an_admin_cannot_demote_or_deactivate_themself(
    make_browser: MakeBrowser, db_session: Session
) -> None:
    admin = make_browser(Role.ADMIN)
    demoted = admin.post_form(f"/settings/users/{admin.user.id}", {"role": "viewer"})
    assert demoted.status_code == 422  # type: ignore[attr-defined]
    assert "you cannot remove your own admin role" in demoted.text  # type: ignore[attr-defined]
    assert role_of(db_session, admin.user.id) == "admin"
    deactivated = admin.post_form(f"/settings/users/{admin.user.id}/active", {"active": "false"})
    assert "you cannot deactivate yourself" in deactivated.text  # type: ignore[attr-defined]


def test_a_deactivated_member_is_signed_out_at_once(make_browser: MakeBrowser) -> None:
    admin = make_browser(Role.ADMIN)
    analyst = make_browser(Role.ANALYST, workspace_id=admin.principal.workspace_id)
    assert analyst.http.get("/settings").status_code == 200
    admin.post_form(f"/settings/users/{analyst.user.id}/active", {"active": "false"})
    assert analyst.http.get("/settings").status_code == 303
    assert "Deactivated" in admin.http.get("/settings/users").text


def test_org_units_form_a_tree_and_codes_stay_unique(
    make_browser: MakeBrowser, db_session: Session
) -> None:
    admin = make_browser(Role.ADMIN)
    admin.post_form("/settings/org-units", {"code": "north", "name": "North", "kind": "region"})
    from touchpoints.orgs.models import OrgUnit

    north = db_session.scalars(select(OrgUnit).where(OrgUnit.code == "north")).one()
    added = admin.post_form(
        "/settings/org-units",
        {"code": "leeds", "name": "Leeds", "kind": "store", "parent_id": north.id},
    )
    assert added.status_code == 303  # type: ignore[attr-defined]
    page = admin.http.get("/settings/org-units").text
    assert page.index("North") < page.index("└ </span>Leeds")
    duplicate = admin.post_form("/settings/org-units", {"code": "north", "name": "Again"})
    assert duplicate.status_code == 422  # type: ignore[attr-defined]
    assert "already exists" in duplicate.text  # type: ignore[attr-defined]
    assert len(audited(db_session, admin.principal.workspace_id, "org_unit.created")) == 2


def _created_secret(html: str) -> str:
    match = re.search(r'id="new-token" readonly value="([^"]+)"', html)
    assert match, "the new token is shown once"
    return match.group(1)


def test_a_token_is_shown_once_works_and_stops_when_revoked(
    make_browser: MakeBrowser, db_session: Session, app: FastAPI
) -> None:
    admin = make_browser(Role.ADMIN)
    created = admin.post_form("/settings/tokens", {"name": "Nightly CRM import", "lifetime": "30"})
    assert created.status_code == 201  # type: ignore[attr-defined]
    assert created.headers["cache-control"] == "no-store"  # type: ignore[attr-defined]
    secret = _created_secret(created.text)  # type: ignore[attr-defined]
    listing = admin.http.get("/settings/tokens").text
    assert "Nightly CRM import" in listing
    assert secret not in listing
    with TestClient(app) as api:
        api.headers["Authorization"] = f"Bearer {secret}"
        assert api.get("/api/v1/me").json()["email"] == admin.user.email
        [event] = audited(db_session, admin.principal.workspace_id, "token.created")
        revoked = admin.post_form(f"/settings/tokens/{event.object_id}/revoke", {})
        assert revoked.status_code == 303  # type: ignore[attr-defined]
        assert api.get("/api/v1/me").status_code == 401
    assert "token.created" in admin.http.get("/settings/audit").text
    assert audited(db_session, admin.principal.workspace_id, "token.revoked")


def test_a_token_needs_a_name(make_browser: MakeBrowser) -> None:
    admin = make_browser(Role.ADMIN)
    response = admin.post_form("/settings/tokens", {"name": "  ", "lifetime": ""})
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert "Give the token a name" in response.text  # type: ignore[attr-defined]


def _sign_in_events(admin: Browser, db_session: Session, count: int) -> None:
    from touchpoints.audit.service import record

    for number in range(count):
        record(
            db_session=db_session,
            action="auth.sign_in",
            workspace_id=admin.principal.workspace_id,
            actor_user_id=admin.user.id,
            actor_email=f"user{number}@air.example",
            ip_address="192.0.2.7",
        )
    db_session.commit()


def test_the_audit_log_filters_by_action_and_actor_and_pages(
    make_browser: MakeBrowser, db_session: Session
) -> None:
    admin = make_browser(Role.ADMIN)
    _sign_in_events(admin, db_session, 55)
    first = admin.http.get("/settings/audit?action=auth.sign_in").text
    assert "55 events match" in first
    assert 'rel="next"' in first
    second = admin.http.get("/settings/audit?action=auth.sign_in&offset=50").text
    assert second.count("<code>auth.sign_in</code>") == 5
    one = admin.http.get("/settings/audit?actor=USER7@").text
    assert "1 event match" in one
    assert "192.0.2.7" in one


def test_failed_sign_ins_show_in_the_audit_log_of_the_accounts_workspace(
    make_browser: MakeBrowser, app: FastAPI
) -> None:
    admin = make_browser(Role.ADMIN)
    viewer = make_browser(Role.VIEWER, workspace_id=admin.principal.workspace_id)
    outsider = make_browser(Role.ADMIN)
    with TestClient(app, follow_redirects=False) as http:
        page = http.get("/login")
        from tests.web.conftest import csrf_from

        http.post(
            "/login",
            data={
                "email": viewer.user.email,
                "password": "guess",
                "csrf_token": csrf_from(page.text),
            },
        )
    assert viewer.user.email in admin.http.get("/settings/audit?action=auth.sign_in_failed").text
    assert viewer.user.email not in outsider.http.get("/settings/audit").text


def test_settings_forms_need_the_session_csrf_token(make_browser: MakeBrowser) -> None:
    admin = make_browser(Role.ADMIN)
    forged = admin.http.post("/settings/tokens", data={"name": "forged"})
    assert forged.status_code == 403
    assert "forged" not in admin.http.get("/settings/tokens").text


def test_the_privacy_page_states_the_real_facts(make_browser: MakeBrowser) -> None:
    page = make_browser(Role.VIEWER).http.get("/settings/privacy").text
    for fact in (
        "consent_email",
        "consent_sms",
        "consent_research",
        "DELETE /api/v1/customers/{id}",
        "no retention policies",
    ):
        assert fact in page
    assert "Your role may not" in page
