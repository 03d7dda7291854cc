"""Rollups stay equal to a direct GROUP BY over feedback_items through every feedback write."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.factories.orgs import make_org_unit, make_workspace
from touchpoints.auth.permissions import Principal, Role
from touchpoints.feedback.models import FeedbackItem
from touchpoints.feedback.schemas import FeedbackItemCreate, FeedbackItemUpdate
from touchpoints.feedback.service import create_feedback, delete_feedback, update_feedback
from touchpoints.journeys.models import Channel
from touchpoints.metrics.counts import Counts, monthly_counts
from touchpoints.metrics.models import COUNT_COLUMNS, FeedbackMonthRollup, FeedbackRollup
from touchpoints.metrics.rollups import day_of, rebuild_rollups


def _actor(workspace_id: str) -> Principal:
    return Principal(workspace_id=workspace_id, user_id="tester", role=Role.ADMIN)


def _post(db_session: Session, actor: Principal, when: datetime, **fields: Any) -> FeedbackItem:
    scores = {k: fields.pop(k) for k in ("nps", "csat", "ces", "rating") if k in fields}
    feedback_in = FeedbackItemCreate.model_validate(
        {"occurred_at": when, "text": "said something", "scores": scores, **fields}
    )
    return create_feedback(db_session=db_session, actor=actor, feedback_in=feedback_in)


def _direct(db_session: Session, workspace_id: str) -> dict[tuple[Any, ...], Counts]:
    """Group the workspace's feedback items by rollup key, in Python, from the rows."""
    groups: dict[tuple[Any, ...], Counts] = {}
    items = db_session.scalars(
        select(FeedbackItem).where(FeedbackItem.workspace_id == workspace_id)
    )
    for item in items:
        key = (day_of(item.occurred_at), item.org_unit_id, item.touchpoint_id, item.channel)
        groups[key] = groups.get(key, Counts()) + Counts(
            responses=1,
            nps_n=int(item.nps is not None),
            promoters=int(item.nps is not None and item.nps >= 9),
            passives=int(item.nps is not None and 7 <= item.nps <= 8),
            detractors=int(item.nps is not None and item.nps <= 6),
            csat_n=int(item.csat is not None),
            csat_top2=int(item.csat is not None and item.csat >= 4),
            csat_sum=item.csat or 0,
            ces_n=int(item.ces is not None),
            ces_sum=item.ces or 0,
            ces_sumsq=(item.ces or 0) ** 2,
            rating_n=int(item.rating is not None),
            rating_sum=item.rating or 0.0,
        )
    return groups


def _stored(db_session: Session, workspace_id: str) -> dict[tuple[Any, ...], Counts]:
    rows = db_session.scalars(
        select(FeedbackRollup).where(FeedbackRollup.workspace_id == workspace_id)
    )
    stored: dict[tuple[Any, ...], Counts] = {}
    for row in rows:
        key = (row.day, row.org_unit_id or None, row.touchpoint_id or None, row.channel)
        assert key not in stored, f"two rollup rows for {key}"
        stored[key] = Counts(**{name: getattr(row, name) for name in COUNT_COLUMNS})
    return stored


def _months_total(db_session: Session, workspace_id: str) -> int:
    statement = select(func.coalesce(func.sum(FeedbackMonthRollup.responses), 0)).where(
        FeedbackMonthRollup.workspace_id == workspace_id
    )
    return int(db_session.scalar(statement) or 0)


def test_rollups_follow_creates_updates_and_deletes(db_session: Session) -> None:
    workspace_id = make_workspace(db_session).id
    actor = _actor(workspace_id)
    store_a = make_org_unit(db_session, workspace_id=workspace_id).id
    store_b = make_org_unit(db_session, workspace_id=workspace_id).id
    march, april = datetime(2026, 3, 4, 23, 30, tzinfo=UTC), datetime(2026, 4, 1, 0, 5, tzinfo=UTC)
    items = [
        _post(db_session, actor, march, nps=10, csat=5, org_unit_id=store_a),
        _post(db_session, actor, march, nps=8, ces=6, org_unit_id=store_a),
        _post(db_session, actor, march, nps=2, ces=3, rating=4.5, org_unit_id=store_b),
        _post(db_session, actor, april, csat=2, channel=Channel.PHONE.value),
        _post(db_session, actor, april, nps=9, org_unit_id=store_b),
    ]
    assert _stored(db_session, workspace_id) == _direct(db_session, workspace_id)
    update_feedback(
        db_session=db_session,
        actor=actor,
        feedback_id=items[1].id,
        feedback_in=FeedbackItemUpdate(org_unit_id=store_b),
    )
    assert _stored(db_session, workspace_id) == _direct(db_session, workspace_id)
    for item in items[:2] + items[3:4]:
        delete_feedback(db_session=db_session, actor=actor, feedback_id=item.id)
        assert _stored(db_session, workspace_id) == _direct(db_session, workspace_id)
    assert _months_total(db_session, workspace_id) == 2


def _month_rows(db_session: Session, workspace_id: str) -> dict[tuple[Any, ...], int]:
    rows = db_session.scalars(
        select(FeedbackMonthRollup).where(FeedbackMonthRollup.workspace_id == workspace_id)
    )
    return {(row.month, row.org_unit_id or None): row.responses for row in rows}


def test_items_of_one_cell_add_up_in_one_row(db_session: Session) -> None:
    workspace_id = make_workspace(db_session).id
    actor = _actor(workspace_id)
    store = make_org_unit(db_session, workspace_id=workspace_id).id
    when = datetime(2026, 2, 10, 9, tzinfo=UTC)
    for nps, ces in ((10, 7), (9, None), (3, 2), (7, 5)):
        _post(db_session, actor, when, nps=nps, ces=ces, org_unit_id=store)
    (counts,) = _stored(db_session, workspace_id).values()
    assert (counts.responses, counts.promoters, counts.passives, counts.detractors) == (4, 2, 1, 1)
    assert (counts.ces_n, counts.ces_sum, counts.ces_sumsq) == (3, 14, 78)
    assert _stored(db_session, workspace_id) == _direct(db_session, workspace_id)


def test_moving_an_item_between_org_units_moves_its_counts(db_session: Session) -> None:
    workspace_id = make_workspace(db_session).id
    actor = _actor(workspace_id)
    store_a = make_org_unit(db_session, workspace_id=workspace_id).id
    store_b = make_org_unit(db_session, workspace_id=workspace_id).id
    when = datetime(2026, 2, 10, 9, tzinfo=UTC)
    _post(db_session, actor, when, nps=10, org_unit_id=store_a)
    moving = _post(db_session, actor, when, nps=1, org_unit_id=store_a)
    update_feedback(
        db_session=db_session,
        actor=actor,
        feedback_id=moving.id,
        feedback_in=FeedbackItemUpdate(org_unit_id=store_b),
    )
    assert _stored(db_session, workspace_id) == _direct(db_session, workspace_id)
    month = when.date().replace(day=1)
    assert _month_rows(db_session, workspace_id) == {(month, store_a): 1, (month, store_b): 1}
    update_feedback(
        db_session=db_session,
        actor=actor,
        feedback_id=moving.id,
        feedback_in=FeedbackItemUpdate(org_unit_id=None),
    )
    assert _stored(db_session, workspace_id) == _direct(db_session, workspace_id)
    assert _month_rows(db_session, workspace_id) == {(month, store_a): 1, (month, None): 1}


def test_deleting_the_last_item_of_a_cell_removes_its_rows(db_session: Session) -> None:
    workspace_id = make_workspace(db_session).id
    actor = _actor(workspace_id)
    kept = _post(db_session, actor, datetime(2026, 2, 10, 9, tzinfo=UTC), nps=10)
    gone = _post(db_session, actor, datetime(2026, 3, 2, 9, tzinfo=UTC), csat=5, rating=3.5)
    delete_feedback(db_session=db_session, actor=actor, feedback_id=gone.id)
    assert _stored(db_session, workspace_id) == _direct(db_session, workspace_id)
    assert _month_rows(db_session, workspace_id) == {(datetime(2026, 2, 1).date(), None): 1}
    delete_feedback(db_session=db_session, actor=actor, feedback_id=kept.id)
    assert _stored(db_session, workspace_id) == {}
    assert _month_rows(db_session, workspace_id) == {}


def test_days_follow_utc_not_the_offset_given(db_session: Session) -> None:
    workspace_id = make_workspace(db_session).id
    actor = _actor(workspace_id)
    # 01:30 in Berlin on April 1st is still March 31st in UTC.
    berlin = datetime.fromisoformat("2026-04-01T01:30:00+02:00")
    _post(db_session, actor, berlin, nps=10)
    (key,) = _stored(db_session, workspace_id)
    assert key[0].isoformat() == "2026-03-31"


def test_monthly_counts_sum_the_days(db_session: Session) -> None:
    workspace_id = make_workspace(db_session).id
    actor = _actor(workspace_id)
    for day in (1, 15, 31):
        _post(db_session, actor, datetime(2026, 1, day, 12, tzinfo=UTC), nps=10, ces=5)
    _post(db_session, actor, datetime(2026, 2, 1, 12, tzinfo=UTC), nps=0)
    months = monthly_counts(
        db_session,
        actor=actor,
        start=datetime(2026, 1, 1).date(),
        end=datetime(2026, 3, 1).date(),
    )
    by_month = {row.month.isoformat(): row.counts for row in months}
    assert by_month["2026-01-01"].promoters == 3
    assert by_month["2026-01-01"].ces_sumsq == 75
    assert by_month["2026-02-01"].detractors == 1


def test_rebuild_repairs_rollups_after_bulk_writes(db_session: Session) -> None:
    workspace_id = make_workspace(db_session).id
    actor = _actor(workspace_id)
    _post(db_session, actor, datetime(2026, 5, 5, tzinfo=UTC), nps=7)
    # A bulk load writes rows without the service (as the demo generator does).
    db_session.add_all(
        FeedbackItem(
            workspace_id=workspace_id,
            solicited=True,
            source="bulk",
            channel="email",
            occurred_at=datetime(2026, 5, day, tzinfo=UTC),
            nps=day % 11,
        )
        for day in range(1, 20)
    )
    db_session.flush()
    assert _stored(db_session, workspace_id) != _direct(db_session, workspace_id)
    rebuild_rollups(db_session, workspace_id=workspace_id)
    assert _stored(db_session, workspace_id) == _direct(db_session, workspace_id)
    assert _months_total(db_session, workspace_id) == 20


def test_rollups_of_another_workspace_are_left_alone(db_session: Session) -> None:
    mine, theirs = make_workspace(db_session).id, make_workspace(db_session).id
    _post(db_session, _actor(theirs), datetime(2026, 6, 1, tzinfo=UTC), nps=10)
    rebuild_rollups(db_session, workspace_id=mine)
    _post(db_session, _actor(mine), datetime(2026, 6, 1, tzinfo=UTC), nps=1)
    assert _months_total(db_session, theirs) == 1
    assert _stored(db_session, theirs) == _direct(db_session, theirs)
