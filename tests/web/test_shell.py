"""The shell: sign-in redirects, CSRF on forms, workspace switcher and org-unit filter."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tests.factories.orgs import make_org_unit
from tests.web.conftest import MakeBrowser
from touchpoints.auth.models import WebSession
from touchpoints.auth.permissions import Role


def test_pages_redirect_to_sign_in_when_signed_out(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/?period=month", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2F%3Fperiod%3Dmonth"


def test_forms_without_the_session_csrf_token_are_refused(make_browser: MakeBrowser) -> None:
    browser = make_browser(Role.ADMIN)
    forged = browser.http.post("/session/org-unit", data={"org_unit_id": ""})
    assert forged.status_code == 403
    wrong = browser.http.post("/session/org-unit", data={"org_unit_id": "", "csrf_token": "x"})
    assert wrong.status_code == 403
    good = browser.post_form("/session/org-unit", {"org_unit_id": ""})
    assert good.status_code == 303  # type: ignore[attr-defined]


def test_org_unit_filter_stays_inside_the_users_scope(
    make_browser: MakeBrowser, db_session: Session
) -> None:
    admin = make_browser(Role.ADMIN)
    workspace_id = admin.principal.workspace_id
    north = make_org_unit(db_session, workspace_id=workspace_id, kind="region")
    leeds = make_org_unit(db_session, workspace_id=workspace_id, parent_id=north.id)
    south = make_org_unit(db_session, workspace_id=workspace_id, kind="region")
    db_session.commit()
    manager = make_browser(Role.MANAGER, workspace_id=workspace_id, org_unit_id=north.id)
    manager.post_form("/session/org-unit", {"org_unit_id": south.id})
    session = db_session.query(WebSession).filter_by(user_id=manager.user.id).one()
    db_session.refresh(session)
    assert session.org_unit_filter_id is None, "a unit outside the scope is ignored"
    manager.post_form("/session/org-unit", {"org_unit_id": leeds.id})
    db_session.refresh(session)
    assert session.org_unit_filter_id == leeds.id


def test_security_headers_on_pages(make_browser: MakeBrowser) -> None:
    browser = make_browser(Role.VIEWER)
    response = browser.http.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"


def test_static_files_are_vendored_with_licences(client) -> None:  # type: ignore[no-untyped-def]
    for path in ("htmx/htmx.min.js", "vega-embed/vega-embed.min.js", "pico/pico.min.css"):
        assert client.get(f"/static/vendor/{path}").status_code == 200
    for licence in ("htmx/LICENSE", "vega/LICENSE", "vega-lite/LICENSE", "pico/LICENSE.md"):
        assert client.get(f"/static/vendor/{licence}").status_code == 200


def test_unknown_page_is_an_html_page_for_people_and_json_for_apis(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/no-such-page", headers={"accept": "text/html"})
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert '<html lang="en"' in page.text
    assert "<title>Not found" in page.text
    api = client.get("/api/v1/no-such-thing", headers={"accept": "text/html"})
    assert api.status_code == 404
    assert api.headers["content-type"] == "application/problem+json"
