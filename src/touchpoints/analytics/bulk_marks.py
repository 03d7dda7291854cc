"""The marks of a bulk insert on SQLite, written once per statement instead of once per row.

SQLite only has row triggers. A bulk import (touchpoints.db.bulk_triggers) lifts a table's
insert trigger for one statement and calls `mark_inserted_rows` afterwards, which leaves the
marks PostgreSQL's statement-level trigger leaves for the same statement
(touchpoints.analytics.triggers_postgres): the row marks of every new row whose partition has
no unclaimed partition mark, or, when those rows would take the row-mark log past its cap, one
partition mark per partition instead. Rules that look another table up are not handled here:
`handles_inserts` says no and the trigger stays.
"""

from __future__ import annotations

import re

from sqlalchemy import Connection

from touchpoints.analytics.marks import (
    CHANGES_TABLE,
    EVERY_MONTH,
    ROW_CHANGES_TABLE,
    SOURCES,
    Mark,
    trigger_name,
)
from touchpoints.analytics.triggers import sqlite_month, sqlite_unclaimed

# The cap an installed SQLite trigger was built with: `... + 1 >= 50000`.
_INSTALLED_CAP = re.compile(r"\+ 1 >= (\d+)")


def insert_trigger(table: str) -> str:
    """Return the name of the table's insert change trigger."""
    return trigger_name(table, "insert")


def handles_inserts(table: str) -> bool:
    """Tell whether the inserts of `table` can be marked set-based (no rule looks elsewhere)."""
    marks = [mark for mark in SOURCES.get(table, ()) if not mark.update_only]
    return bool(marks) and all(mark.source is None for mark in marks)


def mark_inserted_rows(
    connection: Connection, table: str, trigger_sql: str, after_rowid: int
) -> None:
    """Leave the marks of the rows of `table` inserted after `after_rowid`, as one statement.

    `trigger_sql` is the lifted trigger: row marks only where it wrote them, with its cap.
    """
    if not handles_inserts(table):
        raise ValueError(f"the inserts of {table} cannot be marked set-based")
    cap_match = _INSTALLED_CAP.search(trigger_sql)
    cap = int(cap_match.group(1)) if ROW_CHANGES_TABLE in trigger_sql and cap_match else 0
    rows = f"(SELECT * FROM {table} WHERE rowid > :after)"
    for mark in SOURCES[table]:
        if mark.update_only:
            continue
        by_row = mark.row_id is not None and cap > 0
        if by_row and not _over_cap(connection, rows, cap, after_rowid):
            connection.exec_driver_sql(_row_marks(mark, rows), {"after": after_rowid})
        else:
            connection.exec_driver_sql(_partition_marks(mark, rows), {"after": after_rowid})


def _over_cap(connection: Connection, rows: str, cap: int, after_rowid: int) -> bool:
    """Tell whether the new rows would take the row-mark log past the cap."""
    log = ROW_CHANGES_TABLE
    span = f"coalesce((SELECT max(id) FROM {log}) - (SELECT min(id) FROM {log}) + 1, 0)"
    total = connection.exec_driver_sql(
        f"SELECT {span} + (SELECT count(*) FROM {rows})", {"after": after_rowid}
    ).scalar_one()
    return int(total) > cap


def _partition_marks(mark: Mark, rows: str) -> str:
    workspace = mark.workspace.format(row="r")
    return (
        f"INSERT INTO {CHANGES_TABLE} (workspace_id, dataset, month, claimed) "
        f"SELECT DISTINCT {workspace}, '{mark.dataset}', {sqlite_month(mark, 'r')}, 0 "
        f"FROM {rows} AS r WHERE NOT EXISTS "
        f"(SELECT 1 FROM {CHANGES_TABLE} m WHERE {sqlite_unclaimed('m', mark, 'r')})"
    )


def _row_marks(mark: Mark, rows: str) -> str:
    assert mark.row_id is not None
    workspace = mark.workspace.format(row="r")
    every = f"'{EVERY_MONTH}'"
    covered = sqlite_unclaimed("m", mark, "r", months=every)
    return (
        f"INSERT INTO {ROW_CHANGES_TABLE} (workspace_id, dataset, month, row_id) "
        f"SELECT {workspace}, '{mark.dataset}', {sqlite_month(mark, 'r')}, "
        f"{mark.row_id.format(row='r')} FROM {rows} AS r "
        f"WHERE NOT EXISTS (SELECT 1 FROM {CHANGES_TABLE} m WHERE {covered})"
    )
