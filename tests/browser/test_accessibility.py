"""WCAG 2.1 AA checks of the main pages with axe-core, in a real browser, on the demo airline.

axe-core is vendored under tests/browser/vendor/axe-core (MPL-2.0) by frontend/vendor.sh; it runs
only here and is never shipped with the app.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from tests.browser.conftest import ADMIN, LiveSite, open_profile, sign_in
from tests.browser.listen_data import listen_ids
from touchpoints.customers.models import Customer
from touchpoints.feedback.models import FeedbackItem

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SIGNED_IN_PAGES = [
    "/overview",
    "/explore?metric=nps&by=touchpoint&period=month",
    "/inbox",
    "/inbox/{feedback_id}",
    "/customers",
    "/customers/{customer_id}",
    "/journeys",
    "/settings",
    "/settings/users",
    "/settings/audit",
    "/settings/org-units",
    "/settings/tokens",
    "/settings/privacy",
    "/surveys",
    "/surveys/new",
    "/surveys/{survey_id}/edit",
    "/surveys/{survey_id}/distribution",
    "/surveys/{survey_id}/responses",
    "/imports",
    "/imports/{run_id}",
    "/imports/{run_id}/rows/{row_id}",
]
RUN_AXE = """options => axe.run(document, options).then(results => results.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.slice(0, 3).map(node => node.target.join(' ')),
    detail: [...v.nodes[0].any, ...v.nodes[0].all, ...v.nodes[0].none]
        .map(check => check.message).join(' '),
})))"""


@pytest.fixture
def page(browser: Browser, live_site: LiveSite) -> Iterator[Page]:
    """A tab that lets the test inject axe-core despite the app's Content-Security-Policy."""
    # The CSP forbids inline scripts, and add_script_tag injects axe inline; bypassing the
    # policy in this test profile only lets the checker in (the app's own scripts are all
    # external files, and the CSP header is tested in tests/web).
    profile = open_profile(browser, live_site, bypass_csp=True)
    yield profile.new_page()
    profile.close()


def wcag_violations(page: Page) -> list[dict[str, Any]]:
    """Run axe-core's WCAG 2.1 A and AA rules on the page and return its violations."""
    # Charts are drawn by Vega after load; scan the page as a person would see it.
    page.wait_for_load_state("networkidle")
    for chart in page.locator("[data-vega-spec]").all():
        expect(chart.locator("svg").first).to_be_attached()
    page.add_script_tag(path=str(AXE))
    options = {"runOnly": {"type": "tag", "values": WCAG_21_AA}}
    violations: list[dict[str, Any]] = page.evaluate(RUN_AXE, options)
    return violations


def describe(violations: list[dict[str, Any]]) -> str:
    """Describe violations one a line: rule, impact, help and the first offending elements."""
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {'; '.join(v['targets'])}; {v['detail']}"
        for v in violations
    )


def demo_ids(site: LiveSite) -> dict[str, str]:
    """Return a feedback item and a customer of the demo airline, to open their pages."""
    with site.session() as session:
        feedback_id = session.scalars(
            select(FeedbackItem.id)
            .where(FeedbackItem.workspace_id == site.demo.workspace_id)
            .where(FeedbackItem.customer_id.is_not(None))
            .order_by(FeedbackItem.received_at.desc())
            .limit(1)
        ).one()
        customer_id = session.scalars(
            select(Customer.id).where(Customer.workspace_id == site.demo.workspace_id).limit(1)
        ).one()
    return {"feedback_id": feedback_id, "customer_id": customer_id} | listen_ids(site)


def test_sign_in_page_meets_wcag_21_aa(page: Page) -> None:
    page.goto("/login")
    violations = wcag_violations(page)
    assert not violations, describe(violations)


def test_main_pages_meet_wcag_21_aa(page: Page, live_site: LiveSite) -> None:
    sign_in(page, ADMIN)
    ids = demo_ids(live_site)
    failures = []
    for template in SIGNED_IN_PAGES:
        path = template.format(**ids)
        response = page.goto(path)
        assert response is not None and response.ok, f"{path} answered {response}"
        if violations := wcag_violations(page):
            failures.append(f"{path}:\n{describe(violations)}")
    assert not failures, "\n\n".join(failures)


def test_keyboard_user_skips_to_the_main_content(page: Page) -> None:
    sign_in(page, ADMIN)
    page.goto("/inbox")
    page.keyboard.press("Tab")
    skip_link = page.get_by_role("link", name="Skip to content")
    expect(skip_link).to_be_focused()
    expect(skip_link).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
