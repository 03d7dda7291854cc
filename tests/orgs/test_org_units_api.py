"""Org units: a region > store tree, scoped views, clear errors."""

from __future__ import annotations

from tests.conftest import Caller, MakeCaller
from touchpoints.auth.permissions import Role


def _create(admin: Caller, code: str, parent_id: str | None = None, kind: str = "store") -> str:
    response = admin.http.post(
        "/api/v1/org-units",
        json={"code": code, "name": code.title(), "kind": kind, "parent_id": parent_id},
    )
    assert response.status_code == 201, response.text
    unit_id: str = response.json()["id"]
    return unit_id


def test_tree_paths_and_scoped_listing(admin: Caller, make_caller: MakeCaller) -> None:
    north = _create(admin, "north", kind="region")
    south = _create(admin, "south", kind="region")
    leeds = _create(admin, "leeds", north)
    _create(admin, "york", north)
    _create(admin, "brighton", south)
    unit = admin.http.get(f"/api/v1/org-units/{leeds}").json()
    assert unit["path"] == f"/{north}/{leeds}/"
    assert admin.http.get("/api/v1/org-units").json()["total"] == 5

    regional = make_caller(Role.MANAGER, workspace_id=admin.workspace_id, org_unit_id=north)
    seen = regional.http.get("/api/v1/org-units", params={"sort": "code"}).json()
    assert [u["code"] for u in seen["items"]] == ["leeds", "north", "york"]
    assert regional.http.get(f"/api/v1/org-units/{south}").status_code == 404


def test_duplicate_code_conflicts_and_children_block_delete(admin: Caller) -> None:
    region = _create(admin, "west", kind="region")
    _create(admin, "bristol", region)
    duplicate = admin.http.post("/api/v1/org-units", json={"code": "west", "name": "W"})
    assert duplicate.status_code == 409
    blocked = admin.http.delete(f"/api/v1/org-units/{region}")
    assert blocked.status_code == 409
    assert "children" in blocked.json()["detail"]


def test_unknown_parent_and_other_workspace_unit(admin: Caller, make_caller: MakeCaller) -> None:
    missing = admin.http.post(
        "/api/v1/org-units", json={"code": "x", "name": "X", "parent_id": "nope"}
    )
    assert missing.status_code == 404
    other = make_caller(Role.ADMIN)
    foreign = _create(other, "elsewhere")
    assert admin.http.get(f"/api/v1/org-units/{foreign}").status_code == 404


def test_viewers_read_but_do_not_change_org_units(make_caller: MakeCaller) -> None:
    viewer = make_caller(Role.VIEWER)
    assert viewer.http.get("/api/v1/org-units").status_code == 200
    denied = viewer.http.post("/api/v1/org-units", json={"code": "a", "name": "A"})
    assert denied.status_code == 403
    assert denied.json()["title"] == "Forbidden"


def test_org_unit_changes_are_audited(admin: Caller) -> None:
    from sqlalchemy import select

    unit = _create(admin, "audited")
    admin.http.patch(f"/api/v1/org-units/{unit}", json={"name": "Renamed"})
    admin.http.delete(f"/api/v1/org-units/{unit}")
    from touchpoints.audit.models import AuditEvent

    app = admin.http.app
    with app.state.session_factory() as session:  # type: ignore[attr-defined]
        actions = session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.object_id == unit)
            .order_by(AuditEvent.occurred_at)
        ).all()
    assert actions == ["org_unit.created", "org_unit.updated", "org_unit.deleted"]
