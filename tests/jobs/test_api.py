"""The jobs API: a workspace sees its own jobs, and admins revive dead ones."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from tests.conftest import Caller, MakeCaller
from tests.factories.jobs import make_job
from touchpoints.auth.permissions import Role
from touchpoints.db.base import utcnow
from touchpoints.jobs.models import JobStatus


def test_a_workspace_lists_only_its_own_jobs(
    admin: Caller, make_caller: MakeCaller, db_session: Session
) -> None:
    other = make_caller(Role.ADMIN)
    mine = make_job(db_session, workspace_id=admin.workspace_id, kind="feedback.enrich")
    make_job(db_session, workspace_id=other.workspace_id, kind="feedback.enrich")
    make_job(db_session, kind="maintenance.prune_jobs")
    db_session.commit()

    page = admin.http.get("/api/v1/jobs")

    assert page.status_code == 200, page.text
    assert page.json()["total"] == 1
    assert [item["id"] for item in page.json()["items"]] == [mine.id]
    assert page.json()["items"][0]["status"] == "queued"


def test_dead_letters_are_one_filter_away(admin: Caller, db_session: Session) -> None:
    ws = admin.workspace_id
    dead = make_job(db_session, workspace_id=ws, status=JobStatus.DEAD, last_error="boom")
    make_job(db_session, workspace_id=ws, status=JobStatus.DONE)
    make_job(db_session, workspace_id=ws)
    db_session.commit()

    page = admin.http.get("/api/v1/jobs", params={"filter": "status:eq:dead"})

    assert page.json()["total"] == 1
    assert page.json()["items"][0]["id"] == dead.id
    assert page.json()["items"][0]["last_error"] == "boom"
    by_kind = admin.http.get("/api/v1/jobs", params={"filter": f"kind:eq:{dead.kind}"})
    assert by_kind.json()["total"] == 1
    later = (utcnow() + timedelta(hours=1)).isoformat()
    recent = admin.http.get("/api/v1/jobs", params={"filter": f"created_at:lte:{later}"})
    assert recent.json()["total"] == 3
    unknown = admin.http.get("/api/v1/jobs", params={"filter": "payload:eq:x"})
    assert unknown.status_code == 422
    assert "filterable" in unknown.json()["detail"]


def test_another_workspaces_job_is_not_found(
    admin: Caller, make_caller: MakeCaller, db_session: Session
) -> None:
    other = make_caller(Role.ADMIN)
    theirs = make_job(db_session, workspace_id=other.workspace_id, status=JobStatus.DEAD)
    db_session.commit()

    assert admin.http.get(f"/api/v1/jobs/{theirs.id}").status_code == 404
    assert admin.http.post(f"/api/v1/jobs/{theirs.id}/retry").status_code == 404
    assert other.http.get(f"/api/v1/jobs/{theirs.id}").json()["status"] == "dead"


def test_roles_without_jobs_access_are_refused(
    admin: Caller, make_caller: MakeCaller, db_session: Session
) -> None:
    viewer = make_caller(Role.VIEWER, workspace_id=admin.workspace_id)
    analyst = make_caller(Role.ANALYST, workspace_id=admin.workspace_id)
    dead = make_job(db_session, workspace_id=admin.workspace_id, status=JobStatus.DEAD)
    db_session.commit()

    assert viewer.http.get("/api/v1/jobs").status_code == 403
    assert analyst.http.get(f"/api/v1/jobs/{dead.id}").status_code == 200
    refused = analyst.http.post(f"/api/v1/jobs/{dead.id}/retry")
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"


def test_retry_revives_a_dead_job_and_refuses_others(admin: Caller, db_session: Session) -> None:
    ws = admin.workspace_id
    dead = make_job(
        db_session,
        workspace_id=ws,
        status=JobStatus.DEAD,
        attempts=5,
        finished_at=utcnow(),
        last_error="Traceback ... TimeoutError",
    )
    queued = make_job(db_session, workspace_id=ws)
    db_session.commit()

    revived = admin.http.post(f"/api/v1/jobs/{dead.id}/retry", headers={"Idempotency-Key": "r1"})

    assert revived.status_code == 200, revived.text
    body = revived.json()
    assert (body["status"], body["attempts"], body["finished_at"]) == ("queued", 0, None)
    replay = admin.http.post(f"/api/v1/jobs/{dead.id}/retry", headers={"Idempotency-Key": "r1"})
    assert replay.json() == body and replay.headers["Idempotent-Replayed"] == "true"
    again = admin.http.post(f"/api/v1/jobs/{dead.id}/retry")
    assert again.status_code == 409
    assert "only dead jobs" in again.json()["detail"]
    assert admin.http.post(f"/api/v1/jobs/{queued.id}/retry").status_code == 409


def test_jobs_routes_are_documented(admin: Caller) -> None:
    spec = admin.http.get("/openapi.json").json()
    for path, method in [
        ("/api/v1/jobs", "get"),
        ("/api/v1/jobs/{job_id}", "get"),
        ("/api/v1/jobs/{job_id}/retry", "post"),
    ]:
        operation = spec["paths"][path][method]
        assert operation["summary"] and operation["description"]
        assert operation["tags"] == ["jobs"]
