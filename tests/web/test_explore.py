"""The metric explorer page: values with intervals, suppression, scope, errors and exports."""

from __future__ import annotations

import csv
import io
import re

import pyarrow.parquet as pq
import pytest
from sqlalchemy.orm import Session

from tests.analytics.conftest import at, feedback, write_dataset
from tests.factories.orgs import make_org_unit
from tests.web.conftest import Browser, MakeBrowser
from touchpoints.analytics.layout import FEEDBACK, ORG_UNITS, TOUCHPOINTS
from touchpoints.auth.permissions import Role
from touchpoints.config import Settings
from touchpoints.metrics.statistics import nps_score

# Gate: 40 answers in March (NPS 25), 40 in April (NPS -100); Lounge: 10 answers (suppressed).
GATE_MARCH = [10] * 20 + [8] * 10 + [3] * 10
GATE_APRIL = [0] * 40
LOUNGE = [9] * 10


def _store(settings: Settings, workspace_id: str, store_a: str, store_b: str) -> None:
    root = settings.analytics_root
    rows = [
        feedback(at("2026-03-10"), nps=s, touchpoint_id="tp-gate", org_unit_id=store_a,
                 org_unit_path=f"/{store_a}/")
        for s in GATE_MARCH
    ]  # fmt: skip
    rows += [
        feedback(at("2026-04-10"), nps=s, touchpoint_id="tp-gate", org_unit_id=store_b,
                 org_unit_path=f"/{store_b}/")
        for s in GATE_APRIL
    ]  # fmt: skip
    rows += [
        feedback(at("2026-04-12"), nps=s, touchpoint_id="tp-lounge", org_unit_id=store_b,
                 org_unit_path=f"/{store_b}/")
        for s in LOUNGE
    ]  # fmt: skip
    write_dataset(root, FEEDBACK, rows, workspace_id)
    write_dataset(
        root,
        TOUCHPOINTS,
        [
            {"touchpoint_id": "tp-gate", "name": "Boarding gate", "channel": "airport"},
            {"touchpoint_id": "tp-lounge", "name": "Lounge", "channel": "airport"},
        ],
        workspace_id,
    )
    write_dataset(
        root,
        ORG_UNITS,
        [
            {"org_unit_id": store_a, "name": "Store A", "code": "A", "path": f"/{store_a}/"},
            {"org_unit_id": store_b, "name": "Store B", "code": "B", "path": f"/{store_b}/"},
        ],
        workspace_id,
    )


@pytest.fixture
def admin_with_data(make_browser: MakeBrowser, db_session: Session, settings: Settings) -> Browser:
    admin = make_browser(Role.ADMIN)
    workspace_id = admin.principal.workspace_id
    # Org units in the database too, so a manager can be scoped to one; paths as the store has.
    store_a = make_org_unit(db_session, workspace_id=workspace_id)
    store_b = make_org_unit(db_session, workspace_id=workspace_id)
    db_session.commit()
    _store(settings, workspace_id, store_a.id, store_b.id)
    admin.store_a = store_a.id  # type: ignore[attr-defined]
    admin.paths = (store_a.path, store_b.path)  # type: ignore[attr-defined]
    return admin


def _row(html: str, label: str) -> str:
    match = re.search(
        rf"<tr[^>]*>\s*<th scope=\"row\">{re.escape(label)}</th>(.*?)</tr>", html, re.S
    )
    assert match, f"no row for {label}"
    return match.group(1)


def test_nps_by_touchpoint_shows_value_interval_n_and_suppresses_small_groups(
    admin_with_data: Browser,
) -> None:
    response = admin_with_data.http.get("/explore?metric=nps&by=touchpoint")
    assert response.status_code == 200
    gate = nps_score(GATE_MARCH + GATE_APRIL)
    row = _row(response.text, "Boarding gate")
    assert f">{gate.value:,.0f}<" in row.replace("\u2212", "-")
    assert f"{gate.low:,.0f} to {gate.high:,.0f}" in row.replace("\u2212", "-")
    assert ">80<" in row
    lounge = _row(response.text, "Lounge")
    assert "suppressed" in lounge
    assert "100" not in lounge, "a suppressed group shows no value"
    assert 'data-vega-spec="spec-explorer"' in response.text


def test_change_by_month_is_marked_significant(admin_with_data: Browser) -> None:
    html = admin_with_data.http.get("/explore?metric=nps&by=touchpoint&period=month").text
    april = re.search(r"Boarding gate</th>\s*<td>2026-04</td>(.*?)</tr>", html, re.S)
    assert april, html
    assert "significant" in april.group(1) and "not significant" not in april.group(1)
    assert "\u2212125" in april.group(1), "the change from 25 to -100 is -125 points"


def test_a_manager_sees_only_their_unit(
    admin_with_data: Browser, make_browser: MakeBrowser, db_session: Session, settings: Settings
) -> None:
    workspace_id = admin_with_data.principal.workspace_id
    # Rewrite the store's paths to the database's own org-unit paths, as the exporter does.
    store_a_path, store_b_path = admin_with_data.paths  # type: ignore[attr-defined]
    manager = make_browser(
        Role.MANAGER,
        workspace_id=workspace_id,
        org_unit_id=admin_with_data.store_a,  # type: ignore[attr-defined]
    )
    rows = [
        feedback(at("2026-03-10"), nps=s, touchpoint_id="tp-gate", org_unit_path=store_a_path)
        for s in GATE_MARCH
    ] + [
        feedback(at("2026-04-10"), nps=s, touchpoint_id="tp-gate", org_unit_path=store_b_path)
        for s in GATE_APRIL
    ]
    write_dataset(settings.analytics_root, FEEDBACK, rows, workspace_id)
    html = manager.http.get("/explore?metric=nps&by=touchpoint").text
    row = _row(html, "Boarding gate")
    assert ">25<" in row and ">40<" in row, "only store A's 40 answers count"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("metric=nps&from=2026-05-01&to=2026-04-01", "first day comes after the last day"),
        ("metric=happiness", "happiness"),
        ("metric=nps&by=shoe_size", "shoe_size"),
        ("metric=nps&by=channel&then_by=channel", "different from the first"),
        ("metric=nps&minimum_n=-3", "whole number"),
    ],
)
def test_bad_choices_are_refused_with_a_reason(
    admin_with_data: Browser, query: str, message: str
) -> None:
    response = admin_with_data.http.get(f"/explore?{query}")
    assert response.status_code == 422
    assert 'role="alert"' in response.text
    assert message in response.text
    assert 'id="explorer-table"' not in response.text


def test_no_matching_feedback_is_an_explicit_empty_result(admin_with_data: Browser) -> None:
    html = admin_with_data.http.get("/explore?metric=nps&from=2020-01-01&to=2020-01-31").text
    assert 'id="empty-result"' in html
    assert 'id="explorer-table"' not in html


def test_csv_and_parquet_exports_hold_what_is_shown(admin_with_data: Browser) -> None:
    query = "metric=nps&by=touchpoint"
    response = admin_with_data.http.get(f"/explore/export.csv?{query}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = {r["touchpoint_label"]: r for r in csv.DictReader(io.StringIO(response.text))}
    gate = nps_score(GATE_MARCH + GATE_APRIL)
    assert float(rows["Boarding gate"]["value"]) == pytest.approx(gate.value)
    assert rows["Boarding gate"]["n"] == "80"
    assert rows["Lounge"]["suppressed"] == "True"
    assert rows["Lounge"]["value"] == "" and rows["Lounge"]["low"] == ""
    assert rows["Lounge"]["n"] == "10"
    parquet = admin_with_data.http.get(f"/explore/export.parquet?{query}")
    assert parquet.status_code == 200
    table = pq.read_table(io.BytesIO(parquet.content)).to_pylist()
    by_label = {r["touchpoint_label"]: r for r in table}
    assert by_label["Boarding gate"]["value"] == pytest.approx(gate.value)
    assert by_label["Lounge"]["value"] is None and by_label["Lounge"]["n"] == 10


def test_exports_refuse_bad_choices_with_a_problem(admin_with_data: Browser) -> None:
    response = admin_with_data.http.get("/explore/export.csv?metric=happiness")
    assert response.status_code == 422
