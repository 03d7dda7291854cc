"""Fixtures for web pages: signed-in browsers (HTTP clients with a session cookie)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.factories.orgs import make_workspace
from touchpoints.auth.models import User
from touchpoints.auth.permissions import Principal, Role
from touchpoints.auth.service import create_member
from touchpoints.config import Settings
from touchpoints.web.sessions import SESSION_COOKIE, start_session

PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Browser:
    """A signed-in user's HTTP client; `csrf` is the token forms must send back."""

    http: TestClient
    user: User
    principal: Principal
    csrf: str

    def post_form(self, url: str, data: dict[str, str]) -> object:
        """Submit a form the way a browser does, with the session's CSRF token."""
        return self.http.post(url, data={"csrf_token": self.csrf, **data}, follow_redirects=False)


MakeBrowser = Callable[..., Browser]


def csrf_from(html: str) -> str:
    """Return the CSRF token embedded in a page's forms."""
    match = _CSRF.search(html)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


@pytest.fixture
def make_browser(app: FastAPI, db_session: Session, settings: Settings) -> Iterator[MakeBrowser]:
    """Build signed-in browsers: `make_browser(Role.MANAGER, org_unit_id=..., workspace_id=...)`."""
    clients: list[TestClient] = []
    counter = iter(range(1, 10_000))

    def build(
        role: Role = Role.ADMIN, workspace_id: str | None = None, org_unit_id: str | None = None
    ) -> Browser:
        workspace_id = workspace_id or make_workspace(db_session).id
        number = next(counter)
        member = create_member(
            db_session=db_session,
            workspace_id=workspace_id,
            email=f"{role.value}{number}@web.example",
            display_name=f"{role.value.title()} {number}",
            role=role,
            org_unit_id=org_unit_id,
            password=PASSWORD,
        )
        web_session, cookie = start_session(
            db_session=db_session,
            settings=settings,
            user=member.user,
            workspace_id=workspace_id,
            ip_address="127.0.0.1",
            user_agent="pytest",
        )
        db_session.commit()
        http = TestClient(app, raise_server_exceptions=False, follow_redirects=False)
        http.cookies.set(SESSION_COOKIE, cookie)
        clients.append(http)
        path = None
        if org_unit_id is not None:
            from touchpoints.orgs.models import OrgUnit

            unit = db_session.get(OrgUnit, org_unit_id)
            path = unit.path if unit else None
        principal = Principal(
            workspace_id=workspace_id, user_id=member.user.id, role=role, org_unit_path=path
        )
        return Browser(http, member.user, principal, web_session.csrf_token)

    yield build
    for http in clients:
        http.close()
