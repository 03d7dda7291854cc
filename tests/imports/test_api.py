"""The import API: upload a file, read the run and its quarantine, fix and replay rows."""

from __future__ import annotations

import json

from tests.conftest import Caller, MakeCaller
from tests.imports.conftest import FIXTURES
from touchpoints.auth.permissions import Role

MAPPING = (FIXTURES / "feedback_mapping.json").read_text()
CSV = (FIXTURES / "feedback_malformed.csv").read_bytes()


def upload(caller: Caller, **form: str) -> dict[str, object]:
    response = caller.http.post(
        "/api/v1/imports",
        files={"file": ("survey.csv", CSV, "text/csv")},
        data={"kind": "feedback", "mapping": MAPPING, **form},
    )
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def test_upload_import_list_fix_and_replay(admin: Caller) -> None:
    run = upload(admin)
    assert (run["status"], run["total"], run["imported"], run["quarantined"]) == (
        "completed",
        9,
        4,
        5,
    )
    assert run["format"] == "csv" and run["file_name"] == "survey.csv"
    listed = admin.http.get("/api/v1/imports").json()
    assert [item["id"] for item in listed["items"]] == [run["id"]]
    quarantine = admin.http.get(
        f"/api/v1/imports/{run['id']}/quarantine", params={"filter": "status:eq:open"}
    ).json()
    assert [row["line"] for row in quarantine["items"]] == [4, 5, 6, 7, 8]
    nps_row = quarantine["items"][1]
    assert nps_row["errors"][0] == {
        "field": "scores.nps",
        "reason": "Input should be less than or equal to 10",
        "column": "Score",
    }
    fixed = admin.http.patch(
        f"/api/v1/quarantine/{nps_row['id']}", json={"raw": {**nps_row["raw"], "Score": "9"}}
    )
    assert fixed.status_code == 200 and fixed.json()["status"] == "fixed"
    replay = admin.http.post(f"/api/v1/imports/{run['id']}/replay").json()
    assert (replay["replayed"], replay["run"]["imported"], replay["run"]["quarantined"]) == (
        1,
        5,
        4,
    )
    items = admin.http.get("/api/v1/feedback", params={"filter": "source:eq:import"}).json()
    assert items["total"] == 5
    read = admin.http.get(f"/api/v1/imports/{run['id']}").json()
    assert read["imported"] == 5


def test_the_same_upload_twice_imports_nothing_twice(admin: Caller) -> None:
    upload(admin)
    second = upload(admin)
    assert (second["imported"], second["duplicate"], second["quarantined"]) == (0, 9, 0)
    assert admin.http.get("/api/v1/feedback").json()["total"] == 4


def test_bad_requests_get_problem_answers(admin: Caller) -> None:
    bad_mapping = admin.http.post(
        "/api/v1/imports",
        files={"file": ("survey.csv", CSV, "text/csv")},
        data={"kind": "feedback", "mapping": "{oops"},
    )
    assert bad_mapping.status_code == 422
    assert "mapping" in bad_mapping.json()["detail"]
    unknown = admin.http.post(
        "/api/v1/imports",
        files={"file": ("survey.xlsx", b"PK", "application/octet-stream")},
        data={"kind": "feedback"},
    )
    assert unknown.status_code == 422
    assert "cannot tell the format" in unknown.json()["detail"]
    assert admin.http.get("/api/v1/imports").json()["total"] == 0


def test_oversized_uploads_are_refused(admin: Caller) -> None:
    big = b"text,occurred_at\n" + b"x" * 1_100_000
    response = admin.http.post(
        "/api/v1/imports", files={"file": ("big.csv", big)}, data={"kind": "feedback"}
    )
    assert response.status_code == 413


def test_managers_may_not_import_and_other_workspaces_see_nothing(
    admin: Caller, make_caller: MakeCaller
) -> None:
    run = upload(admin)
    manager = make_caller(Role.MANAGER, workspace_id=admin.workspace_id)
    refused = manager.http.post(
        "/api/v1/imports",
        files={"file": ("survey.csv", CSV, "text/csv")},
        data={"kind": "feedback", "mapping": MAPPING},
    )
    assert refused.status_code == 403
    assert manager.http.get("/api/v1/imports").status_code == 403
    stranger = make_caller(Role.ADMIN)
    assert stranger.http.get(f"/api/v1/imports/{run['id']}").status_code == 404
    rows = admin.http.get(f"/api/v1/imports/{run['id']}/quarantine").json()["items"]
    patch = stranger.http.patch(f"/api/v1/quarantine/{rows[0]['id']}", json={"status": "discarded"})
    assert patch.status_code == 404


def test_discarded_rows_are_not_replayed(admin: Caller) -> None:
    run = upload(admin)
    rows = admin.http.get(f"/api/v1/imports/{run['id']}/quarantine").json()["items"]
    discarded = admin.http.patch(
        f"/api/v1/quarantine/{rows[0]['id']}", json={"status": "discarded"}
    )
    assert discarded.json()["status"] == "discarded"
    replay = admin.http.post(
        f"/api/v1/imports/{run['id']}/replay",
        content=json.dumps({"row_ids": [rows[0]["id"]]}),
        headers={"Content-Type": "application/json"},
    )
    assert replay.status_code == 422
    assert "already replayed or discarded" in replay.json()["detail"]
