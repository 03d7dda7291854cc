"""Contact rules: unsubscribes are honoured and nobody is invited too often."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import Caller
from tests.distribution.conftest import add_customer, invite, new_survey, unsubscribe_path
from tests.mail.smtp_server import Inbox
from touchpoints.customers.models import Customer
from touchpoints.db.base import utcnow
from touchpoints.db.engine import unit_of_work
from touchpoints.distribution.models import Invitation, Unsubscribe
from touchpoints.jobs.worker import Worker
from touchpoints.orgs.models import Workspace


def test_unsubscribing_without_javascript_stops_further_invitations(
    committed_admin: Caller,
    worker: Worker,
    inbox: Inbox,
    visitor: TestClient,
    committed_factory: sessionmaker[Session],
) -> None:
    customer_id = add_customer(committed_admin, "ana@shop.example")
    invite(committed_admin, new_survey(committed_admin), [customer_id])
    worker.run_once()
    path = unsubscribe_path(inbox.messages[0])

    confirm = visitor.get(path)
    assert confirm.status_code == 200
    assert '<form method="post">' in confirm.text and "Unsubscribe</button>" in confirm.text
    forged = visitor.post(path, data={"csrf_token": "not-the-form-token"})
    assert forged.status_code == 403, "a POST not sent from the page is refused"
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', confirm.text)
    assert csrf is not None
    done = visitor.post(path, data={"csrf_token": csrf.group(1)})
    assert done.status_code == 200 and "You are unsubscribed" in done.text

    with committed_factory() as session:
        customer = session.get(Customer, customer_id)
        assert customer is not None and customer.consent_email is False
        assert session.query(Unsubscribe).filter_by(customer_id=customer_id).count() == 1
    later = invite(
        committed_admin, new_survey(committed_admin), [customer_id], contact_frequency_days=0
    )
    assert later == {
        "invited": [],
        "skipped": [{"customer_id": customer_id, "reason": "unsubscribed"}],
    }


def test_a_customer_invited_recently_to_another_survey_is_skipped(
    committed_admin: Caller, committed_factory: sessionmaker[Session]
) -> None:
    ana = add_customer(committed_admin, "ana@shop.example")
    ben = add_customer(committed_admin, "ben@shop.example", name="Ben")
    invite(committed_admin, new_survey(committed_admin), [ana])
    with unit_of_work(committed_factory) as session:
        session.execute(update(Invitation).values(created_at=utcnow() - timedelta(days=12)))

    batch = invite(committed_admin, new_survey(committed_admin), [ana, ben])

    assert [i["customer_id"] for i in batch["invited"]] == [ben]
    assert batch["skipped"] == [
        {"customer_id": ana, "reason": "invited 12 days ago; limit 30 days"}
    ]


def test_the_workspace_setting_and_the_request_override_the_limit(
    committed_admin: Caller, committed_factory: sessionmaker[Session]
) -> None:
    ana = add_customer(committed_admin, "ana@shop.example")
    invite(committed_admin, new_survey(committed_admin), [ana])
    with unit_of_work(committed_factory) as session:
        session.execute(update(Invitation).values(created_at=utcnow() - timedelta(days=12)))
        workspace = session.get(Workspace, committed_admin.workspace_id)
        assert workspace is not None
        workspace.settings = {**workspace.settings, "contact_frequency_days": 10}

    survey_id = new_survey(committed_admin)
    assert invite(committed_admin, survey_id, [ana])["skipped"] == []
    shorter = invite(committed_admin, new_survey(committed_admin), [ana], contact_frequency_days=7)
    assert shorter["skipped"] == [{"customer_id": ana, "reason": "invited today; limit 7 days"}]


def test_a_segment_is_invited_and_customers_without_email_are_skipped(
    committed_admin: Caller,
) -> None:
    with_email = add_customer(committed_admin, "ana@shop.example")
    created = committed_admin.http.post(
        "/api/v1/customers", json={"display_name": "Phone only", "phone": "+33612345678"}
    )
    assert created.status_code == 201, created.text
    phone_only = created.json()["id"]
    segment = committed_admin.http.post("/api/v1/segments", json={"name": "Loyal"}).json()
    for customer_id in (with_email, phone_only):
        added = committed_admin.http.put(
            f"/api/v1/segments/{segment['id']}/customers/{customer_id}"
        )
        assert added.status_code in (200, 204), added.text

    batch = committed_admin.http.post(
        f"/api/v1/surveys/{new_survey(committed_admin)}/invitations",
        json={"segment_id": segment["id"]},
    ).json()

    assert [i["customer_id"] for i in batch["invited"]] == [with_email]
    assert batch["skipped"] == [{"customer_id": phone_only, "reason": "no email address"}]


def test_a_surveys_own_rule_applies_to_invitations_sent_through_the_api(
    committed_admin: Caller, committed_factory: sessionmaker[Session]
) -> None:
    ana = add_customer(committed_admin, "ana@shop.example")
    invite(committed_admin, new_survey(committed_admin), [ana])
    with unit_of_work(committed_factory) as session:
        session.execute(update(Invitation).values(created_at=utcnow() - timedelta(days=12)))
    strict = new_survey(committed_admin)
    relaxed = new_survey(committed_admin)
    with unit_of_work(committed_factory) as session:
        workspace = session.get(Workspace, committed_admin.workspace_id)
        assert workspace is not None
        workspace.settings = {
            **workspace.settings,
            "contact_frequency_days": 5,
            "survey_contact_frequency_days": {strict: 60},
        }

    refused = invite(committed_admin, strict, [ana])
    assert refused["skipped"] == [
        {"customer_id": ana, "reason": "invited 12 days ago; limit 60 days"}
    ], "the survey's 60 days win over the workspace's 5"
    assert invite(committed_admin, relaxed, [ana])["skipped"] == []
