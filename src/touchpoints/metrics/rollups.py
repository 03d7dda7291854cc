"""Keep the feedback rollups exact: add each write's counts to its rows inside the write.

Creating a feedback item adds its counts to its day row and its month row, deleting it
subtracts them, and an update that moves it to another cell does both: one
INSERT ... ON CONFLICT DO UPDATE per row, atomic on SQLite and PostgreSQL alike. Rows a delete
empties go away, so the rows always equal a GROUP BY over feedback_items.
`add_items` adds a whole chunk of new items (a bulk import) with one upsert per table, the
chunk's counts summed per row first. `rebuild_rollups` recomputes a whole workspace from
feedback_items to repair, with one INSERT ... SELECT ... GROUP BY per table.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from typing import Any
from typing import cast as cast_type

from sqlalchemy import (
    ColumnElement,
    Date,
    Executable,
    Select,
    Table,
    bindparam,
    case,
    cast,
    delete,
    func,
    insert,
    select,
    text,
)
from sqlalchemy import literal_column as sql
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from touchpoints.feedback.models import FeedbackItem
from touchpoints.metrics.models import (
    COUNT_COLUMNS,
    DAY_CELL,
    MONTH_CELL,
    NO_KEY,
    FeedbackMonthRollup,
    FeedbackRollup,
)


def day_of(moment: datetime) -> date:
    """Return the UTC calendar day a timestamp falls on (the rollups' day)."""
    return moment.astimezone(UTC).date()


def first_of_month(day: date) -> date:
    """Return the first day of the day's month."""
    return day.replace(day=1)


@dataclass(frozen=True)
class Contribution:
    """What one feedback item adds to the rollups: its day cell and its counts."""

    workspace_id: str
    day: date
    org_unit_id: str
    touchpoint_id: str
    channel: str
    counts: tuple[int | float, ...]  # in the order of COUNT_COLUMNS


def contribution_of(item: FeedbackItem) -> Contribution:
    """Return the cell and counts a feedback item adds to the rollups."""
    return _contribution(
        item.workspace_id,
        item.occurred_at,
        item.org_unit_id,
        item.touchpoint_id,
        item.channel,
        (item.nps, item.csat, item.ces, item.rating),
    )


def contribution_of_row(row: Mapping[str, Any]) -> Contribution:
    """Return the cell and counts a feedback_items row (column -> value) adds to the rollups."""
    return _contribution(
        row["workspace_id"],
        row["occurred_at"],
        row["org_unit_id"],
        row["touchpoint_id"],
        row["channel"],
        (row["nps"], row["csat"], row["ces"], row["rating"]),
    )


def _contribution(
    workspace_id: str,
    occurred_at: datetime,
    org_unit_id: str | None,
    touchpoint_id: str | None,
    channel: str,
    scores: tuple[int | None, int | None, int | None, float | None],
) -> Contribution:
    nps, csat, ces, rating = scores
    counts = (
        1,
        int(nps is not None),
        int(nps is not None and nps >= 9),
        int(nps is not None and 7 <= nps <= 8),
        int(nps is not None and nps <= 6),
        int(csat is not None),
        int(csat is not None and csat >= 4),
        csat or 0,
        int(ces is not None),
        ces or 0,
        (ces or 0) * (ces or 0),
        int(rating is not None),
        float(rating or 0.0),
    )
    return Contribution(
        workspace_id=workspace_id,
        day=day_of(occurred_at),
        org_unit_id=org_unit_id or NO_KEY,
        touchpoint_id=touchpoint_id or NO_KEY,
        channel=str(channel),
        counts=counts,
    )


def add_item(db_session: Session, item: FeedbackItem) -> None:
    """Add a just created feedback item to its day and month rollups."""
    _apply(db_session, contribution_of(item), 1)


def remove_item(db_session: Session, item: FeedbackItem) -> None:
    """Take a just deleted feedback item out of its day and month rollups."""
    _apply(db_session, contribution_of(item), -1)


def move_item(db_session: Session, before: Contribution, item: FeedbackItem) -> None:
    """Move a just updated feedback item's counts from where they were to where they belong."""
    after = contribution_of(item)
    if after == before:
        return
    _apply(db_session, before, -1)
    _apply(db_session, after, 1)


def add_items(db_session: Session, rows: Iterable[Mapping[str, Any]]) -> None:
    """Add a chunk of just created feedback_items rows to the rollups, one upsert per table.

    The chunk's counts are summed per day row and per month row first, so each rollup row is
    written once however many of the chunk's items fall into it.
    """
    days: dict[tuple[Any, ...], list[tuple[int | float, ...]]] = {}
    months: dict[tuple[Any, ...], list[tuple[int | float, ...]]] = {}
    for row in rows:
        share = contribution_of_row(row)
        cell = (share.workspace_id, share.day, share.org_unit_id, share.touchpoint_id)
        days.setdefault((*cell, share.channel), []).append(share.counts)
        months.setdefault(_month_key(cell), []).append(share.counts)
    for workspace_id in sorted({key[0] for key in days}):
        _lock(db_session, workspace_id)
    dialect = db_session.get_bind().dialect.name
    for model, keys, groups in (
        (FeedbackRollup, DAY_CELL, days),
        (FeedbackMonthRollup, MONTH_CELL, months),
    ):
        if not groups:
            continue
        # In key order, so two writers adding to the same rows never wait on each other in a
        # cycle (PostgreSQL row locks).
        cells = [(*key, *_column_sums(group)) for key, group in sorted(groups.items())]
        names = (*keys, *COUNT_COLUMNS)
        if dialect == "postgresql":
            # One statement for the whole chunk: the cells go in as one array per column.
            columns = zip(*cells, strict=True)
            arrays = {name: list(column) for name, column in zip(names, columns, strict=True)}
            db_session.execute(_adding_upsert_of_arrays(model, keys), arrays)
        else:
            parameters = [dict(zip(names, cell, strict=True)) for cell in cells]
            db_session.execute(_adding_upsert(dialect, model, keys), parameters)


def _column_sums(counts: list[tuple[int | float, ...]]) -> list[int | float]:
    return [sum(column) for column in zip(*counts, strict=True)]


def _month_key(cell: tuple[Any, ...]) -> tuple[Any, ...]:
    workspace_id, day, org_unit_id, touchpoint_id = cell
    return (workspace_id, first_of_month(day), org_unit_id, touchpoint_id)


def _apply(db_session: Session, share: Contribution, sign: int) -> None:
    _lock(db_session, share.workspace_id)
    counts = {name: sign * value for name, value in zip(COUNT_COLUMNS, share.counts, strict=True)}
    day_cell = {
        "workspace_id": share.workspace_id,
        "day": share.day,
        "org_unit_id": share.org_unit_id,
        "touchpoint_id": share.touchpoint_id,
        "channel": share.channel,
    }
    month_cell = {
        "workspace_id": share.workspace_id,
        "month": first_of_month(share.day),
        "org_unit_id": share.org_unit_id,
        "touchpoint_id": share.touchpoint_id,
    }
    for model, keys, cell in (
        (FeedbackRollup, DAY_CELL, day_cell),
        (FeedbackMonthRollup, MONTH_CELL, month_cell),
    ):
        _upsert(db_session, model, keys, {**cell, **counts})
        if sign < 0:
            _drop_if_empty(db_session, model, cell)


def _upsert(
    db_session: Session,
    model: type[FeedbackRollup] | type[FeedbackMonthRollup],
    keys: tuple[str, ...],
    values: dict[str, Any],
) -> None:
    statement = _adding_upsert(db_session.get_bind().dialect.name, model, keys)
    db_session.execute(statement, values)


@cache
def _adding_upsert(
    dialect: str,
    model: type[FeedbackRollup] | type[FeedbackMonthRollup],
    keys: tuple[str, ...],
) -> Executable:
    # Built once: the row's values come as parameters, so every write reuses the statement.
    builder = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = builder(model)
    table = model.__table__
    added = {name: table.c[name] + statement.excluded[name] for name in COUNT_COLUMNS}
    return statement.on_conflict_do_update(index_elements=keys, set_=added)


@cache
def _adding_upsert_of_arrays(
    model: type[FeedbackRollup] | type[FeedbackMonthRollup], keys: tuple[str, ...]
) -> Executable:
    # INSERT ... SELECT unnest(:a), unnest(:b)... ON CONFLICT: the arrays unnest side by side.
    table = cast_type(Table, model.__table__)
    names = (*keys, *COUNT_COLUMNS)
    cells = select(
        *(
            func.unnest(bindparam(name, type_=postgresql.ARRAY(table.c[name].type))).label(name)
            for name in names
        )
    )
    statement = postgresql.insert(table).from_select(list(names), cells)
    added = {name: table.c[name] + statement.excluded[name] for name in COUNT_COLUMNS}
    return statement.on_conflict_do_update(index_elements=keys, set_=added)


def _drop_if_empty(
    db_session: Session,
    model: type[FeedbackRollup] | type[FeedbackMonthRollup],
    cell: dict[str, Any],
) -> None:
    # The subtracting upsert holds this row's lock until commit, so no other write slips in.
    table = model.__table__
    matches = [table.c[name] == value for name, value in cell.items()]
    db_session.execute(delete(model).where(*matches, table.c.responses <= 0))


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


def _days_select(dialect: str, workspace_id: str) -> Select[Any]:
    item = FeedbackItem
    day = _day_of_item(dialect)
    org_unit = func.coalesce(item.org_unit_id, sql(f"'{NO_KEY}'"))
    touchpoint = func.coalesce(item.touchpoint_id, sql(f"'{NO_KEY}'"))
    statement = select(
        item.workspace_id,
        day,
        org_unit,
        touchpoint,
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
    return statement.group_by(item.workspace_id, day, org_unit, touchpoint, item.channel)


def _months_select(dialect: str, workspace_id: str) -> Select[Any]:
    rollup = FeedbackRollup
    month = _month_of_day(dialect)
    sums = [func.sum(rollup.__table__.c[name]) for name in COUNT_COLUMNS]
    statement = select(rollup.workspace_id, month, rollup.org_unit_id, rollup.touchpoint_id, *sums)
    statement = statement.where(rollup.workspace_id == workspace_id)
    return statement.group_by(rollup.workspace_id, month, rollup.org_unit_id, rollup.touchpoint_id)


def _recompute_days(db_session: Session, workspace_id: str) -> None:
    dialect = db_session.get_bind().dialect.name
    stale = delete(FeedbackRollup).where(FeedbackRollup.workspace_id == workspace_id)
    db_session.execute(stale)
    columns = [FeedbackRollup.__table__.c[name] for name in (*DAY_CELL, *COUNT_COLUMNS)]
    fresh = _days_select(dialect, workspace_id)
    db_session.execute(insert(FeedbackRollup).from_select(columns, fresh))


def _recompute_months(db_session: Session, workspace_id: str) -> None:
    dialect = db_session.get_bind().dialect.name
    month = FeedbackMonthRollup
    stale = delete(month).where(month.workspace_id == workspace_id)
    db_session.execute(stale)
    columns = [month.__table__.c[name] for name in (*MONTH_CELL, *COUNT_COLUMNS)]
    fresh = _months_select(dialect, workspace_id)
    db_session.execute(insert(month).from_select(columns, fresh))


def _lock(db_session: Session, workspace_id: str, *, rebuild: bool = False) -> None:
    # A whole rebuild deletes and re-inserts a workspace's rows: on PostgreSQL a
    # transaction-scoped advisory lock keeps incremental writes (which share it) out meanwhile.
    # SQLite allows one writer at a time already.
    if db_session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.sha256(f"rollup:{workspace_id}:all".encode()).digest()
    number = int.from_bytes(digest[:8], "big", signed=True)
    function = "pg_advisory_xact_lock" if rebuild else "pg_advisory_xact_lock_shared"
    db_session.execute(text(f"SELECT {function}(:key)"), {"key": number})


def rebuild_rollups(db_session: Session, *, workspace_id: str) -> None:
    """Recompute every rollup row of a workspace (after a bulk load or to repair)."""
    _lock(db_session, workspace_id, rebuild=True)
    _recompute_days(db_session, workspace_id)
    _recompute_months(db_session, workspace_id)
