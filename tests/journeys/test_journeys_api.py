"""Journeys and their ordered stages through the REST API."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tests.conftest import Caller, MakeCaller
from tests.factories.journeys import make_journey, make_touchpoint
from touchpoints.auth.permissions import Role

JOURNEYS = "/api/v1/journeys"


def _create(caller: Caller, **body: Any) -> dict[str, Any]:
    response = caller.http.post(JOURNEYS, json=body)
    assert response.status_code == 201, response.text
    journey: dict[str, Any] = response.json()
    return journey


def _stage_names(caller: Caller, journey_id: str) -> list[str]:
    journey = caller.http.get(f"{JOURNEYS}/{journey_id}").json()
    assert [s["position"] for s in journey["stages"]] == list(range(len(journey["stages"])))
    return [s["name"] for s in journey["stages"]]


def test_create_journey_with_stages_in_one_call(admin: Caller) -> None:
    journey = _create(
        admin,
        name="  Commuter journey ",
        description="From ticket purchase to arrival",
        stages=["awareness", "purchase", "travel", "support"],
    )
    assert journey["name"] == "Commuter journey"
    assert [(s["name"], s["position"]) for s in journey["stages"]] == [
        ("awareness", 0),
        ("purchase", 1),
        ("travel", 2),
        ("support", 3),
    ]
    listed = admin.http.get(JOURNEYS, params={"filter": "name:contains:Commuter"}).json()
    assert listed["total"] == 1
    assert listed["items"][0]["stages"] == journey["stages"]


def test_repeated_stage_names_are_refused(admin: Caller) -> None:
    response = admin.http.post(JOURNEYS, json={"name": "J", "stages": ["buy", "Buy"]})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "stages"


def test_move_add_and_delete_stages_keep_positions_contiguous(admin: Caller) -> None:
    journey = _create(admin, name="Retail", stages=["awareness", "purchase", "support"])
    ids = {s["name"]: s["id"] for s in journey["stages"]}
    stages = f"{JOURNEYS}/{journey['id']}/stages"

    moved = admin.http.patch(f"{stages}/{ids['support']}", json={"position": 0})
    assert moved.status_code == 200, moved.text
    assert moved.json()["position"] == 0
    assert _stage_names(admin, journey["id"]) == ["support", "awareness", "purchase"]

    inserted = admin.http.post(stages, json={"name": "onboarding", "position": 2})
    assert inserted.status_code == 201, inserted.text
    appended = admin.http.post(stages, json={"name": "renewal"})
    assert appended.json()["position"] == 4
    assert _stage_names(admin, journey["id"]) == [
        "support",
        "awareness",
        "onboarding",
        "purchase",
        "renewal",
    ]

    renamed = admin.http.patch(f"{stages}/{ids['awareness']}", json={"name": "discovery"})
    assert renamed.json()["name"] == "discovery"
    assert admin.http.delete(f"{stages}/{ids['support']}").status_code == 204
    assert _stage_names(admin, journey["id"]) == ["discovery", "onboarding", "purchase", "renewal"]


def test_stage_position_out_of_range_and_duplicate_stage_name(admin: Caller) -> None:
    journey = _create(admin, name="Short", stages=["one", "two"])
    stages = f"{JOURNEYS}/{journey['id']}/stages"
    too_far = admin.http.patch(f"{stages}/{journey['stages'][0]['id']}", json={"position": 2})
    assert too_far.status_code == 422
    assert too_far.json()["errors"] == [
        {"field": "position", "reason": "must be between 0 and 1 for this journey"}
    ]
    assert admin.http.post(stages, json={"name": "x", "position": 3}).status_code == 422
    duplicate = admin.http.post(stages, json={"name": "TWO"})
    assert duplicate.status_code == 409
    assert "already has a stage named" in duplicate.json()["detail"]
    assert _stage_names(admin, journey["id"]) == ["one", "two"]


def test_duplicate_journey_name_is_a_conflict(admin: Caller) -> None:
    first = _create(admin, name="Onboarding")
    response = admin.http.post(JOURNEYS, json={"name": "onboarding"})
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == (
        "a journey named 'onboarding' already exists in this workspace; pick another"
    )
    other = _create(admin, name="Support")
    renamed = admin.http.patch(f"{JOURNEYS}/{other['id']}", json={"name": "Onboarding"})
    assert renamed.status_code == 409
    same = admin.http.patch(f"{JOURNEYS}/{first['id']}", json={"name": "ONBOARDING"})
    assert same.status_code == 200
    assert same.json()["name"] == "ONBOARDING"


def test_update_journey_description_and_refuse_null_name(admin: Caller) -> None:
    journey = _create(admin, name="Claims", description="old")
    changed = admin.http.patch(f"{JOURNEYS}/{journey['id']}", json={"description": None})
    assert changed.status_code == 200
    assert changed.json()["description"] is None
    refused = admin.http.patch(f"{JOURNEYS}/{journey['id']}", json={"name": None})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "name"


def test_unknown_ids_are_not_found(admin: Caller) -> None:
    journey = _create(admin, name="Known", stages=["a"])
    stages = f"{JOURNEYS}/{journey['id']}/stages"
    assert admin.http.get(f"{JOURNEYS}/nope").status_code == 404
    assert admin.http.patch(f"{JOURNEYS}/nope", json={"name": "x"}).status_code == 404
    assert admin.http.delete(f"{JOURNEYS}/nope").status_code == 404
    assert admin.http.post(f"{JOURNEYS}/nope/stages", json={"name": "x"}).status_code == 404
    assert admin.http.patch(f"{stages}/nope", json={"name": "x"}).status_code == 404
    response = admin.http.delete(f"{stages}/nope")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_another_workspaces_journey_is_not_found(admin: Caller, make_caller: MakeCaller) -> None:
    outsider = make_caller(Role.ADMIN)
    theirs = _create(outsider, name="Theirs", stages=["a", "b"])
    stage_id = theirs["stages"][0]["id"]
    assert admin.http.get(f"{JOURNEYS}/{theirs['id']}").status_code == 404
    assert admin.http.delete(f"{JOURNEYS}/{theirs['id']}").status_code == 404
    moved = admin.http.patch(f"{JOURNEYS}/{theirs['id']}/stages/{stage_id}", json={"position": 1})
    assert moved.status_code == 404
    assert admin.http.get(JOURNEYS).json()["total"] == 0
    # Same name in another workspace is allowed.
    _create(admin, name="Theirs")
    assert _stage_names(outsider, theirs["id"]) == ["a", "b"]


def test_viewer_reads_but_cannot_write(
    admin: Caller, make_caller: MakeCaller, db_session: Session
) -> None:
    journey = make_journey(db_session, workspace_id=admin.workspace_id, name="Seen")
    db_session.commit()
    viewer = make_caller(Role.VIEWER, workspace_id=admin.workspace_id)
    assert viewer.http.get(f"{JOURNEYS}/{journey.id}").json()["name"] == "Seen"
    assert viewer.http.get(JOURNEYS).json()["total"] == 1
    refusals = [
        viewer.http.post(JOURNEYS, json={"name": "Mine"}),
        viewer.http.patch(f"{JOURNEYS}/{journey.id}", json={"name": "Renamed"}),
        viewer.http.delete(f"{JOURNEYS}/{journey.id}"),
        viewer.http.post(f"{JOURNEYS}/{journey.id}/stages", json={"name": "x"}),
    ]
    assert [r.status_code for r in refusals] == [403, 403, 403, 403]
    assert "journeys:write" in refusals[0].json()["detail"]
    assert admin.http.get(f"{JOURNEYS}/{journey.id}").json()["name"] == "Seen"


def test_idempotency_key_retry_creates_one_journey(admin: Caller) -> None:
    body = {"name": "Retried", "stages": ["buy", "use"]}
    headers = {"Idempotency-Key": "journey-retry-1"}
    first = admin.http.post(JOURNEYS, json=body, headers=headers)
    second = admin.http.post(JOURNEYS, json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert admin.http.get(JOURNEYS).json()["total"] == 1


def test_deleting_a_journey_leaves_its_touchpoints_without_a_stage(
    admin: Caller, db_session: Session
) -> None:
    journey = make_journey(db_session, workspace_id=admin.workspace_id, stages=["buy", "use"])
    on_stage = make_touchpoint(
        db_session, workspace_id=admin.workspace_id, name="Checkout", stage=journey.stages[0]
    )
    db_session.commit()
    assert admin.http.delete(f"{JOURNEYS}/{journey.id}").status_code == 204
    assert admin.http.get(f"{JOURNEYS}/{journey.id}").status_code == 404
    touchpoint = admin.http.get(f"/api/v1/touchpoints/{on_stage.id}")
    assert touchpoint.status_code == 200
    assert touchpoint.json()["stage_id"] is None
    assert touchpoint.json()["stage_name"] is None
    assert touchpoint.json()["journey_id"] is None
