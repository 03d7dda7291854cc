"""Batch ingestion of feedback and events: good items land, bad ones are reported, none twice."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import Caller, MakeCaller
from tests.factories.customers import make_customer
from tests.ingest.helpers import OCCURRED_AT, count, errors_of, post_batch, statuses
from touchpoints.auth.permissions import Role
from touchpoints.customers.models import Customer, CustomerIdentity
from touchpoints.feedback.models import FeedbackItem
from touchpoints.operations.models import OperationalEvent

PROBLEM = "application/problem+json"


def review(ref: str, **fields: Any) -> dict[str, Any]:
    """Return a valid review item with a source reference."""
    return {
        "source": "app_store",
        "source_ref": ref,
        "channel": "review_site",
        "occurred_at": OCCURRED_AT,
        "text": "Quick checkout, friendly staff.",
        "scores": {"nps": 9},
    } | fields


def test_good_items_are_stored_and_bad_ones_reported(admin: Caller, db_session: Session) -> None:
    items = [
        review("r-1"),
        review("r-2", channel="carrier_pigeon"),
        review("r-3", scores={"nps": 11}),
        review("r-4", occurred_at="2024-05-01T09:30:00"),
        review("r-5", customer={"email": "Ann@Example.com"}),
        "not an object",
    ]
    answer = post_batch(admin, "feedback", items)
    assert statuses(answer) == [
        "created",
        "rejected",
        "rejected",
        "rejected",
        "created",
        "rejected",
    ]
    assert (answer["created"], answer["rejected"], answer["duplicate"]) == (2, 4, 0)
    assert [item["index"] for item in answer["items"]] == list(range(6))
    assert "channel" in errors_of(answer, 1)
    assert "10" in errors_of(answer, 2)["scores.nps"]
    assert "timezone" in errors_of(answer, 3)["occurred_at"]
    assert errors_of(answer, 5) == {"": "each item must be a JSON object"}
    stored = db_session.scalars(
        select(FeedbackItem.source_ref).where(FeedbackItem.workspace_id == admin.workspace_id)
    ).all()
    assert sorted(ref or "" for ref in stored) == ["r-1", "r-5"]
    assert answer["items"][0]["id"] in {i.id for i in db_session.scalars(select(FeedbackItem))}


def test_rejected_item_writes_nothing_not_even_its_new_customer(
    admin: Caller, db_session: Session
) -> None:
    # The customer would be created first; the unknown touchpoint then rejects the item.
    item = review("r-1", customer={"email": "new.person@example.com"}, touchpoint_id="nope")
    answer = post_batch(admin, "feedback", [item])
    assert statuses(answer) == ["rejected"]
    assert errors_of(answer, 0) == {"touchpoint_id": "no touchpoint nope in this workspace"}
    assert count(db_session, FeedbackItem, admin.workspace_id) == 0
    assert count(db_session, Customer, admin.workspace_id) == 0


def test_identities_of_two_customers_reject_the_item(admin: Caller, db_session: Session) -> None:
    ann = make_customer(db_session, workspace_id=admin.workspace_id, email="ann@example.com")
    bob = make_customer(db_session, workspace_id=admin.workspace_id, phone="+14155550132")
    db_session.commit()
    item = review("r-1", customer={"email": "ann@example.com", "phone": "+1 415 555 0132"})
    answer = post_batch(admin, "feedback", [item, review("r-2")])
    assert statuses(answer) == ["rejected", "created"]
    reason = errors_of(answer, 0)["customer"]
    assert "different customers" in reason
    assert ann.id in reason and bob.id in reason
    assert count(db_session, FeedbackItem, admin.workspace_id) == 1


def test_retried_batch_creates_nothing_twice(admin: Caller, db_session: Session) -> None:
    items = [
        review("r-1", customer={"email": "ann@example.com"}),
        review("r-2"),
        review("r-3", scores={"nps": 11}),
    ]
    first = post_batch(admin, "feedback", items)
    second = post_batch(admin, "feedback", items)
    assert statuses(first) == ["created", "created", "rejected"]
    assert statuses(second) == ["duplicate", "duplicate", "rejected"]
    assert [i["id"] for i in second["items"][:2]] == [i["id"] for i in first["items"][:2]]
    assert second["items"][0]["customer_id"] == first["items"][0]["customer_id"]
    assert count(db_session, FeedbackItem, admin.workspace_id) == 2
    assert count(db_session, Customer, admin.workspace_id) == 1


def test_same_item_twice_in_one_batch_is_stored_once(admin: Caller, db_session: Session) -> None:
    answer = post_batch(admin, "feedback", [review("r-1"), review("r-1")])
    assert statuses(answer) == ["created", "duplicate"]
    assert answer["items"][1]["id"] == answer["items"][0]["id"]
    assert count(db_session, FeedbackItem, admin.workspace_id) == 1


def test_idempotency_key_replays_the_first_answer(admin: Caller, db_session: Session) -> None:
    body = {"items": [{"occurred_at": OCCURRED_AT, "text": "No source_ref here."}]}
    headers = {"Idempotency-Key": "batch-0001"}
    first = admin.http.post("/api/v1/ingest/feedback", json=body, headers=headers)
    second = admin.http.post("/api/v1/ingest/feedback", json=body, headers=headers)
    assert first.status_code == second.status_code == 200
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert count(db_session, FeedbackItem, admin.workspace_id) == 1


def test_feedback_links_to_a_customer_by_a_phone_written_differently(
    admin: Caller, db_session: Session
) -> None:
    ann = make_customer(db_session, workspace_id=admin.workspace_id, phone="+1 415 555 0132")
    db_session.commit()
    answer = post_batch(admin, "feedback", [review("r-1", customer={"phone": "(415) 555-0132"})])
    assert answer["items"][0]["customer_id"] == ann.id
    stored = db_session.get_one(FeedbackItem, answer["items"][0]["id"])
    assert stored.customer_id == ann.id
    assert count(db_session, Customer, admin.workspace_id) == 1


def test_unknown_customer_is_created_with_normalized_identities(
    admin: Caller, db_session: Session
) -> None:
    ref = {"external_id": " C-42 ", "source": "crm", "email": "ANN@example.com"}
    answer = post_batch(admin, "feedback", [review("r-1", customer=ref)])
    customer_id = answer["items"][0]["customer_id"]
    identities = db_session.scalars(
        select(CustomerIdentity).where(CustomerIdentity.customer_id == customer_id)
    ).all()
    assert {(i.kind, i.source, i.value) for i in identities} == {
        ("external_id", "crm", "C-42"),
        ("email", "", "ann@example.com"),
    }


def test_without_create_customers_an_unknown_customer_stays_unlinked(
    admin: Caller, db_session: Session
) -> None:
    item = review("r-1", customer={"email": "nobody@example.com"})
    answer = post_batch(admin, "feedback", [item], create_customers=False)
    assert statuses(answer) == ["created"]
    assert answer["items"][0]["customer_id"] is None
    assert count(db_session, Customer, admin.workspace_id) == 0


def test_bad_customer_reference_names_the_field(admin: Caller, db_session: Session) -> None:
    items = [
        review("r-1", customer={"email": "not-an-address"}),
        review("r-2", customer={}),
        review("r-3", customer={"email": "a@example.com"}, customer_id="abc"),
    ]
    answer = post_batch(admin, "feedback", items)
    assert statuses(answer) == ["rejected"] * 3
    assert "not a valid email" in errors_of(answer, 0)["customer.email"]
    assert "give an email" in errors_of(answer, 1)["customer"]
    assert "not both" in errors_of(answer, 2)["customer"]
    assert count(db_session, FeedbackItem, admin.workspace_id) == 0


def test_transcript_turns_are_kept_and_rendered_as_text(admin: Caller, db_session: Session) -> None:
    turns = [
        {"speaker": "customer", "text": "My parcel is late.", "at": "2024-05-01T09:30:00Z"},
        {"speaker": "agent", "text": "Sorry, it arrives tomorrow."},
        {"speaker": "bot", "text": "Rate this chat."},
    ]
    items = [
        {"channel": "chat", "occurred_at": OCCURRED_AT, "turns": turns},
        {"channel": "phone", "occurred_at": OCCURRED_AT, "text": "Summary.", "turns": turns},
        {"channel": "chat", "occurred_at": OCCURRED_AT, "turns": [{"speaker": "cat"}]},
    ]
    answer = post_batch(admin, "feedback", items)
    assert statuses(answer) == ["created", "created", "rejected"]
    chat = db_session.get_one(FeedbackItem, answer["items"][0]["id"])
    assert chat.text == (
        "Customer: My parcel is late.\nAgent: Sorry, it arrives tomorrow.\nBot: Rate this chat."
    )
    assert chat.metadata_["turns"][0] == {
        "speaker": "customer",
        "text": "My parcel is late.",
        "at": "2024-05-01T09:30:00Z",
    }
    assert len(chat.metadata_["turns"]) == 3
    call = db_session.get_one(FeedbackItem, answer["items"][1]["id"])
    assert call.text == "Summary."
    assert len(call.metadata_["turns"]) == 3
    assert set(errors_of(answer, 2)) == {"turns.0.speaker", "turns.0.text"}


def test_event_batch_links_customers_and_reports_bad_events(
    admin: Caller, db_session: Session
) -> None:
    order = {
        "type": "order",
        "name": "booking",
        "source": "shop",
        "occurred_at": OCCURRED_AT,
        "value": 120.0,
        "currency": "eur",
    }
    items = [
        order | {"source_ref": "o-1", "customer": {"external_id": "C-1", "source": "shop"}},
        order | {"source_ref": "o-2", "currency": None},
        order | {"source_ref": "o-3", "type": "teleport"},
        order | {"source_ref": "o-4", "occurred_at": "yesterday"},
    ]
    answer = post_batch(admin, "events", items)
    assert statuses(answer) == ["created", "rejected", "rejected", "rejected"]
    assert "required with a value" in errors_of(answer, 1)["currency"]
    assert "type" in errors_of(answer, 2)
    assert "occurred_at" in errors_of(answer, 3)
    event = db_session.get_one(OperationalEvent, answer["items"][0]["id"])
    assert (event.currency, event.customer_id) == ("EUR", answer["items"][0]["customer_id"])
    assert count(db_session, Customer, admin.workspace_id) == 1
    again = post_batch(admin, "events", items[:1])
    assert statuses(again) == ["duplicate"]
    assert count(db_session, OperationalEvent, admin.workspace_id) == 1


def test_batches_over_the_limit_or_empty_are_refused_whole(admin: Caller) -> None:
    too_many = [review(f"r-{n}") for n in range(1001)]
    for items in (too_many, []):
        response = admin.http.post("/api/v1/ingest/feedback", json={"items": items})
        assert response.status_code == 422
        assert response.headers["content-type"].startswith(PROBLEM)
        assert response.json()["errors"][0]["field"] == "items"


def test_roles_without_write_permission_are_refused(make_caller: MakeCaller) -> None:
    viewer = make_caller(Role.VIEWER)
    for kind in ("feedback", "events", "customers"):
        response = viewer.http.post(f"/api/v1/ingest/{kind}", json={"items": [{}]})
        assert response.status_code == 403, kind
        assert response.headers["content-type"].startswith(PROBLEM)


def test_scoped_writer_places_items_in_their_unit(
    make_caller: MakeCaller, db_session: Session
) -> None:
    from tests.factories.orgs import make_org_unit, make_workspace

    workspace_id = make_workspace(db_session).id
    store = make_org_unit(db_session, workspace_id=workspace_id)
    other = make_org_unit(db_session, workspace_id=workspace_id)
    analyst = make_caller(Role.ANALYST, workspace_id=workspace_id, org_unit_id=store.id)
    items = [
        review("r-1", org_unit_id=store.id, customer={"email": "ann@example.com"}),
        review("r-2", org_unit_id=other.id),
        review("r-3"),
    ]
    answer = post_batch(analyst, "feedback", items)
    assert statuses(answer) == ["created", "rejected", "rejected"]
    customer = db_session.get_one(Customer, answer["items"][0]["customer_id"])
    assert customer.org_unit_id == store.id
    assert set(errors_of(answer, 1)) == set(errors_of(answer, 2)) == {"org_unit_id"}
