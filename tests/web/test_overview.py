"""The overview page: headline metrics, scope, suppression, trends and movers."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from tests.analytics.conftest import feedback, write_dataset
from tests.factories.journeys import make_journey, make_touchpoint
from tests.factories.orgs import make_org_unit
from tests.web.conftest import Browser, MakeBrowser
from touchpoints.analytics.layout import FEEDBACK
from touchpoints.auth.permissions import Principal, Role
from touchpoints.config import Settings
from touchpoints.feedback.models import FeedbackItem
from touchpoints.metrics.statistics import nps_from_counts, nps_score
from touchpoints.orgs.models import OrgUnit
from touchpoints.web.templating import format_interval, format_number, format_signed


@dataclass
class Airline:
    """A workspace with two stores and a touchpoint, and the admin who set it up."""

    admin: Browser
    store_a: str
    store_b: str
    small_store: str
    touchpoint_name: str


def _feedback(
    db_session: Session,
    actor: Principal,
    scores: list[int],
    *,
    org_unit_id: str,
    when: datetime,
    root: Path,
    touchpoint_id: str | None = None,
) -> None:
    # Stored in the operational store, and in the analytics store the overview reads.
    db_session.add_all(
        FeedbackItem(
            workspace_id=actor.workspace_id,
            solicited=True,
            source="survey",
            channel="email",
            occurred_at=when,
            org_unit_id=org_unit_id,
            touchpoint_id=touchpoint_id,
            nps=nps,
        )
        for nps in scores
    )
    db_session.flush()
    # The overview reads the analytics store: write the same answers there, as the exporter
    # would (its own tests prove it writes what the database holds).
    unit = db_session.get(OrgUnit, org_unit_id)
    assert unit is not None
    rows = [
        feedback(
            when,
            nps=nps,
            org_unit_id=org_unit_id,
            org_unit_path=unit.path,
            touchpoint_id=touchpoint_id,
            channel="email",
        )
        for nps in scores
    ]
    write_dataset(root, FEEDBACK, rows, actor.workspace_id, f"part-{uuid.uuid4().hex}.parquet")


@pytest.fixture
def airline(make_browser: MakeBrowser, db_session: Session, settings: Settings) -> Airline:
    """Store A: NPS 25 (n 40) this month; store B: 40 detractors; a small store: 10 answers."""
    admin = make_browser(Role.ADMIN)
    workspace_id = admin.principal.workspace_id
    region = make_org_unit(db_session, workspace_id=workspace_id, kind="region")
    store_a = make_org_unit(db_session, workspace_id=workspace_id, parent_id=region.id).id
    store_b = make_org_unit(db_session, workspace_id=workspace_id, parent_id=region.id).id
    small = make_org_unit(db_session, workspace_id=workspace_id).id
    journey = make_journey(db_session, workspace_id=workspace_id, name="Fly")
    gate = make_touchpoint(
        db_session, workspace_id=workspace_id, name="Boarding gate", stage=journey.stages[1]
    )
    now = datetime.now(UTC) - timedelta(minutes=5)
    last_month = now.replace(day=1) - timedelta(days=10)
    actor = admin.principal
    root = settings.analytics_root
    _feedback(
        db_session, actor, [10] * 20 + [8] * 10 + [3] * 10, org_unit_id=store_a, when=now, root=root
    )
    _feedback(
        db_session, actor, [0] * 40, org_unit_id=store_b, when=now, root=root, touchpoint_id=gate.id
    )
    _feedback(
        db_session,
        actor,
        [10] * 40,
        org_unit_id=store_b,
        when=last_month,
        root=root,
        touchpoint_id=gate.id,
    )
    _feedback(db_session, actor, [9] * 10, org_unit_id=small, when=now, root=root)
    db_session.commit()
    return Airline(admin, store_a, store_b, small, gate.name)


def _tile(html: str, key: str) -> str:
    match = re.search(rf'<article class="tile" id="tile-{key}">(.*?)</article>', html, re.S)
    assert match, f"no {key} tile"
    return match.group(1)


def _value(tile: str) -> str:
    match = re.search(r'<p class="value[^"]*">([^<]*)</p>', tile)
    assert match
    return match.group(1).strip()


def _table(html: str, table_id: str) -> str:
    match = re.search(rf'<table id="{table_id}">(.*?)</table>', html, re.S)
    assert match, f"no table {table_id}"
    return match.group(1)


@pytest.mark.parametrize("role", list(Role))
def test_every_role_with_feedback_read_sees_the_whole_workspace_numbers(
    role: Role, airline: Airline, make_browser: MakeBrowser
) -> None:
    browser = make_browser(role, workspace_id=airline.admin.principal.workspace_id)
    response = browser.http.get("/overview")
    assert response.status_code == 200
    # Over 12 months: 70 promoters (20 + 40 last month + 10 nines), 10 passives, 50 detractors.
    expected = nps_from_counts(70, 10, 50)
    tile = _tile(response.text, "nps")
    assert _value(tile) == format_number(expected.value)
    assert f"n = {expected.n}" in tile
    assert format_interval(expected.low, expected.high, 1) in tile
    assert 'aria-current="page"' in response.text


def test_a_manager_sees_only_their_stores_numbers(
    airline: Airline, make_browser: MakeBrowser
) -> None:
    manager = make_browser(
        Role.MANAGER,
        workspace_id=airline.admin.principal.workspace_id,
        org_unit_id=airline.store_a,
    )
    html = manager.http.get("/overview").text
    store_a = nps_score([10] * 20 + [8] * 10 + [3] * 10)
    tile = _tile(html, "nps")
    assert _value(tile) == "25" == format_number(store_a.value)
    assert "n = 40" in tile
    assert airline.touchpoint_name not in html, "store B's touchpoint stays out of sight"


def test_groups_under_the_minimum_n_are_suppressed(
    airline: Airline, make_browser: MakeBrowser
) -> None:
    manager = make_browser(
        Role.MANAGER,
        workspace_id=airline.admin.principal.workspace_id,
        org_unit_id=airline.small_store,
    )
    html = manager.http.get("/overview").text
    tile = _tile(html, "nps")
    assert "suppressed (n &lt; 30)" in tile
    assert "100" not in tile, "the small store's score is not shown"
    assert "suppressed (n &lt; 30)" in _table(html, "trend-table")


def test_trend_table_and_charts_carry_the_monthly_numbers(airline: Airline) -> None:
    html = airline.admin.http.get("/overview").text
    trend = _table(html, "trend-table")
    this_month = datetime.now(UTC) - timedelta(minutes=5)
    assert this_month.strftime("%b %Y") in trend
    # This month alone: 30 promoters, 10 passives, 50 detractors.
    assert format_number(nps_from_counts(30, 10, 50).value) in trend
    for key in ("nps", "csat", "ces"):
        assert f'id="spec-trend-{key}"' in html
    assert '<script src="/static/vendor/vega-lite/vega-lite.min.js"' in html
    touchpoints = _table(html, "touchpoints-table")
    assert airline.touchpoint_name in touchpoints
    assert "Fly \u203a purchase" in touchpoints
    assert "purchase" in _table(html, "stages-table")


def test_biggest_movers_show_the_change_and_its_significance(airline: Airline) -> None:
    movers = _table(airline.admin.http.get("/overview").text, "movers-nps-table")
    assert airline.touchpoint_name in movers
    assert format_signed(-200) in movers
    assert "yes" in movers


def test_change_against_the_previous_period_needs_enough_answers(airline: Airline) -> None:
    html = airline.admin.http.get("/overview?months=3").text
    assert "Last 3 months</option>" in html
    assert 'value="3" selected' in html
    assert "No comparison" in _tile(html, "nps")


def test_an_unknown_period_falls_back_to_twelve_months(airline: Airline) -> None:
    response = airline.admin.http.get("/overview?months=7")
    assert response.status_code == 200
    assert 'value="12" selected' in response.text


def test_an_empty_workspace_shows_no_numbers(make_browser: MakeBrowser) -> None:
    html = make_browser(Role.VIEWER).http.get("/overview").text
    assert "suppressed (n &lt; 30)" in _tile(html, "nps")
    assert "No scored feedback in this period." in html
