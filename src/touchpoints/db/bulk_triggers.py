"""Bulk inserts on SQLite with row triggers replaced by one set-based statement each.

SQLite runs a row trigger's program for every inserted row; for the full-text index and the
analytics marks that costs more than the insert itself. For a bulk insert, `set_based_triggers`
lifts the named insert triggers of a table, lets the caller insert, then runs each trigger's
set-based replacement over the rows added (those with a rowid above the table's highest before
the insert) and puts the trigger back exactly as it was (its stored SQL). It all happens in the
caller's write transaction: other connections never see the table without its triggers (SQLite
has one writer, and readers do not fire triggers), and a rollback undoes the lift with the
rows. Triggers without a replacement keep firing per row. PostgreSQL's triggers are
statement-level already: nothing is lifted there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

from sqlalchemy import Connection

# What a lifted trigger did, set-based: (connection, the trigger's SQL, the highest old rowid).
Replacement = Callable[[Connection, str, int], None]
# Fewer rows than this are inserted with their triggers: lifting one costs a schema change.
MIN_SET_BASED_ROWS = 500


@contextmanager
def set_based_triggers(
    connection: Connection, table: str, replacements: Mapping[str, Replacement], rows: int
) -> Iterator[None]:
    """Lift `table`'s triggers named in `replacements` around an insert of `rows` rows."""
    if connection.dialect.name != "sqlite" or rows < MIN_SET_BASED_ROWS or not replacements:
        yield
        return
    lifted = [
        (str(name), str(sql))
        for name, sql in connection.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?",
            (table,),
        )
        if name in replacements
    ]
    if not lifted:
        yield
        return
    after_rowid = int(
        connection.exec_driver_sql(f'SELECT coalesce(max(rowid), 0) FROM "{table}"').scalar_one()
    )
    for name, _ in lifted:
        connection.exec_driver_sql(f'DROP TRIGGER "{name}"')
    try:
        yield
    finally:
        # Also after a failed insert: rows it left in the transaction get their index and marks.
        for name, sql in lifted:
            replacements[name](connection, sql, after_rowid)
            connection.exec_driver_sql(sql)
