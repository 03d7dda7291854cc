"""Authorization of every page: each role against each route, sign-in redirects, CSRF on forms.

The tables below are the web app's authorization decisions. The tests walk the app's routes, so
a new page that is missing from the tables fails here until someone decides who may open it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories.customers import make_customer
from tests.factories.feedback import make_feedback_item
from tests.factories.orgs import make_org_unit, make_workspace
from tests.factories.surveys import make_survey
from tests.web.conftest import Browser, MakeBrowser
from touchpoints.api.app import API_PREFIX
from touchpoints.auth.permissions import Principal, Role
from touchpoints.auth.service import issue_token
from touchpoints.imports.flows import ImportRequest, import_file
from touchpoints.imports.models import ImportFormat, ImportKind, QuarantinedRow
from touchpoints.imports.readers import ImportFile

EVERYONE = dict.fromkeys(Role, 200)
# Viewers read dashboards and feedback, never customer identities.
NOT_VIEWERS = EVERYONE | {Role.VIEWER: 403}
ADMINS = dict.fromkeys(Role, 403) | {Role.ADMIN: 200}
REDIRECTED = dict.fromkeys(Role, 303)
WRITERS = dict.fromkeys(Role, 403) | {Role.ADMIN: 200, Role.ANALYST: 200}

# What each role gets from each GET page, signed in (manager and agent limited to one store).
PAGE_ACCESS: dict[str, dict[Role, int]] = {
    "/": REDIRECTED,
    "/overview": EVERYONE,
    "/explore": EVERYONE,
    "/explore/export.csv": EVERYONE,
    "/explore/export.parquet": EVERYONE,
    "/inbox": EVERYONE,
    "/inbox/{item_id}": EVERYONE,
    "/customers": NOT_VIEWERS,
    "/customers/{customer_id}": NOT_VIEWERS,
    "/journeys": EVERYONE,
    "/settings": EVERYONE,  # lists only the sections the role may open
    "/settings/users": ADMINS,
    "/settings/org-units": ADMINS,
    "/settings/tokens": ADMINS,
    "/settings/audit": ADMINS,
    "/settings/privacy": EVERYONE,
    "/surveys": EVERYONE,  # write buttons only for surveys:write
    "/surveys/new": WRITERS,
    "/surveys/{survey_id}/edit": EVERYONE,  # read-only without surveys:write
    "/surveys/{survey_id}/export": EVERYONE,
    "/surveys/{survey_id}/distribution": EVERYONE,
    "/surveys/{survey_id}/responses": EVERYONE,
    "/imports": WRITERS,  # roles that may import some kind of data
    "/imports/{run_id}": WRITERS,
    "/imports/{run_id}/rows/{row_id}": WRITERS,
}
# Pages anyone may open signed out, and what they answer then.
PUBLIC_PAGES: dict[str, int] = {
    "/login": 200,
    "/forgot-password": 200,
    "/reset-password": 410,  # without a valid token from the email: "link expired"
    "/s/{public_token}": 404,  # survey respondent pages: open to anyone holding a live link
    "/s/{public_token}/r/{resume_token}": 404,
    "/s/i/{token}": 404,  # personal invitation links and unsubscribe: the token is the key
    "/s/w/{public_token}": 404,  # widget entry: a link plus a signature by the host's backend
    "/unsubscribe/{token}": 404,
}
# Routes that are not pages: the API, health check, docs and static files.
NOT_PAGES = re.compile(rf"^({API_PREFIX}/|/healthz$|/livez$|/docs|/redoc|/openapi\.json$|/static/)")


@dataclass(frozen=True)
class Scene:
    """A workspace with one store, seen by every role (manager and agent limited to it)."""

    browsers: dict[Role, Browser]
    path_values: dict[str, str]
    elsewhere_values: dict[str, str]


def page_routes(app: FastAPI, method: str) -> list[str]:
    """Return the paths of the app's page routes (not API, docs or static) for one method."""
    # Included routers are lazy nodes in app.routes; iter_route_contexts flattens them.
    return sorted(
        context.path
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, APIRoute)
        and method in (context.methods or ())
        and not NOT_PAGES.match(context.path)
    )


def fill(path: str, values: dict[str, str]) -> str:
    """Put sample ids into a route's path parameters."""
    names = re.findall(r"{(\w+)(?::\w+)?}", path)
    missing = [name for name in names if name not in values]
    assert not missing, f"{path}: add a sample value for {missing} to the `scene` fixture"
    return re.sub(r"{(\w+)(?::\w+)?}", lambda match: values[match.group(1)], path)


@pytest.fixture
def scene(make_browser: MakeBrowser, db_session: Session) -> Scene:
    """Build a store with a customer and a feedback item, another store, and one user per role."""
    workspace_id = make_workspace(db_session).id
    region = make_org_unit(db_session, workspace_id=workspace_id, kind="region")
    store = make_org_unit(db_session, workspace_id=workspace_id, parent_id=region.id)
    other = make_org_unit(db_session, workspace_id=workspace_id, parent_id=region.id)
    values = _store_with_feedback(db_session, workspace_id, store.id)
    elsewhere = _store_with_feedback(db_session, workspace_id, other.id)
    db_session.commit()
    browsers = {
        role: make_browser(
            role,
            workspace_id=workspace_id,
            org_unit_id=store.id if role in (Role.MANAGER, Role.AGENT) else None,
        )
        for role in Role
    }
    token, _ = issue_token(
        db_session=db_session,
        workspace_id=workspace_id,
        user_id=browsers[Role.ADMIN].user.id,
        name="ci",
    )
    db_session.commit()
    values |= {"user_id": browsers[Role.VIEWER].user.id, "token_id": token.id}
    values |= _survey_and_import(db_session, workspace_id, browsers[Role.ADMIN].principal)
    values |= {
        "public_token": "no-such-link",
        "resume_token": "no-such-response",
        "token": "no-such-invitation",
    }
    return Scene(browsers, values, elsewhere)


def _survey_and_import(db_session: Session, workspace_id: str, admin: Principal) -> dict[str, str]:
    survey = make_survey(db_session, workspace_id=workspace_id)
    request = ImportRequest(
        source=ImportFile.from_bytes("bad.csv", b"text,scores.nps\nToo high,12\n"),
        kind=ImportKind.FEEDBACK,
        fmt=ImportFormat.CSV,
    )
    run = import_file(db_session=db_session, actor=admin, request=request)
    row = db_session.scalars(select(QuarantinedRow).where(QuarantinedRow.run_id == run.id)).one()
    db_session.commit()
    return {"survey_id": survey.id, "run_id": run.id, "row_id": row.id}


def _store_with_feedback(db_session: Session, workspace_id: str, unit_id: str) -> dict[str, str]:
    customer = make_customer(db_session, workspace_id=workspace_id, org_unit_id=unit_id)
    item = make_feedback_item(
        db_session, workspace_id=workspace_id, customer_id=customer.id, org_unit_id=unit_id, nps=3
    )
    return {"customer_id": customer.id, "item_id": item.id}


def test_every_page_has_an_authorization_decision(shared_app: FastAPI) -> None:
    routes = set(page_routes(shared_app, "GET"))
    undecided = routes - PAGE_ACCESS.keys() - PUBLIC_PAGES.keys()
    assert not undecided, f"decide who may open these pages in PAGE_ACCESS: {sorted(undecided)}"
    gone = (PAGE_ACCESS.keys() | PUBLIC_PAGES.keys()) - routes
    assert not gone, f"these pages no longer exist; remove them from the tables: {sorted(gone)}"


def test_each_role_gets_what_the_table_says(scene: Scene) -> None:
    wrong = []
    for path, expected in PAGE_ACCESS.items():
        url = fill(path, scene.path_values)
        for role, status in expected.items():
            got = scene.browsers[role].http.get(url).status_code
            if got != status:
                wrong.append(f"{role.value:8} GET {url}: {got}, expected {status}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("role", [Role.MANAGER, Role.AGENT])
def test_scoped_roles_find_nothing_outside_their_unit(scene: Scene, role: Role) -> None:
    browser = scene.browsers[role]
    for path in ("/inbox/{item_id}", "/customers/{customer_id}"):
        inside = browser.http.get(fill(path, scene.path_values))
        outside = browser.http.get(fill(path, scene.elsewhere_values))
        assert inside.status_code == 200, path
        assert outside.status_code == 404, f"{role.value} opened {path} of another store"
    for path in ("/inbox/{item_id}", "/customers/{customer_id}"):
        admin = scene.browsers[Role.ADMIN].http.get(fill(path, scene.elsewhere_values))
        assert admin.status_code == 200, "an unscoped admin sees every store"


def test_signed_out_visitors_are_sent_to_sign_in(client: TestClient, scene: Scene) -> None:
    for path in PAGE_ACCESS:
        url = fill(path, scene.path_values)
        response = client.get(url, follow_redirects=False)
        assert response.status_code == 303, f"GET {url} signed out: {response.status_code}"
        assert response.headers["location"].startswith("/login?next="), url
    for path, status in PUBLIC_PAGES.items():
        url = fill(path, scene.path_values)
        assert client.get(url, follow_redirects=False).status_code == status, url


def test_every_form_refuses_a_missing_csrf_token(shared_app: FastAPI, scene: Scene) -> None:
    admin = scene.browsers[Role.ADMIN]
    posts = page_routes(shared_app, "POST")
    assert "/session/org-unit" in posts, "the walk found the shell's forms"
    accepted = []
    for path in posts:
        url = fill(path, scene.path_values)
        response = admin.http.post(url, data={"next": "/overview"}, follow_redirects=False)
        if response.status_code != 403:
            accepted.append(f"POST {url} without a CSRF token: {response.status_code}")
    assert not accepted, "\n".join(accepted)
