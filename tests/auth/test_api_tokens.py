"""API tokens: only valid, unrevoked, unexpired tokens of active members get in."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import Caller
from touchpoints.auth.models import ApiToken, User
from touchpoints.auth.tokens import hash_token
from touchpoints.db.base import utcnow


def test_missing_token_is_401_problem(client: TestClient) -> None:
    response = client.get("/api/v1/workspace")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"
    assert "Authorization: Bearer" in response.json()["detail"]


def test_unknown_token_is_401(client: TestClient) -> None:
    response = client.get("/api/v1/workspace", headers={"Authorization": "Bearer tp_abc_nope"})
    assert response.status_code == 401
    assert response.json()["detail"] == "unknown API token"


def test_only_the_hash_of_a_token_is_stored(admin: Caller, db_session: Session) -> None:
    stored = db_session.scalars(select(ApiToken.token_hash)).all()
    assert hash_token(admin.token) in stored
    assert admin.token not in stored


def test_revoked_token_stops_working_at_once(admin: Caller) -> None:
    created = admin.http.post("/api/v1/tokens", json={"name": "ci"})
    assert created.status_code == 201, created.text
    secret = created.json()["token"]
    headers = {"Authorization": f"Bearer {secret}"}
    assert admin.http.get("/api/v1/me", headers=headers).status_code == 200
    assert admin.http.delete(f"/api/v1/tokens/{created.json()['id']}").status_code == 204
    response = admin.http.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


def test_expired_token_is_refused(admin: Caller, db_session: Session) -> None:
    token = db_session.scalars(
        select(ApiToken).where(ApiToken.token_hash == hash_token(admin.token))
    ).one()
    token.expires_at = utcnow() - timedelta(minutes=1)
    db_session.commit()
    response = admin.http.get("/api/v1/me")
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_deactivated_user_token_is_refused(admin: Caller, db_session: Session) -> None:
    user = db_session.get(User, admin.principal.user_id)
    assert user is not None
    user.is_active = False
    db_session.commit()
    assert admin.http.get("/api/v1/me").status_code == 401


def test_token_list_never_shows_secrets(admin: Caller) -> None:
    listing = admin.http.get("/api/v1/tokens")
    assert listing.status_code == 200
    assert all("token" not in row and "token_hash" not in row for row in listing.json())
