"""The customers API as a client sees it: create, find, change, and who may see what."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.conftest import Caller, MakeCaller
from tests.factories.customers import make_customer
from tests.factories.orgs import make_org_unit
from touchpoints.auth.permissions import Role

PROBLEM = "application/problem+json"


def create(caller: Caller, **body: Any) -> dict[str, Any]:
    """Create a customer through the API and return it."""
    response = caller.http.post("/api/v1/customers", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def identities_of(customer: dict[str, Any]) -> set[tuple[str, str, str]]:
    """Return a customer's identities as (kind, source, value)."""
    return {(i["kind"], i["source"], i["value"]) for i in customer["identities"]}


def test_create_stores_normalized_identities(admin: Caller) -> None:
    ann = create(
        admin,
        display_name="Ann Smith",
        email="  Ann.Smith@Example.COM ",
        phone="(415) 555-0132",
        external_id=" C-42 ",
        external_id_source="crm",
        identities=[{"kind": "email", "value": "ANN@work.example.org"}],
        attributes={"tier": "gold", "lifetime_value": 1240.5},
        consent_email=True,
        consent_sms=False,
    )
    assert identities_of(ann) == {
        ("email", "", "ann.smith@example.com"),
        ("phone", "", "+14155550132"),
        ("external_id", "crm", "C-42"),
        ("email", "", "ann@work.example.org"),
    }
    fetched = admin.http.get(f"/api/v1/customers/{ann['id']}").json()
    assert fetched["attributes"] == {"tier": "gold", "lifetime_value": 1240.5}
    assert (fetched["consent_email"], fetched["consent_sms"], fetched["consent_research"]) == (
        True,
        False,
        None,
    )
    assert fetched["first_seen_at"] is not None
    assert identities_of(fetched) == identities_of(ann)


def test_list_filters_sorts_and_pages(admin: Caller) -> None:
    for name in ("Dora", "Ann", "Cleo", "Bea", "Eve"):
        create(admin, display_name=name)
    page = admin.http.get("/api/v1/customers", params={"sort": "display_name", "limit": 2})
    assert page.json()["total"] == 5
    assert [c["display_name"] for c in page.json()["items"]] == ["Ann", "Bea"]
    second = admin.http.get(
        "/api/v1/customers", params={"sort": "-display_name", "limit": 2, "offset": 2}
    )
    assert [c["display_name"] for c in second.json()["items"]] == ["Cleo", "Bea"]
    named = admin.http.get("/api/v1/customers", params={"filter": "display_name:eq:Eve"})
    assert [c["display_name"] for c in named.json()["items"]] == ["Eve"]
    future = admin.http.get(
        "/api/v1/customers", params={"filter": "created_at:gt:2999-01-01T00:00:00Z"}
    )
    assert future.json()["total"] == 0


def test_list_filters_by_consent(admin: Caller) -> None:
    for name, consent in (("Ann", True), ("Bea", False), ("Cleo", True), ("Dora", None)):
        create(admin, display_name=name, consent_email=consent)

    def names(expression: str) -> list[str]:
        response = admin.http.get(
            "/api/v1/customers", params={"filter": expression, "sort": "display_name"}
        )
        assert response.status_code == 200, response.text
        return [c["display_name"] for c in response.json()["items"]]

    assert names("consent_email:eq:true") == ["Ann", "Cleo"]
    assert names("consent_email:eq:false") == ["Bea"]
    assert names("consent_email:isnull:true") == ["Dora"]


def test_list_refuses_unknown_filter_fields(admin: Caller) -> None:
    response = admin.http.get("/api/v1/customers", params={"filter": "password:eq:x"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "filter"


def test_lookup_by_identity_accepts_any_common_format(admin: Caller) -> None:
    ann = create(
        admin,
        email="ann@example.com",
        phone="+1 415 555 0132",
        external_id="C-42",
        external_id_source="crm",
    )
    create(admin, email="bob@example.com")
    for query in (
        {"email": " ANN@example.com"},
        {"phone": "(415) 555-0132"},
        {"phone": "+14155550132"},
        {"external_id": "C-42", "external_id_source": "crm"},
    ):
        found = admin.http.get("/api/v1/customers", params=query).json()
        assert [c["id"] for c in found["items"]] == [ann["id"]], query
    missing = admin.http.get("/api/v1/customers", params={"external_id": "C-42"}).json()
    assert missing["total"] == 0
    invalid = admin.http.get("/api/v1/customers", params={"email": "nope"})
    assert invalid.status_code == 422
    assert invalid.json()["errors"][0]["field"] == "email"


def test_duplicate_identity_is_a_conflict_naming_the_owner(admin: Caller) -> None:
    ann = create(admin, email="ann@example.com")
    response = admin.http.post(
        "/api/v1/customers", json={"display_name": "Ann again", "email": "ANN@Example.com"}
    )
    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM
    assert (
        f"email ann@example.com already belongs to customer {ann['id']}"
        in (response.json()["detail"])
    )
    assert admin.http.get("/api/v1/customers").json()["total"] == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "ann-at-example.com"}, "email"),
        ({"phone": "12345"}, "phone"),
        ({"external_id": "   "}, "external_id"),
        ({"external_id_source": "crm"}, "external_id_source"),
        (
            {
                "identities": [
                    {"kind": "email", "value": "a@example.com"},
                    {"kind": "phone", "value": "x"},
                ]
            },
            "identities.1.value",
        ),
        ({"identities": [{"kind": "fax", "value": "1"}]}, "identities.0.kind"),
        (
            {"identities": [{"kind": "email", "value": "a@example.com", "source": "crm"}]},
            "identities.0.source",
        ),
        ({"display_name": "x" * 201}, "display_name"),
        ({"attributes": {f"k{n}": n for n in range(101)}}, "attributes"),
        ({"attributes": {"note": "x" * 40_000}}, "attributes"),
        ({"consent_email": "maybe"}, "consent_email"),
        ({"org_unit_id": "no-such-unit"}, "org_unit_id"),
        ({"first_seen_at": "2024-05-01T10:00:00"}, "first_seen_at"),
    ],
)
def test_invalid_input_names_the_field(admin: Caller, body: dict[str, Any], field: str) -> None:
    response = admin.http.post("/api/v1/customers", json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert [e["field"] for e in response.json()["errors"]] == [field]


def test_unknown_customer_is_not_found(admin: Caller) -> None:
    for method in ("GET", "PATCH", "DELETE"):
        response = admin.http.request(method, "/api/v1/customers/nope", json={})
        assert response.status_code == 404, method
        assert response.headers["content-type"] == PROBLEM


def test_another_workspaces_customer_is_not_found(
    admin: Caller, db_session: Session, make_caller: MakeCaller
) -> None:
    other = make_caller(Role.ADMIN)
    theirs = make_customer(db_session, workspace_id=other.workspace_id, email="ann@example.com")
    db_session.commit()
    assert admin.http.get(f"/api/v1/customers/{theirs.id}").status_code == 404
    assert admin.http.patch(f"/api/v1/customers/{theirs.id}", json={}).status_code == 404
    assert admin.http.delete(f"/api/v1/customers/{theirs.id}").status_code == 404
    assert (
        admin.http.get("/api/v1/customers", params={"email": "ann@example.com"}).json()["total"]
        == 0
    )
    # The same email is free in this workspace: identities are per workspace.
    create(admin, email="ann@example.com")
    assert other.http.get(f"/api/v1/customers/{theirs.id}").status_code == 200


def test_idempotency_key_retry_creates_one_customer(admin: Caller) -> None:
    body = {"display_name": "Ann", "email": "ann@example.com"}
    headers = {"Idempotency-Key": "create-ann-1"}
    first = admin.http.post("/api/v1/customers", json=body, headers=headers)
    retry = admin.http.post("/api/v1/customers", json=body, headers=headers)
    assert first.status_code == retry.status_code == 201
    assert retry.json()["id"] == first.json()["id"]
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert admin.http.get("/api/v1/customers").json()["total"] == 1


def test_patch_changes_only_the_fields_sent(admin: Caller) -> None:
    ann = create(
        admin,
        display_name="Ann",
        email="ann@example.com",
        consent_email=True,
        attributes={"tier": "gold"},
    )
    url = f"/api/v1/customers/{ann['id']}"
    renamed = admin.http.patch(url, json={"display_name": "Ann Smith"}).json()
    assert renamed["display_name"] == "Ann Smith"
    assert renamed["consent_email"] is True
    assert renamed["attributes"] == {"tier": "gold"}
    changed = admin.http.patch(
        url, json={"consent_email": None, "attributes": {"tier": "silver"}}
    ).json()
    assert changed["consent_email"] is None
    assert changed["attributes"] == {"tier": "silver"}
    assert identities_of(changed) == {("email", "", "ann@example.com")}
    cleared = admin.http.patch(url, json={"attributes": None}).json()
    assert cleared["attributes"] == {}
    refused = admin.http.patch(url, json={"org_unit_id": "no-such-unit"})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "org_unit_id"


def test_delete_removes_the_customer_and_frees_the_identity(admin: Caller) -> None:
    ann = create(admin, email="ann@example.com")
    assert admin.http.delete(f"/api/v1/customers/{ann['id']}").status_code == 204
    assert admin.http.get(f"/api/v1/customers/{ann['id']}").status_code == 404
    create(admin, email="ann@example.com")


def test_identities_are_added_and_removed(admin: Caller) -> None:
    ann = create(admin, email="ann@example.com")
    bob = create(admin, email="bob@example.com")
    url = f"/api/v1/customers/{ann['id']}/identities"
    added = admin.http.post(url, json={"kind": "phone", "value": "+44 20 7946 0958"})
    assert added.status_code == 201
    assert added.json()["value"] == "+442079460958"
    taken = admin.http.post(url, json={"kind": "email", "value": "Bob@example.com"})
    assert taken.status_code == 409
    assert bob["id"] in taken.json()["detail"]
    bad = admin.http.post(url, json={"kind": "phone", "value": "555"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "value"
    removed = admin.http.delete(f"{url}/{added.json()['id']}")
    assert removed.status_code == 204
    current = admin.http.get(f"/api/v1/customers/{ann['id']}").json()
    assert identities_of(current) == {("email", "", "ann@example.com")}
    assert admin.http.delete(f"{url}/{added.json()['id']}").status_code == 404
    bobs_identity = bob["identities"][0]["id"]
    assert admin.http.delete(f"{url}/{bobs_identity}").status_code == 404


def test_viewers_cannot_read_customers(admin: Caller, make_caller: MakeCaller) -> None:
    ann = create(admin, email="ann@example.com")
    viewer = make_caller(Role.VIEWER, workspace_id=admin.workspace_id)
    assert viewer.http.get("/api/v1/customers").status_code == 403
    denied = viewer.http.get(f"/api/v1/customers/{ann['id']}")
    assert denied.status_code == 403
    assert denied.headers["content-type"] == PROBLEM


def test_managers_read_but_do_not_write(admin: Caller, make_caller: MakeCaller) -> None:
    manager = make_caller(Role.MANAGER, workspace_id=admin.workspace_id)
    assert manager.http.get("/api/v1/customers").status_code == 200
    assert manager.http.post("/api/v1/customers", json={}).status_code == 403


def test_a_store_manager_sees_only_their_stores_customers(
    admin: Caller, db_session: Session, make_caller: MakeCaller
) -> None:
    store_a = make_org_unit(db_session, workspace_id=admin.workspace_id)
    store_b = make_org_unit(db_session, workspace_id=admin.workspace_id)
    db_session.commit()
    in_a = create(admin, display_name="Ann", email="ann@example.com", org_unit_id=store_a.id)
    in_b = create(admin, display_name="Bob", email="bob@example.com", org_unit_id=store_b.id)
    create(admin, display_name="Unplaced", email="nobody@example.com")
    manager = make_caller(Role.MANAGER, workspace_id=admin.workspace_id, org_unit_id=store_a.id)
    listed = manager.http.get("/api/v1/customers").json()
    assert [c["id"] for c in listed["items"]] == [in_a["id"]]
    assert listed["total"] == 1
    assert manager.http.get(f"/api/v1/customers/{in_a['id']}").status_code == 200
    assert manager.http.get(f"/api/v1/customers/{in_b['id']}").status_code == 404
    lookup = manager.http.get("/api/v1/customers", params={"email": "bob@example.com"})
    assert lookup.json()["total"] == 0


def test_a_scoped_writer_cannot_place_a_customer_elsewhere(
    admin: Caller, db_session: Session, make_caller: MakeCaller
) -> None:
    store_a = make_org_unit(db_session, workspace_id=admin.workspace_id)
    store_b = make_org_unit(db_session, workspace_id=admin.workspace_id)
    db_session.commit()
    analyst = make_caller(Role.ANALYST, workspace_id=admin.workspace_id, org_unit_id=store_a.id)
    placed = create(analyst, email="ann@example.com", org_unit_id=store_a.id)
    elsewhere = analyst.http.post(
        "/api/v1/customers", json={"email": "bob@example.com", "org_unit_id": store_b.id}
    )
    assert elsewhere.status_code == 404
    moved = analyst.http.patch(
        f"/api/v1/customers/{placed['id']}", json={"org_unit_id": store_b.id}
    )
    assert moved.status_code == 404
    assert admin.http.get(f"/api/v1/customers/{placed['id']}").json()["org_unit_id"] == store_a.id
