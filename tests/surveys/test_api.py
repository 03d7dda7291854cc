"""Surveys API: drafts, publishing versions, closing, import/export, permissions and audit."""

from __future__ import annotations

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import Caller, MakeCaller
from tests.factories.journeys import make_touchpoint
from tests.surveys.samples import SURVEYS, checkout, publish
from touchpoints.audit.models import AuditEvent
from touchpoints.auth.permissions import Role


def test_create_returns_a_draft_linked_to_a_touchpoint(admin: Caller, db_session: Session) -> None:
    touchpoint = make_touchpoint(db_session, workspace_id=admin.workspace_id)
    db_session.commit()
    body = {"definition": checkout(), "touchpoint_id": touchpoint.id}
    created = admin.http.post(SURVEYS, json=body)
    assert created.status_code == 201, created.text
    survey = created.json()
    assert survey["status"] == "draft"
    assert survey["name"] == "Checkout survey"
    assert survey["languages"] == ["en", "fr"]
    assert survey["touchpoint_id"] == touchpoint.id
    assert survey["latest_version"] is None
    listed = admin.http.get(SURVEYS).json()
    assert [s["id"] for s in listed["items"]] == [survey["id"]]


def test_invalid_definition_is_refused_naming_the_field(admin: Caller) -> None:
    definition = checkout()
    definition["pages"][0]["questions"][1]["show_if"]["question"] = "nope"
    response = admin.http.post(SURVEYS, json={"definition": definition})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["field"] == "pages.0.questions.1.show_if.question"
    assert admin.http.get(SURVEYS).json()["total"] == 0


def test_editing_a_published_survey_drafts_the_next_version(admin: Caller) -> None:
    survey_id, _ = publish(admin)
    survey = admin.http.get(f"{SURVEYS}/{survey_id}").json()
    assert (survey["status"], survey["latest_version"], survey["draft_definition"]) == (
        "active",
        1,
        None,
    )
    renamed = checkout(name="Checkout survey v2")
    edited = admin.http.patch(f"{SURVEYS}/{survey_id}", json={"definition": renamed}).json()
    assert edited["draft_definition"]["name"] == "Checkout survey v2"
    assert edited["latest_version"] == 1
    first = admin.http.get(f"{SURVEYS}/{survey_id}/versions/1").json()
    assert first["definition"]["name"] == "Checkout survey"
    second = admin.http.post(f"{SURVEYS}/{survey_id}/publish")
    assert second.status_code == 201
    assert second.json()["number"] == 2
    versions = admin.http.get(f"{SURVEYS}/{survey_id}/versions").json()
    assert [v["number"] for v in versions] == [1, 2]
    again = admin.http.post(f"{SURVEYS}/{survey_id}/publish")
    assert again.status_code == 409


def test_export_and_import_round_trip(admin: Caller) -> None:
    survey_id, _ = publish(admin)
    for fmt in ("yaml", "json"):
        exported = admin.http.get(f"{SURVEYS}/{survey_id}/export", params={"format": fmt})
        assert exported.status_code == 200
        assert fmt in exported.headers["content-type"]
        imported = admin.http.post(
            f"{SURVEYS}/import", params={"format": fmt}, content=exported.content
        )
        assert imported.status_code == 201, imported.text
        assert imported.json()["draft_definition"] == yaml.safe_load(exported.text)
        assert imported.json()["status"] == "draft"


def test_import_of_a_broken_document_names_the_problem(admin: Caller) -> None:
    bad = admin.http.post(f"{SURVEYS}/import", params={"format": "json"}, content=b"{not json")
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "body"
    wrong = admin.http.post(f"{SURVEYS}/import", content=b"name: X\ntitle: {en: X}\npages: []\n")
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "pages"
    assert admin.http.get(SURVEYS).json()["total"] == 0


def test_close_stops_the_survey_and_is_audited(admin: Caller, db_session: Session) -> None:
    survey_id, _ = publish(admin)
    closed = admin.http.post(f"{SURVEYS}/{survey_id}/close")
    assert closed.status_code == 200
    assert closed.json()["status"] == "closed"
    actions = db_session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.object_id == survey_id)
        .order_by(AuditEvent.occurred_at)
    ).all()
    assert sorted(actions) == ["survey.closed", "survey.created", "survey.published"]


def test_every_role_reads_but_only_admins_and_analysts_write(
    admin: Caller, make_caller: MakeCaller
) -> None:
    survey_id, _ = publish(admin)
    for role, may_write in [
        (Role.ANALYST, True),
        (Role.MANAGER, False),
        (Role.AGENT, False),
        (Role.VIEWER, False),
    ]:
        caller = make_caller(role, workspace_id=admin.workspace_id)
        assert caller.http.get(f"{SURVEYS}/{survey_id}").status_code == 200
        created = caller.http.post(SURVEYS, json={"definition": checkout()})
        assert created.status_code == (201 if may_write else 403), role


def test_other_workspaces_surveys_are_not_found(admin: Caller, make_caller: MakeCaller) -> None:
    survey_id, _ = publish(admin)
    stranger = make_caller(Role.ADMIN)
    assert stranger.http.get(f"{SURVEYS}/{survey_id}").status_code == 404
    assert stranger.http.post(f"{SURVEYS}/{survey_id}/publish").status_code == 404
