"""The shared list helper: filters, sort and pages behave the same on every list."""

from __future__ import annotations

import pytest

from tests.conftest import Caller


@pytest.fixture
def units(admin: Caller) -> list[str]:
    codes = [f"s{n:02d}" for n in range(12)]
    for code in codes:
        kind = "region" if code in {"s00", "s01"} else "store"
        response = admin.http.post(
            "/api/v1/org-units", json={"code": code, "name": f"Store {code}", "kind": kind}
        )
        assert response.status_code == 201
    return codes


def test_pages_cover_everything_once(admin: Caller, units: list[str]) -> None:
    seen: list[str] = []
    for offset in range(0, 12, 5):
        page = admin.http.get(
            "/api/v1/org-units", params={"limit": 5, "offset": offset, "sort": "code"}
        ).json()
        assert page["total"] == 12
        assert page["limit"] == 5
        seen += [u["code"] for u in page["items"]]
    assert seen == units


def test_descending_sort_and_filters(admin: Caller, units: list[str]) -> None:
    page = admin.http.get(
        "/api/v1/org-units",
        params=[("sort", "-code"), ("filter", "kind:eq:store"), ("filter", "code:lte:s05")],
    ).json()
    assert [u["code"] for u in page["items"]] == ["s05", "s04", "s03", "s02"]
    regions = admin.http.get("/api/v1/org-units", params={"filter": "kind:in:region|depot"})
    assert regions.json()["total"] == 2
    contains = admin.http.get("/api/v1/org-units", params={"filter": "name:contains:s1"})
    assert {u["code"] for u in contains.json()["items"]} == {"s10", "s11"}
    roots = admin.http.get("/api/v1/org-units", params={"filter": "parent_id:isnull:true"})
    assert roots.json()["total"] == 12


@pytest.mark.parametrize(
    ("params", "field", "fragment"),
    [
        ({"filter": "colour:eq:red"}, "filter", "unknown field 'colour'"),
        ({"filter": "code:like:s"}, "filter", "unknown operator 'like'"),
        ({"filter": "code"}, "filter", "is not field:op:value"),
        ({"filter": "created_at:gte:yesterday"}, "filter", "not a valid datetime"),
        ({"filter": "created_at:gte:2026-01-01T00:00:00"}, "filter", "need a timezone"),
        ({"sort": "-colour"}, "sort", "unknown field 'colour'"),
        ({"limit": 0}, "limit", "greater than or equal to 1"),
        ({"limit": 501}, "limit", "less than or equal to 500"),
    ],
)
def test_bad_list_parameters_are_named(
    admin: Caller, params: dict[str, object], field: str, fragment: str
) -> None:
    response = admin.http.get("/api/v1/org-units", params=params)  # type: ignore[arg-type]
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["field"] == field
    assert fragment in error["reason"]
