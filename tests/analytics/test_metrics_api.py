"""The metrics REST API: values with intervals, the caller's scope, and 422 on bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session

from tests.analytics.conftest import TOUCHPOINT_ROWS, at, feedback, write_dataset
from tests.conftest import Caller, MakeCaller
from tests.factories.orgs import make_org_unit, make_workspace
from touchpoints.analytics.layout import EVENTS, FEEDBACK, TOUCHPOINTS
from touchpoints.auth.permissions import Role
from touchpoints.config import Settings


def store_of(settings: Settings) -> Path:
    return settings.analytics_root


@pytest.fixture
def analyst(make_caller: MakeCaller) -> Caller:
    return make_caller(Role.ANALYST)


def write_answers(root: Path, workspace_id: str, rows: list[dict[str, object]]) -> None:
    write_dataset(root, FEEDBACK, rows, workspace_id=workspace_id)


def test_nps_by_channel_and_month_with_intervals(
    analyst: Caller, settings: Settings, app: FastAPI
) -> None:
    rows = [feedback(at("2024-04-10"), nps=10, channel="web") for _ in range(40)]
    rows += [feedback(at("2024-05-10"), nps=s, channel="web") for s in [10] * 20 + [0] * 20]
    rows += [feedback(at("2024-05-10"), nps=9, channel="sms") for _ in range(3)]
    write_answers(store_of(settings), analyst.workspace_id, rows)
    answer = analyst.http.get(
        "/api/v1/metrics/nps", params={"by": "channel", "period": "month", "from": "2024-04-01"}
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["metric"]["key"] == "nps" and body["total"] == 3 and not body["empty"]
    assert body["from"] == "2024-04-01" and body["engine"] == "duckdb"
    groups = {(g["keys"]["channel"], g["period_label"]): g for g in body["groups"]}
    may = groups[("web", "2024-05")]
    assert may["value"] == 0.0 and may["n"] == 40 and may["low"] < 0 < may["high"]
    assert may["change"]["difference"] == -100.0 and may["change"]["significant"] is True
    sms = groups[("sms", "2024-05")]
    assert sms["suppressed"] is True and sms["value"] is None and sms["n"] == 3


def test_scoped_members_see_only_their_subtree(
    make_caller: MakeCaller, db_session: Session, settings: Settings
) -> None:
    workspace_id = make_workspace(db_session).id
    region = make_org_unit(db_session, workspace_id=workspace_id, kind="region")
    store = make_org_unit(db_session, workspace_id=workspace_id, parent_id=region.id)
    other = make_org_unit(db_session, workspace_id=workspace_id)
    db_session.flush()
    rows = [
        feedback(at("2024-05-10"), nps=10, org_unit_id=store.id, org_unit_path=store.path)
        for _ in range(5)
    ]
    rows += [
        feedback(at("2024-05-10"), nps=0, org_unit_id=other.id, org_unit_path=other.path)
        for _ in range(7)
    ]
    write_answers(store_of(settings), workspace_id, rows)
    scoped = make_caller(Role.MANAGER, workspace_id=workspace_id, org_unit_id=region.id)
    everyone = make_caller(Role.ANALYST, workspace_id=workspace_id)
    params = {"minimum_n": 1}
    assert scoped.http.get("/api/v1/metrics/responses", params=params).json()["groups"][0]["n"] == 5
    assert (
        everyone.http.get("/api/v1/metrics/responses", params=params).json()["groups"][0]["n"] == 12
    )


def test_catalogue_lists_metrics_and_dimensions(analyst: Caller) -> None:
    body = analyst.http.get("/api/v1/metrics").json()
    assert {"nps", "csat", "ces", "ces_agree", "rating", "responses"} <= {
        m["key"] for m in body["metrics"]
    }
    assert {"segment", "org_unit_tree", "attribute:<name>"} <= {
        d["key"] for d in body["dimensions"]
    }
    assert body["periods"] == ["day", "week", "month", "quarter"] and body["minimum_n"] == 30


def test_user_defined_metric_and_weights_through_the_query_route(
    analyst: Caller, settings: Settings
) -> None:
    rows = [
        feedback(at("2024-05-10"), sentiment=s, channel=c)
        for s, c in [("negative", "web"), ("positive", "web"), ("negative", "app")]
    ]
    write_answers(store_of(settings), analyst.workspace_id, rows)
    answer = analyst.http.post(
        "/api/v1/metrics/query",
        json={
            "metric": {
                "key": "negative",
                "kind": "share",
                "column": "sentiment",
                "values": ["negative"],
                "scale": 100,
            },
            "minimum_n": 1,
            "weights": {"dimension": "channel", "targets": {"web": 0.5, "app": 0.5}},
        },
    )
    assert answer.status_code == 200, answer.text
    group = answer.json()["groups"][0]
    # Weighted: web half negative, app all negative, each half the population -> 75%.
    assert group["value"] == pytest.approx(75.0) and group["effective_n"] == pytest.approx(8 / 3)


def test_outcomes_route(analyst: Caller, settings: Settings) -> None:
    root = store_of(settings)
    write_answers(root, analyst.workspace_id, [feedback(at("2024-05-02"), nps=0, customer_id="c1")])
    write_dataset(
        root,
        EVENTS,
        [
            {
                "event_id": "e1",
                "type": "order",
                "name": "order",
                "customer_id": "c1",
                "occurred_at": at("2024-05-03"),
                "value": 80.0,
                "currency": "EUR",
            },
        ],
        workspace_id=analyst.workspace_id,
    )
    body = analyst.http.get("/api/v1/outcomes", params={"minimum_n": 1}).json()
    assert body["groups"][0]["spend"] == 80.0 and body["groups"][0]["nps_all"]["value"] == -100.0


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/v1/metrics/loyalty", {}, "metric"),
        ("/api/v1/metrics/nps", {"by": "colour"}, "by"),
        ("/api/v1/metrics/nps", {"by": ["channel", "source", "language"]}, "by"),
        ("/api/v1/metrics/nps", {"from": "2024-06-01", "to": "2024-05-01"}, "from"),
        ("/api/v1/metrics/nps", {"from": "yesterday"}, "from"),
        ("/api/v1/metrics/nps", {"period": "fortnight"}, "period"),
        ("/api/v1/metrics/nps", {"filter": "channel"}, "filter"),
        ("/api/v1/metrics/nps", {"filter": "touchpoint:tp-nowhere"}, "filter.touchpoint"),
        ("/api/v1/metrics/nps", {"minimum_n": 0}, "minimum_n"),
        ("/api/v1/metrics/nps", {"weight_by": "channel", "target": "web:x"}, "target"),
        ("/api/v1/outcomes", {"by": "colour"}, "by"),
    ],
)
def test_bad_input_is_a_422_problem_naming_the_field(
    analyst: Caller, settings: Settings, path: str, params: dict[str, object], field: str
) -> None:
    write_dataset(
        store_of(settings), TOUCHPOINTS, TOUCHPOINT_ROWS, workspace_id=analyst.workspace_id
    )
    answer = analyst.http.get(path, params=params)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["errors"][0]["field"] == field


def test_no_data_is_an_explicit_empty_result(analyst: Caller) -> None:
    body = analyst.http.get("/api/v1/metrics/csat", params={"by": "segment"}).json()
    assert body["empty"] is True and body["groups"] == [] and body["total"] == 0
