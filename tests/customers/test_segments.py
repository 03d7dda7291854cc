"""Segments over the API: naming them, and putting customers in and out of them."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tests.conftest import Caller, MakeCaller
from tests.factories.customers import make_customer, make_segment
from touchpoints.auth.permissions import Role


def create_segment(caller: Caller, name: str, **body: Any) -> dict[str, Any]:
    """Create a segment through the API and return it."""
    response = caller.http.post("/api/v1/segments", json={"name": name, **body})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def member_ids(caller: Caller, segment_id: str) -> list[str]:
    """Return the ids of a segment's customers, as the customer list reports them."""
    response = caller.http.get("/api/v1/customers", params={"segment_id": segment_id})
    assert response.status_code == 200, response.text
    return sorted(c["id"] for c in response.json()["items"])


def test_segments_are_created_listed_renamed_and_deleted(admin: Caller) -> None:
    gold = create_segment(admin, "Gold", description="Top 5% by spend")
    create_segment(admin, "At risk")
    listed = admin.http.get("/api/v1/segments").json()
    assert [s["name"] for s in listed["items"]] == ["At risk", "Gold"]
    assert listed["total"] == 2
    url = f"/api/v1/segments/{gold['id']}"
    renamed = admin.http.patch(url, json={"name": "Platinum"}).json()
    assert (renamed["name"], renamed["description"]) == ("Platinum", "Top 5% by spend")
    assert admin.http.get(url).json()["name"] == "Platinum"
    assert admin.http.delete(url).status_code == 204
    assert admin.http.get(url).status_code == 404


def test_segment_names_are_unique_in_a_workspace(admin: Caller) -> None:
    create_segment(admin, "Gold")
    at_risk = create_segment(admin, "At risk")
    duplicate = admin.http.post("/api/v1/segments", json={"name": "Gold"})
    assert duplicate.status_code == 409
    assert duplicate.headers["content-type"] == "application/problem+json"
    clash = admin.http.patch(f"/api/v1/segments/{at_risk['id']}", json={"name": "Gold"})
    assert clash.status_code == 409
    blank = admin.http.post("/api/v1/segments", json={"name": ""})
    assert blank.status_code == 422
    assert blank.json()["errors"][0]["field"] == "name"


def test_adding_a_customer_twice_keeps_one_membership(admin: Caller, db_session: Session) -> None:
    ann = make_customer(db_session, workspace_id=admin.workspace_id, email="ann@example.com")
    bob = make_customer(db_session, workspace_id=admin.workspace_id, email="bob@example.com")
    db_session.commit()
    gold = create_segment(admin, "Gold")
    url = f"/api/v1/segments/{gold['id']}/customers/{ann.id}"
    first = admin.http.put(url)
    again = admin.http.put(url)
    assert first.status_code == again.status_code == 200
    assert again.json()["segments"] == [{"id": gold["id"], "name": "Gold"}]
    assert member_ids(admin, gold["id"]) == [ann.id]
    assert admin.http.get(f"/api/v1/customers/{bob.id}").json()["segments"] == []


def test_removing_a_customer_leaves_the_customer(admin: Caller, db_session: Session) -> None:
    ann = make_customer(db_session, workspace_id=admin.workspace_id)
    gold = make_segment(db_session, workspace_id=admin.workspace_id, name="Gold")
    db_session.commit()
    url = f"/api/v1/segments/{gold.id}/customers/{ann.id}"
    admin.http.put(url)
    assert admin.http.delete(url).status_code == 204
    assert admin.http.delete(url).status_code == 204
    assert member_ids(admin, gold.id) == []
    assert admin.http.get(f"/api/v1/customers/{ann.id}").json()["segments"] == []


def test_deleting_a_segment_keeps_its_customers(admin: Caller, db_session: Session) -> None:
    ann = make_customer(db_session, workspace_id=admin.workspace_id)
    gold = make_segment(db_session, workspace_id=admin.workspace_id, name="Gold")
    vip = make_segment(db_session, workspace_id=admin.workspace_id, name="VIP")
    db_session.commit()
    admin.http.put(f"/api/v1/segments/{gold.id}/customers/{ann.id}")
    admin.http.put(f"/api/v1/segments/{vip.id}/customers/{ann.id}")
    assert admin.http.delete(f"/api/v1/segments/{gold.id}").status_code == 204
    fetched = admin.http.get(f"/api/v1/customers/{ann.id}")
    assert fetched.status_code == 200
    assert fetched.json()["segments"] == [{"id": vip.id, "name": "VIP"}]


def test_unknown_or_foreign_segments_and_customers_are_not_found(
    admin: Caller, db_session: Session, make_caller: MakeCaller
) -> None:
    other = make_caller(Role.ADMIN)
    theirs = make_customer(db_session, workspace_id=other.workspace_id)
    their_segment = make_segment(db_session, workspace_id=other.workspace_id)
    mine = make_customer(db_session, workspace_id=admin.workspace_id)
    my_segment = make_segment(db_session, workspace_id=admin.workspace_id)
    db_session.commit()
    for url in (
        f"/api/v1/segments/{their_segment.id}/customers/{mine.id}",
        f"/api/v1/segments/{my_segment.id}/customers/{theirs.id}",
        f"/api/v1/segments/nope/customers/{mine.id}",
        f"/api/v1/segments/{my_segment.id}/customers/nope",
    ):
        assert admin.http.put(url).status_code == 404, url
    for method in ("GET", "PATCH", "DELETE"):
        response = admin.http.request(method, f"/api/v1/segments/{their_segment.id}", json={})
        assert response.status_code == 404, method
    assert admin.http.get("/api/v1/segments").json()["total"] == 1


def test_segment_roles(admin: Caller, make_caller: MakeCaller) -> None:
    gold = create_segment(admin, "Gold")
    viewer = make_caller(Role.VIEWER, workspace_id=admin.workspace_id)
    manager = make_caller(Role.MANAGER, workspace_id=admin.workspace_id)
    assert viewer.http.get("/api/v1/segments").status_code == 403
    assert manager.http.get(f"/api/v1/segments/{gold['id']}").status_code == 200
    assert manager.http.post("/api/v1/segments", json={"name": "Mine"}).status_code == 403
    assert manager.http.delete(f"/api/v1/segments/{gold['id']}").status_code == 403


def test_segment_creation_honours_idempotency_keys(admin: Caller) -> None:
    headers = {"Idempotency-Key": "segment-gold"}
    first = admin.http.post("/api/v1/segments", json={"name": "Gold"}, headers=headers)
    retry = admin.http.post("/api/v1/segments", json={"name": "Gold"}, headers=headers)
    assert first.status_code == retry.status_code == 201
    assert retry.json()["id"] == first.json()["id"]
    assert admin.http.get("/api/v1/segments").json()["total"] == 1
