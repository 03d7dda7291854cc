"""Keep the feedback rollups exact: recompute them from feedback_items inside the write.

Every write of a feedback item recomputes the daily rows of its (workspace, day) and then the
monthly rows of that month from the days, in the same transaction; `rebuild_rollups` does a
whole workspace after bulk loads. Each recompute is one INSERT ... SELECT ... GROUP BY that
runs on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Date, Select, case, cast, delete, func, insert, select, text
from sqlalchemy import literal_column as sql
from sqlalchemy.orm import Session

from touchpoints.feedback.models import FeedbackItem
from touchpoints.metrics.models import COUNT_COLUMNS, FeedbackMonthRollup, FeedbackRollup

DAY_KEYS = ("workspace_id", "day", "org_unit_id", "touchpoint_id", "channel")
MONTH_KEYS = ("workspace_id", "month", "org_unit_id", "touchpoint_id")
Span = tuple[date, date]  # [first day, day after the last)


def day_of(moment: datetime) -> date:
    """Return the UTC calendar day a timestamp falls on (the rollups' day)."""
    return moment.astimezone(UTC).date()


def first_of_month(day: date) -> date:
    """Return the first day of the day's month."""
    return day.replace(day=1)


def _next_month(month: date) -> date:
    return (month + timedelta(days=32)).replace(day=1)


def _day_of_item(dialect: str) -> ColumnElement[Any]:
    # Literal SQL (not bound parameters) so the GROUP BY repeats the exact same expression.
    if dialect == "postgresql":
        return cast(func.timezone(sql("'UTC'"), FeedbackItem.occurred_at), Date)
    return func.date(FeedbackItem.occurred_at)


def _month_of_day(dialect: str) -> ColumnElement[Any]:
    if dialect == "postgresql":
        return cast(func.date_trunc(sql("'month'"), FeedbackRollup.day), Date)
    # SQLite keeps dates as 'YYYY-MM-DD' text.
    return func.substr(FeedbackRollup.day, sql("1"), sql("7")).concat(sql("'-01'"))


def _share(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.sum(case((condition, 1), else_=0))


def _days_select(dialect: str, workspace_id: str, span: Span | None) -> Select[Any]:
    item = FeedbackItem
    day = _day_of_item(dialect)
    statement = select(
        item.workspace_id,
        day,
        item.org_unit_id,
        item.touchpoint_id,
        item.channel,
        func.count(),
        func.count(item.nps),
        _share(item.nps >= 9),
        _share(item.nps.between(7, 8)),
        _share(item.nps <= 6),
        func.count(item.csat),
        _share(item.csat >= 4),
        func.coalesce(func.sum(item.csat), 0),
        func.count(item.ces),
        func.coalesce(func.sum(item.ces), 0),
        func.coalesce(func.sum(item.ces * item.ces), 0),
        func.count(item.rating),
        func.coalesce(func.sum(item.rating), 0.0),
    ).where(item.workspace_id == workspace_id)
    if span is not None:
        start, end = (datetime.combine(day, time(), UTC) for day in span)
        statement = statement.where(item.occurred_at >= start, item.occurred_at < end)
    return statement.group_by(
        item.workspace_id, day, item.org_unit_id, item.touchpoint_id, item.channel
    )


def _months_select(dialect: str, workspace_id: str, span: Span | None) -> Select[Any]:
    rollup = FeedbackRollup
    month = _month_of_day(dialect)
    sums = [func.sum(rollup.__table__.c[name]) for name in COUNT_COLUMNS]
    statement = select(rollup.workspace_id, month, rollup.org_unit_id, rollup.touchpoint_id, *sums)
    statement = statement.where(rollup.workspace_id == workspace_id)
    if span is not None:
        statement = statement.where(rollup.day >= span[0], rollup.day < span[1])
    return statement.group_by(rollup.workspace_id, month, rollup.org_unit_id, rollup.touchpoint_id)


def _recompute_days(db_session: Session, workspace_id: str, span: Span | None) -> None:
    dialect = db_session.get_bind().dialect.name
    stale = delete(FeedbackRollup).where(FeedbackRollup.workspace_id == workspace_id)
    if span is not None:
        stale = stale.where(FeedbackRollup.day >= span[0], FeedbackRollup.day < span[1])
    db_session.execute(stale)
    columns = [FeedbackRollup.__table__.c[name] for name in (*DAY_KEYS, *COUNT_COLUMNS)]
    fresh = _days_select(dialect, workspace_id, span)
    db_session.execute(insert(FeedbackRollup).from_select(columns, fresh))


def _recompute_months(db_session: Session, workspace_id: str, span: Span | None) -> None:
    dialect = db_session.get_bind().dialect.name
    month = FeedbackMonthRollup
    stale = delete(month).where(month.workspace_id == workspace_id)
    if span is not None:
        stale = stale.where(month.month >= span[0], month.month < span[1])
    db_session.execute(stale)
    columns = [month.__table__.c[name] for name in (*MONTH_KEYS, *COUNT_COLUMNS)]
    fresh = _months_select(dialect, workspace_id, span)
    db_session.execute(insert(month).from_select(columns, fresh))


def _lock(db_session: Session, workspace_id: str, month: date | None) -> None:
    # Two PostgreSQL transactions recomputing the same month would each insert their rows; a
    # transaction-scoped advisory lock makes the second wait, then see the first's rows.
    # Month refreshes share the workspace lock; a whole rebuild takes it alone. SQLite
    # allows one writer at a time already.
    if db_session.get_bind().dialect.name != "postgresql":
        return
    _advisory_lock(db_session, f"{workspace_id}:all", shared=month is not None)
    if month is not None:
        _advisory_lock(db_session, f"{workspace_id}:{month}", shared=False)


def _advisory_lock(db_session: Session, name: str, *, shared: bool) -> None:
    digest = hashlib.sha256(f"rollup:{name}".encode()).digest()
    number = int.from_bytes(digest[:8], "big", signed=True)
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    db_session.execute(text(f"SELECT {function}(:key)"), {"key": number})


def refresh_days(db_session: Session, *, workspace_id: str, days: Iterable[date]) -> None:
    """Recompute the rollups of the given days (and of their months) from the feedback items."""
    by_month: dict[date, set[date]] = {}
    for day in days:
        by_month.setdefault(first_of_month(day), set()).add(day)
    for month in sorted(by_month):
        _lock(db_session, workspace_id, month)
        for day in sorted(by_month[month]):
            _recompute_days(db_session, workspace_id, (day, day + timedelta(days=1)))
        _recompute_months(db_session, workspace_id, (month, _next_month(month)))


def refresh_for_item(db_session: Session, item: FeedbackItem) -> None:
    """Recompute the rollups of the day a (flushed or just deleted) feedback item belongs to."""
    refresh_days(db_session, workspace_id=item.workspace_id, days=[day_of(item.occurred_at)])


def rebuild_rollups(db_session: Session, *, workspace_id: str) -> None:
    """Recompute every rollup row of a workspace (after a bulk load or to repair)."""
    _lock(db_session, workspace_id, None)
    _recompute_days(db_session, workspace_id, None)
    _recompute_months(db_session, workspace_id, None)
