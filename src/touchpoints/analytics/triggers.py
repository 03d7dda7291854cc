"""Database triggers that mark analytics data stale on every write, on either store.

Every write path (services, bulk imports, the demo generator, hand-written SQL) goes through
these triggers, so the exporter never misses a change. What a write marks, and the cap on row
marks, is decided in touchpoints.analytics.marks; this module turns those rules into DDL.

SQLite: row-level triggers. SQLite runs one writer at a time, so a trigger skips its mark when
an unclaimed partition mark of the same partition exists already, and a bulk load leaves one
partition mark per partition (plus the row marks written before the cap was reached).
PostgreSQL: statement-level triggers over transition tables: one INSERT ... SELECT writes a
statement's row marks, or, above the cap, at most one partition mark per partition and
transaction (they skip partitions their own transaction marked already). They never skip
because of another transaction's mark, which the exporter could claim before this
transaction commits; seeing one, they add their own partition mark rather than row marks.
They never update or lock an existing mark, so concurrent writers never wait on each other
here (an upsert on one hot row would serialise them, and could deadlock two transactions that
touch two partitions in opposite orders).

A store without the row-mark table (migrated only as far as revision 0006 or 0007) gets the
partition-mark triggers those revisions had: `install_change_tracking` looks.
"""

from __future__ import annotations

from sqlalchemy import Connection, inspect

from touchpoints.analytics.marks import (
    CHANGES_TABLE,
    EVENTS,
    EVERY_MONTH,
    ROW_CHANGES_TABLE,
    ROW_MARK_CAP,
    SOURCES,
    TRIGGER_PREFIX,
    UPDATE_OF,
    Mark,
    marking_rules,
    table_events,
    trigger_name,
)
from touchpoints.analytics.triggers_postgres import Rules, postgres_statements

__all__ = [
    "install_change_tracking",
    "postgres_statements",
    "sqlite_statements",
    "uninstall_change_tracking",
]


# --- SQLite -------------------------------------------------------------------------------


def sqlite_month(mark: Mark, row: str) -> str:
    """Return the SQL of the month (`YYYY-MM`, or the fixed partition) a row marks on SQLite."""
    if mark.occurred is None:
        return f"'{mark.fixed}'"
    # UTCDateTime keeps SQLite times as 'YYYY-MM-DD HH:MM:SS.ffffff' text in UTC.
    return f"substr({mark.occurred.format(row=row)}, 1, 7)"


def sqlite_unclaimed(alias: str, mark: Mark, row: str, months: str = "") -> str:
    """Return the condition on `alias` that finds unclaimed marks of the row's partition."""
    workspace = mark.workspace.format(row=row)
    month = sqlite_month(mark, row)
    month = f"IN ({month}, {months})" if months else f"= {month}"
    return (
        f"{alias}.workspace_id = {workspace} AND {alias}.dataset = '{mark.dataset}' "
        f"AND {alias}.month {month} AND {alias}.claimed = 0"
    )


def _sqlite_mark(mark: Mark, row: str, condition: str, extra: str = "") -> str:
    """Return the INSERT of a partition mark, unless an unclaimed one exists already."""
    workspace = mark.workspace.format(row=row)
    conditions = [condition] if condition else []
    source = ""
    if mark.source is not None and mark.link is not None:
        source = f" FROM {mark.source}"
        conditions.insert(0, mark.link.format(row=row))
    conditions.append(
        f"NOT EXISTS (SELECT 1 FROM {CHANGES_TABLE} m WHERE {sqlite_unclaimed('m', mark, row)})"
    )
    if extra:
        conditions.append(extra)
    # DISTINCT: a source that fans out finds many rows of one partition.
    return (
        f"INSERT INTO {CHANGES_TABLE} (workspace_id, dataset, month, claimed) "
        f"SELECT DISTINCT {workspace}, '{mark.dataset}', {sqlite_month(mark, row)}, 0{source} "
        f"WHERE {' AND '.join(conditions)};"
    )


def _sqlite_row_marks(mark: Mark, row: str, condition: str, cap: int) -> list[str]:
    """Return the INSERTs of a row mark, or of a partition mark once the cap is reached."""
    assert mark.row_id is not None
    # The span of ids from the oldest row mark to the newest is at least the number of row
    # marks in the log: two primary-key look-ups instead of a count (SQLite optimises one
    # min() or max() per query, hence two).
    log = ROW_CHANGES_TABLE
    span = f"(SELECT max(id) FROM {log}) - (SELECT min(id) FROM {log}) + 1"
    reached = f"{span} >= {cap}"
    # A partition mark of the month (or of every month) already covers the row.
    every = f"'{EVERY_MONTH}'"
    covered = (
        f"NOT EXISTS (SELECT 1 FROM {CHANGES_TABLE} m "
        f"WHERE {sqlite_unclaimed('m', mark, row, months=every)})"
    )
    source = ""
    link = ""
    if mark.source is not None and mark.link is not None:  # the row marks a linked row
        source, link = f" FROM {mark.source}", mark.link.format(row=row)
    if mark.fans_out:  # the cap counts every linked row this write would mark
        reached = f"coalesce({span}, 0) + (SELECT count(*){source} WHERE {link}) > {cap}"
    conditions = " AND ".join(filter(None, [link, condition, covered]))
    workspace = mark.workspace.format(row=row)
    return [
        _sqlite_mark(mark, row, condition, extra=reached),
        f"INSERT INTO {ROW_CHANGES_TABLE} (workspace_id, dataset, month, row_id) "
        f"SELECT {workspace}, '{mark.dataset}', {sqlite_month(mark, row)}, "
        f"{mark.row_id.format(row=row)}{source} WHERE {conditions};",
    ]


def _sqlite_moved(mark: Mark) -> str:
    """Return the condition under which an update moved a row to another partition."""
    old, new = (mark.workspace.format(row=row) for row in ("OLD", "NEW"))
    return f"({old} IS NOT {new} OR {sqlite_month(mark, 'OLD')} IS NOT {sqlite_month(mark, 'NEW')})"


def _sqlite_statements_for(mark: Mark, event: str, cap: int) -> list[str]:
    rows = mark.row_id is not None and cap > 0
    if event == "update":
        changed = mark.changed("OLD", "NEW", distinct="IS NOT")
        if rows:
            # A linked row (a response's item) is left behind whenever the link changed.
            moved_away = "" if mark.source is not None else _sqlite_moved(mark)
            moved = " AND ".join(filter(None, [changed, moved_away]))
            return [
                *_sqlite_row_marks(mark, "NEW", changed, cap),
                *_sqlite_row_marks(mark, "OLD", moved, cap),
            ]
        statements = [_sqlite_mark(mark, "NEW", changed)]
        if mark.moves:  # an item moved to another month leaves its old partition stale
            statements.append(_sqlite_mark(mark, "OLD", changed))
        return statements
    if mark.update_only:
        return []
    row = "NEW" if event == "insert" else "OLD"
    return _sqlite_row_marks(mark, row, "", cap) if rows else [_sqlite_mark(mark, row, "")]


def _sqlite_trigger(table: str, event: str, cap: int, marks: tuple[Mark, ...]) -> str:
    statements = [
        statement for mark in marks for statement in _sqlite_statements_for(mark, event, cap)
    ]
    columns = UPDATE_OF.get(table) if event == "update" else None
    what = f"UPDATE OF {', '.join(columns)}" if columns else event.upper()
    return (
        f"CREATE TRIGGER {trigger_name(table, event)} AFTER {what} ON {table} "
        f"FOR EACH ROW BEGIN {' '.join(statements)} END"
    )


def sqlite_statements(row_cap: int = ROW_MARK_CAP, rules: Rules = SOURCES) -> list[str]:
    """Return the DDL of every SQLite change trigger (partition marks only when `row_cap` is 0)."""
    return [
        _sqlite_trigger(table, event, row_cap, marks)
        for table, marks in rules.items()
        for event in table_events(table)
        if any(event == "update" or not mark.update_only for mark in marks)
    ]


# --- install / uninstall ------------------------------------------------------------------


def install_change_tracking(
    connection: Connection, *, row_cap: int | None = None, segment_sets: bool = True
) -> None:
    """Create (or replace) the change triggers on the store.

    `row_cap` defaults to ROW_MARK_CAP where the row-mark table exists and to 0 (partition
    marks only) where it does not; tests pass a small cap to reach it quickly. Without
    `segment_sets`, segment changes do not mark feedback (the rules before revision 0009).
    """
    dialect = connection.dialect.name
    statements = {"sqlite": sqlite_statements, "postgresql": postgres_statements}.get(dialect)
    if statements is None:
        raise RuntimeError(f"analytics change tracking does not support {dialect}")
    if row_cap is None:
        row_cap = ROW_MARK_CAP if inspect(connection).has_table(ROW_CHANGES_TABLE) else 0
    uninstall_change_tracking(connection)
    for statement in statements(row_cap, marking_rules(segment_sets=segment_sets)):
        connection.exec_driver_sql(statement)


def uninstall_change_tracking(connection: Connection) -> None:
    """Drop the change triggers (and on PostgreSQL their functions)."""
    postgres = connection.dialect.name == "postgresql"
    for table in SOURCES:
        for event in EVENTS:
            name = trigger_name(table, event)
            suffix = f" ON {table}" if postgres else ""
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}{suffix}")
        if postgres:
            connection.exec_driver_sql(f"DROP FUNCTION IF EXISTS {TRIGGER_PREFIX}_{table}()")
