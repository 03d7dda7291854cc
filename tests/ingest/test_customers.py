"""Customer upsert by any identity: match and update, add identities, create, or refuse."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tests.conftest import Caller
from tests.factories.customers import make_customer
from tests.ingest.helpers import count, errors_of, post_batch, statuses
from touchpoints.customers.models import Customer


def identities(customer: Customer) -> set[tuple[str, str, str]]:
    """Return a customer's identities as (kind, source, value)."""
    return {(i.kind, i.source, i.value) for i in customer.identities}


def test_upsert_updates_the_match_and_creates_the_rest(admin: Caller, db_session: Session) -> None:
    ann = make_customer(
        db_session,
        workspace_id=admin.workspace_id,
        email="ann@example.com",
        display_name="Ann",
        attributes={"tier": "silver", "city": "Leeds"},
        consent_email=True,
    )
    db_session.commit()
    items = [
        {
            "email": " ANN@Example.com ",
            "phone": "(415) 555-0132",
            "attributes": {"tier": "gold"},
            "consent_email": False,
        },
        {"external_id": "C-7", "external_id_source": "crm", "display_name": "Bob"},
    ]
    answer = post_batch(admin, "customers", items)
    assert statuses(answer) == ["updated", "created"]
    assert answer["items"][0]["id"] == ann.id
    db_session.expire_all()
    updated = db_session.get_one(Customer, ann.id)
    assert updated.attributes == {"tier": "gold", "city": "Leeds"}
    assert updated.consent_email is False
    assert updated.display_name == "Ann"  # not sent, so kept
    assert identities(updated) == {("email", "", "ann@example.com"), ("phone", "", "+14155550132")}
    bob = db_session.get_one(Customer, answer["items"][1]["id"])
    assert (bob.display_name, identities(bob)) == ("Bob", {("external_id", "crm", "C-7")})


def test_retried_upsert_creates_no_second_customer(admin: Caller, db_session: Session) -> None:
    items = [{"email": "ann@example.com", "attributes": {"tier": "gold"}}]
    first = post_batch(admin, "customers", items)
    second = post_batch(admin, "customers", items)
    assert (statuses(first), statuses(second)) == (["created"], ["updated"])
    assert first["items"][0]["id"] == second["items"][0]["id"]
    assert count(db_session, Customer, admin.workspace_id) == 1


def test_any_identity_finds_the_customer(admin: Caller, db_session: Session) -> None:
    ann = make_customer(db_session, workspace_id=admin.workspace_id, phone="+44 20 7946 0958")
    db_session.commit()
    answer = post_batch(
        admin, "customers", [{"phone": "+442079460958", "email": "ann@example.com"}]
    )
    assert answer["items"][0] == {
        "index": 0,
        "status": "updated",
        "id": ann.id,
        "customer_id": ann.id,
        "errors": [],
    }
    db_session.expire_all()
    assert ("email", "", "ann@example.com") in identities(db_session.get_one(Customer, ann.id))


def test_identities_of_two_customers_are_refused(admin: Caller, db_session: Session) -> None:
    ann = make_customer(db_session, workspace_id=admin.workspace_id, email="ann@example.com")
    bob = make_customer(db_session, workspace_id=admin.workspace_id, email="bob@example.com")
    db_session.commit()
    items = [
        {"email": "ann@example.com", "identities": [{"kind": "email", "value": "bob@example.com"}]},
        {"display_name": "Nobody"},
        {"email": "carol@example.com", "favourite_colour": "blue"},
        {"email": "dave@example.com", "phone": "12"},
    ]
    answer = post_batch(admin, "customers", items)
    assert statuses(answer) == ["rejected"] * 4
    reason = errors_of(answer, 0)["identities"]
    assert "different customers" in reason and ann.id in reason and bob.id in reason
    assert "at least one identity" in errors_of(answer, 1)["identities"]
    assert errors_of(answer, 2) == {"favourite_colour": "unknown field"}
    assert "phone" in errors_of(answer, 3)
    assert count(db_session, Customer, admin.workspace_id) == 2
    db_session.expire_all()
    assert identities(db_session.get_one(Customer, ann.id)) == {("email", "", "ann@example.com")}


def test_earlier_first_seen_moves_back_never_forward(admin: Caller, db_session: Session) -> None:
    created = post_batch(
        admin, "customers", [{"email": "ann@example.com", "first_seen_at": "2023-03-01T00:00:00Z"}]
    )
    customer_id = created["items"][0]["id"]
    for moment in ("2024-01-01T00:00:00Z", "2022-06-01T12:00:00+02:00"):
        post_batch(admin, "customers", [{"email": "ann@example.com", "first_seen_at": moment}])
    db_session.expire_all()
    first_seen = db_session.get_one(Customer, customer_id).first_seen_at
    assert first_seen is not None and first_seen.isoformat() == "2022-06-01T10:00:00+00:00"
