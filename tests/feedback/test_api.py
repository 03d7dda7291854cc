"""The feedback API: adding, finding, correcting and deleting what customers said."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import Caller, MakeCaller
from tests.factories.feedback import make_customer, make_feedback_item, make_touchpoint
from tests.factories.orgs import make_org_unit
from touchpoints.auth.permissions import Role
from touchpoints.feedback.models import FeedbackItem

URL = "/api/v1/feedback"
PROBLEM = "application/problem+json"


def review(**fields: Any) -> dict[str, Any]:
    """Return the body of a valid unsolicited review."""
    body: dict[str, Any] = {
        "source": "app_store",
        "channel": "review_site",
        "occurred_at": "2024-05-01T09:30:00+02:00",
        "text": "Checkout kept failing on my phone.",
        "scores": {"rating": 2},
    }
    return body | fields


def stored_count(db_session: Session, workspace_id: str) -> int:
    """Count the feedback items stored in a workspace."""
    statement = select(func.count()).where(FeedbackItem.workspace_id == workspace_id)
    return int(db_session.scalar(statement) or 0)


def error_fields(response: Any) -> list[str]:
    """Return the fields a problem+json answer names."""
    assert response.headers["content-type"] == PROBLEM, response.text
    return [error["field"] for error in response.json().get("errors", [])]


def test_created_item_is_returned_with_scores_links_and_utc_time(
    admin: Caller, db_session: Session
) -> None:
    touchpoint = make_touchpoint(db_session, workspace_id=admin.workspace_id)
    customer = make_customer(db_session, workspace_id=admin.workspace_id)
    db_session.commit()
    body = review(
        solicited=True,
        source="survey",
        source_ref="resp-1",
        touchpoint_id=touchpoint.id,
        customer_id=customer.id,
        title="Checkout",
        language="en-GB",
        scores={"nps": 3, "csat": 2, "ces": 6, "rating": 7.5, "rating_scale": 10},
        metadata={"order": "A-17"},
    )

    created = admin.http.post(URL, json=body)

    assert created.status_code == 201, created.text
    item = created.json()
    assert item["occurred_at"] == "2024-05-01T07:30:00Z"
    assert item["scores"] == {"nps": 3, "csat": 2, "ces": 6, "rating": 7.5, "rating_scale": 10}
    assert item["metadata"] == {"order": "A-17"}
    assert (item["touchpoint_id"], item["customer_id"]) == (touchpoint.id, customer.id)
    assert item["received_at"] is not None
    read = admin.http.get(f"{URL}/{item['id']}")
    assert read.status_code == 200
    assert read.json() == item


def test_list_filters_sorts_and_pages(admin: Caller, db_session: Session) -> None:
    start = datetime(2024, 3, 1, tzinfo=UTC)
    for day in range(5):
        make_feedback_item(
            db_session,
            workspace_id=admin.workspace_id,
            occurred_at=start + timedelta(days=day),
            channel="web" if day % 2 == 0 else "chat",
            nps=day * 2,
        )
    db_session.commit()

    web = admin.http.get(URL, params={"filter": "channel:eq:web", "sort": "occurred_at"})
    page = admin.http.get(URL, params={"limit": 2, "offset": 2})
    detractors = admin.http.get(URL, params=[("filter", "nps:lte:6"), ("filter", "nps:gt:0")])

    assert [i["occurred_at"][:10] for i in web.json()["items"]] == [
        "2024-03-01",
        "2024-03-03",
        "2024-03-05",
    ]
    assert page.json()["total"] == 5
    assert [i["occurred_at"][:10] for i in page.json()["items"]] == ["2024-03-03", "2024-03-02"]
    assert sorted(i["scores"]["nps"] for i in detractors.json()["items"]) == [2, 4, 6]


def test_list_filters_by_occurred_at_range(admin: Caller, db_session: Session) -> None:
    start = datetime(2024, 3, 1, 12, tzinfo=UTC)
    for day in range(5):
        make_feedback_item(
            db_session, workspace_id=admin.workspace_id, occurred_at=start + timedelta(days=day)
        )
    db_session.commit()
    window = [
        ("filter", "occurred_at:gte:2024-03-02T13:00:00+01:00"),
        ("filter", "occurred_at:lt:2024-03-04T12:00:00Z"),
    ]

    listed = admin.http.get(URL, params=window)

    assert listed.status_code == 200, listed.text
    assert [i["occurred_at"] for i in listed.json()["items"]] == [
        "2024-03-03T12:00:00Z",
        "2024-03-02T12:00:00Z",
    ]


def test_search_finds_words_in_text_or_title_ignoring_case(
    admin: Caller, db_session: Session
) -> None:
    workspace_id = admin.workspace_id
    make_feedback_item(db_session, workspace_id=workspace_id, text="The DELIVERY was late")
    make_feedback_item(db_session, workspace_id=workspace_id, title="Delivery", text="ok")
    make_feedback_item(db_session, workspace_id=workspace_id, text="Friendly staff")
    make_feedback_item(db_session, workspace_id=workspace_id, text="100% sure")
    db_session.commit()

    found = admin.http.get(URL, params={"q": "delivery"}).json()
    percent = admin.http.get(URL, params={"q": "100%"}).json()

    assert found["total"] == 2
    assert percent["total"] == 1


def test_out_of_range_score_is_refused_naming_it(admin: Caller, db_session: Session) -> None:
    response = admin.http.post(URL, json=review(scores={"nps": 11}))

    assert response.status_code == 422
    assert error_fields(response) == ["scores.nps"]
    assert stored_count(db_session, admin.workspace_id) == 0


def test_rating_above_its_scale_is_refused(admin: Caller) -> None:
    response = admin.http.post(URL, json=review(scores={"rating": 6, "rating_scale": 5}))

    assert response.status_code == 422
    assert error_fields(response) == ["scores.rating"]


def test_item_without_text_or_scores_is_refused(admin: Caller) -> None:
    response = admin.http.post(URL, json=review(text="   ", scores={}))

    assert response.status_code == 422
    assert "at least one score" in response.json()["detail"]


def test_timestamp_without_timezone_or_far_in_future_is_refused(admin: Caller) -> None:
    future = (datetime.now(UTC) + timedelta(days=3)).isoformat()

    naive = admin.http.post(URL, json=review(occurred_at="2024-05-01T09:30:00"))
    ahead = admin.http.post(URL, json=review(occurred_at=future))

    assert naive.status_code == 422
    assert error_fields(naive) == ["occurred_at"]
    assert ahead.status_code == 422
    assert "future" in ahead.json()["detail"]


def test_unknown_or_foreign_links_are_refused_naming_the_field(
    admin: Caller, make_caller: MakeCaller, db_session: Session
) -> None:
    other = make_caller(Role.ADMIN)
    foreign_customer = make_customer(db_session, workspace_id=other.workspace_id)
    db_session.commit()

    touchpoint = admin.http.post(URL, json=review(touchpoint_id="nope"))
    customer = admin.http.post(URL, json=review(customer_id=foreign_customer.id))
    org_unit = admin.http.post(URL, json=review(org_unit_id="nope"))

    assert (touchpoint.status_code, error_fields(touchpoint)) == (422, ["touchpoint_id"])
    assert (customer.status_code, error_fields(customer)) == (422, ["customer_id"])
    assert (org_unit.status_code, error_fields(org_unit)) == (422, ["org_unit_id"])
    assert stored_count(db_session, admin.workspace_id) == 0


def test_duplicate_source_ref_conflicts_and_keeps_the_first(
    admin: Caller, db_session: Session
) -> None:
    first = admin.http.post(URL, json=review(source_ref="r-1"))
    again = admin.http.post(URL, json=review(source_ref="r-1", text="Changed my mind"))
    other_source = admin.http.post(URL, json=review(source="twitter", source_ref="r-1"))

    assert first.status_code == 201
    assert again.status_code == 409
    assert again.headers["content-type"] == PROBLEM
    assert first.json()["id"] in again.json()["detail"]
    assert other_source.status_code == 201
    assert stored_count(db_session, admin.workspace_id) == 2


def test_retry_with_idempotency_key_stores_one_item(admin: Caller, db_session: Session) -> None:
    headers = {"Idempotency-Key": "import-42"}

    first = admin.http.post(URL, json=review(), headers=headers)
    retry = admin.http.post(URL, json=review(), headers=headers)

    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json() == first.json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert stored_count(db_session, admin.workspace_id) == 1


def test_viewer_reads_feedback_but_cannot_write(
    admin: Caller, make_caller: MakeCaller, db_session: Session
) -> None:
    item = make_feedback_item(db_session, workspace_id=admin.workspace_id)
    viewer = make_caller(Role.VIEWER, workspace_id=admin.workspace_id)

    listed = viewer.http.get(URL)
    created = viewer.http.post(URL, json=review())
    patched = viewer.http.patch(f"{URL}/{item.id}", json={"title": "x"})
    deleted = viewer.http.delete(f"{URL}/{item.id}")

    assert listed.json()["total"] == 1
    assert (created.status_code, patched.status_code, deleted.status_code) == (403, 403, 403)
    assert created.headers["content-type"] == PROBLEM
    assert stored_count(db_session, admin.workspace_id) == 1


def test_store_manager_sees_only_their_store(
    admin: Caller, make_caller: MakeCaller, db_session: Session
) -> None:
    region = make_org_unit(db_session, workspace_id=admin.workspace_id, kind="region")
    store_a = make_org_unit(db_session, workspace_id=admin.workspace_id, parent_id=region.id)
    store_b = make_org_unit(db_session, workspace_id=admin.workspace_id, parent_id=region.id)
    mine = make_feedback_item(db_session, workspace_id=admin.workspace_id, org_unit_id=store_a.id)
    theirs = make_feedback_item(db_session, workspace_id=admin.workspace_id, org_unit_id=store_b.id)
    make_feedback_item(db_session, workspace_id=admin.workspace_id)
    manager = make_caller(Role.MANAGER, workspace_id=admin.workspace_id, org_unit_id=store_a.id)

    listed = manager.http.get(URL).json()

    assert [i["id"] for i in listed["items"]] == [mine.id]
    assert listed["total"] == 1
    assert manager.http.get(f"{URL}/{mine.id}").status_code == 200
    assert manager.http.get(f"{URL}/{theirs.id}").status_code == 404
    assert admin.http.get(URL).json()["total"] == 3


def test_another_workspaces_item_is_not_found(
    admin: Caller, make_caller: MakeCaller, db_session: Session
) -> None:
    other = make_caller(Role.ADMIN)
    foreign = make_feedback_item(db_session, workspace_id=other.workspace_id)
    db_session.commit()

    assert admin.http.get(f"{URL}/{foreign.id}").status_code == 404
    assert admin.http.patch(f"{URL}/{foreign.id}", json={"title": "x"}).status_code == 404
    assert admin.http.delete(f"{URL}/{foreign.id}").status_code == 404
    assert admin.http.get(URL).json()["total"] == 0
    assert other.http.get(f"{URL}/{foreign.id}").status_code == 200


def test_update_relinks_and_relabels_but_keeps_what_was_said(
    admin: Caller, db_session: Session
) -> None:
    touchpoint = make_touchpoint(db_session, workspace_id=admin.workspace_id)
    item = make_feedback_item(db_session, workspace_id=admin.workspace_id, title="Old", nps=4)
    db_session.commit()
    path = f"{URL}/{item.id}"

    changed = admin.http.patch(
        path,
        json={
            "touchpoint_id": touchpoint.id,
            "title": None,
            "language": "de",
            "metadata": {"a": 1},
        },
    )
    rewrite = admin.http.patch(path, json={"text": "Great!", "scores": {"nps": 10}})
    bad_link = admin.http.patch(path, json={"customer_id": "nope"})

    assert changed.status_code == 200, changed.text
    updated = changed.json()
    assert (updated["touchpoint_id"], updated["title"], updated["language"]) == (
        touchpoint.id,
        None,
        "de",
    )
    assert updated["metadata"] == {"a": 1}
    assert rewrite.status_code == 422
    assert sorted(error_fields(rewrite)) == ["scores", "text"]
    assert (bad_link.status_code, error_fields(bad_link)) == (422, ["customer_id"])
    stored = admin.http.get(path).json()
    assert (stored["text"], stored["scores"]["nps"]) == ("The app works well.", 4)


def test_deleted_item_is_gone(admin: Caller, db_session: Session) -> None:
    item = make_feedback_item(db_session, workspace_id=admin.workspace_id)
    db_session.commit()

    deleted = admin.http.delete(f"{URL}/{item.id}")

    assert deleted.status_code == 204
    assert admin.http.get(f"{URL}/{item.id}").status_code == 404
    assert stored_count(db_session, admin.workspace_id) == 0


def test_unknown_filter_field_is_refused(admin: Caller) -> None:
    response = admin.http.get(URL, params={"filter": "mood:eq:happy"})

    assert response.status_code == 422
    assert error_fields(response) == ["filter"]


def test_malformed_json_is_a_problem(admin: Caller) -> None:
    response = admin.http.post(
        URL, content=b'{"text": "broken', headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM


def test_oversized_body_is_refused(admin: Caller, db_session: Session) -> None:
    limit = admin.http.app.state.settings.api_max_body_bytes  # type: ignore[attr-defined]

    response = admin.http.post(URL, json=review(text="x" * (limit + 1)))

    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM
    assert stored_count(db_session, admin.workspace_id) == 0
