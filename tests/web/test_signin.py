"""Signing in and out, lockout, rate limit, CSRF, safe redirects and password reset by email."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories.orgs import make_workspace
from tests.mail.smtp_server import Inbox, running_smtp_server
from tests.web.conftest import PASSWORD, csrf_from
from touchpoints.audit.models import AuditEvent
from touchpoints.auth.login import GENERIC_FAILURE
from touchpoints.auth.models import User
from touchpoints.auth.permissions import Role
from touchpoints.auth.service import create_member
from touchpoints.config import Settings
from touchpoints.db.base import utcnow
from touchpoints.web.pages.signin import safe_next
from touchpoints.web.sessions import LOGIN_CSRF_COOKIE, SESSION_COOKIE

EMAIL = "ana.silva@brightwing.example"
NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def member(db_session: Session) -> User:
    """A committed member with a password, in one workspace."""
    workspace = make_workspace(db_session, name="Brightwing Air")
    user = create_member(
        db_session=db_session,
        workspace_id=workspace.id,
        email=EMAIL,
        display_name="Ana Silva",
        role=Role.ANALYST,
        password=PASSWORD,
    ).user
    db_session.commit()
    return user


@pytest.fixture
def browser(app: FastAPI) -> Iterator[TestClient]:
    """A signed-out browser."""
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as http:
        yield http


@pytest.fixture
def inbox(settings: Settings) -> Iterator[Inbox]:
    """A real SMTP server the app sends its email to."""
    with running_smtp_server() as server:
        settings.smtp_host, settings.smtp_port = server.host, server.port
        yield server


def sign_in(
    http: TestClient, email: str, password: str, next_url: str = "/overview"
) -> httpx.Response:
    """Open the sign-in page, then send the form as a browser does."""
    page = http.get(f"/login?next={next_url}")
    form = {"email": email, "password": password, "next": next_url}
    response: httpx.Response = http.post(
        "/login", data={"csrf_token": csrf_from(page.text), **form}
    )
    return response


def actions(db_session: Session, user_id: str) -> list[str]:
    """Return the audited actions about a user, oldest first."""
    db_session.expire_all()
    rows = db_session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.actor_user_id == user_id)
        .order_by(AuditEvent.occurred_at, AuditEvent.id)
    )
    return list(rows)


def test_sign_in_sets_a_safe_session_cookie_and_lands_on_next(
    browser: TestClient, member: User, db_session: Session
) -> None:
    response = sign_in(browser, EMAIL.upper(), PASSWORD, next_url="/settings/privacy?tab=1")
    assert response.status_code == 303
    assert response.headers["location"] == "/settings/privacy?tab=1"
    cookie = response.headers["set-cookie"]
    assert f"{SESSION_COOKIE}=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie, "the test installation runs without HTTPS"
    assert browser.get("/settings/privacy").status_code == 200
    db_session.refresh(member)
    assert member.last_login_at is not None
    assert "auth.sign_in" in actions(db_session, member.id)


def test_the_session_cookie_is_secure_when_the_installation_says_so(
    browser: TestClient, member: User, settings: Settings
) -> None:
    settings.cookie_secure = True
    response = sign_in(browser, EMAIL, PASSWORD)
    assert "Secure" in response.headers["set-cookie"]


def test_wrong_password_and_unknown_email_get_the_same_message(
    browser: TestClient, member: User, db_session: Session
) -> None:
    wrong = sign_in(browser, EMAIL, "not the password")
    unknown = sign_in(browser, "nobody@brightwing.example", PASSWORD)
    for response in (wrong, unknown):
        assert response.status_code == 422
        assert GENERIC_FAILURE in response.text
        assert SESSION_COOKIE not in response.headers.get("set-cookie", "")
    assert actions(db_session, member.id) == ["auth.sign_in_failed"]


def test_lockout_refuses_even_the_right_password_until_it_expires(
    browser: TestClient, member: User, db_session: Session, settings: Settings
) -> None:
    settings.login_max_failures = 3
    for _ in range(3):
        assert sign_in(browser, EMAIL, "guess").status_code == 422
    locked = sign_in(browser, EMAIL, PASSWORD)
    assert locked.status_code == 422
    assert GENERIC_FAILURE in locked.text, "a locked account looks like a wrong password"
    assert "auth.account_locked" in actions(db_session, member.id)
    assert actions(db_session, member.id)[-1] == "auth.sign_in_refused_locked"
    db_session.refresh(member)
    assert member.locked_until is not None
    member.locked_until = utcnow() - timedelta(seconds=1)
    db_session.commit()
    assert sign_in(browser, EMAIL, PASSWORD).status_code == 303


def test_too_many_attempts_from_one_address_answer_429(
    browser: TestClient, member: User, settings: Settings
) -> None:
    settings.login_rate_per_minute = 2
    sign_in(browser, EMAIL, "guess one")
    sign_in(browser, EMAIL, "guess two")
    refused = sign_in(browser, EMAIL, PASSWORD)
    assert refused.status_code == 429
    assert "Too many attempts" in refused.text
    assert int(refused.headers["retry-after"]) > 0


def test_sign_out_makes_the_old_cookie_useless(
    browser: TestClient, member: User, app: FastAPI, db_session: Session
) -> None:
    sign_in(browser, EMAIL, PASSWORD)
    old_cookie = browser.cookies[SESSION_COOKIE]
    csrf = csrf_from(browser.get("/settings").text)
    out = browser.post("/logout", data={"csrf_token": csrf})
    assert out.status_code == 303
    assert out.headers["location"] == "/login?notice=signed-out"
    assert "You are signed out" in browser.get("/login?notice=signed-out").text
    with TestClient(app, follow_redirects=False) as thief:
        thief.cookies.set(SESSION_COOKIE, old_cookie)
        assert thief.get("/settings").headers["location"] == "/login?next=%2Fsettings"
    assert actions(db_session, member.id)[-1] == "auth.sign_out"


def test_the_login_form_needs_its_csrf_cookie(browser: TestClient, member: User) -> None:
    forged = browser.post("/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": "x"})
    assert forged.status_code == 403
    assert "Form expired" in forged.text
    browser.get("/login")
    assert LOGIN_CSRF_COOKIE in browser.cookies
    mismatched = browser.post(
        "/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": "not-the-token"}
    )
    assert mismatched.status_code == 403


@pytest.mark.parametrize(
    "next_url",
    [
        "//evil.example",
        "https://evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
        "/logout",
    ],
)
def test_next_never_leaves_the_site(next_url: str) -> None:
    assert safe_next(next_url) == "/overview"


def test_an_open_redirect_through_sign_in_is_refused(browser: TestClient, member: User) -> None:
    response = sign_in(browser, EMAIL, PASSWORD, next_url="//evil.example")
    assert response.headers["location"] == "/overview"


def test_a_member_of_several_workspaces_lands_in_the_first_by_name(
    browser: TestClient, member: User, db_session: Session
) -> None:
    other = make_workspace(db_session, name="Atlas Rail")
    create_member(
        db_session=db_session,
        workspace_id=other.id,
        email=EMAIL,
        display_name="Ana Silva",
        role=Role.VIEWER,
    )
    db_session.commit()
    sign_in(browser, EMAIL, PASSWORD)
    assert "Atlas Rail" in browser.get("/settings").text


def test_a_deactivated_member_cannot_sign_in(
    browser: TestClient, member: User, db_session: Session
) -> None:
    member.is_active = False
    db_session.commit()
    response = sign_in(browser, EMAIL, PASSWORD)
    assert response.status_code == 422
    assert GENERIC_FAILURE in response.text


def _reset_link(inbox: Inbox) -> str:
    [message] = inbox.to(EMAIL)
    assert message["Subject"] == "Reset your Touchpoints password"
    body = message.get_payload(decode=True).decode()  # type: ignore[union-attr]
    match = re.search(r"http://127\.0\.0\.1:8000/reset-password\?token=([\w-]+)", body)
    assert match, body
    return match.group(1)


def _ask_for_reset(browser: TestClient, email: str) -> httpx.Response:
    page = browser.get("/forgot-password")
    response: httpx.Response = browser.post(
        "/forgot-password", data={"email": email, "csrf_token": csrf_from(page.text)}
    )
    return response


def test_password_reset_by_email_from_start_to_end(
    browser: TestClient, member: User, db_session: Session, inbox: Inbox, app: FastAPI
) -> None:
    with TestClient(app, follow_redirects=False) as other_browser:
        sign_in(other_browser, EMAIL, PASSWORD)
        sent = _ask_for_reset(browser, EMAIL)
        assert "If the address belongs to an account" in sent.text
        token = _reset_link(inbox)
        form = browser.get(f"/reset-password?token={token}")
        assert form.status_code == 200
        csrf = csrf_from(form.text)
        fields = {"token": token, "csrf_token": csrf}
        short = browser.post(
            "/reset-password", data={**fields, "password": "short", "password_again": "short"}
        )
        assert short.status_code == 422
        assert "at least 10 characters" in short.text
        differ = browser.post(
            "/reset-password",
            data={**fields, "password": NEW_PASSWORD, "password_again": NEW_PASSWORD + "!"},
        )
        assert "not the same" in differ.text
        done = browser.post(
            "/reset-password",
            data={**fields, "password": NEW_PASSWORD, "password_again": NEW_PASSWORD},
        )
        assert done.headers["location"] == "/login?notice=password-changed"
        assert other_browser.get("/settings").status_code == 303, "every browser was signed out"
    again = browser.post(
        "/reset-password", data={**fields, "password": NEW_PASSWORD, "password_again": NEW_PASSWORD}
    )
    assert again.status_code == 410, "the link works once"
    assert sign_in(browser, EMAIL, PASSWORD).status_code == 422
    assert sign_in(browser, EMAIL, NEW_PASSWORD).status_code == 303
    audited = actions(db_session, member.id)
    assert "auth.password_reset_requested" in audited
    assert "auth.password_reset" in audited


def test_unknown_addresses_get_the_same_answer_and_no_email(
    browser: TestClient, member: User, inbox: Inbox
) -> None:
    known = _ask_for_reset(browser, EMAIL)
    unknown = _ask_for_reset(browser, "nobody@brightwing.example")
    assert known.text == unknown.text
    assert len(inbox.messages) == 1


def test_a_reset_unlocks_the_account_and_expired_links_stop_working(
    browser: TestClient, member: User, db_session: Session, inbox: Inbox, settings: Settings
) -> None:
    member.locked_until = utcnow() + timedelta(minutes=10)
    db_session.commit()
    _ask_for_reset(browser, EMAIL)
    token = _reset_link(inbox)
    page = browser.get(f"/reset-password?token={token}")
    browser.post(
        "/reset-password",
        data={
            "token": token,
            "csrf_token": csrf_from(page.text),
            "password": NEW_PASSWORD,
            "password_again": NEW_PASSWORD,
        },
    )
    assert sign_in(browser, EMAIL, NEW_PASSWORD).status_code == 303
    settings.password_reset_minutes = 5
    inbox.messages.clear()
    _ask_for_reset(browser, EMAIL)
    from touchpoints.auth.models import PasswordReset

    db_session.expire_all()
    for reset in db_session.scalars(select(PasswordReset).where(PasswordReset.used_at.is_(None))):
        reset.expires_at = utcnow() - timedelta(seconds=1)
    db_session.commit()
    expired = browser.get(f"/reset-password?token={_reset_link(inbox)}")
    assert expired.status_code == 410
    assert "Ask for a new link" in expired.text
