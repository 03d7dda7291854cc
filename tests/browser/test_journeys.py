"""The main journeys of the web app in a real browser, against the demo airline."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import func, select

from tests.browser.conftest import (
    ADMIN,
    PHONE,
    STATION_MANAGER,
    LiveSite,
    open_profile,
    screenshot,
    sign_in,
)
from touchpoints.customers.models import Customer
from touchpoints.feedback.models import FeedbackItem
from touchpoints.orgs.models import OrgUnit

pytestmark = pytest.mark.browser


def station_unit_ids(site: LiveSite, code: str) -> set[str]:
    """Return the ids of a station's org unit and everything below it."""
    with site.session() as session:
        station = session.scalars(
            select(OrgUnit).where(
                OrgUnit.workspace_id == site.demo.workspace_id, OrgUnit.code == code
            )
        ).one()
        return set(session.scalars(select(OrgUnit.id).where(OrgUnit.path.startswith(station.path))))


def listed_ids(page: Page, prefix: str) -> list[str]:
    """Return the ids linked from the main content as `{prefix}{id}`."""
    hrefs: list[str] = page.locator(f'main a[href^="{prefix}"]').evaluate_all(
        "links => links.map(link => link.getAttribute('href'))"
    )
    pattern = re.compile(rf"^{re.escape(prefix)}([0-9a-f]{{32}})$")
    return [match.group(1) for href in hrefs if (match := pattern.match(href.split("?")[0]))]


def test_admin_reads_the_overview(page: Page) -> None:
    sign_in(page, ADMIN)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Overview")
    tiles = page.locator(".tiles .tile")
    for metric in ("NPS", "CSAT", "CES"):
        expect(tiles.filter(has_text=metric).first).to_be_visible()
    expect(tiles.locator(".interval").first).to_contain_text("±")
    # Vega draws the NPS trend: a line with its points and the interval band.
    trend = page.locator('[data-vega-spec="spec-trend-nps"]')
    expect(trend.locator("g.mark-line path").first).to_be_attached()
    expect(trend.locator("g.mark-area path").first).to_be_attached()
    screenshot(page, "overview")


def test_admin_filters_the_inbox_and_follows_an_item_to_its_customer(
    page: Page, live_site: LiveSite
) -> None:
    sign_in(page, ADMIN)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Feedback inbox").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Feedback inbox")
    filters = page.get_by_role("search", name="Filter feedback")
    filters.get_by_label("Channel").select_option("email")
    filters.get_by_label("Score").select_option("nps:detractor")
    filters.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r"channel=email.*score=nps%3Adetractor|score=.*channel=email"))
    detractors = (FeedbackItem.channel == "email") & (FeedbackItem.nps <= 6)
    with live_site.session() as session:
        expected = session.scalar(select(func.count()).where(detractors))
    expect(page.get_by_text(f"{expected:,} items match")).to_be_visible()
    screenshot(page, "inbox")
    item_ids = listed_ids(page, "/inbox/")
    assert item_ids, "the filtered inbox lists items"
    with live_site.session() as session:
        listed = session.scalars(select(FeedbackItem).where(FeedbackItem.id.in_(item_ids))).all()
        assert {(item.channel, item.nps is not None and item.nps <= 6) for item in listed} == {
            ("email", True)
        }, "the inbox lists only email detractors"
        item = next(item for item in listed if item.id == item_ids[0])
        customer = session.get(Customer, item.customer_id)
        assert customer is not None, "demo survey answers come from known customers"

    page.locator(f'main a[href="/inbox/{item.id}"]').first.click()
    page.wait_for_url(re.compile(rf"/inbox/{item.id}$"))
    expect(page.get_by_role("heading", name="What the customer said")).to_be_visible()
    screenshot(page, "inbox-item")
    page.get_by_role("link", name=customer.display_name or "Unnamed customer").first.click()
    page.wait_for_url(re.compile(rf"/customers/{customer.id}"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        customer.display_name or "Unnamed customer"
    )
    screenshot(page, "customer")


def test_journey_map_shows_stages_and_touchpoints(page: Page) -> None:
    sign_in(page, ADMIN)
    page.goto("/journeys")
    expect(page.get_by_role("heading", level=1)).to_have_text("Journey map")
    stages = page.locator("main .journey-map .stage")
    expect(stages.first).to_be_visible()
    assert stages.count() >= 3, "the demo journeys have several stages"
    expect(page.locator("main table caption").first).to_contain_text("touchpoints by stage")
    screenshot(page, "journeys")


def test_admin_manages_users_in_settings(page: Page) -> None:
    sign_in(page, ADMIN)
    page.goto("/settings")
    sections = page.get_by_role("navigation", name="Settings sections")
    sections.get_by_role("link", name="Users and roles").click()
    page.wait_for_url(re.compile(r"/settings/users$"))
    member = page.get_by_role("rowheader", name=re.compile(re.escape(STATION_MANAGER)))
    expect(member).to_be_visible()
    screenshot(page, "settings-users")


def test_station_manager_sees_only_their_station(page: Page, live_site: LiveSite) -> None:
    manchester = station_unit_ids(live_site, "MAN")
    with live_site.session() as session:
        elsewhere = FeedbackItem.org_unit_id.not_in(manchester)
        other_item = session.scalars(
            select(FeedbackItem.id).where(elsewhere, FeedbackItem.customer_id.is_not(None))
        ).first()
        other_customer = session.scalars(
            select(Customer.id).where(Customer.org_unit_id.not_in(manchester))
        ).first()
        in_manchester = session.scalar(
            select(func.count()).where(FeedbackItem.org_unit_id.in_(manchester))
        )
    sign_in(page, STATION_MANAGER)
    page.goto("/inbox")
    expect(page.get_by_text(f"{in_manchester:,} items match")).to_be_visible()
    item_ids = listed_ids(page, "/inbox/")
    assert item_ids, "the station manager's inbox lists Manchester's feedback"
    with live_site.session() as session:
        units = set(
            session.scalars(select(FeedbackItem.org_unit_id).where(FeedbackItem.id.in_(item_ids)))
        )
    assert units <= manchester, "only Manchester's items are listed"
    screenshot(page, "inbox-station-manager")
    for url in (f"/inbox/{other_item}", f"/customers/{other_customer}"):
        response = page.goto(url)
        assert response is not None and response.status == 404, url
        assert response.headers["content-type"].startswith("text/html"), f"{url}: not a page"
        expect(page.get_by_role("heading", level=1)).to_contain_text(re.compile("not found", re.I))


def test_sign_out_ends_the_session(page: Page) -> None:
    sign_in(page, ADMIN)
    page.locator(".user-menu summary").click()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/login"))
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    screenshot(page, "signed-out")
    page.goto("/overview")
    assert urlparse(page.url).path == "/login"
    assert parse_qs(urlparse(page.url).query)["next"] == ["/overview"]


def test_phone_layout_is_usable(browser: Browser, live_site: LiveSite) -> None:
    phone = open_profile(browser, live_site, PHONE, is_mobile=True, has_touch=True)
    page = phone.new_page()
    try:
        sign_in(page, ADMIN)
        navigation = page.get_by_role("navigation", name="Main")
        inbox_link = navigation.get_by_role("link", name="Feedback inbox")
        if not inbox_link.is_visible():
            page.get_by_role("button", name=re.compile("menu", re.IGNORECASE)).click()
        inbox_link.click()
        page.wait_for_url(re.compile(r"/inbox"))
        screenshot(page, "inbox-phone")
        for path in ("/overview", "/inbox", "/customers", "/journeys"):
            page.goto(path)
            width = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert width <= 0, f"{path} scrolls sideways by {width} px on a phone"
    finally:
        phone.close()
