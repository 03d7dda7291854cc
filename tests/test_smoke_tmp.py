from tests.conftest import Caller


def test_workspace(admin: Caller) -> None:
    r = admin.http.get("/api/v1/workspace")
    assert r.status_code == 200, r.text
    assert r.json()["id"] == admin.workspace_id
    r = admin.http.get("/api/v1/workspaces/nope")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    r = admin.http.post("/api/v1/org-units", json={"code": "", "name": "x"})
    assert r.status_code == 422, r.text
    print(r.json())
    r = admin.http.post("/api/v1/org-units", json={"code": "eu", "name": "Europe"}, headers={"Idempotency-Key": "k1"})
    assert r.status_code == 201, r.text
    r2 = admin.http.post("/api/v1/org-units", json={"code": "eu", "name": "Europe"}, headers={"Idempotency-Key": "k1"})
    assert r2.status_code == 201 and r2.json() == r.json() and r2.headers["Idempotent-Replayed"] == "true"
    r3 = admin.http.post("/api/v1/org-units", json={"code": "eu", "name": "Europe"})
    assert r3.status_code == 409, r3.text
    lst = admin.http.get("/api/v1/org-units?filter=code:eq:eu&sort=-name")
    assert lst.json()["total"] == 1, lst.text
