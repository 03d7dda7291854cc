"""Full-text search over feedback titles and texts: SQLite FTS5, PostgreSQL GIN on a tsvector.

SQLite keeps an FTS5 external-content index (`feedback_search`) in step with feedback_items
through triggers; PostgreSQL indexes the same words with a GIN expression index. Both are made
by `metadata.create_all` (table events below) and by the Alembic revision 0002 (`install_search`),
because autogenerate does not see them. The user's words are never passed through as query
syntax: each word becomes a quoted term, the last one a prefix, and all are AND-ed.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    FromClause,
    Table,
    column,
    event,
    false,
    func,
    literal_column,
)
from sqlalchemy import text as sql_text

from touchpoints.db.base import Base
from touchpoints.errors import InvalidInput

MAX_QUERY_CHARS = 200
FEEDBACK_TABLE = "feedback_items"
SEARCH_TABLE = "feedback_search"
SEARCH_INDEX = "ix_feedback_items_search"
# FTS5 keeps its postings in these shadow tables next to the virtual table.
SEARCH_TABLES = frozenset(
    {SEARCH_TABLE}
    | {f"{SEARCH_TABLE}_{part}" for part in ("data", "idx", "content", "docsize", "config")}
)
# Letters and digits, as the FTS5 unicode61 tokenizer sees words (underscore separates).
WORD = re.compile(r"[^\W_]+")

SQLITE_STATEMENTS = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {SEARCH_TABLE} USING fts5("
    f"title, text, content='{FEEDBACK_TABLE}', content_rowid='rowid', "
    "tokenize='unicode61 remove_diacritics 2')",
    f"CREATE TRIGGER IF NOT EXISTS {SEARCH_TABLE}_insert AFTER INSERT ON {FEEDBACK_TABLE} BEGIN "
    f"INSERT INTO {SEARCH_TABLE}(rowid, title, text) VALUES (new.rowid, new.title, new.text); "
    "END",
    f"CREATE TRIGGER IF NOT EXISTS {SEARCH_TABLE}_delete AFTER DELETE ON {FEEDBACK_TABLE} BEGIN "
    f"INSERT INTO {SEARCH_TABLE}({SEARCH_TABLE}, rowid, title, text) "
    "VALUES ('delete', old.rowid, old.title, old.text); END",
    f"CREATE TRIGGER IF NOT EXISTS {SEARCH_TABLE}_update AFTER UPDATE OF title, text "
    f"ON {FEEDBACK_TABLE} BEGIN "
    f"INSERT INTO {SEARCH_TABLE}({SEARCH_TABLE}, rowid, title, text) "
    "VALUES ('delete', old.rowid, old.title, old.text); "
    f"INSERT INTO {SEARCH_TABLE}(rowid, title, text) VALUES (new.rowid, new.title, new.text); "
    "END",
)
SQLITE_INSERT_TRIGGER = f"{SEARCH_TABLE}_insert"
SQLITE_REBUILD = f"INSERT INTO {SEARCH_TABLE}({SEARCH_TABLE}) VALUES ('rebuild')"
SQLITE_DROP = f"DROP TABLE IF EXISTS {SEARCH_TABLE}"
POSTGRES_DOCUMENT = "to_tsvector('simple', coalesce(title, '') || ' ' || coalesce(text, ''))"
POSTGRES_STATEMENTS = (
    f"CREATE INDEX IF NOT EXISTS {SEARCH_INDEX} ON {FEEDBACK_TABLE} "
    f"USING gin ({POSTGRES_DOCUMENT})",
)
POSTGRES_DROP = f"DROP INDEX IF EXISTS {SEARCH_INDEX}"


def attach_search_ddl(table: FromClause) -> None:
    """Make `create_all` build the search index with the feedback table, on either store."""
    event.listen(table, "after_create", _create_with_table)
    event.listen(table, "after_drop", _drop_with_table)


def _create_with_table(target: FromClause, connection: Connection, **_: Any) -> None:
    _create_index(connection)  # an empty table: nothing to fill


def _drop_with_table(target: FromClause, connection: Connection, **_: Any) -> None:
    uninstall_search(connection)


def _create_index(connection: Connection) -> None:
    dialect = connection.dialect.name
    statements = {"sqlite": SQLITE_STATEMENTS, "postgresql": POSTGRES_STATEMENTS}
    for statement in statements.get(dialect, ()):
        connection.exec_driver_sql(statement)


def install_search(connection: Connection) -> None:
    """Create the search index on an existing store and fill it from the feedback there."""
    _create_index(connection)
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(SQLITE_REBUILD)


def index_inserted_rows(connection: Connection, trigger_sql: str, after_rowid: int) -> None:
    """Index the feedback items added after `after_rowid` in one statement (SQLite bulk inserts).

    What the insert trigger (`trigger_sql`, lifted by touchpoints.db.bulk_triggers) does per
    row, done for all of them at once.
    """
    connection.exec_driver_sql(
        f"INSERT INTO {SEARCH_TABLE}(rowid, title, text) "
        f"SELECT rowid, title, text FROM {FEEDBACK_TABLE} WHERE rowid > ?",
        (after_rowid,),
    )


def uninstall_search(connection: Connection) -> None:
    """Drop the search index (and on SQLite its triggers)."""
    if connection.dialect.name == "sqlite":
        for kind in ("insert", "delete", "update"):
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {SEARCH_TABLE}_{kind}")
        connection.exec_driver_sql(SQLITE_DROP)
    elif connection.dialect.name == "postgresql":
        connection.exec_driver_sql(POSTGRES_DROP)


def include_object(
    schema_object: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Tell Alembic to leave the search index alone: autogenerate cannot describe it."""
    if type_ == "table" and name in SEARCH_TABLES:
        return False
    return not (type_ == "index" and name == SEARCH_INDEX)


def search_words(q: str) -> list[str]:
    """Return the words of a search, as the indexes split text into words."""
    return WORD.findall(q)


def matching_ids_condition(dialect: str, q: str) -> ColumnElement[bool]:
    """Return the condition 'the item's title or text holds every word of `q`' for this store."""
    if len(q) > MAX_QUERY_CHARS:
        raise InvalidInput("q", f"search at most {MAX_QUERY_CHARS} characters")
    words = search_words(q)
    if not words:
        return false()  # only punctuation: nothing can hold it as a word
    feedback = Base.metadata.tables[FEEDBACK_TABLE]
    if dialect == "postgresql":
        terms = [f"'{word}'" for word in words]
        query = " & ".join([*terms[:-1], f"{terms[-1]}:*"])
        document = func.to_tsvector(literal_column("'simple'"), _postgres_text(feedback))
        tsquery = func.to_tsquery(literal_column("'simple'"), query)
        return document.bool_op("@@")(tsquery)
    terms = [f'"{word}"' for word in words]
    query = " ".join([*terms[:-1], f"{terms[-1]}*"])
    matching = (
        sql_text(f"SELECT rowid FROM {SEARCH_TABLE} WHERE {SEARCH_TABLE} MATCH :search_query")
        .bindparams(search_query=query)
        .columns(column("rowid"))
    )
    return literal_column(f"{FEEDBACK_TABLE}.rowid").in_(matching)


def _postgres_text(feedback: Table) -> ColumnElement[str]:
    # Written exactly as in the index, so PostgreSQL recognises the expression and uses it.
    blank: ColumnElement[str] = literal_column("''")
    space: ColumnElement[str] = literal_column("' '")
    title = func.coalesce(feedback.c.title, blank)
    return title.op("||")(space).op("||")(func.coalesce(feedback.c.text, blank))
