"""Touchpoints through the REST API: CRUD, filters, validation and access."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tests.conftest import Caller, MakeCaller
from tests.factories.journeys import make_journey, make_touchpoint
from touchpoints.auth.permissions import Role
from touchpoints.journeys.models import Channel

TOUCHPOINTS = "/api/v1/touchpoints"


def _names(caller: Caller, **params: Any) -> list[str]:
    response = caller.http.get(TOUCHPOINTS, params=params)
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


def test_touchpoint_crud(admin: Caller, db_session: Session) -> None:
    journey = make_journey(db_session, workspace_id=admin.workspace_id, stages=["buy", "use"])
    buy, use = journey.stages
    db_session.commit()
    created = admin.http.post(
        TOUCHPOINTS,
        json={
            "name": " Website checkout ",
            "channel": "web",
            "owner_department": "  Sales ",
            "stage_id": buy.id,
        },
    )
    assert created.status_code == 201, created.text
    touchpoint = created.json()
    assert touchpoint["name"] == "Website checkout"
    assert touchpoint["owner_department"] == "sales"
    assert touchpoint["controllable"] is True
    assert (touchpoint["stage_name"], touchpoint["journey_id"]) == ("buy", journey.id)

    url = f"{TOUCHPOINTS}/{touchpoint['id']}"
    assert admin.http.get(url).json() == touchpoint
    changed = admin.http.patch(
        url, json={"channel": "app", "controllable": False, "stage_id": use.id}
    ).json()
    assert (changed["channel"], changed["controllable"], changed["stage_name"]) == (
        "app",
        False,
        "use",
    )
    detached = admin.http.patch(url, json={"stage_id": None}).json()
    assert (detached["stage_id"], detached["stage_name"], detached["journey_id"]) == (
        None,
        None,
        None,
    )
    assert detached["channel"] == "app"
    assert admin.http.delete(url).status_code == 204
    assert admin.http.get(url).status_code == 404


def test_filters_by_channel_department_and_journey(admin: Caller, db_session: Session) -> None:
    ws = admin.workspace_id
    commute = make_journey(db_session, workspace_id=ws, name="Commute", stages=["plan", "travel"])
    billing = make_journey(db_session, workspace_id=ws, name="Billing", stages=["invoice"])
    make_touchpoint(
        db_session,
        workspace_id=ws,
        name="App planner",
        channel=Channel.APP,
        owner_department="product",
        stage=commute.stages[0],
    )
    make_touchpoint(
        db_session,
        workspace_id=ws,
        name="Train ride",
        channel=Channel.OTHER,
        owner_department="operations",
        controllable=False,
        stage=commute.stages[1],
    )
    make_touchpoint(
        db_session,
        workspace_id=ws,
        name="Invoice email",
        channel=Channel.EMAIL,
        owner_department="billing",
        stage=billing.stages[0],
    )
    make_touchpoint(db_session, workspace_id=ws, name="Support call", channel=Channel.PHONE)
    db_session.commit()

    assert _names(admin, filter="channel:eq:email") == ["Invoice email"]
    assert _names(admin, filter="channel:in:app|phone") == ["App planner", "Support call"]
    assert _names(admin, filter="owner_department:eq:operations") == ["Train ride"]
    assert _names(admin, journey_id=commute.id) == ["App planner", "Train ride"]
    assert _names(admin, filter=f"journey_id:eq:{billing.id}") == ["Invoice email"]
    assert _names(admin, filter=f"stage_id:eq:{commute.stages[1].id}") == ["Train ride"]
    assert _names(admin, filter="stage_id:isnull:true") == ["Support call"]
    assert _names(admin, journey_id=commute.id, sort="-name") == ["Train ride", "App planner"]
    unknown = admin.http.get(TOUCHPOINTS, params={"journey_id": "nope"})
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "journey_id"


def test_filter_by_controllable(admin: Caller, db_session: Session) -> None:
    ws = admin.workspace_id
    make_touchpoint(db_session, workspace_id=ws, name="Partner train", controllable=False)
    make_touchpoint(db_session, workspace_id=ws, name="Ticket app")
    db_session.commit()
    assert _names(admin, filter="controllable:eq:false") == ["Partner train"]
    assert _names(admin, filter="controllable:eq:true") == ["Ticket app"]


def test_invalid_channel_names_the_field(admin: Caller) -> None:
    response = admin.http.post(
        TOUCHPOINTS, json={"name": "Fax", "channel": "fax", "owner_department": "service"}
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == ["channel"]


def test_blank_department_and_null_channel_are_refused(admin: Caller, db_session: Session) -> None:
    blank = admin.http.post(
        TOUCHPOINTS, json={"name": "Desk", "channel": "store", "owner_department": "   "}
    )
    assert [e["field"] for e in blank.json()["errors"]] == ["owner_department"]
    touchpoint = make_touchpoint(db_session, workspace_id=admin.workspace_id)
    db_session.commit()
    nulled = admin.http.patch(f"{TOUCHPOINTS}/{touchpoint.id}", json={"channel": None})
    assert nulled.status_code == 422
    assert [e["field"] for e in nulled.json()["errors"]] == ["channel"]


def test_duplicate_touchpoint_name_is_a_conflict(admin: Caller, db_session: Session) -> None:
    make_touchpoint(db_session, workspace_id=admin.workspace_id, name="Store visit")
    other = make_touchpoint(db_session, workspace_id=admin.workspace_id, name="Web chat")
    db_session.commit()
    body = {"name": "store visit", "channel": "store", "owner_department": "retail"}
    response = admin.http.post(TOUCHPOINTS, json=body)
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert "a touchpoint named 'store visit' already exists" in response.json()["detail"]
    renamed = admin.http.patch(f"{TOUCHPOINTS}/{other.id}", json={"name": "Store visit"})
    assert renamed.status_code == 409


def test_stage_of_another_workspace_or_unknown_is_invalid(
    admin: Caller, make_caller: MakeCaller, db_session: Session
) -> None:
    outsider = make_caller(Role.ADMIN)
    theirs = make_journey(db_session, workspace_id=outsider.workspace_id, stages=["x"])
    mine = make_touchpoint(db_session, workspace_id=admin.workspace_id)
    db_session.commit()
    for stage_id in (theirs.stages[0].id, "nope"):
        body = {
            "name": "Kiosk",
            "channel": "store",
            "owner_department": "retail",
            "stage_id": stage_id,
        }
        created = admin.http.post(TOUCHPOINTS, json=body)
        assert created.status_code == 422
        assert created.json()["errors"][0]["field"] == "stage_id"
        moved = admin.http.patch(f"{TOUCHPOINTS}/{mine.id}", json={"stage_id": stage_id})
        assert moved.status_code == 422
    assert _names(admin) == [mine.name]


def test_unknown_or_foreign_touchpoint_is_not_found(
    admin: Caller, make_caller: MakeCaller, db_session: Session
) -> None:
    outsider = make_caller(Role.ADMIN)
    theirs = make_touchpoint(db_session, workspace_id=outsider.workspace_id)
    db_session.commit()
    for touchpoint_id in ("nope", theirs.id):
        url = f"{TOUCHPOINTS}/{touchpoint_id}"
        assert admin.http.get(url).status_code == 404
        assert admin.http.patch(url, json={"name": "Mine now"}).status_code == 404
        assert admin.http.delete(url).status_code == 404
    assert _names(admin) == []
    assert outsider.http.get(f"{TOUCHPOINTS}/{theirs.id}").status_code == 200


def test_viewer_reads_touchpoints_but_cannot_write(
    admin: Caller, make_caller: MakeCaller, db_session: Session
) -> None:
    touchpoint = make_touchpoint(db_session, workspace_id=admin.workspace_id, name="Counter")
    db_session.commit()
    viewer = make_caller(Role.VIEWER, workspace_id=admin.workspace_id)
    assert _names(viewer) == ["Counter"]
    assert viewer.http.get(f"{TOUCHPOINTS}/{touchpoint.id}").status_code == 200
    body = {"name": "New", "channel": "web", "owner_department": "service"}
    assert viewer.http.post(TOUCHPOINTS, json=body).status_code == 403
    url = f"{TOUCHPOINTS}/{touchpoint.id}"
    assert viewer.http.patch(url, json={"name": "Renamed"}).status_code == 403
    assert viewer.http.delete(url).status_code == 403
    assert _names(admin) == ["Counter"]
