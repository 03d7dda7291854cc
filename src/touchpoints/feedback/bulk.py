"""Store many checked feedback items at once: one executemany (SQLite) or COPY (PostgreSQL).

For bulk imports: the caller has already validated every item, checked its links and made sure
its (source, source_ref) is new. Each item is one row in one statement. On SQLite the row
triggers of the full-text index and the change tracking are lifted for the statement and their
work done set-based after it (touchpoints.db.bulk_triggers); on PostgreSQL the change triggers
are statement-level and the search index is an expression index kept by the insert itself.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from typing import Any, cast

from sqlalchemy import JSON, Connection, Dialect, Table, insert
from sqlalchemy.orm import Session

from touchpoints.analytics.bulk_marks import handles_inserts, insert_trigger, mark_inserted_rows
from touchpoints.db.base import new_id, utcnow
from touchpoints.db.bulk_triggers import Replacement, set_based_triggers
from touchpoints.feedback.models import FeedbackItem
from touchpoints.feedback.search import SQLITE_INSERT_TRIGGER, index_inserted_rows

FEEDBACK_TABLE = cast(Table, FeedbackItem.__table__)
COLUMNS = tuple(column.name for column in FEEDBACK_TABLE.columns)


def feedback_row(workspace_id: str, values: dict[str, Any]) -> dict[str, Any]:
    """Return a complete feedback_items row (column -> value) for checked item values."""
    row = dict.fromkeys(COLUMNS)
    row.update(values)
    row["workspace_id"] = workspace_id
    row["id"] = new_id()
    row["received_at"] = utcnow()
    return row


def insert_feedback(db_session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert complete feedback_items rows (see `feedback_row`)."""
    insert_rows(db_session, FEEDBACK_TABLE, rows)


def insert_rows(db_session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert complete rows (every column) of a table: COPY on PostgreSQL, else executemany."""
    if not rows:
        return
    if db_session.get_bind().dialect.name == "postgresql":
        _copy(db_session, table, rows)
    else:
        _executemany(db_session, table, rows)


def _executemany(db_session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Run one prepared INSERT for all rows, values bound as SQLAlchemy binds them."""
    connection = db_session.connection()
    statement, names, processors = _prepared_insert(table, connection.dialect)
    parameters = []
    for row in rows:
        values = [row[name] for name in names]
        for position, processor in processors:
            values[position] = processor(values[position])
        parameters.append(tuple(values))
    with set_based_triggers(connection, table.name, _replacements(table.name), len(rows)):
        connection.exec_driver_sql(statement, parameters)


def _replacements(table: str) -> dict[str, Replacement]:
    """Return the set-based replacements of the table's insert triggers (search, marks)."""
    found: dict[str, Replacement] = {}
    if table == FEEDBACK_TABLE.name:
        found[SQLITE_INSERT_TRIGGER] = index_inserted_rows
    if handles_inserts(table):
        found[insert_trigger(table)] = functools.partial(_mark, table)
    return found


def _mark(table: str, connection: Connection, trigger_sql: str, after_rowid: int) -> None:
    mark_inserted_rows(connection, table, trigger_sql, after_rowid)


@functools.lru_cache(maxsize=64)
def _prepared_insert(
    table: Table, dialect: Dialect
) -> tuple[str, list[str], list[tuple[int, Callable[[Any], Any]]]]:
    """Compile a table's full-row INSERT once per dialect (compiling costs ~2 ms a call)."""
    names = [column.name for column in table.columns]
    statement = str(insert(table).compile(dialect=dialect, column_keys=names))
    processors = [
        (position, cast(Callable[[Any], Any], processor))
        for position, column in enumerate(table.columns)
        if (processor := column.type.dialect_impl(dialect).bind_processor(dialect)) is not None
    ]
    return statement, names, processors


def _copy(db_session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """COPY the rows in through the session's own connection and transaction."""
    names = [column.name for column in table.columns]
    documents = [i for i, column in enumerate(table.columns) if isinstance(column.type, JSON)]
    columns = ", ".join(f'"{name}"' for name in names)
    raw: Any = db_session.connection().connection.dbapi_connection
    with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
        for row in rows:
            values = [row[name] for name in names]
            for position in documents:
                # JSON goes in as its text; COPY parses it as jsonb like any insert does.
                if values[position] is not None:
                    values[position] = json.dumps(values[position])
            copy.write_row(values)
