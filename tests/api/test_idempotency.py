"""Idempotency-Key: a retried write returns the first answer and writes nothing more."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import Caller, MakeCaller
from touchpoints.auth.permissions import Role
from touchpoints.db.base import utcnow
from touchpoints.idempotency.models import IdempotencyRecord
from touchpoints.idempotency.service import prune_expired
from touchpoints.orgs.models import OrgUnit


def _count_units(db_session: Session, workspace_id: str) -> int:
    return (
        db_session.scalar(
            select(func.count()).select_from(OrgUnit).where(OrgUnit.workspace_id == workspace_id)
        )
        or 0
    )


def test_retry_replays_first_answer(admin: Caller, db_session: Session) -> None:
    headers = {"Idempotency-Key": "f3b0c4"}
    body = {"code": "leeds", "name": "Leeds"}
    first = admin.http.post("/api/v1/org-units", json=body, headers=headers)
    second = admin.http.post("/api/v1/org-units", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert _count_units(db_session, admin.workspace_id) == 1


def test_same_key_with_another_body_is_refused(admin: Caller, db_session: Session) -> None:
    headers = {"Idempotency-Key": "k-1"}
    admin.http.post("/api/v1/org-units", json={"code": "a", "name": "A"}, headers=headers)
    clash = admin.http.post("/api/v1/org-units", json={"code": "b", "name": "B"}, headers=headers)
    assert clash.status_code == 422
    assert clash.json()["errors"][0]["field"] == "Idempotency-Key"
    assert _count_units(db_session, admin.workspace_id) == 1


def test_failed_write_keeps_no_key_so_a_fixed_retry_works(admin: Caller) -> None:
    headers = {"Idempotency-Key": "k-2"}
    bad = admin.http.post(
        "/api/v1/org-units", json={"code": "a", "name": "A", "parent_id": "x"}, headers=headers
    )
    assert bad.status_code == 404
    retry = admin.http.post("/api/v1/org-units", json={"code": "a", "name": "A"}, headers=headers)
    assert retry.status_code == 201


def test_keys_are_per_workspace(admin: Caller, make_caller: MakeCaller) -> None:
    other = make_caller(Role.ADMIN)
    headers = {"Idempotency-Key": "shared"}
    body = {"code": "a", "name": "A"}
    mine = admin.http.post("/api/v1/org-units", json=body, headers=headers)
    theirs = other.http.post("/api/v1/org-units", json=body, headers=headers)
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]


def test_expired_keys_are_pruned_and_reusable(admin: Caller, db_session: Session) -> None:
    headers = {"Idempotency-Key": "old"}
    admin.http.post("/api/v1/org-units", json={"code": "a", "name": "A"}, headers=headers)
    record = db_session.scalars(select(IdempotencyRecord)).one()
    record.expires_at = utcnow() - timedelta(seconds=1)
    db_session.commit()
    fresh = admin.http.post("/api/v1/org-units", json={"code": "b", "name": "B"}, headers=headers)
    assert fresh.status_code == 201
    assert "Idempotent-Replayed" not in fresh.headers
    record = db_session.scalars(select(IdempotencyRecord)).one()
    record.expires_at = utcnow() - timedelta(seconds=1)
    db_session.commit()
    assert prune_expired(db_session=db_session) == 1


def test_concurrent_retries_write_once(committed_admin: Caller) -> None:
    """Two clients racing with the same key: one write, the same answer for both."""
    from concurrent.futures import ThreadPoolExecutor

    from fastapi.testclient import TestClient

    app = committed_admin.http.app
    headers = {
        "Authorization": f"Bearer {committed_admin.token}",
        "Idempotency-Key": "race-1",
    }

    def post(_: int) -> tuple[int, str]:
        with TestClient(app) as http:  # type: ignore[arg-type]
            response = http.post(
                "/api/v1/org-units", json={"code": "race", "name": "Race"}, headers=headers
            )
            return response.status_code, response.text

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(post, range(4)))
    assert {status for status, _ in results} <= {201, 409}, results
    created = [json.loads(text) for status, text in results if status == 201]
    assert created, results
    assert all(answer == created[0] for answer in created), "a replay is the first answer"
    listing = committed_admin.http.get("/api/v1/org-units").json()
    assert listing["total"] == 1
