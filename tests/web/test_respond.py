"""Respondent pages over HTTP without JavaScript: pages, branching, resume, errors, feedback."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import Caller
from tests.surveys.samples import SURVEYS, checkout, publish
from tests.web.conftest import csrf_from
from touchpoints.surveys.models import SurveyResponse
from touchpoints.web.pages.respond import POSTS_PER_MINUTE

FEEDBACK = "/api/v1/feedback"
PAGE_TWO = {
    "q.csat": "4",
    "q.effort": "2",
    "q.speed": "7",
    "q.paid_with": "card",
    "q.liked": ["price", "staff"],
    "q.aspects.price": "4",
    "q.aspects.range": "2",
    "q.comment": "Nice staff",
}


class Respondent:
    """A customer's browser without JavaScript: it follows links and posts forms."""

    def __init__(self, http: TestClient, token: str) -> None:
        self.http = http
        self.url = f"/s/{token}"
        self.csrf = ""

    def open(self, url: str | None = None, **headers: str) -> httpx.Response:
        """Open a page and remember its form's token."""
        page = self.http.get(url or self.url, headers=headers)
        if 'name="csrf_token"' in page.text:
            self.csrf = csrf_from(page.text)
            self.url = url or self.url
        return page

    def send(self, data: dict[str, Any], **headers: str) -> httpx.Response:
        """Post the current page's form; follow a redirect to the next page."""
        response = self.http.post(self.url, data={"csrf_token": self.csrf, **data}, headers=headers)
        if response.status_code == 303:
            self.url = response.headers["location"].split("?")[0]
        return response


@pytest.fixture
def token(admin: Caller) -> str:
    """Publish the sample survey and return its public link token."""
    return publish(admin)[1]


@pytest.fixture
def respondent(client: TestClient, token: str) -> Respondent:
    """A respondent with the survey link."""
    client.follow_redirects = False
    return Respondent(client, token)


def _responses(db_session: Session) -> int:
    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(SurveyResponse)) or 0


def _survey_feedback(admin: Caller) -> list[dict[str, Any]]:
    page = admin.http.get(FEEDBACK, params={"filter": "source:eq:survey"})
    assert page.status_code == 200
    items: list[dict[str, Any]] = page.json()["items"]
    return items


def test_detractor_answers_and_the_feedback_item_appears(
    respondent: Respondent, admin: Caller
) -> None:
    first = respondent.open()
    assert first.status_code == 200
    assert '<html lang="en"' in first.text
    assert "<legend>How likely are you to recommend us?" in first.text
    assert respondent.send({"q.nps": "3", "q.why": "The queue was long"}).status_code == 303
    second = respondent.open(respondent.url)
    assert "Page 2 of 3" in second.text and "Satisfied?" in second.text
    done = respondent.send(PAGE_TWO)
    assert done.status_code == 303, "the promoters-only page 3 is skipped"
    assert "Thanks a lot!" in respondent.open(respondent.url).text
    [item] = _survey_feedback(admin)
    assert (item["scores"]["nps"], item["scores"]["csat"], item["scores"]["ces"]) == (3, 4, 2)
    assert item["scores"]["rating"] == 7
    assert item["text"] == "The queue was long\n\nNice staff"
    assert (item["solicited"], item["channel"], item["language"]) == (True, "web", "en")
    answers = item["metadata"]["answers"]
    assert answers["liked"] == ["price", "staff"]
    assert answers["aspects"] == {"price": 4, "range": 2}
    assert item["metadata"]["survey_version"] == 1


def test_branching_skips_questions_whose_condition_is_false(
    respondent: Respondent, admin: Caller
) -> None:
    respondent.open()
    respondent.send({"q.nps": "10", "q.why": "not asked of promoters"})
    respondent.open(respondent.url)
    respondent.send({"q.csat": "5"})
    third = respondent.open(respondent.url)
    assert "What do you love about us?" in third.text
    respondent.send({"q.love": "Fast delivery"})
    [item] = _survey_feedback(admin)
    assert "why" not in item["metadata"]["answers"]
    assert item["text"] == "Fast delivery"


def test_missing_required_answers_show_the_page_again_and_store_nothing(
    respondent: Respondent, db_session: Session
) -> None:
    respondent.open()
    empty = respondent.send({"q.nps": ""})
    assert empty.status_code == 422
    assert 'role="alert"' in empty.text and 'href="#q-nps"' in empty.text
    assert 'aria-describedby="help-nps error-nps"' in empty.text
    assert 'id="error-nps"' in empty.text and "This question needs an answer." in empty.text
    unexplained = respondent.send({"q.nps": "2"})
    assert unexplained.status_code == 422
    assert 'id="error-why"' in unexplained.text
    assert 'value="2" checked' in unexplained.text, "the answer given stays selected"
    assert _responses(db_session) == 0


def test_out_of_scale_and_unknown_answers_are_refused_with_nothing_stored(
    respondent: Respondent, db_session: Session
) -> None:
    respondent.open()
    page = respondent.send({"q.nps": "11"})
    assert page.status_code == 422
    assert "Choose a whole number from 0 to 10." in page.text
    problem = respondent.send({"q.nps": "7", "q.bogus": "1"}, accept="application/json")
    assert problem.status_code == 422
    assert problem.headers["content-type"].startswith("application/problem+json")
    assert problem.json()["errors"] == [
        {"field": "answers.bogus", "reason": "There is no question 'bogus' on this page."}
    ]
    assert _responses(db_session) == 0


def test_partial_answers_are_saved_and_resumed_from_another_device(
    respondent: Respondent, app: Any
) -> None:
    respondent.open()
    saved = respondent.send({"q.nps": "8", "action": "save"})
    assert saved.status_code == 303
    assert saved.headers["location"].endswith("?saved=1")
    notice = respondent.open(saved.headers["location"])
    assert "Your answers are saved" in notice.text
    with TestClient(app, follow_redirects=False) as phone:
        later = Respondent(phone, "")
        page = later.open(respondent.url)
        assert 'name="q.nps" value="8" checked' in page.text
        assert later.send({"q.nps": "8"}).status_code == 303
        assert "Satisfied?" in later.open(later.url).text


def test_a_response_keeps_its_version_after_a_new_publish(
    respondent: Respondent, admin: Caller, token: str
) -> None:
    respondent.open()
    respondent.send({"q.nps": "9"})
    survey_id = admin.http.get(SURVEYS).json()["items"][0]["id"]
    changed = checkout()
    changed["pages"][1]["questions"][0]["text"] = {"en": "Happy with your order?"}
    admin.http.patch(f"{SURVEYS}/{survey_id}", json={"definition": changed})
    assert admin.http.post(f"{SURVEYS}/{survey_id}/publish").json()["number"] == 2
    assert "Satisfied?" in respondent.open(respondent.url).text
    respondent.send({"q.csat": "3"})
    respondent.open(respondent.url)
    respondent.send({})
    [item] = _survey_feedback(admin)
    assert item["metadata"]["survey_version"] == 1
    newcomer = Respondent(respondent.http, token)
    newcomer.open()
    newcomer.send({"q.nps": "9"})
    assert "Happy with your order?" in newcomer.open(newcomer.url).text


def test_completed_response_is_not_taken_twice(respondent: Respondent, admin: Caller) -> None:
    respondent.open()
    respondent.send({"q.nps": "5", "q.why": "Slow"})
    respondent.open(respondent.url)
    respondent.send({"q.csat": "2"})
    again = respondent.send({"q.csat": "5"})
    assert again.status_code == 303
    assert len(_survey_feedback(admin)) == 1


def test_language_comes_from_the_query_or_accept_language(
    respondent: Respondent, admin: Caller
) -> None:
    french = respondent.open(respondent.url + "?lang=fr")
    assert '<html lang="fr"' in french.text and "Suivant" in french.text
    accepted = respondent.open(respondent.url, **{"accept-language": "fr-CA,fr;q=0.9,en;q=0.5"})
    assert "Comment s&#39;est passé votre paiement ?" in accepted.text
    assert "Quelle est la probabilité" in accepted.text
    assert "Satisfied?" not in accepted.text
    respondent.send({"q.nps": "9", "lang": "fr"})
    second = respondent.open(respondent.url)
    assert "Satisfied?" in second.text, "texts missing in French fall back to English"
    respondent.send({"q.csat": "5", "lang": "fr"})
    respondent.open(respondent.url)
    respondent.send({"lang": "fr"})
    assert "Merci beaucoup !" in respondent.open(respondent.url).text
    [item] = _survey_feedback(admin)
    assert item["language"] == "fr"


def test_draft_closed_and_unknown_surveys_are_not_found(client: TestClient, admin: Caller) -> None:
    created = admin.http.post(SURVEYS, json={"definition": checkout()}).json()
    draft = admin.http.post(f"{SURVEYS}/{created['id']}/links", json={}).json()["token"]
    survey_id, active = publish(admin)
    admin.http.post(f"{SURVEYS}/{survey_id}/close")
    for link in (draft, active, "no-such-link"):
        page = client.get(f"/s/{link}")
        assert page.status_code == 404
        assert "This survey is not available" in page.text
        assert client.post(f"/s/{link}", data={"q.nps": "9"}).status_code in (403, 404)


def test_posts_without_the_form_token_are_refused(
    respondent: Respondent, db_session: Session
) -> None:
    respondent.open()
    refused = respondent.http.post(respondent.url, data={"q.nps": "9"})
    assert refused.status_code == 403
    assert _responses(db_session) == 0


def test_public_posts_are_rate_limited(respondent: Respondent) -> None:
    respondent.open()
    for _ in range(POSTS_PER_MINUTE):
        assert respondent.http.post(respondent.url, data={}).status_code == 403
    limited = respondent.send({"q.nps": "9"})
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    assert "Too many attempts" in limited.text
