"""A customer answers a survey on a phone; staff find the answer and preview surveys they build."""

from __future__ import annotations

import re
import secrets

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import func, select

from tests.browser.conftest import ADMIN, PHONE, LiveSite, open_profile, screenshot, sign_in
from tests.browser.listen_data import publish_phone_survey
from touchpoints.surveys.models import Survey, SurveyResponse

pytestmark = pytest.mark.browser


def test_a_customer_answers_on_a_phone_and_staff_find_the_answer_in_the_inbox(
    browser: Browser, live_site: LiveSite
) -> None:
    _, token = publish_phone_survey(live_site)
    comment = f"Boarding gate {secrets.token_hex(3)} was calm and quick"
    phone = open_profile(browser, live_site, viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        page = phone.new_page()
        page.goto(f"/s/{token}")
        expect(page.get_by_role("heading", level=1)).to_have_text("How was boarding today?")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], "the respondent page fits the phone without scrolling"

        # Keyboard only: into the 0-10 radio group, arrows to 9, on to the comment and send.
        page.keyboard.press("Tab")
        expect(page.get_by_role("radio", name="0", exact=True)).to_be_focused()
        for _ in range(9):
            page.keyboard.press("ArrowRight")
        expect(page.get_by_role("radio", name="9", exact=True)).to_be_checked()
        page.keyboard.press("Tab")
        expect(page.get_by_label("What could we do better?")).to_be_focused()
        page.keyboard.type(comment)
        page.keyboard.press("Tab")
        expect(page.get_by_role("button", name="Send my answers")).to_be_focused()
        page.keyboard.press("Enter")

        expect(page.get_by_text("Thank you, have a good flight!")).to_be_visible()
        screenshot(page, "survey-thanks-phone")

        sign_in(page, ADMIN)
        page.goto("/inbox")
        search = page.get_by_role("search", name="Filter feedback")
        search.get_by_label("Search text").fill(comment.split()[2])
        search.get_by_role("button", name="Apply filters").click()
        page.wait_for_url(re.compile(r"q="))
        expect(page.locator("main").get_by_text(comment)).to_be_visible()
        screenshot(page, "survey-answer-in-inbox-phone")

        # The staff pages fit too (wide tables scroll inside their own box).
        survey_id = publish_phone_survey(live_site)[0]
        pages = (
            "/surveys",
            "/surveys/{}/edit",
            "/surveys/{}/distribution",
            "/surveys/{}/responses",
        )
        for path in (*pages, "/imports"):
            page.goto(path.format(survey_id))
            main = page.locator("main#main")
            overflow = main.evaluate("main => main.scrollWidth - main.clientWidth")
            box = main.bounding_box()
            assert box is not None and box["x"] + box["width"] <= PHONE["width"], path
            assert overflow <= 0, f"{path}: the content is {overflow} px wider than the phone"
        screenshot(page, "survey-pages-phone")
    finally:
        phone.close()


def test_the_builder_preview_follows_the_editor_and_records_nothing(
    page: Page, live_site: LiveSite
) -> None:
    with live_site.session() as session:
        responses = session.scalar(select(func.count()).select_from(SurveyResponse))
        surveys = session.scalar(select(func.count()).select_from(Survey))
    sign_in(page, ADMIN)
    page.goto("/surveys/new")
    frame = page.frame_locator("iframe.phone-frame")
    expect(frame.get_by_text("How likely are you to recommend us to a friend?")).to_be_visible()
    box = page.locator("iframe.phone-frame").bounding_box()
    assert box is not None and 370 <= box["width"] <= 400 and 660 <= box["height"] <= 690

    editor = page.get_by_label("Definition", exact=True)
    text = editor.input_value().replace(
        "How likely are you to recommend us to a friend?", "Would you fly with us again?"
    )
    editor.fill(text)
    expect(frame.get_by_text("Would you fly with us again?")).to_be_visible()

    editor.fill(text.replace("type: nps", "type: stars"))
    expect(page.locator("#preview-status")).to_contain_text("The preview is not updated")
    expect(frame.get_by_text("Would you fly with us again?")).to_be_visible()

    editor.fill(text)
    expect(page.locator("#preview-status")).to_contain_text("Page 1 of 1, in en")
    # Answering inside the preview stores nothing: the frame may not even submit its form.
    frame.get_by_role("radio", name="7", exact=True).check()
    frame.get_by_role("button", name="Send my answers").click()
    with live_site.session() as session:
        assert session.scalar(select(func.count()).select_from(SurveyResponse)) == responses
        assert session.scalar(select(func.count()).select_from(Survey)) == surveys
    screenshot(page, "survey-builder")
