"""The embeddable widget: signed openings start a response bound to the customer, in a frame."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from tests.conftest import Caller
from tests.distribution.conftest import new_survey
from tests.distribution.test_invitations import answer, invitations
from tests.distribution.test_qr import add_link
from touchpoints.config import Settings

CUSTOMER = "C-1042"
SOURCE = "shop"


def add_shop_customer(admin: Caller, external_id: str = CUSTOMER) -> str:
    """Create a customer known by its shop id; return our id."""
    body = {"display_name": "Ana", "external_id": external_id, "external_id_source": SOURCE}
    created = admin.http.post("/api/v1/customers", json=body)
    assert created.status_code == 201, created.text
    customer_id: str = created.json()["id"]
    return customer_id


def widget_secret(admin: Caller) -> str:
    """Read the workspace's widget secret as its backend would."""
    answer = admin.http.get("/api/v1/widget/secret")
    assert answer.status_code == 200, answer.text
    secret: str = answer.json()["secret"]
    return secret


def opening_path(
    secret: str, link: str, signed_for: str = CUSTOMER, *, lifetime: int = 600, **changes: str
) -> str:
    """Return the widget entry address a host backend signs, as docs/distribution.md shows."""
    expires = str(int(time.time()) + lifetime)
    message = "\n".join([link, SOURCE, signed_for, expires]).encode()
    fields = {
        "customer": signed_for,
        "source": SOURCE,
        "expires": expires,
        "signature": hmac.new(secret.encode(), message, hashlib.sha256).hexdigest(),
        **changes,
    }
    return f"/s/w/{link}?{urlencode(fields)}"


@pytest.fixture
def widget(committed_admin: Caller) -> dict[str, Any]:
    """A published survey with a web link, a customer with a shop id, and the widget secret."""
    survey_id = new_survey(committed_admin)
    return {
        "survey_id": survey_id,
        "link": add_link(committed_admin, survey_id, channel="web")["token"],
        "customer_id": add_shop_customer(committed_admin),
        "secret": widget_secret(committed_admin),
    }


def test_a_signed_opening_starts_a_response_bound_to_the_customer(
    committed_admin: Caller, widget: dict[str, Any], visitor: TestClient
) -> None:
    path = opening_path(widget["secret"], widget["link"])

    opened = visitor.get(path)

    assert opened.status_code == 303, opened.text
    assert opened.headers["location"].startswith(f"/s/{widget['link']}/r/")
    cookie = opened.headers["set-cookie"]
    assert "SameSite=None" in cookie and "Secure" in cookie and "Partitioned" in cookie
    assert visitor.get(path).headers["location"] == opened.headers["location"], "resumes"
    [started] = invitations(committed_admin, widget["survey_id"])
    assert (started["channel"], started["status"], started["customer_id"]) == (
        "web",
        "started",
        widget["customer_id"],
    )
    answer(visitor, path)
    [done] = invitations(committed_admin, widget["survey_id"])
    assert done["status"] == "completed"
    feedback = committed_admin.http.get("/api/v1/feedback", params={"filter": "source:eq:survey"})
    [item] = feedback.json()["items"]
    assert (item["customer_id"], item["channel"]) == (widget["customer_id"], "web")
    again = visitor.get(path)
    assert again.status_code == 409, "asked again within the contact-frequency limit"
    assert "asked for feedback recently" in again.text


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"signature": "0" * 64}, "signature does not match"),
        ({"signature": ""}, "signature made by your backend"),
        ({"customer": "C-9999"}, "signature does not match"),
        ({"expires": "not-a-time"}, "Unix time"),
    ],
    ids=["forged", "missing", "other-customer", "bad-expiry"],
)
def test_an_opening_not_signed_for_this_customer_is_refused(
    committed_admin: Caller,
    widget: dict[str, Any],
    visitor: TestClient,
    change: dict[str, str],
    reason: str,
) -> None:
    add_shop_customer(committed_admin, "C-9999")
    path = opening_path(widget["secret"], widget["link"], **change)

    as_script = visitor.get(path, headers={"Accept": "application/json"})
    as_page = visitor.get(path, headers={"Accept": "text/html"})

    assert as_script.status_code == 403
    assert as_script.headers["content-type"].startswith("application/problem+json")
    assert reason in as_script.json()["detail"]
    assert as_page.status_code == 403 and "<h1>This survey cannot be opened</h1>" in as_page.text
    assert invitations(committed_admin, widget["survey_id"]) == []


def test_expired_signatures_unknown_customers_and_old_secrets_are_refused(
    committed_admin: Caller, widget: dict[str, Any], visitor: TestClient
) -> None:
    json_only = {"Accept": "application/json"}
    expired = visitor.get(
        opening_path(widget["secret"], widget["link"], lifetime=-5), headers=json_only
    )
    assert expired.status_code == 403 and "expired" in expired.json()["detail"]
    too_long = opening_path(widget["secret"], widget["link"], lifetime=8 * 86400)
    assert visitor.get(too_long, headers=json_only).status_code == 403
    unknown = visitor.get(
        opening_path(widget["secret"], widget["link"], "C-0000"), headers=json_only
    )
    assert unknown.status_code == 404 and "external id" in unknown.json()["detail"]
    old = opening_path(widget["secret"], widget["link"])
    rotated = committed_admin.http.post("/api/v1/widget/secret/rotate")
    assert rotated.status_code == 200 and rotated.json()["version"] == 1
    assert rotated.json()["secret"] != widget["secret"]
    assert visitor.get(old, headers=json_only).status_code == 403
    fresh = opening_path(rotated.json()["secret"], widget["link"])
    assert visitor.get(fresh).status_code == 303
    closed = visitor.get(opening_path(widget["secret"], "not-a-link"), headers=json_only)
    assert closed.status_code == 404


def test_survey_pages_may_be_framed_by_the_same_origin_only_by_default(
    widget: dict[str, Any], visitor: TestClient
) -> None:
    page = visitor.get(f"/s/{widget['link']}")
    entry = visitor.get(opening_path(widget["secret"], widget["link"]))
    sign_in = visitor.get("/login")

    for framed in (page, entry):
        assert "frame-ancestors 'self';" in framed.headers["content-security-policy"]
        assert framed.headers["x-frame-options"] == "SAMEORIGIN"
    assert "frame-ancestors 'none'" in sign_in.headers["content-security-policy"]
    assert sign_in.headers["x-frame-options"] == "DENY"


def test_the_configured_sites_may_frame_survey_pages(
    committed_admin: Caller, settings: Settings, widget: dict[str, Any], visitor: TestClient
) -> None:
    configured = Settings.model_validate(
        {
            **settings.model_dump(),
            "widget_frame_ancestors": "https://shop.example https://*.shop.example/",
        }
    )
    committed_admin.http.app.state.settings = configured  # type: ignore[attr-defined]

    page = visitor.get(f"/s/{widget['link']}")

    policy = page.headers["content-security-policy"]
    assert "frame-ancestors 'self' https://shop.example https://*.shop.example;" in policy
    assert "x-frame-options" not in page.headers
    assert "frame-ancestors 'none'" in visitor.get("/login").headers["content-security-policy"]


@pytest.mark.parametrize(
    "origins", ["https://shop.example/checkout", "javascript:alert(1)", "https://a;script-src *"]
)
def test_frame_ancestors_must_be_origins(origins: str) -> None:
    with pytest.raises(ValidationError, match="is not an origin"):
        Settings(widget_frame_ancestors=origins)


def test_the_widget_script_is_served_with_the_static_files(visitor: TestClient) -> None:
    script = visitor.get("/static/widget/touchpoints-widget.js")
    frame = visitor.get("/static/widget/frame.js")
    assert script.status_code == frame.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert "window.Touchpoints = { open: openWidget, close: closeWidget }" in script.text
    assert 'aria-modal", "true"' in script.text and "Escape" in script.text
