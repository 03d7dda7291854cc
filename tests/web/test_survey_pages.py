"""Survey pages: the list, the builder with its live preview, distribution and response rates."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import cast

import httpx
import pytest
import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.factories.customers import make_customer
from tests.factories.journeys import make_journey, make_touchpoint
from tests.factories.orgs import make_org_unit, make_workspace
from tests.factories.surveys import make_survey
from tests.surveys.samples import checkout
from tests.web.conftest import Browser, MakeBrowser
from touchpoints.audit.models import AuditEvent
from touchpoints.auth.permissions import Role
from touchpoints.db.base import utcnow
from touchpoints.distribution.models import Invitation, InvitationStatus
from touchpoints.surveys.definitions import dump_document, parse_definition
from touchpoints.surveys.drafts import starter_document
from touchpoints.surveys.models import (
    ResponseStatus,
    Survey,
    SurveyLink,
    SurveyResponse,
    SurveyStatus,
    SurveyVersion,
)

CHECKOUT_YAML = dump_document(parse_definition(checkout()), "yaml")


@pytest.fixture
def workspace_id(db_session: Session) -> str:
    """A fresh workspace."""
    workspace = make_workspace(db_session)
    db_session.commit()
    return workspace.id


@pytest.fixture
def admin_browser(make_browser: MakeBrowser, workspace_id: str) -> Browser:
    """An admin of the workspace, signed in."""
    return make_browser(Role.ADMIN, workspace_id=workspace_id)


@pytest.fixture
def survey(db_session: Session, workspace_id: str) -> Survey:
    """An active survey (the sample checkout survey, version 1) with a web link."""
    survey = make_survey(db_session, workspace_id=workspace_id)
    db_session.add(
        SurveyLink(workspace_id=workspace_id, survey_id=survey.id, token="tok-web", channel="web")
    )
    db_session.commit()
    return survey


def count(db_session: Session, model: type) -> int:
    """Count the rows of a table, reading what the app committed."""
    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(model)) or 0


def post(browser: Browser, url: str, data: dict[str, str]) -> httpx.Response:
    """Submit a form with the browser's CSRF token, without following the redirect."""
    return cast(httpx.Response, browser.post_form(url, data))


def builder_form(document: str, **fields: str) -> dict[str, str]:
    """Return the builder form's fields for a document."""
    return {"document": document, "format": "yaml", "action": "save", **fields}


def test_the_list_shows_each_survey_with_its_status_version_and_responses(
    db_session: Session, admin_browser: Browser, survey: Survey, workspace_id: str
) -> None:
    journey = make_journey(db_session, workspace_id=workspace_id, stages=("purchase",))
    touchpoint = make_touchpoint(db_session, workspace_id=workspace_id, name="Checkout page")
    survey.touchpoint_id, survey.stage_id = touchpoint.id, journey.stages[0].id
    version = db_session.scalar(select(SurveyVersion).where(SurveyVersion.survey_id == survey.id))
    assert version is not None
    for status in (ResponseStatus.COMPLETED, ResponseStatus.COMPLETED, ResponseStatus.IN_PROGRESS):
        db_session.add(
            SurveyResponse(
                workspace_id=workspace_id,
                survey_id=survey.id,
                version_id=version.id,
                resume_token=f"r-{count(db_session, SurveyResponse)}",
                status=status.value,
                language="en",
                answers={},
                page=0,
            )
        )
    draft = Survey(
        workspace_id=workspace_id,
        name="Draft onboarding survey",
        status="draft",
        default_language="en",
        languages=["en"],
        draft_definition={"name": "x"},
    )
    db_session.add(draft)
    db_session.commit()

    page = admin_browser.http.get("/surveys")
    assert page.status_code == 200
    rows = {row.split("</th>")[0]: row for row in page.text.split('<th scope="row">')[1:]}
    checkout_row = next(row for key, row in rows.items() if "Checkout survey" in key)
    assert (
        "active" in checkout_row and "Checkout page" in checkout_row and "purchase" in checkout_row
    )
    assert "en, fr" in checkout_row
    assert re.search(r'<td class="num">1</td>\s*<td class="num">2</td>', checkout_row), (
        "version 1, 2 answers"
    )
    assert any("Draft onboarding survey" in key for key in rows)
    assert "Create a survey" in page.text

    active_only = admin_browser.http.get("/surveys", params={"status": "active"})
    assert "Checkout survey" in active_only.text
    assert "Draft onboarding survey" not in active_only.text


def test_a_viewer_reads_surveys_without_write_buttons_and_every_post_is_refused(
    db_session: Session, make_browser: MakeBrowser, survey: Survey, workspace_id: str
) -> None:
    viewer = make_browser(Role.VIEWER, workspace_id=workspace_id)
    listing = viewer.http.get("/surveys")
    assert listing.status_code == 200 and "Checkout survey" in listing.text
    assert "Create a survey" not in listing.text
    builder = viewer.http.get(f"/surveys/{survey.id}/edit")
    assert builder.status_code == 200
    for write in (
        "Save draft",
        "Save and publish",
        "Close the survey",
        "Add a question",
        "Load file",
    ):
        assert write not in builder.text
    assert "readonly" in builder.text
    distribution = viewer.http.get(f"/surveys/{survey.id}/distribution")
    assert distribution.status_code == 200
    for write in ("Create link", "Queue invitations", "Save rule"):
        assert write not in distribution.text
    assert viewer.http.get("/surveys/new").status_code == 403

    posts = {
        "/surveys/new": builder_form(CHECKOUT_YAML),
        f"/surveys/{survey.id}/edit": builder_form(CHECKOUT_YAML, action="publish"),
        f"/surveys/{survey.id}/close": {},
        f"/surveys/{survey.id}/links": {"channel": "web"},
        f"/surveys/{survey.id}/invitations": {"audience": "customers", "customer_ids": "x"},
        f"/surveys/{survey.id}/frequency": {"days": "7"},
    }
    for url, data in posts.items():
        assert post(viewer, url, data).status_code == 403, url
    assert count(db_session, Survey) == 1
    assert count(db_session, SurveyVersion) == 1
    assert count(db_session, SurveyLink) == 1
    db_session.refresh(survey)
    assert survey.status == SurveyStatus.ACTIVE.value


def test_the_builder_saves_a_draft_then_publishes_a_new_version(
    db_session: Session, admin_browser: Browser, workspace_id: str
) -> None:
    touchpoint = make_touchpoint(db_session, workspace_id=workspace_id, name="Check-in desk")
    db_session.commit()
    new = admin_browser.http.get("/surveys/new")
    assert new.status_code == 200 and "How likely are you to recommend us" in new.text

    saved = post(
        admin_browser, "/surveys/new", builder_form(starter_document(), touchpoint_id=touchpoint.id)
    )
    assert saved.status_code == 303
    survey = db_session.scalars(select(Survey).where(Survey.workspace_id == workspace_id)).one()
    assert saved.headers["location"] == f"/surveys/{survey.id}/edit?done=saved"
    assert survey.status == "draft" and survey.touchpoint_id == touchpoint.id
    assert count(db_session, SurveyVersion) == 0

    edited = starter_document().replace("New survey", "Check-in survey")
    published = post(
        admin_browser,
        f"/surveys/{survey.id}/edit",
        builder_form(edited, action="publish", touchpoint_id=touchpoint.id),
    )
    assert published.status_code == 303
    db_session.refresh(survey)
    assert (survey.name, survey.status, survey.latest_version) == ("Check-in survey", "active", 1)
    version = db_session.scalars(
        select(SurveyVersion).where(SurveyVersion.survey_id == survey.id)
    ).one()
    assert version.definition["name"] == "Check-in survey"
    page = admin_browser.http.get(f"/surveys/{survey.id}/edit?done=published")
    assert "Published: respondents now answer the new version." in page.text
    assert "Check-in survey" in page.text

    again = post(
        admin_browser,
        f"/surveys/{survey.id}/edit",
        builder_form(edited, action="publish", touchpoint_id=touchpoint.id),
    )
    assert again.status_code == 409
    assert "nothing to publish: the document is version 1 unchanged" in again.text
    assert count(db_session, SurveyVersion) == 1

    actions = set(
        db_session.scalars(select(AuditEvent.action).where(AuditEvent.object_id == survey.id))
    )
    assert {"survey.created", "survey.published"} <= actions

    closed = post(admin_browser, f"/surveys/{survey.id}/close", {})
    assert closed.status_code == 303
    db_session.refresh(survey)
    assert survey.status == "closed"
    reopened = post(
        admin_browser,
        f"/surveys/{survey.id}/edit",
        builder_form(edited, action="publish", touchpoint_id=touchpoint.id),
    )
    assert reopened.status_code == 303, "publishing a closed survey reopens it"
    db_session.refresh(survey)
    assert (survey.status, survey.latest_version) == ("active", 2)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            CHECKOUT_YAML.replace("question: nps", "question: csat", 1),
            "page 1, question 2 (why), show if question: refers to &#39;csat&#39;, which is not"
            " an earlier question",
        ),
        ("name: [unclosed", "not valid YAML"),
        (CHECKOUT_YAML.replace("type: nps", "type: stars", 1), "page 1, question 1 (nps), type:"),
    ],
)
def test_a_bad_definition_is_shown_next_to_the_editor_and_nothing_is_saved(
    db_session: Session, admin_browser: Browser, survey: Survey, document: str, message: str
) -> None:
    before = (survey.name, survey.touchpoint_id, survey.draft_definition)
    other_touchpoint = make_touchpoint(db_session, workspace_id=survey.workspace_id)
    db_session.commit()
    for url in ("/surveys/new", f"/surveys/{survey.id}/edit"):
        for action in ("save", "publish"):
            answer = post(
                admin_browser,
                url,
                builder_form(document, action=action, touchpoint_id=other_touchpoint.id),
            )
            assert answer.status_code == 422, (url, action)
            text = answer.text
            assert 'id="document-error" class="field-error"' in text
            assert message in text
            assert 'aria-invalid="true"' in text
            assert html.escape(document.splitlines()[0], quote=False) in text, (
                "the typed text is kept"
            )
    assert count(db_session, Survey) == 1
    assert count(db_session, SurveyVersion) == 1
    db_session.refresh(survey)
    assert (survey.name, survey.touchpoint_id, survey.draft_definition) == before


def test_an_unknown_touchpoint_is_shown_next_to_its_field(
    db_session: Session, admin_browser: Browser
) -> None:
    answer = post(admin_browser, "/surveys/new", builder_form(CHECKOUT_YAML, touchpoint_id="nope"))
    assert answer.status_code == 422
    assert (
        'id="touchpoint_id-error" class="field-error">choose a touchpoint of this workspace'
        in answer.text
    )
    assert count(db_session, Survey) == 0


def test_the_live_preview_renders_the_respondent_page_and_records_nothing(
    db_session: Session, admin_browser: Browser, survey: Survey
) -> None:
    responses_before = count(db_session, SurveyResponse)
    preview = admin_browser.http.post(
        "/surveys/preview",
        data={
            "document": CHECKOUT_YAML,
            "format": "yaml",
            "preview_page": "2",
            "preview_lang": "fr",
        },
        headers={"X-CSRF-Token": admin_browser.csrf, "HX-Request": "true"},
    )
    assert preview.status_code == 200
    frame = re.search(r'<iframe class="phone-frame"[^>]*srcdoc="([^"]*)"[^>]*>', preview.text)
    assert frame, "the preview is an iframe holding the respondent page"
    assert 'sandbox="allow-same-origin"' in frame.group(0), "no scripts, no form submission"
    respondent = html.unescape(frame.group(1))
    assert "Comment s&#39;est passé votre paiement ?" in respondent  # the French title
    assert "About your order" in respondent and "Satisfied?" in respondent  # page 2
    assert 'name="q.aspects.price"' in respondent  # the real matrix question markup
    assert 'action=""' in respondent and "/s/" not in respondent
    assert "Page 2 of 3, in fr" in preview.text
    assert count(db_session, SurveyResponse) == responses_before
    assert count(db_session, Survey) == 1

    # The respondent page of a public link still works the same: the preview is the same page.
    public = admin_browser.http.get("/s/tok-web")
    assert "How likely are you to recommend us?" in public.text

    broken = admin_browser.http.post(
        "/surveys/preview",
        data={"document": "name: [", "format": "yaml"},
        headers={"X-CSRF-Token": admin_browser.csrf, "HX-Request": "true"},
    )
    assert broken.status_code == 200
    assert broken.headers["HX-Reswap"] == "none", "the last good preview stays"
    assert 'id="preview-status"' in broken.text and 'hx-swap-oob="true"' in broken.text
    assert "not valid YAML" in broken.text
    assert (
        admin_browser.http.post("/surveys/preview", data={"document": CHECKOUT_YAML}).status_code
        == 403
    )


def test_the_question_helper_adds_a_question_to_the_editor_without_saving(
    db_session: Session, admin_browser: Browser
) -> None:
    form = builder_form(
        starter_document(),
        action="add_question",
        question_type="matrix",
        question_id="aspects",
        question_text="Rate these",
        question_options="Price\nLegroom",
        show_if_question="nps",
        show_if_op="lte",
        show_if_value="6",
        question_required="1",
        new_page="1",
    )
    answer = post(admin_browser, "/surveys/new", form)
    assert answer.status_code == 200
    editor = re.search(r'<textarea id="document"[^>]*>(.*?)</textarea>', answer.text, re.S)
    assert editor
    document = yaml.safe_load(html.unescape(editor.group(1)))
    added = document["pages"][1]["questions"][0]
    assert added["id"] == "aspects" and added["type"] == "matrix" and added["required"] is True
    assert [row["id"] for row in added["rows"]] == ["price", "legroom"]
    assert added["show_if"] == {"question": "nps", "op": "lte", "value": 6}
    assert "Rate these" in html.unescape(answer.text)  # in the preview
    assert count(db_session, Survey) == 0

    twice = post(admin_browser, "/surveys/new", form | {"question_id": "nps"})
    assert twice.status_code == 422
    assert (
        'id="question_id-error" class="field-error">question id &#39;nps&#39; is used twice'
        in twice.text
    )


def test_export_and_loading_a_file_into_the_editor(admin_browser: Browser, survey: Survey) -> None:
    exported = admin_browser.http.get(f"/surveys/{survey.id}/export", params={"format": "json"})
    assert exported.status_code == 200
    assert exported.headers["content-disposition"].endswith('.json"')
    assert exported.json()["name"] == "Checkout survey"
    loaded = admin_browser.http.post(
        "/surveys/load",
        data={"csrf_token": admin_browser.csrf, "survey_id": survey.id},
        files={"file": ("survey.json", exported.content, "application/json")},
    )
    assert loaded.status_code == 200
    assert "survey.json is in the editor" in loaded.text
    bad = admin_browser.http.post(
        "/surveys/load",
        data={"csrf_token": admin_browser.csrf},
        files={"file": ("survey.yaml", b"pages: 3", "application/yaml")},
    )
    assert bad.status_code == 422
    assert 'id="file-error" class="field-error"' in bad.text


def test_distribution_shows_links_invites_customers_and_keeps_the_frequency_rule(
    db_session: Session, admin_browser: Browser, survey: Survey, workspace_id: str
) -> None:
    first, second = (make_customer(db_session, workspace_id=workspace_id) for _ in range(2))
    db_session.commit()
    url = f"/surveys/{survey.id}/distribution"
    page = admin_browser.http.get(url)
    assert page.status_code == 200
    assert "http://testserver/s/tok-web" in page.text

    assert (
        post(admin_browser, f"/surveys/{survey.id}/links", {"channel": "store"}).status_code == 303
    )
    store_link = db_session.scalars(select(SurveyLink).where(SurveyLink.channel == "store")).one()
    assert f"/s/{store_link.token}" in admin_browser.http.get(url).text

    saved = post(admin_browser, f"/surveys/{survey.id}/frequency", {"days": "90"})
    assert saved.status_code == 303
    rule = admin_browser.http.get(url).text
    assert "this survey overrides it with 90" in rule and "The workspace's rule is 30 days" in rule

    invited = post(
        admin_browser,
        f"/surveys/{survey.id}/invitations",
        {
            "audience": "customers",
            "customer_ids": first.id,
            "reminders": "3, 7",
            "expires_in_days": "14",
        },
    )
    assert invited.status_code == 201
    assert "1 invitation queued" in invited.text
    invitation = db_session.scalars(
        select(Invitation).where(Invitation.customer_id == first.id)
    ).one()
    assert invitation.reminder_days == [3, 7]
    # 40 days later the workspace's 30 days would allow a new invitation; the survey's 90 do not.
    invitation.created_at = utcnow() - timedelta(days=40)
    db_session.commit()
    again = post(
        admin_browser,
        f"/surveys/{survey.id}/invitations",
        {"audience": "customers", "customer_ids": f"{first.id}, {second.id}"},
    )
    assert (
        "1 invitation queued" in again.text and "invited 40 days ago; limit 90 days" in again.text
    )

    bad = post(
        admin_browser,
        f"/surveys/{survey.id}/invitations",
        {"audience": "customers", "customer_ids": second.id, "reminders": "7, 3"},
    )
    assert bad.status_code == 422
    assert "reminders must be increasing days without repeats" in bad.text
    assert count(db_session, Invitation) == 2

    listed = admin_browser.http.get(url, params={"status": "queued"})
    assert listed.text.count('<span class="status-badge status-queued">') == 2
    assert (
        admin_browser.http.get(url, params={"status": "completed"}).text.count(
            "status-badge status-completed"
        )
        == 0
    )


def test_response_rates_per_channel_with_wilson_intervals_chart_and_table(
    db_session: Session, admin_browser: Browser, survey: Survey, workspace_id: str
) -> None:
    link = db_session.scalars(select(SurveyLink).where(SurveyLink.survey_id == survey.id)).one()
    now = utcnow()
    for number in range(10):
        customer = make_customer(db_session, workspace_id=workspace_id)
        db_session.add(
            Invitation(
                workspace_id=workspace_id,
                survey_id=survey.id,
                customer_id=customer.id,
                link_id=link.id,
                channel="email",
                address=f"c{number}@example.com",
                status=(
                    InvitationStatus.COMPLETED
                    if number < 4
                    else InvitationStatus.STARTED
                    if number == 4
                    else InvitationStatus.SENT
                ).value,
                sent_at=now if number < 8 else None,
                started_at=now if number < 5 else None,
                completed_at=now if number < 4 else None,
                expires_at=now + timedelta(days=30),
                created_at=now,
            )
        )
    db_session.commit()
    page = admin_browser.http.get(f"/surveys/{survey.id}/responses")
    assert page.status_code == 200
    table = page.text.split('id="rate-table"')[1].split("</table>")[0]
    cells = re.findall(r'<td class="num">([^<]*)</td>', table)
    # invited, sent, delivered (opened), bounced, started, completed, rate 4/8, Wilson 95%.
    assert cells[:7] == ["10", "8", "5", "0", "5", "4", "50.0%"]
    assert cells[7] == "21.5% \u2013 78.5%"
    assert 'data-vega-spec="spec-response-rates"' in page.text and '"rate": 50.0' in page.text


def test_a_store_manager_counts_only_invitations_of_their_store(
    db_session: Session, make_browser: MakeBrowser, survey: Survey, workspace_id: str
) -> None:
    store = make_org_unit(db_session, workspace_id=workspace_id)
    other = make_org_unit(db_session, workspace_id=workspace_id)
    link = db_session.scalars(select(SurveyLink).where(SurveyLink.survey_id == survey.id)).one()
    now = utcnow()
    for unit in (store, other, other):
        customer = make_customer(db_session, workspace_id=workspace_id, org_unit_id=unit.id)
        db_session.add(
            Invitation(
                workspace_id=workspace_id,
                survey_id=survey.id,
                customer_id=customer.id,
                link_id=link.id,
                channel="email",
                address="x@example.com",
                status="sent",
                sent_at=now,
                expires_at=now + timedelta(days=30),
                created_at=now,
            )
        )
    db_session.commit()
    manager = make_browser(Role.MANAGER, workspace_id=workspace_id, org_unit_id=store.id)
    admin = make_browser(Role.ADMIN, workspace_id=workspace_id)
    assert (
        "1 invitation to customers in your units"
        in manager.http.get(f"/surveys/{survey.id}/distribution").text
    )
    assert (
        "3 invitations, newest first" in admin.http.get(f"/surveys/{survey.id}/distribution").text
    )
    rates = manager.http.get(f"/surveys/{survey.id}/responses").text
    assert re.search(r'<td class="num">1</td><td class="num">1</td>', rates)
