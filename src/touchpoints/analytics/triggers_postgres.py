"""The PostgreSQL change triggers: statement-level, over transition tables.

One function per source table runs once per statement. For the row-marked tables
(touchpoints.analytics.marks) a statement of at most the cap's rows writes its row marks in
one INSERT ... SELECT, and partition marks instead where a partition already has an unclaimed
partition mark, or for all its partitions once the row-mark log would hold more than the cap;
a bigger statement writes partition marks only, as every other table does.
"""

from __future__ import annotations

from collections.abc import Mapping

from touchpoints.analytics.marks import (
    CHANGES_TABLE,
    EVERY_MONTH,
    ROW_CHANGES_TABLE,
    ROW_MARK_CAP,
    SOURCES,
    TRIGGER_PREFIX,
    Mark,
    table_events,
    trigger_name,
)

# The rows of a statement, per event (deletes only have the old image).
IMAGE = {"insert": "new_rows", "update": "new_rows", "delete": "old_rows"}
# The marking rules triggers are built from: the marks of each source table.
Rules = Mapping[str, tuple[Mark, ...]]


def _select(mark: Mark, relation: str, row: str, condition: str, *, rows: bool) -> str:
    workspace = mark.workspace.format(row=row)
    if mark.occurred is not None:
        month = f"to_char({mark.occurred.format(row=row)} AT TIME ZONE 'UTC', 'YYYY-MM')"
    else:
        month = f"'{mark.fixed}'"
    row_id = f", {mark.row_id.format(row=row)}" if rows and mark.row_id else ""
    source = relation
    if mark.source is not None and mark.link is not None:
        source += f" JOIN {mark.source} ON {mark.link.format(row=row)}"
    where = f" WHERE {condition}" if condition else ""
    return f"SELECT {workspace}, '{mark.dataset}', {month}{row_id} FROM {source}{where}"


def _selects(marks: list[Mark], event: str, *, rows: bool = False) -> list[str]:
    """Return the SELECTs of the partitions (with `rows`, the row ids) a statement marks."""
    selects = []
    for mark in marks:
        if event == "update" and mark.when_changed:
            pairs = "new_rows n JOIN old_rows o ON o.id = n.id"
            changed = mark.changed("o", "n", distinct="IS DISTINCT FROM")
            images = ("n", "o") if mark.moves else ("n",)
            selects += [_select(mark, pairs, row, changed, rows=rows) for row in images]
        elif event == "update":
            images = ("new_rows", "old_rows") if mark.moves else ("new_rows",)
            selects += [_select(mark, f"{image} r", "r", "", rows=rows) for image in images]
        elif not mark.update_only:
            selects.append(_select(mark, f"{IMAGE[event]} r", "r", "", rows=rows))
    return selects


def _partition_marks(selects: list[str]) -> str:
    """Return the INSERT of one partition mark per partition the transaction has not marked."""
    if not selects:
        return ""
    return (
        f"INSERT INTO {CHANGES_TABLE} (workspace_id, dataset, month, claimed, transaction_id) "
        f"SELECT DISTINCT w, d, m, false, txid_current() FROM ({' UNION '.join(selects)}) "
        f"AS marks(w, d, m) WHERE NOT EXISTS (SELECT 1 FROM {CHANGES_TABLE} c "
        "WHERE c.workspace_id = w AND c.dataset = d AND c.month = m "
        "AND c.transaction_id = txid_current());"
    )


def _row_marks(selects: list[str], cap: int) -> str:
    """Return the INSERT of a statement's row marks, with partition marks where they belong."""
    # The span of ids from the oldest row mark to the newest is at least the number of row
    # marks in the log: two primary-key look-ups instead of a count.
    span = f"(SELECT coalesce(max(id) - min(id) + 1, 0) FROM {ROW_CHANGES_TABLE})"
    marked_whole = (
        f"EXISTS (SELECT 1 FROM {CHANGES_TABLE} c WHERE c.workspace_id = p.w "
        f"AND c.dataset = p.d AND c.month IN (p.m, '{EVERY_MONTH}') AND c.claimed = false)"
    )
    return (
        f"WITH marks AS (SELECT DISTINCT w, d, m, r FROM ({' UNION '.join(selects)}) "
        "AS x(w, d, m, r)), "
        f"full_log AS (SELECT (SELECT count(*) FROM marks) + {span} > {cap} AS reached), "
        "whole AS (SELECT p.w, p.d, p.m FROM (SELECT DISTINCT w, d, m FROM marks) p "
        f"WHERE (SELECT reached FROM full_log) OR {marked_whole}), "
        f"added AS (INSERT INTO {CHANGES_TABLE} "
        "(workspace_id, dataset, month, claimed, transaction_id) "
        "SELECT h.w, h.d, h.m, false, txid_current() FROM whole h "
        f"WHERE NOT EXISTS (SELECT 1 FROM {CHANGES_TABLE} c WHERE c.workspace_id = h.w "
        "AND c.dataset = h.d AND c.month = h.m AND c.transaction_id = txid_current())) "
        f"INSERT INTO {ROW_CHANGES_TABLE} (workspace_id, dataset, month, row_id) "
        "SELECT k.w, k.d, k.m, k.r FROM marks k "
        "WHERE NOT EXISTS (SELECT 1 FROM whole h WHERE h.w = k.w AND h.d = k.d AND h.m = k.m);"
    )


def _branch(marks: tuple[Mark, ...], event: str, cap: int) -> str:
    """Return what the function does for one event (empty when the event marks nothing)."""
    by_row = [mark for mark in marks if mark.row_id is not None and cap > 0]
    whole = [mark for mark in marks if mark not in by_row]
    partitions = _partition_marks(_selects(whole, event))
    if not by_row:
        return partitions
    bulk = _partition_marks(_selects([mark.bulk or mark for mark in marks], event))
    rows = _row_marks(_selects(by_row, event, rows=True), cap)
    counted = f"(SELECT count(*) FROM (SELECT 1 FROM {IMAGE[event]} LIMIT {cap + 1}) s)"
    return f"IF {counted} > {cap} THEN {bulk} ELSE {partitions}{rows} END IF;"


def _function(table: str, marks: tuple[Mark, ...], cap: int) -> str:
    branches = []
    for event in table_events(table):
        body = _branch(marks, event, cap)
        if body:
            branches.append(f"IF TG_OP = '{event.upper()}' THEN {body} END IF;")
    return (
        f"CREATE OR REPLACE FUNCTION {TRIGGER_PREFIX}_{table}() RETURNS trigger "
        f"LANGUAGE plpgsql AS $$ BEGIN {' '.join(branches)} RETURN NULL; END $$"
    )


def _trigger(table: str, event: str) -> str:
    # No `UPDATE OF columns` here: PostgreSQL refuses it on triggers with transition tables.
    transitions = {
        "insert": "NEW TABLE AS new_rows",
        "update": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        "delete": "OLD TABLE AS old_rows",
    }[event]
    return (
        f"CREATE TRIGGER {trigger_name(table, event)} AFTER {event.upper()} ON {table} "
        f"REFERENCING {transitions} FOR EACH STATEMENT "
        f"EXECUTE FUNCTION {TRIGGER_PREFIX}_{table}()"
    )


def postgres_statements(row_cap: int = ROW_MARK_CAP, rules: Rules = SOURCES) -> list[str]:
    """Return the DDL of every PostgreSQL change function and trigger (run after a drop)."""
    statements = []
    for table, marks in rules.items():
        statements.append(_function(table, marks, row_cap))
        statements += [
            _trigger(table, event)
            for event in table_events(table)
            if _branch(marks, event, row_cap)
        ]
    return statements
