"""The journey map: numbers per touchpoint and stage, suppression, drop-off and scope."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from tests.factories.customers import make_customer
from tests.factories.feedback import make_feedback_item
from tests.factories.journeys import make_journey, make_touchpoint
from tests.factories.operations import make_event
from tests.factories.orgs import make_org_unit
from tests.web.conftest import Browser, MakeBrowser
from touchpoints.auth.permissions import Role
from touchpoints.db.base import utcnow
from touchpoints.web.templating import MISSING

COLUMNS = (
    "stage",
    "channel",
    "owner",
    "controllable",
    "volume",
    "nps",
    "nps_n",
    "csat",
    "csat_n",
    "negative",
    "neutral",
    "positive",
)


def row(page: str, header: str) -> dict[str, str]:
    """Return the cells of the table row headed `header`, as text by column name."""
    match = re.search(
        rf"<tr[^>]*>\s*<td>([^<]*)</td>\s*<th scope=\"row\">{re.escape(header)}</th>(.*?)</tr>",
        page,
        re.S,
    )
    assert match, f"no row {header!r}"
    cells = [match.group(1), *re.findall(r"<td[^>]*>(.*?)</td>", match.group(2), re.S)]
    texts = [html.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in cells]
    if len(texts) == len(COLUMNS) - 2:  # a stage total spans channel, owner and controllable
        texts = [texts[0], "", "", "", *texts[2:]]
    return dict(zip(COLUMNS, texts, strict=True))


def dropoff(page: str, stage: str) -> list[str]:
    """Return the cells of the drop-off row of a stage."""
    table = page[page.index('class="dropoff-table"') :]
    match = re.search(rf"<th scope=\"row\">{re.escape(stage)}</th>(.*?)</tr>", table, re.S)
    assert match, f"no drop-off row {stage!r}"
    return [
        re.sub(r"<[^>]+>", "", cell).strip()
        for cell in re.findall(r"<td[^>]*>(.*?)</td>", match.group(1))
    ]


@dataclass
class Map:
    """A journey with known feedback, an admin and a manager of store A."""

    admin: Browser
    manager: Browser


@pytest.fixture
def journey_map(make_browser: MakeBrowser, db_session: Session) -> Map:
    """Build the trip journey and its feedback (numbers worked out in the tests)."""
    admin = make_browser(Role.ADMIN)
    ws = admin.principal.workspace_id
    store_a = make_org_unit(db_session, workspace_id=ws)
    store_b = make_org_unit(db_session, workspace_id=ws)
    journey = make_journey(
        db_session, workspace_id=ws, name="Trip", stages=("Booking", "Flight", "After")
    )
    booking, flight, after = journey.stages
    checkout = make_touchpoint(
        db_session, workspace_id=ws, name="Checkout", stage=booking, owner_department="sales"
    )
    security = make_touchpoint(
        db_session,
        workspace_id=ws,
        name="Security",
        stage=flight,
        owner_department="airport",
        controllable=False,
    )
    refunds = make_touchpoint(
        db_session, workspace_id=ws, name="Refund desk", stage=after, owner_department="billing"
    )
    customers = [
        make_customer(db_session, workspace_id=ws, org_unit_id=store_a.id) for _ in range(10)
    ]
    recently = utcnow() - timedelta(days=3)
    in_a = {"workspace_id": ws, "org_unit_id": store_a.id, "occurred_at": recently}
    # Checkout: 15 promoters, 5 passives, 10 detractors from ten customers -> NPS +17 (n=30),
    # 95% interval ±1.96 * sqrt((0.5 + 0.333 - 0.167²) / 30) * 100 = ±32.
    for number, (score, mood) in enumerate(
        [(10, "positive")] * 15 + [(8, "neutral")] * 5 + [(3, "negative")] * 10
    ):
        make_feedback_item(
            db_session,
            **in_a,
            touchpoint_id=checkout.id,
            nps=score,
            sentiment=mood,
            customer_id=customers[number % 10].id,
        )
    # Security: five answers only (suppressed), from customers 0-3; customer 4 only has an event.
    for number in (0, 1, 2, 3, 0):
        make_feedback_item(
            db_session, **in_a, touchpoint_id=security.id, nps=9, customer_id=customers[number].id
        )
    make_event(
        db_session,
        workspace_id=ws,
        org_unit_id=store_a.id,
        occurred_at=recently,
        touchpoint_id=security.id,
        customer_id=customers[4].id,
    )
    # Refund desk: 40 anonymous CSAT answers, 30 satisfied -> 75%.
    for score in [5] * 30 + [2] * 10:
        make_feedback_item(db_session, **in_a, touchpoint_id=refunds.id, csat=score)
    # Store B and an item older than the default twelve months.
    make_feedback_item(
        db_session,
        workspace_id=ws,
        org_unit_id=store_b.id,
        occurred_at=recently,
        touchpoint_id=checkout.id,
        nps=0,
    )
    make_feedback_item(
        db_session,
        **(in_a | {"occurred_at": utcnow() - timedelta(days=400)}),
        touchpoint_id=checkout.id,
        nps=0,
    )
    db_session.commit()
    manager = make_browser(Role.MANAGER, workspace_id=ws, org_unit_id=store_a.id)
    return Map(admin, manager)


def test_touchpoints_show_volume_metric_with_n_and_sentiment(journey_map: Map) -> None:
    page = journey_map.manager.http.get("/journeys").text
    checkout = row(page, "Checkout")
    assert checkout == {
        "stage": "Booking",
        "channel": "web",
        "owner": "sales",
        "controllable": "Yes",
        "volume": "30",
        "nps": "+17 ±32",
        "nps_n": "30",
        "csat": MISSING,
        "csat_n": "0",
        "negative": "33%",
        "neutral": "17%",
        "positive": "50%",
    }
    refunds = row(page, "Refund desk")
    assert refunds["csat"].startswith("75%") and refunds["csat_n"] == "40"
    assert refunds["owner"] == "billing" and refunds["negative"] == MISSING


def test_metrics_under_thirty_answers_are_suppressed(journey_map: Map) -> None:
    page = journey_map.manager.http.get("/journeys").text
    security = row(page, "Security")
    assert security["volume"] == "5" and security["nps_n"] == "5"
    assert security["nps"] == "n < 30", "five answers never show a score"
    assert security["controllable"] == "No" and "outside our control" in page
    assert row(page, "All of Flight")["nps"] == "n < 30"


def test_drop_off_counts_customers_seen_at_the_next_stage(journey_map: Map) -> None:
    page = journey_map.manager.http.get("/journeys").text
    # Ten customers at Booking; four gave feedback at Flight and one more appears there by an event.
    assert dropoff(page, "Booking") == ["Flight", "10", "5", "50%", "50%"]
    assert dropoff(page, "Flight") == ["After", "4", "0", "0%", "100%"]
    assert "→ 50% went on · 50% drop-off" in page
    assert "<caption>Trip: touchpoints by stage</caption>" in page
    assert '<th scope="col">Touchpoint</th>' in page


def test_numbers_respect_scope_and_period(journey_map: Map) -> None:
    admin_page = journey_map.admin.http.get("/journeys").text
    assert row(admin_page, "Checkout")["volume"] == "31", "the admin also sees store B"
    assert row(journey_map.manager.http.get("/journeys").text, "Checkout")["volume"] == "30"
    day = (utcnow() - timedelta(days=400)).date().isoformat()
    old = journey_map.manager.http.get("/journeys", params={"from": day, "to": day}).text
    assert row(old, "Checkout")["volume"] == "1"
    swapped = journey_map.manager.http.get(
        "/journeys", params={"from": "2026-02-01", "to": "2026-01-01"}
    )
    assert swapped.status_code == 422 and "swap the dates" in swapped.text
