"""Every error is problem+json naming what was wrong."""

from __future__ import annotations

from collections.abc import Iterator

from tests.conftest import Caller


def test_malformed_json_is_422_problem(admin: Caller) -> None:
    response = admin.http.post(
        "/api/v1/org-units",
        content=b'{"code": "a", "name": ',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 422
    assert body["errors"][0]["reason"].startswith("JSON decode error")


def test_wrong_types_name_each_field(admin: Caller) -> None:
    response = admin.http.post("/api/v1/org-units", json={"code": 5, "name": ["x"]})
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"code", "name"}


def test_oversized_body_is_413_and_writes_nothing(admin: Caller) -> None:
    limit = 1_048_576
    response = admin.http.post(
        "/api/v1/org-units",
        content=b'{"code": "big", "name": "' + b"x" * limit + b'"}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert admin.http.get("/api/v1/org-units").json()["total"] == 0


def test_unknown_route_is_404_problem(admin: Caller) -> None:
    response = admin.http.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_health_answers_without_credentials(admin: Caller) -> None:
    response = admin.http.get("/healthz", headers={"Authorization": ""})
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_liveness_answers_without_credentials_or_store(admin: Caller) -> None:
    response = admin.http.get("/livez", headers={"Authorization": ""})
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_openapi_describes_every_route(admin: Caller) -> None:
    spec = admin.http.get("/openapi.json").json()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert operation.get("summary"), f"{method.upper()} {path} has no summary"
            assert operation.get("description"), f"{method.upper()} {path} has no description"


def test_streamed_oversized_body_without_length_is_413_and_writes_nothing(admin: Caller) -> None:
    chunk = b"x" * 65_536

    def body() -> Iterator[bytes]:
        yield b'{"code": "streamed", "name": "'
        for _ in range(20):  # 1.25 MiB, sent chunked: no Content-Length to trust
            yield chunk
        yield b'"}'

    response = admin.http.post(
        "/api/v1/org-units", content=body(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    codes = [unit["code"] for unit in admin.http.get("/api/v1/org-units").json()["items"]]
    assert "streamed" not in codes
