"""Invitations by email over a real SMTP server, answered through personal links."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Caller
from tests.distribution.conftest import add_customer, body_of, invite, new_survey, personal_path
from tests.mail.smtp_server import Inbox
from tests.web.conftest import csrf_from
from tests.web.test_respond import PAGE_TWO
from touchpoints.jobs.worker import Worker


def answer(visitor: TestClient, path: str) -> None:
    """Open a personal link and answer the checkout survey as a detractor."""
    opened = visitor.get(path)
    assert opened.status_code == 303, opened.text
    page = opened.headers["location"]
    for fields in ({"q.nps": "3", "q.why": "Slow delivery"}, PAGE_TWO):
        form = visitor.get(page)
        assert form.status_code == 200, form.text
        sent = visitor.post(page, data={"csrf_token": csrf_from(form.text), **fields})
        assert sent.status_code == 303, sent.text
        page = sent.headers["location"].split("?")[0]
    assert "Thanks a lot!" in visitor.get(page).text


def invitations(admin: Caller, survey_id: str, **params: Any) -> list[dict[str, Any]]:
    """Return a survey's invitations through the API."""
    page = admin.http.get(f"/api/v1/surveys/{survey_id}/invitations", params=params)
    assert page.status_code == 200, page.text
    items: list[dict[str, Any]] = page.json()["items"]
    return items


def test_the_worker_sends_an_email_with_a_personal_link(
    committed_admin: Caller, worker: Worker, inbox: Inbox
) -> None:
    survey_id = new_survey(committed_admin)
    customer_id = add_customer(committed_admin, "ana@shop.example")
    batch = invite(committed_admin, survey_id, [customer_id])
    assert [i["status"] for i in batch["invited"]] == ["queued"]
    assert inbox.messages == []

    assert worker.run_once() == 1

    [message] = inbox.to("ana@shop.example")
    assert message["Subject"] == "Your opinion on Checkout survey"
    text = body_of(message)
    assert "Hello Ana Lima" in text and "/unsubscribe/" in text
    assert personal_path(message).startswith("/s/i/")
    [sent] = invitations(committed_admin, survey_id)
    assert sent["status"] == "sent" and sent["sent_at"] is not None
    assert worker.run_once() == 0, "an invitation is sent once"


def test_answering_through_the_link_completes_the_invitation_for_the_customer(
    committed_admin: Caller, worker: Worker, inbox: Inbox, visitor: TestClient
) -> None:
    survey_id = new_survey(committed_admin)
    customer_id = add_customer(committed_admin, "ana@shop.example")
    invite(committed_admin, survey_id, [customer_id])
    worker.run_once()
    path = personal_path(inbox.messages[0])

    answer(visitor, path)

    [done] = invitations(committed_admin, survey_id, filter="status:eq:completed")
    assert done["completed_at"] is not None and done["started_at"] is not None
    feedback = committed_admin.http.get("/api/v1/feedback", params={"filter": "source:eq:survey"})
    [item] = feedback.json()["items"]
    assert (item["customer_id"], item["channel"], item["scores"]["nps"]) == (
        customer_id,
        "email",
        3,
    )
    again = visitor.get(path)
    assert again.status_code == 410
    assert "You have already answered" in again.text


def test_an_unknown_link_is_not_found(visitor: TestClient) -> None:
    page = visitor.get("/s/i/not-a-real-token")
    assert page.status_code == 404
    assert "This invitation link is not valid" in page.text


def test_response_rates_count_sent_started_and_completed(
    committed_admin: Caller, worker: Worker, inbox: Inbox, visitor: TestClient
) -> None:
    survey_id = new_survey(committed_admin)
    ids = [add_customer(committed_admin, f"c{n}@shop.example") for n in range(4)]
    invite(committed_admin, survey_id, ids)
    worker.run_once()
    answer(visitor, personal_path(inbox.to("c0@shop.example")[0]))
    assert visitor.get(personal_path(inbox.to("c1@shop.example")[0])).status_code == 303

    rates = committed_admin.http.get(f"/api/v1/surveys/{survey_id}/response-rates").json()

    assert rates["channels"] == [
        {
            "channel": "email",
            "sent": 4,
            "delivered": 2,
            "bounced": 0,
            "started": 2,
            "completed": 1,
            "response_rate": 0.25,
        }
    ]


def test_a_closed_survey_cannot_be_sent(committed_admin: Caller) -> None:
    survey_id = new_survey(committed_admin)
    assert committed_admin.http.post(f"/api/v1/surveys/{survey_id}/close").status_code == 200
    customer_id = add_customer(committed_admin, "ana@shop.example")
    refused = committed_admin.http.post(
        f"/api/v1/surveys/{survey_id}/invitations", json={"customer_ids": [customer_id]}
    )
    assert refused.status_code == 409
    assert "publish it before inviting" in refused.json()["detail"]


def test_unknown_customers_and_missing_audience_are_refused(committed_admin: Caller) -> None:
    survey_id = new_survey(committed_admin)
    url = f"/api/v1/surveys/{survey_id}/invitations"
    unknown = committed_admin.http.post(url, json={"customer_ids": ["nobody"]})
    assert unknown.status_code == 422
    assert "customers not found: nobody" in unknown.text
    neither = committed_admin.http.post(url, json={"channel": "email"})
    assert neither.status_code == 422
    assert "either customer_ids or segment_id" in neither.text
