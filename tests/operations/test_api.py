"""The events API: orders, renewals, support contacts and delays next to the feedback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import Caller, MakeCaller
from tests.factories.feedback import make_customer, make_touchpoint
from tests.factories.operations import make_event
from tests.factories.orgs import make_org_unit
from touchpoints.auth.permissions import Role
from touchpoints.operations.models import OperationalEvent

URL = "/api/v1/events"
PROBLEM = "application/problem+json"


def order(**fields: Any) -> dict[str, Any]:
    """Return the body of a valid order event."""
    body: dict[str, Any] = {
        "type": "order",
        "name": "booking",
        "source": "shop",
        "occurred_at": "2024-05-01T09:30:00+02:00",
        "value": 249.9,
        "currency": "EUR",
    }
    return body | fields


def stored_count(db_session: Session, workspace_id: str) -> int:
    """Count the events stored in a workspace."""
    statement = select(func.count()).where(OperationalEvent.workspace_id == workspace_id)
    return int(db_session.scalar(statement) or 0)


def error_fields(response: Any) -> list[str]:
    """Return the fields a problem+json answer names."""
    assert response.headers["content-type"] == PROBLEM, response.text
    return [error["field"] for error in response.json().get("errors", [])]


def test_created_event_is_returned_with_its_links(admin: Caller, db_session: Session) -> None:
    customer = make_customer(db_session, workspace_id=admin.workspace_id)
    touchpoint = make_touchpoint(db_session, workspace_id=admin.workspace_id)
    db_session.commit()

    created = admin.http.post(
        URL,
        json=order(
            source_ref="o-1",
            customer_id=customer.id,
            touchpoint_id=touchpoint.id,
            currency="eur",
            metadata={"items": 3},
        ),
    )

    assert created.status_code == 201, created.text
    event = created.json()
    assert (event["type"], event["value"], event["currency"]) == ("order", 249.9, "EUR")
    assert event["occurred_at"] == "2024-05-01T07:30:00Z"
    assert (event["customer_id"], event["metadata"]) == (customer.id, {"items": 3})
    assert admin.http.get(f"{URL}/{event['id']}").json() == event


def test_list_filters_by_type_name_and_value(admin: Caller, db_session: Session) -> None:
    start = datetime(2024, 3, 1, tzinfo=UTC)
    for day, value in enumerate((50.0, 150.0, 300.0)):
        make_event(
            db_session,
            workspace_id=admin.workspace_id,
            value=value,
            occurred_at=start + timedelta(days=day),
        )
    make_event(
        db_session,
        workspace_id=admin.workspace_id,
        type="external",
        name="flight_delay",
        value=None,
        currency=None,
        duration_seconds=5400,
    )
    db_session.commit()

    big_orders = admin.http.get(
        URL, params=[("filter", "type:eq:order"), ("filter", "value:gte:100"), ("sort", "value")]
    )
    delays = admin.http.get(URL, params={"filter": "name:eq:flight_delay"})
    page = admin.http.get(
        URL, params={"limit": 1, "offset": 1, "sort": "-value", "filter": "value:isnull:false"}
    )

    assert [e["value"] for e in big_orders.json()["items"]] == [150.0, 300.0]
    assert delays.json()["items"][0]["duration_seconds"] == 5400
    assert page.json()["total"] == 3
    assert [e["value"] for e in page.json()["items"]] == [150.0]


def test_priced_event_needs_its_currency(admin: Caller, db_session: Session) -> None:
    without = admin.http.post(URL, json=order(currency=None))
    malformed = admin.http.post(URL, json=order(currency="EURO"))
    delay = admin.http.post(
        URL, json=order(type="external", name="delay", value=None, currency=None)
    )

    assert (without.status_code, error_fields(without)) == (422, ["currency"])
    assert (malformed.status_code, error_fields(malformed)) == (422, ["currency"])
    assert delay.status_code == 201, delay.text
    assert stored_count(db_session, admin.workspace_id) == 1


def test_negative_duration_is_refused(admin: Caller) -> None:
    response = admin.http.post(
        URL, json=order(type="support_contact", name="call", duration_seconds=-5)
    )

    assert (response.status_code, error_fields(response)) == (422, ["duration_seconds"])


def test_naive_timestamp_and_unknown_links_are_refused(admin: Caller) -> None:
    naive = admin.http.post(URL, json=order(occurred_at="2024-05-01T09:30:00"))
    customer = admin.http.post(URL, json=order(customer_id="nope"))

    assert (naive.status_code, error_fields(naive)) == (422, ["occurred_at"])
    assert (customer.status_code, error_fields(customer)) == (422, ["customer_id"])


def test_duplicate_source_ref_conflicts_and_retries_store_once(
    admin: Caller, db_session: Session
) -> None:
    headers = {"Idempotency-Key": "sync-7"}

    first = admin.http.post(URL, json=order(source_ref="o-9"), headers=headers)
    retry = admin.http.post(URL, json=order(source_ref="o-9"), headers=headers)
    duplicate = admin.http.post(URL, json=order(source_ref="o-9", value=1))

    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json() == first.json()
    assert duplicate.status_code == 409
    assert duplicate.headers["content-type"] == PROBLEM
    assert stored_count(db_session, admin.workspace_id) == 1


def test_viewer_reads_events_but_cannot_write(
    admin: Caller, make_caller: MakeCaller, db_session: Session
) -> None:
    event = make_event(db_session, workspace_id=admin.workspace_id)
    viewer = make_caller(Role.VIEWER, workspace_id=admin.workspace_id)

    assert viewer.http.get(URL).json()["total"] == 1
    assert viewer.http.post(URL, json=order()).status_code == 403
    assert viewer.http.patch(f"{URL}/{event.id}", json={"value": 1}).status_code == 403
    assert viewer.http.delete(f"{URL}/{event.id}").status_code == 403


def test_store_manager_sees_only_their_store(
    admin: Caller, make_caller: MakeCaller, db_session: Session
) -> None:
    store_a = make_org_unit(db_session, workspace_id=admin.workspace_id)
    store_b = make_org_unit(db_session, workspace_id=admin.workspace_id)
    mine = make_event(db_session, workspace_id=admin.workspace_id, org_unit_id=store_a.id)
    theirs = make_event(db_session, workspace_id=admin.workspace_id, org_unit_id=store_b.id)
    manager = make_caller(Role.MANAGER, workspace_id=admin.workspace_id, org_unit_id=store_a.id)

    listed = manager.http.get(URL).json()

    assert [e["id"] for e in listed["items"]] == [mine.id]
    assert manager.http.get(f"{URL}/{theirs.id}").status_code == 404


def test_another_workspaces_event_is_not_found(
    admin: Caller, make_caller: MakeCaller, db_session: Session
) -> None:
    other = make_caller(Role.ADMIN)
    foreign = make_event(db_session, workspace_id=other.workspace_id)
    db_session.commit()

    assert admin.http.get(f"{URL}/{foreign.id}").status_code == 404
    assert admin.http.patch(f"{URL}/{foreign.id}", json={"value": 1}).status_code == 404
    assert admin.http.delete(f"{URL}/{foreign.id}").status_code == 404


def test_update_corrects_amounts_but_keeps_the_currency_rule(
    admin: Caller, db_session: Session
) -> None:
    event = make_event(db_session, workspace_id=admin.workspace_id)
    db_session.commit()
    path = f"{URL}/{event.id}"

    refund = admin.http.patch(path, json={"value": -20, "name": "refund", "metadata": {"r": 1}})
    drop_currency = admin.http.patch(path, json={"currency": None})
    retype = admin.http.patch(path, json={"type": "churn"})
    unname = admin.http.patch(path, json={"name": None})

    assert refund.status_code == 200, refund.text
    assert (refund.json()["value"], refund.json()["currency"]) == (-20, "EUR")
    assert refund.json()["metadata"] == {"r": 1}
    assert (drop_currency.status_code, error_fields(drop_currency)) == (422, ["currency"])
    assert (retype.status_code, error_fields(retype)) == (422, ["type"])
    assert (unname.status_code, error_fields(unname)) == (422, ["name"])
    assert admin.http.get(path).json()["currency"] == "EUR"


def test_deleted_event_is_gone(admin: Caller, db_session: Session) -> None:
    event = make_event(db_session, workspace_id=admin.workspace_id)
    db_session.commit()

    assert admin.http.delete(f"{URL}/{event.id}").status_code == 204
    assert admin.http.get(f"{URL}/{event.id}").status_code == 404
    assert stored_count(db_session, admin.workspace_id) == 0


def test_malformed_and_oversized_bodies_are_problems(admin: Caller) -> None:
    limit = admin.http.app.state.settings.api_max_body_bytes  # type: ignore[attr-defined]

    malformed = admin.http.post(
        URL, content=b"{not json", headers={"Content-Type": "application/json"}
    )
    oversized = admin.http.post(URL, json=order(metadata={"blob": "x" * (limit + 1)}))

    assert malformed.status_code == 422
    assert malformed.headers["content-type"] == PROBLEM
    assert oversized.status_code == 413
    assert oversized.headers["content-type"] == PROBLEM
