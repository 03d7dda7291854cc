"""SMS invitations through the HTTP-webhook provider, played by a real local HTTP server."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import Caller
from tests.distribution.conftest import (
    PUBLIC_URL,
    SMS_SECRET,
    add_customer,
    add_phone_customer,
    invite,
    new_survey,
)
from tests.distribution.sms_provider import Answer, SmsProviderServer
from tests.distribution.test_invitations import answer, invitations
from tests.jobs.conftest import Clock
from touchpoints.customers.models import Customer
from touchpoints.db.engine import unit_of_work
from touchpoints.distribution.flows import enqueue_due_reminders
from touchpoints.distribution.sms_webhook import sign
from touchpoints.jobs.models import Job
from touchpoints.jobs.worker import Worker

PHONE = "+33612345678"
STATUS_URL = "/api/v1/sms/status"


def invite_by_sms(admin: Caller, survey_id: str, ids: list[str], **options: Any) -> Any:
    """Invite customers by SMS; return the answer's body."""
    return invite(admin, survey_id, ids, channel="sms", **options)


def report(
    http: TestClient, document: dict[str, Any], *, secret: str = SMS_SECRET, age: int = 0
) -> Any:
    """POST a delivery report signed like the provider does; return the answer."""
    body = json.dumps(document).encode()
    timestamp = str(int(time.time()) - age)
    headers = {
        "Content-Type": "application/json",
        "X-Touchpoints-Timestamp": timestamp,
        "X-Touchpoints-Signature": sign(secret, timestamp, body),
    }
    return http.post(STATUS_URL, content=body, headers=headers)


def job_states(factory: sessionmaker[Session]) -> list[tuple[str, int]]:
    """Return (status, attempts) of every job."""
    with factory() as session:
        return [(job.status, job.attempts) for job in session.query(Job).order_by(Job.created_at)]


def test_an_sms_with_the_personal_link_goes_to_the_provider_signed(
    sms_admin: Caller,
    sms_worker: Worker,
    sms_provider: SmsProviderServer,
    visitor: TestClient,
) -> None:
    survey_id = new_survey(sms_admin)
    customer_id = add_phone_customer(sms_admin, "+33 6 12 34 56 78")
    [queued] = invite_by_sms(sms_admin, survey_id, [customer_id])["invited"]
    assert (queued["channel"], queued["address"]) == ("sms", PHONE)

    assert sms_worker.run_once() == 1

    [request] = sms_provider.requests
    assert request.signed, "signed with the shared secret"
    sms = request.payload
    assert (sms["to"], sms["sender"], sms["reference"]) == (
        PHONE,
        "Brightwing",
        f"{queued['id']}:0",
    )
    assert request.headers["Idempotency-Key"] == sms["reference"]
    assert sms["callback_url"] == f"{PUBLIC_URL}/api/v1/sms/status"
    assert "Checkout survey" in sms["body"] and len(sms["body"]) < 320
    link = sms["body"].split(f"{PUBLIC_URL}", 1)[1].split()[0]
    assert link.startswith("/s/i/") and "/unsubscribe/" in sms["body"]
    [sent] = invitations(sms_admin, survey_id)
    assert sent["status"] == "sent" and sent["sent_at"] is not None
    answer(visitor, link)
    [done] = invitations(sms_admin, survey_id)
    assert done["status"] == "completed"
    feedback = sms_admin.http.get("/api/v1/feedback", params={"filter": "source:eq:survey"})
    [item] = feedback.json()["items"]
    assert (item["customer_id"], item["channel"]) == (customer_id, "sms")


def test_a_refusal_by_the_provider_fails_the_invitation_without_retrying(
    sms_admin: Caller,
    sms_worker: Worker,
    sms_provider: SmsProviderServer,
    committed_factory: sessionmaker[Session],
) -> None:
    survey_id = new_survey(sms_admin)
    invite_by_sms(sms_admin, survey_id, [add_phone_customer(sms_admin, PHONE)], reminders=[3])
    sms_provider.answer(Answer(status=400))

    assert sms_worker.run_once() == 1

    [failed] = invitations(sms_admin, survey_id)
    assert failed["status"] == "failed" and failed["next_reminder_at"] is None
    assert job_states(committed_factory) == [("done", 0)]
    assert sms_provider.delivered == {}


def test_a_provider_error_is_retried_with_the_same_reference_and_sent_once(
    sms_admin: Caller,
    sms_worker: Worker,
    sms_provider: SmsProviderServer,
    committed_factory: sessionmaker[Session],
    clock: Clock,
) -> None:
    survey_id = new_survey(sms_admin)
    invite_by_sms(sms_admin, survey_id, [add_phone_customer(sms_admin, PHONE)])
    # The provider takes the message but answers 502; the retry must not send it twice.
    sms_provider.answer(Answer(status=502, keep=True), Answer(status=503))

    assert sms_worker.run_once() == 1
    assert job_states(committed_factory) == [("queued", 1)]
    [queued] = invitations(sms_admin, survey_id)
    assert queued["status"] == "queued"
    clock.advance(3600)
    assert sms_worker.run_once() == 1
    clock.advance(3600)
    assert sms_worker.run_once() == 1

    references = [request.payload["reference"] for request in sms_provider.requests]
    assert references == [f"{queued['id']}:0"] * 3
    assert list(sms_provider.delivered) == [f"{queued['id']}:0"], "one SMS reached the phone"
    [sent] = invitations(sms_admin, survey_id)
    assert sent["status"] == "sent"
    assert job_states(committed_factory)[0] == ("done", 2)
    assert sms_worker.run_once() == 0


def test_a_provider_that_does_not_answer_in_time_is_retried(
    sms_admin: Caller,
    sms_worker: Worker,
    sms_provider: SmsProviderServer,
    committed_factory: sessionmaker[Session],
) -> None:
    survey_id = new_survey(sms_admin)
    invite_by_sms(sms_admin, survey_id, [add_phone_customer(sms_admin, PHONE)])
    sms_provider.answer(Answer(delay_seconds=1.5))

    assert sms_worker.run_once() == 1

    assert job_states(committed_factory) == [("queued", 1)]
    with committed_factory() as session:
        [job] = session.query(Job).all()
        assert "could not reach the SMS provider" in (job.last_error or "")


def test_delivery_reports_mark_invitations_delivered_or_bounced(
    sms_admin: Caller,
    sms_worker: Worker,
    sms_provider: SmsProviderServer,
) -> None:
    survey_id = new_survey(sms_admin)
    ids = [add_phone_customer(sms_admin, phone) for phone in (PHONE, "+33612345679")]
    invite_by_sms(sms_admin, survey_id, ids, reminders=[3])
    sms_worker.run_once()
    first, second = (request.payload["reference"] for request in sms_provider.requests)

    delivered = report(sms_admin.http, {"reference": first, "status": "delivered"})
    bounced = report(
        sms_admin.http, {"reference": second, "status": "bounced", "error": "unknown number"}
    )

    assert delivered.status_code == 200, delivered.text
    assert delivered.json()["status"] == "delivered"
    assert bounced.json()["status"] == "bounced"
    by_customer = {i["customer_id"]: i for i in invitations(sms_admin, survey_id)}
    assert by_customer[ids[0]]["status"] == "delivered"
    assert by_customer[ids[1]]["bounced_at"] is not None
    assert by_customer[ids[1]]["next_reminder_at"] is None
    rates = sms_admin.http.get(f"/api/v1/surveys/{survey_id}/response-rates").json()
    assert rates["channels"] == [
        {
            "channel": "sms",
            "sent": 2,
            "delivered": 1,
            "bounced": 1,
            "started": 0,
            "completed": 0,
            "response_rate": 0.0,
        }
    ]


def test_a_replayed_report_changes_nothing_and_forged_or_stale_ones_are_refused(
    sms_admin: Caller, sms_worker: Worker, sms_provider: SmsProviderServer
) -> None:
    survey_id = new_survey(sms_admin)
    invite_by_sms(sms_admin, survey_id, [add_phone_customer(sms_admin, PHONE)])
    sms_worker.run_once()
    reference = sms_provider.requests[0].payload["reference"]
    document = {"reference": reference, "status": "bounced"}

    forged = report(sms_admin.http, document, secret="guessed")
    stale = report(sms_admin.http, document, age=600)
    unsigned = sms_admin.http.post(STATUS_URL, json=document)

    for refused in (forged, stale, unsigned):
        assert refused.status_code == 401, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
    assert "signature does not match" in forged.json()["detail"]
    assert "5 minutes" in stale.json()["detail"]
    [unchanged] = invitations(sms_admin, survey_id)
    assert unchanged["status"] == "sent"

    body = json.dumps({"reference": reference, "status": "delivered"}).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-Touchpoints-Timestamp": timestamp,
        "X-Touchpoints-Signature": sign(SMS_SECRET, timestamp, body),
    }
    once = sms_admin.http.post(STATUS_URL, content=body, headers=headers)
    again = sms_admin.http.post(STATUS_URL, content=body, headers=headers)
    assert once.status_code == again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    unknown = report(sms_admin.http, {"reference": "nobody:0", "status": "delivered"})
    assert unknown.status_code == 404


def test_sms_honours_consent_phone_and_the_contact_frequency_rule(sms_admin: Caller) -> None:
    refused = add_phone_customer(sms_admin, PHONE, consent_sms=False)
    email_only = add_customer(sms_admin, "ana@shop.example")
    emailed = add_phone_customer(sms_admin, "+33612345679")
    invite(sms_admin, new_survey(sms_admin), [emailed], channel="sms")

    batch = invite_by_sms(sms_admin, new_survey(sms_admin), [refused, email_only, emailed])

    assert batch["invited"] == []
    assert batch["skipped"] == [
        {"customer_id": refused, "reason": "unsubscribed"},
        {"customer_id": email_only, "reason": "no phone number"},
        {"customer_id": emailed, "reason": "invited today; limit 30 days"},
    ]


def test_unsubscribing_from_an_sms_stops_sms_only(
    sms_admin: Caller,
    sms_worker: Worker,
    sms_provider: SmsProviderServer,
    visitor: TestClient,
    committed_factory: sessionmaker[Session],
) -> None:
    customer_id = add_phone_customer(sms_admin, PHONE)
    invite_by_sms(sms_admin, new_survey(sms_admin), [customer_id])
    sms_worker.run_once()
    path = sms_provider.requests[0].payload["body"].split(PUBLIC_URL)[2].split()[0]
    page = visitor.get(path)
    assert "by text message" in page.text
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]

    assert visitor.post(path, data={"csrf_token": csrf}).status_code == 200

    with committed_factory() as session:
        customer = session.get(Customer, customer_id)
        assert customer is not None
        assert (customer.consent_sms, customer.consent_email) == (False, None)


def test_sms_is_refused_when_no_provider_is_configured(committed_admin: Caller) -> None:
    customer_id = add_phone_customer(committed_admin, PHONE)
    refused = committed_admin.http.post(
        f"/api/v1/surveys/{new_survey(committed_admin)}/invitations",
        json={"customer_ids": [customer_id], "channel": "sms"},
    )
    assert refused.status_code == 409
    assert "TOUCHPOINTS_SMS_WEBHOOK_URL" in refused.json()["detail"]


def test_a_delivered_sms_invitation_gets_its_reminder_by_sms(
    sms_admin: Caller,
    sms_worker: Worker,
    sms_provider: SmsProviderServer,
    committed_factory: sessionmaker[Session],
    clock: Clock,
) -> None:
    survey_id = new_survey(sms_admin)
    invite_by_sms(sms_admin, survey_id, [add_phone_customer(sms_admin, PHONE)], reminders=[3])
    sms_worker.run_once()
    first = sms_provider.requests[0].payload
    report(sms_admin.http, {"reference": first["reference"], "status": "delivered"})

    clock.advance(timedelta(days=3, hours=1).total_seconds())
    with unit_of_work(committed_factory) as session:
        assert len(enqueue_due_reminders(session, now=clock())) == 1
    assert sms_worker.run_once() == 1

    reminder = sms_provider.requests[1].payload
    assert reminder["reference"] == first["reference"].replace(":0", ":1")
    assert reminder["body"].startswith("Reminder:")
    [invitation] = invitations(sms_admin, survey_id)
    assert (invitation["status"], invitation["reminder_count"]) == ("delivered", 1)
