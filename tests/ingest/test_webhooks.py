"""Signed inbound webhooks: a valid signature stores once; anything else stores nothing."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import Caller, MakeCaller
from tests.ingest.helpers import OCCURRED_AT, count
from touchpoints.audit.models import AuditEvent
from touchpoints.auth.permissions import Role
from touchpoints.feedback.models import FeedbackItem
from touchpoints.ingest.webhooks import sign
from touchpoints.operations.models import OperationalEvent

PROBLEM = "application/problem+json"
REVIEW = {"occurred_at": OCCURRED_AT, "channel": "review_site", "text": "Lovely stay."}


def create_source(caller: Caller, name: str = "reviews", kind: str = "feedback") -> dict[str, Any]:
    """Create a webhook source through the API and return it with its secret."""
    response = caller.http.post("/api/v1/ingest/sources", json={"name": name, "kind": kind})
    assert response.status_code == 201, response.text
    source: dict[str, Any] = response.json()
    return source


def deliver(
    client: TestClient,
    source: dict[str, Any],
    document: Any,
    *,
    delivery: str | None = "d-1",
    secret: str | None = None,
    timestamp: int | None = None,
) -> Any:
    """Post a signed delivery the way a sender would."""
    body = json.dumps(document).encode()
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    headers = {
        "Content-Type": "application/json",
        "X-Touchpoints-Timestamp": stamp,
        "X-Touchpoints-Signature": sign(secret or source["secret"], stamp, body),
    }
    if delivery is not None:
        headers["X-Touchpoints-Delivery"] = delivery
    return client.post(source["url"], content=body, headers=headers)


def test_valid_signature_stores_the_item(
    admin: Caller, client: TestClient, db_session: Session
) -> None:
    source = create_source(admin)
    response = deliver(client, source, REVIEW)
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 1
    item = db_session.get_one(FeedbackItem, response.json()["items"][0]["id"])
    assert (item.workspace_id, item.source, item.text) == (
        admin.workspace_id,
        "reviews",
        "Lovely stay.",
    )


def test_a_delivery_may_carry_a_batch(
    admin: Caller, client: TestClient, db_session: Session
) -> None:
    source = create_source(admin)
    items = [REVIEW | {"source_ref": "a"}, REVIEW | {"source_ref": "b", "scores": {"nps": 12}}]
    response = deliver(client, source, {"items": items})
    assert response.status_code == 200, response.text
    assert [i["status"] for i in response.json()["items"]] == ["created", "rejected"]
    assert count(db_session, FeedbackItem, admin.workspace_id) == 1


def test_event_sources_store_operational_events(
    admin: Caller, client: TestClient, db_session: Session
) -> None:
    source = create_source(admin, name="trains", kind="events")
    delay = {"type": "external", "name": "train_delay", "occurred_at": OCCURRED_AT}
    response = deliver(client, source, delay | {"customer": {"email": "ann@example.com"}})
    assert response.status_code == 200, response.text
    event = db_session.get_one(OperationalEvent, response.json()["items"][0]["id"])
    assert (event.source, event.name) == ("trains", "train_delay")
    assert event.customer_id is not None


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"secret": "not-the-secret"}, "does not match"),
        ({"timestamp": int(time.time()) - 301}, "5 minutes"),
        ({"timestamp": int(time.time()) + 3600}, "5 minutes"),
    ],
    ids=["bad-signature", "stale", "future"],
)
def test_bad_signature_or_stale_timestamp_is_refused(
    change: dict[str, Any],
    reason: str,
    admin: Caller,
    client: TestClient,
    db_session: Session,
) -> None:
    source = create_source(admin)
    response = deliver(client, source, REVIEW, **change)
    assert response.status_code == 401
    assert response.headers["content-type"].startswith(PROBLEM)
    assert reason in response.json()["detail"]
    assert count(db_session, FeedbackItem, admin.workspace_id) == 0


def test_tampered_body_or_missing_headers_are_refused(
    admin: Caller, client: TestClient, db_session: Session
) -> None:
    source = create_source(admin)
    stamp = str(int(time.time()))
    signature = sign(source["secret"], stamp, json.dumps(REVIEW).encode())
    tampered = json.dumps(REVIEW | {"text": "Awful stay."}).encode()
    headers = {
        "X-Touchpoints-Timestamp": stamp,
        "X-Touchpoints-Signature": signature,
        "X-Touchpoints-Delivery": "d-1",
    }
    assert client.post(source["url"], content=tampered, headers=headers).status_code == 401
    assert client.post(source["url"], json=REVIEW).status_code == 401
    assert count(db_session, FeedbackItem, admin.workspace_id) == 0


def test_delivery_id_is_required(admin: Caller, client: TestClient, db_session: Session) -> None:
    source = create_source(admin)
    response = deliver(client, source, REVIEW, delivery=None)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "X-Touchpoints-Delivery"
    assert count(db_session, FeedbackItem, admin.workspace_id) == 0


def test_replayed_delivery_answers_the_same_and_stores_once(
    admin: Caller, client: TestClient, db_session: Session
) -> None:
    source = create_source(admin)
    first = deliver(client, source, REVIEW, delivery="evt-42")
    again = deliver(client, source, REVIEW, delivery="evt-42")
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert count(db_session, FeedbackItem, admin.workspace_id) == 1
    other = deliver(client, source, REVIEW, delivery="evt-43")
    assert other.json()["created"] == 1


def test_malformed_json_is_a_clear_error(
    admin: Caller, client: TestClient, db_session: Session
) -> None:
    source = create_source(admin)
    stamp = str(int(time.time()))
    body = b'{"text": '
    headers = {
        "X-Touchpoints-Timestamp": stamp,
        "X-Touchpoints-Signature": sign(source["secret"], stamp, body),
        "X-Touchpoints-Delivery": "d-1",
    }
    response = client.post(source["url"], content=body, headers=headers)
    assert response.status_code == 422
    assert "not valid JSON" in response.json()["detail"]


def test_admins_manage_sources_and_secrets_are_shown_once(
    admin: Caller, client: TestClient, db_session: Session
) -> None:
    source = create_source(admin)
    assert len(source["secret"]) >= 32
    assert source["url"] == f"/api/v1/ingest/webhooks/{source['id']}"
    listed = admin.http.get("/api/v1/ingest/sources").json()
    assert [s["name"] for s in listed["items"]] == ["reviews"]
    assert "secret" not in listed["items"][0]
    assert (
        admin.http.post(
            "/api/v1/ingest/sources", json={"name": "reviews", "kind": "events"}
        ).status_code
        == 409
    )
    assert admin.http.delete(f"/api/v1/ingest/sources/{source['id']}").status_code == 204
    assert deliver(client, source, REVIEW).status_code == 404
    actions = db_session.scalars(
        select(AuditEvent.action).where(AuditEvent.workspace_id == admin.workspace_id)
    ).all()
    assert {"webhook_source.created", "webhook_source.deleted"} <= set(actions)


def test_non_admins_cannot_manage_sources(admin: Caller, make_caller: MakeCaller) -> None:
    source = create_source(admin)
    for role in (Role.ANALYST, Role.MANAGER, Role.AGENT, Role.VIEWER):
        member = make_caller(role, workspace_id=admin.workspace_id)
        calls = [
            member.http.get("/api/v1/ingest/sources"),
            member.http.post("/api/v1/ingest/sources", json={"name": "x", "kind": "events"}),
            member.http.delete(f"/api/v1/ingest/sources/{source['id']}"),
        ]
        assert [c.status_code for c in calls] == [403, 403, 403], role


def test_other_workspaces_cannot_delete_a_source(admin: Caller, make_caller: MakeCaller) -> None:
    source = create_source(admin)
    stranger = make_caller(Role.ADMIN)
    assert stranger.http.delete(f"/api/v1/ingest/sources/{source['id']}").status_code == 404
    assert admin.http.get("/api/v1/ingest/sources").json()["total"] == 1
