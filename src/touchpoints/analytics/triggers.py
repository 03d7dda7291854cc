"""Database triggers that mark analytics partitions stale on every write, on either store.

Every write path (services, bulk imports, the demo generator, hand-written SQL) goes through
these triggers, so the exporter never misses a change. A mark is a row of `analytics_changes`
naming a workspace, a dataset and a month (`YYYY-MM`; `all` for the unpartitioned datasets;
`*` for every month of the workspace, as when a touchpoint moves to another stage, which
changes the denormalised stage of all its feedback).

SQLite: row-level triggers. SQLite runs one writer at a time, so a trigger skips its mark when
an unclaimed mark of the same partition exists already, and a bulk load leaves one mark per
partition. PostgreSQL: statement-level triggers over transition tables add at most one mark
per partition and transaction (they skip partitions their own transaction marked already).
They never skip because of another transaction's mark, which the exporter could claim before
this transaction commits, and they never update or lock an existing mark, so concurrent
writers never wait on each other here (an upsert on one hot row would serialise them, and
could deadlock two transactions that touch two partitions in opposite orders).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

CHANGES_TABLE = "analytics_changes"
TRIGGER_PREFIX = "analytics_mark"
# The month of a mark that stands for every month of its workspace.
EVERY_MONTH = "*"


@dataclass(frozen=True)
class Mark:
    """A partition that a changed row makes stale.

    `{row}` in the SQL stands for the changed row. `occurred` is the time column whose UTC
    month names the partition; without it the partition is `fixed` ('all' or '*'). `source`
    and `link` look another table up (the feedback item a survey response points at).
    """

    dataset: str
    workspace: str
    occurred: str | None = None
    fixed: str | None = None
    source: str | None = None
    link: str | None = None
    # Update triggers mark only when one of these columns changed.
    when_changed: tuple[str, ...] = ()
    # Only updates make this partition stale (inserts and deletes reach it another way).
    update_only: bool = False
    # No mark when the old image (`{old}`) matches this: e.g. an org unit whose path was still
    # empty was being created, and nothing can point at it yet.
    unless_old: str = ""

    def changed(self, old: str, new: str, *, distinct: str) -> str:
        """Return the SQL condition under which an update makes this partition stale."""
        if not self.when_changed:
            return ""
        changed = " OR ".join(f"{old}.{c} {distinct} {new}.{c}" for c in self.when_changed)
        unless = f" AND NOT ({self.unless_old.format(old=old)})" if self.unless_old else ""
        return f"({changed}){unless}"

    @property
    def moves(self) -> bool:
        """Tell whether an update can move the row to another partition (mark old and new)."""
        return self.occurred is not None or self.source is not None


def _row(
    dataset: str, fixed: str, when_changed: tuple[str, ...] = (), unless_old: str = ""
) -> Mark:
    return Mark(
        dataset,
        "{row}.workspace_id",
        fixed=fixed,
        when_changed=when_changed,
        update_only=bool(when_changed),
        unless_old=unless_old,
    )


# A unit is inserted with an empty path, then given its path (touchpoints.orgs.service).
_NEW_UNIT = "{old}.path = ''"


_BY_MONTH = "{row}.occurred_at"
SOURCES: dict[str, tuple[Mark, ...]] = {
    "feedback_items": (Mark("feedback", "{row}.workspace_id", occurred=_BY_MONTH),),
    "operational_events": (Mark("events", "{row}.workspace_id", occurred=_BY_MONTH),),
    "customers": (_row("customers", "all"),),
    "customer_segments": (
        Mark(
            "customers",
            "c.workspace_id",
            fixed="all",
            source="customers c",
            link="c.id = {row}.customer_id",
        ),
    ),
    "segments": (_row("customers", "all", when_changed=("name",)),),
    "touchpoints": (
        _row("touchpoints", "all"),
        _row("feedback", EVERY_MONTH, when_changed=("stage_id",)),
    ),
    "journey_stages": (
        _row("touchpoints", "all"),
        _row("feedback", EVERY_MONTH, when_changed=("journey_id",)),
    ),
    "journeys": (_row("touchpoints", "all"),),
    "org_units": (
        _row("org_units", "all"),
        _row("feedback", EVERY_MONTH, when_changed=("path",), unless_old=_NEW_UNIT),
        _row("events", EVERY_MONTH, when_changed=("path",), unless_old=_NEW_UNIT),
        _row("customers", "all", when_changed=("path",), unless_old=_NEW_UNIT),
    ),
    "survey_responses": (
        Mark(
            "feedback",
            "f.workspace_id",
            occurred="f.occurred_at",
            source="feedback_items f",
            link="f.id = {row}.feedback_item_id",
            when_changed=("feedback_item_id", "survey_id"),
        ),
    ),
}
# Inserting into these cannot change an exported row: a new segment, journey or stage is empty.
UPDATE_DELETE_ONLY = frozenset({"segments", "journeys", "journey_stages"})
# Updates matter only when these columns are set (responses are saved page by page).
UPDATE_OF: dict[str, tuple[str, ...]] = {
    "survey_responses": ("feedback_item_id", "survey_id"),
    "segments": ("name",),
}
EVENTS = ("insert", "update", "delete")


def source_tables() -> list[str]:
    """Return the tables whose writes mark analytics partitions stale."""
    return list(SOURCES)


def _events(table: str) -> tuple[str, ...]:
    return EVENTS[1:] if table in UPDATE_DELETE_ONLY else EVENTS


def _trigger_name(table: str, event: str) -> str:
    return f"{TRIGGER_PREFIX}_{table}_{event}"


# --- SQLite -------------------------------------------------------------------------------


def _sqlite_mark(mark: Mark, row: str, condition: str) -> str:
    workspace = mark.workspace.format(row=row)
    if mark.occurred is not None:
        # UTCDateTime keeps SQLite times as 'YYYY-MM-DD HH:MM:SS.ffffff' text in UTC.
        month = f"substr({mark.occurred.format(row=row)}, 1, 7)"
    else:
        month = f"'{mark.fixed}'"
    conditions = [condition] if condition else []
    source = ""
    if mark.source is not None and mark.link is not None:
        source = f" FROM {mark.source}"
        conditions.insert(0, mark.link.format(row=row))
    conditions.append(
        f"NOT EXISTS (SELECT 1 FROM {CHANGES_TABLE} m WHERE m.workspace_id = {workspace} "
        f"AND m.dataset = '{mark.dataset}' AND m.month = {month} AND m.claimed = 0)"
    )
    return (
        f"INSERT INTO {CHANGES_TABLE} (workspace_id, dataset, month, claimed) "
        f"SELECT {workspace}, '{mark.dataset}', {month}, 0{source} "
        f"WHERE {' AND '.join(conditions)};"
    )


def _sqlite_trigger(table: str, event: str) -> str:
    statements = []
    for mark in SOURCES[table]:
        if event == "update":
            changed = mark.changed("OLD", "NEW", distinct="IS NOT")
            statements.append(_sqlite_mark(mark, "NEW", changed))
            if mark.moves:  # an item moved to another month leaves its old partition stale
                statements.append(_sqlite_mark(mark, "OLD", changed))
        elif not mark.update_only:
            statements.append(_sqlite_mark(mark, "NEW" if event == "insert" else "OLD", ""))
    columns = UPDATE_OF.get(table) if event == "update" else None
    what = f"UPDATE OF {', '.join(columns)}" if columns else event.upper()
    return (
        f"CREATE TRIGGER IF NOT EXISTS {_trigger_name(table, event)} AFTER {what} ON {table} "
        f"FOR EACH ROW BEGIN {' '.join(statements)} END"
    )


def sqlite_statements() -> list[str]:
    """Return the DDL of every SQLite change trigger."""
    return [
        _sqlite_trigger(table, event)
        for table in SOURCES
        for event in _events(table)
        if any(event == "update" or not mark.update_only for mark in SOURCES[table])
    ]


# --- PostgreSQL ---------------------------------------------------------------------------


def _postgres_select(mark: Mark, relation: str, row: str, condition: str = "") -> str:
    workspace = mark.workspace.format(row=row)
    if mark.occurred is not None:
        month = f"to_char({mark.occurred.format(row=row)} AT TIME ZONE 'UTC', 'YYYY-MM')"
    else:
        month = f"'{mark.fixed}'"
    source = relation
    if mark.source is not None and mark.link is not None:
        source += f" JOIN {mark.source} ON {mark.link.format(row=row)}"
    where = f" WHERE {condition}" if condition else ""
    return f"SELECT {workspace}, '{mark.dataset}', {month} FROM {source}{where}"


def _postgres_selects(table: str, event: str) -> list[str]:
    selects = []
    for mark in SOURCES[table]:
        if event == "update" and mark.when_changed:
            pairs = "new_rows n JOIN old_rows o ON o.id = n.id"
            changed = mark.changed("o", "n", distinct="IS DISTINCT FROM")
            rows = ("n", "o") if mark.moves else ("n",)
            selects += [_postgres_select(mark, pairs, row, changed) for row in rows]
        elif event == "update":
            images = ("new_rows", "old_rows") if mark.moves else ("new_rows",)
            selects += [_postgres_select(mark, f"{rows} r", "r") for rows in images]
        elif not mark.update_only:
            image = "new_rows" if event == "insert" else "old_rows"
            selects.append(_postgres_select(mark, f"{image} r", "r"))
    return selects


def _postgres_function(table: str) -> str:
    branches = []
    for event in _events(table):
        selects = _postgres_selects(table, event)
        if not selects:
            continue
        union = " UNION ".join(selects)
        branches.append(
            f"IF TG_OP = '{event.upper()}' THEN "
            f"INSERT INTO {CHANGES_TABLE} (workspace_id, dataset, month, claimed, transaction_id) "
            f"SELECT DISTINCT w, d, m, false, txid_current() FROM ({union}) AS marks(w, d, m) "
            f"WHERE NOT EXISTS (SELECT 1 FROM {CHANGES_TABLE} c WHERE c.workspace_id = w "
            "AND c.dataset = d AND c.month = m AND c.transaction_id = txid_current()); END IF;"
        )
    return (
        f"CREATE OR REPLACE FUNCTION {TRIGGER_PREFIX}_{table}() RETURNS trigger "
        f"LANGUAGE plpgsql AS $$ BEGIN {' '.join(branches)} RETURN NULL; END $$"
    )


def _postgres_trigger(table: str, event: str) -> str:
    # No `UPDATE OF columns` here: PostgreSQL refuses it on triggers with transition tables.
    what = event.upper()
    transitions = {
        "insert": "NEW TABLE AS new_rows",
        "update": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        "delete": "OLD TABLE AS old_rows",
    }[event]
    return (
        f"CREATE TRIGGER {_trigger_name(table, event)} AFTER {what} ON {table} "
        f"REFERENCING {transitions} FOR EACH STATEMENT "
        f"EXECUTE FUNCTION {TRIGGER_PREFIX}_{table}()"
    )


def postgres_statements() -> list[str]:
    """Return the DDL of every PostgreSQL change function and trigger."""
    statements = []
    for table in SOURCES:
        statements.append(_postgres_function(table))
        for event in _events(table):
            if _postgres_selects(table, event):
                statements.append(
                    f"DROP TRIGGER IF EXISTS {_trigger_name(table, event)} ON {table}"
                )
                statements.append(_postgres_trigger(table, event))
    return statements


# --- install / uninstall ------------------------------------------------------------------


def install_change_tracking(connection: Connection) -> None:
    """Create the change triggers on the store (idempotent)."""
    dialect = connection.dialect.name
    statements = {"sqlite": sqlite_statements, "postgresql": postgres_statements}.get(dialect)
    if statements is None:
        raise RuntimeError(f"analytics change tracking does not support {dialect}")
    for statement in statements():
        connection.exec_driver_sql(statement)


def uninstall_change_tracking(connection: Connection) -> None:
    """Drop the change triggers (and on PostgreSQL their functions)."""
    postgres = connection.dialect.name == "postgresql"
    for table in SOURCES:
        for event in EVENTS:
            name = _trigger_name(table, event)
            suffix = f" ON {table}" if postgres else ""
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}{suffix}")
        if postgres:
            connection.exec_driver_sql(f"DROP FUNCTION IF EXISTS {TRIGGER_PREFIX}_{table}()")
