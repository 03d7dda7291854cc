"""Merging duplicate customers keeps every identity, segment, feedback item and event."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import Caller, MakeCaller
from tests.factories.customers import make_customer, make_segment
from tests.factories.feedback import make_feedback_item
from tests.factories.operations import make_event
from tests.factories.orgs import make_org_unit, make_workspace
from touchpoints.audit.models import AuditEvent
from touchpoints.auth.permissions import Role
from touchpoints.customers.models import Customer, CustomerSegment
from touchpoints.feedback.models import FeedbackItem
from touchpoints.operations.models import OperationalEvent


def history(db_session: Session, customer_id: str) -> tuple[int, int, int]:
    """Count a customer's feedback items, events and segment memberships."""
    counts = []
    for model in (FeedbackItem, OperationalEvent, CustomerSegment):
        statement = select(func.count()).select_from(model).where(model.customer_id == customer_id)
        counts.append(db_session.scalar(statement) or 0)
    return counts[0], counts[1], counts[2]


def with_history(
    db_session: Session, workspace_id: str, *, feedback: int, events: int, **fields: object
) -> Customer:
    """Create a customer with some feedback items and operational events."""
    customer = make_customer(db_session, workspace_id=workspace_id, **fields)  # type: ignore[arg-type]
    for _ in range(feedback):
        make_feedback_item(db_session, workspace_id=workspace_id, customer_id=customer.id)
    for _ in range(events):
        make_event(db_session, workspace_id=workspace_id, customer_id=customer.id)
    return customer


def test_merge_keeps_all_history_and_is_audited(admin: Caller, db_session: Session) -> None:
    workspace_id = admin.workspace_id
    survivor = with_history(
        db_session,
        workspace_id,
        feedback=2,
        events=1,
        email="ann@example.com",
        attributes={"tier": "gold"},
        consent_sms=True,
        first_seen_at=datetime(2024, 3, 1, tzinfo=UTC),
    )
    duplicate = with_history(
        db_session,
        workspace_id,
        feedback=3,
        events=2,
        phone="+14155550132",
        external_id="C-9",
        external_id_source="crm",
        attributes={"tier": "silver", "city": "Leeds"},
        consent_email=True,
        consent_sms=False,
        first_seen_at=datetime(2023, 1, 1, tzinfo=UTC),
    )
    shared, only_duplicate = (make_segment(db_session, workspace_id=workspace_id) for _ in "ab")
    survivor.segments.append(shared)
    duplicate.segments.extend([shared, only_duplicate])
    db_session.commit()
    survivor_id, duplicate_id = survivor.id, duplicate.id
    assert history(db_session, survivor.id) == (2, 1, 1)
    assert history(db_session, duplicate.id) == (3, 2, 2)

    response = admin.http.post(
        f"/api/v1/customers/{survivor.id}/merge", json={"duplicate_id": duplicate.id}
    )
    assert response.status_code == 200, response.text
    merged = response.json()
    assert {(i["kind"], i["value"]) for i in merged["identities"]} == {
        ("email", "ann@example.com"),
        ("phone", "+14155550132"),
        ("external_id", "C-9"),
    }
    assert {s["id"] for s in merged["segments"]} == {shared.id, only_duplicate.id}
    assert merged["attributes"] == {"tier": "gold", "city": "Leeds"}
    assert (merged["consent_email"], merged["consent_sms"]) == (True, False)
    assert merged["first_seen_at"].startswith("2023-01-01")
    db_session.expire_all()
    assert history(db_session, survivor_id) == (5, 3, 2)
    assert history(db_session, duplicate_id) == (0, 0, 0)
    assert db_session.get(Customer, duplicate_id) is None
    assert admin.http.get(f"/api/v1/customers/{duplicate_id}").status_code == 404
    audit = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "customer.merged")
    ).one()
    assert (audit.workspace_id, audit.object_id) == (workspace_id, survivor_id)
    assert audit.details["duplicate_id"] == duplicate_id
    assert audit.details["moved"]["feedback_items"] == 3


def test_merging_across_workspaces_is_not_found(admin: Caller, db_session: Session) -> None:
    mine = with_history(db_session, admin.workspace_id, feedback=1, events=0)
    elsewhere = make_workspace(db_session).id
    theirs = with_history(db_session, elsewhere, feedback=2, events=1)
    db_session.commit()
    for survivor_id, duplicate_id in ((mine.id, theirs.id), (theirs.id, mine.id)):
        response = admin.http.post(
            f"/api/v1/customers/{survivor_id}/merge", json={"duplicate_id": duplicate_id}
        )
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("application/problem+json")
    db_session.expire_all()
    assert history(db_session, theirs.id) == (2, 1, 0)
    assert history(db_session, mine.id) == (1, 0, 0)


def test_merging_outside_the_callers_scope_is_not_found(
    make_caller: MakeCaller, db_session: Session
) -> None:
    workspace_id = make_workspace(db_session).id
    store = make_org_unit(db_session, workspace_id=workspace_id)
    other = make_org_unit(db_session, workspace_id=workspace_id)
    analyst = make_caller(Role.ANALYST, workspace_id=workspace_id, org_unit_id=store.id)
    inside = make_customer(db_session, workspace_id=workspace_id, org_unit_id=store.id)
    outside = make_customer(db_session, workspace_id=workspace_id, org_unit_id=other.id)
    db_session.commit()
    response = analyst.http.post(
        f"/api/v1/customers/{inside.id}/merge", json={"duplicate_id": outside.id}
    )
    assert response.status_code == 404
    assert db_session.get(Customer, outside.id) is not None


def test_roles_without_customer_writes_are_refused(
    make_caller: MakeCaller, db_session: Session
) -> None:
    workspace_id = make_workspace(db_session).id
    manager = make_caller(Role.MANAGER, workspace_id=workspace_id)
    first, second = (make_customer(db_session, workspace_id=workspace_id) for _ in "ab")
    db_session.commit()
    response = manager.http.post(
        f"/api/v1/customers/{first.id}/merge", json={"duplicate_id": second.id}
    )
    assert response.status_code == 403


def test_a_customer_cannot_absorb_itself(admin: Caller, db_session: Session) -> None:
    customer = make_customer(db_session, workspace_id=admin.workspace_id)
    db_session.commit()
    response = admin.http.post(
        f"/api/v1/customers/{customer.id}/merge", json={"duplicate_id": customer.id}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "duplicate_id"
