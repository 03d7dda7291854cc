"""The shortcut of POST /api/v1/feedback answers exactly as the route declared in FastAPI."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import Caller, MakeCaller
from tests.factories.feedback import make_touchpoint
from touchpoints.api.app import create_app
from touchpoints.auth.permissions import Role
from touchpoints.config import Settings

URL = "/api/v1/feedback"
Send = Callable[[TestClient, str], Any]


@pytest.fixture(scope="module")
def plain_app() -> FastAPI:
    """An app without shortcuts: every request goes through FastAPI's routing."""
    return create_app(Settings(environment="test"), session_factory=sessionmaker(), shortcuts=False)  # type: ignore[arg-type]


@pytest.fixture
def plain(
    plain_app: FastAPI, settings: Settings, session_factory: sessionmaker[Session]
) -> Iterator[TestClient]:
    plain_app.state.settings = settings
    plain_app.state.session_factory = session_factory
    with TestClient(plain_app, raise_server_exceptions=False) as http:
        yield http


def item(ref: str, **fields: Any) -> dict[str, Any]:
    body = {
        "source": "app_store",
        "source_ref": ref,
        "channel": "review_site",
        "occurred_at": "2024-05-01T09:30:00+02:00",
        "text": "Checkout kept failing on my phone.",
        "scores": {"rating": 2, "nps": 3},
    }
    return body | fields


def post(**kwargs: Any) -> Send:
    """A request to send through either app; `{ref}` in the body names the app's own copy."""

    def send(http: TestClient, suffix: str) -> Any:
        content = kwargs.get("content")
        json_body = kwargs.get("json")
        if isinstance(json_body, dict) and "source_ref" in json_body:
            json_body = json_body | {"source_ref": f"{json_body['source_ref']}-{suffix}"}
        headers = dict(kwargs.get("headers", {}))
        if "Idempotency-Key" in headers:
            headers["Idempotency-Key"] += suffix
        return http.post(URL, json=json_body, content=content, headers=headers)

    return send


CASES: dict[str, Send] = {
    "stored": post(json=item("r1")),
    "duplicate source_ref": post(json=item("r1")),
    "malformed JSON": post(content=b'{"text": ', headers={"content-type": "application/json"}),
    "wrong types": post(json=item("r2", channel="pigeon", scores={"nps": 11, "csat": "x"})),
    "nothing said": post(json=item("r3", text=None, scores=None)),
    "unknown field": post(json=item("r4", mood="grumpy")),
    "empty body": post(content=b"", headers={"content-type": "application/json"}),
    "not JSON": post(content=b"text=hi", headers={"content-type": "text/plain"}),
    "JSON with a suffix type": post(
        content=b'{"occurred_at": "2024-05-01T09:30:00Z", "text": "ok"}',
        headers={"content-type": "application/vnd.touchpoints+json; charset=utf-8"},
    ),
    "unknown touchpoint": post(json=item("r5", touchpoint_id="f" * 32)),
    "first with a key": post(json=item("r6"), headers={"Idempotency-Key": "k1"}),
    "retry with the key": post(json=item("r6"), headers={"Idempotency-Key": "k1"}),
    "another body, same key": post(json=item("r7"), headers={"Idempotency-Key": "k1"}),
    "too long a key": post(json=item("r8"), headers={"Idempotency-Key": "k" * 300}),
}


def comparable(response: Any, suffix: str) -> tuple[Any, ...]:
    """Return what a caller sees, with the parts that differ per app (ids, refs) blanked."""
    text = response.text.replace(f"-{suffix}", "-#")
    body = response.json() if text else None
    if isinstance(body, dict):
        body.pop("id", None)
        body.pop("received_at", None)
        if "detail" in body and "already stored as" in body["detail"]:
            body["detail"] = body["detail"].rsplit(" ", 1)[0]
        body = {k: str(v).replace(f"-{suffix}", "-#") for k, v in body.items()}
    replayed = response.headers.get("idempotent-replayed")
    return response.status_code, response.headers.get("content-type"), replayed, body


def test_every_answer_matches_the_declared_route(
    admin: Caller, plain: TestClient, db_session: Session
) -> None:
    make_touchpoint(db_session, workspace_id=admin.workspace_id)
    db_session.commit()
    plain.headers["Authorization"] = f"Bearer {admin.token}"
    seen = set()
    for name, send in CASES.items():
        fast, slow = send(admin.http, "a"), send(plain, "b")
        assert comparable(fast, "a") == comparable(slow, "b"), name
        seen.add(fast.status_code)
    assert seen == {201, 409, 422}


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer ", "Bearer nonsense", "Basic dXNlcjpwYXNz", "bearer tp_x"],
)
def test_missing_or_bad_tokens_answer_alike(
    admin: Caller, plain: TestClient, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    fast = admin.http.post(URL, json=item("t1"), headers=headers)
    if authorization is None:
        del admin.http.headers["Authorization"]
        fast = admin.http.post(URL, json=item("t1"))
    slow = plain.post(URL, json=item("t1"), headers=headers)
    assert fast.status_code == slow.status_code == 401
    assert fast.json() == slow.json()
    assert fast.headers["www-authenticate"] == slow.headers["www-authenticate"] == "Bearer"


def test_a_bad_token_with_a_bad_body_answers_alike(plain: TestClient, admin: Caller) -> None:
    # The declared route validates the body before it looks the token up: 422 either way.
    headers = {"Authorization": "Bearer tp_not-a-real-token"}
    body = item("t2", channel="pigeon")
    fast = admin.http.post(URL, json=body, headers=headers)
    slow = plain.post(URL, json=body, headers=headers)
    assert fast.status_code == slow.status_code == 422
    assert fast.json() == slow.json()


def test_a_viewer_is_refused_alike(make_caller: MakeCaller, plain: TestClient) -> None:
    viewer = make_caller(Role.VIEWER)
    plain.headers["Authorization"] = f"Bearer {viewer.token}"
    fast, slow = viewer.http.post(URL, json=item("v1")), plain.post(URL, json=item("v1"))
    assert fast.status_code == slow.status_code == 403
    assert fast.json() == slow.json()


def test_oversized_bodies_are_refused_before_the_shortcut(admin: Caller) -> None:
    huge = item("big", text="x" * 2_000_000)
    response = admin.http.post(URL, json=huge)
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
