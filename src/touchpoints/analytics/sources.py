"""The SQL that reads each dataset of the analytics store from the operational store.

The store does the part only it can do cheaply (filtering, the survey-response join, the
segment names) and sends lean rows; Arrow adds the rest in bulk (touchpoints.analytics.rows):
the month, and the denormalised stage, journey and org-unit path, looked up in small tables
read in the same snapshot. Raw forms: times are PostgreSQL epoch microseconds or SQLite's UTC
text, JSON lists are JSON text, segment names are joined with the unit separator (U+001F), and
so are segment ids, which Arrow turns into the segment set (touchpoints.analytics.segment_sets).
A full read of feedback leaves the segment ids out (the customer's set is looked up in Arrow:
one look-up of every customer's ids instead of a subquery per row); a read by id selects them
per row.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from touchpoints.analytics.layout import (
    CUSTOMERS,
    EVENTS,
    FEEDBACK,
    ORG_UNITS,
    TOUCHPOINTS,
    Dataset,
)

NAME_SEPARATOR = "\x1f"
# What to read: every workspace (None), or per workspace every month (None) or some months.
Scope = Mapping[str, frozenset[str] | None] | None
# Columns Arrow computes after reading (touchpoints.analytics.rows), per dataset.
DERIVED: dict[str, tuple[str, ...]] = {
    FEEDBACK.name: ("month", "stage_id", "journey_id", "org_unit_path"),
    EVENTS.name: ("month", "org_unit_path"),
    CUSTOMERS.name: ("org_unit_path",),
}
# Columns the store sends in another type than the layout's: segment ids as text.
RAW_TYPES: dict[str, pa.DataType] = {"segment_set": pa.string()}
# Datasets whose full read leaves the segment ids out: looked up by customer in Arrow.
SETS_LOOKED_UP = frozenset({FEEDBACK.name})


@dataclass(frozen=True)
class Dialect:
    """The SQL differences between the two stores."""

    name: str

    @property
    def postgres(self) -> bool:
        """Tell whether this is PostgreSQL."""
        return self.name == "postgresql"

    @property
    def placeholder(self) -> str:
        """Return the driver's parameter marker."""
        return "%s" if self.postgres else "?"

    def time(self, column: str) -> str:
        """Return a time column as epoch microseconds (PostgreSQL) or its stored UTC text."""
        if self.postgres:
            # numeric since PostgreSQL 14, so the microseconds are exact
            return f"(extract(epoch FROM {column}) * 1000000)::bigint"
        return column

    def json_text(self, column: str) -> str:
        """Return a JSON column as its text."""
        return f"{column}::text" if self.postgres else column

    def names(self, name: str, order: str) -> str:
        """Return an aggregate joining names with the separator, in `order`."""
        if self.postgres:
            return f"string_agg({name}, chr(31) ORDER BY {order})"
        return f"group_concat({name}, char(31))"  # fed in order by the subquery below

    def joined(self, text: str, separator: int = 31) -> str:
        """Return an aggregate joining texts with a control character, in any order."""
        if self.postgres:
            return f"string_agg({text}, chr({separator}))"
        return f"group_concat({text}, char({separator}))"

    def ids(self, column: str) -> str:
        """Return an aggregate joining ids with the separator, in any order."""
        return self.joined(column)

    def bound(self, moment: datetime) -> Any:
        """Return a time parameter compared with stored times."""
        return moment if self.postgres else moment.strftime("%Y-%m-%d %H:%M:%S.%f")


@dataclass
class Filter:
    """The WHERE clauses of a scope, with their parameters in the order they are written.

    With `ids`, a month-partitioned dataset's query selects exactly those rows instead,
    wherever they are now (the rows a merge takes from the store).
    """

    dialect: Dialect
    scope: Scope
    params: list[Any] = field(default_factory=list)
    ids: Sequence[str] | None = None

    def workspaces(self, alias: str) -> str:
        """Return ' WHERE <alias>.workspace_id IN (...)', or '' for every workspace."""
        if self.scope is None:
            return ""
        marks = ", ".join(self.dialect.placeholder for _ in self.scope) or "NULL"
        self.params += sorted(self.scope)
        return f" WHERE {alias}.workspace_id IN ({marks})"

    def partitions(self, alias: str, occurred: str) -> str:
        """Return ' WHERE ...' selecting the scope's workspaces and months (or ids), or ''."""
        if self.ids is not None:
            return self._ids(alias)
        if self.scope is None:
            return ""
        mark = self.dialect.placeholder
        clauses = []
        for workspace_id, months in sorted(self.scope.items()):
            self.params.append(workspace_id)
            if months is None:
                clauses.append(f"{alias}.workspace_id = {mark}")
                continue
            ranges = []
            for month in sorted(months):
                start, end = month_bounds(month)
                ranges.append(f"({occurred} >= {mark} AND {occurred} < {mark})")
                self.params += [self.dialect.bound(start), self.dialect.bound(end)]
            clauses.append(f"({alias}.workspace_id = {mark} AND ({' OR '.join(ranges)}))")
        return f" WHERE {' OR '.join(clauses) or 'FALSE'}"

    def _ids(self, alias: str) -> str:
        if self.dialect.postgres:
            # Correlated with the id list that rows_query wraps around this query.
            return f" WHERE {alias}.id = ids.id OFFSET 0"
        # One parameter however many ids (SQLite allows only so many); each id is looked up
        # in the primary key.
        self.params.append(json.dumps(list(self.ids or ())))
        return f" WHERE {alias}.id IN (SELECT value FROM json_each({self.dialect.placeholder}))"


def _segment_ids(d: Dialect, where: Filter) -> str:
    """Return the customer's segment ids per row when reading by id; null in a full read."""
    if where.ids is None:  # filled from the customer look-up (touchpoints.analytics.rows)
        return "NULL::text" if d.postgres else "NULL"
    # One primary-key range per row: (customer_id, segment_id) is the table's key.
    return (
        f"(SELECT {d.ids('cs.segment_id')} FROM customer_segments cs "
        "WHERE cs.customer_id = f.customer_id)"
    )


def _feedback(d: Dialect, where: Filter) -> str:
    return (
        f"SELECT f.id, f.workspace_id, {d.time('f.occurred_at')}, f.solicited, f.source, "
        "f.channel, f.touchpoint_id, f.org_unit_id, f.customer_id, "
        f"{_segment_ids(d, where)}, r.survey_id, f.language, "
        f"f.nps, f.csat, f.ces, f.rating, f.rating_scale, f.sentiment, {d.json_text('f.topics')} "
        # A response links to at most one item (a unique index says so): no duplicate rows.
        "FROM feedback_items f LEFT JOIN survey_responses r ON r.feedback_item_id = f.id"
        + where.partitions("f", "f.occurred_at")
    )


def _events(d: Dialect, where: Filter) -> str:
    return (
        f"SELECT e.id, e.workspace_id, {d.time('e.occurred_at')}, e.type, e.name, "
        "e.customer_id, e.touchpoint_id, e.org_unit_id, e.value, e.currency, e.duration_seconds "
        "FROM operational_events e" + where.partitions("e", "e.occurred_at")
    )


def _customers(d: Dialect, where: Filter) -> str:
    memberships = (
        "SELECT cs.customer_id, cs.segment_id, sg.name FROM customer_segments cs "
        "JOIN segments sg ON sg.id = cs.segment_id" + where.workspaces("sg")
    )
    # SQLite's group_concat takes no ORDER BY (before 3.44): feed it sorted rows instead.
    order = "" if d.postgres else " ORDER BY cs.customer_id, sg.name"
    names = (
        f"SELECT m.customer_id, {d.names('m.name', 'm.name')} AS names, "
        f"{d.ids('m.segment_id')} AS ids FROM ({memberships}{order}) m GROUP BY m.customer_id"
    )
    return (
        f"SELECT c.id, c.workspace_id, c.org_unit_id, {d.time('c.first_seen_at')}, "
        f"{d.time('c.created_at')}, coalesce(n.names, ''), n.ids, {d.json_text('c.attributes')} "
        f"FROM customers c LEFT JOIN ({names}) n ON n.customer_id = c.id" + where.workspaces("c")
    )


def _touchpoints(d: Dialect, where: Filter) -> str:
    return (
        "SELECT tp.id, tp.workspace_id, tp.name, tp.channel, tp.owner_department, "
        "tp.controllable, tp.stage_id, s.name, s.position, s.journey_id, j.name "
        "FROM touchpoints tp LEFT JOIN journey_stages s ON s.id = tp.stage_id "
        "LEFT JOIN journeys j ON j.id = s.journey_id" + where.workspaces("tp")
    )


def _org_units(d: Dialect, where: Filter) -> str:
    return (
        "SELECT u.id, u.workspace_id, u.parent_id, u.code, u.name, u.kind, u.path "
        "FROM org_units u" + where.workspaces("u")
    )


QUERIES: dict[str, Callable[[Dialect, Filter], str]] = {
    FEEDBACK.name: _feedback,
    EVENTS.name: _events,
    CUSTOMERS.name: _customers,
    TOUCHPOINTS.name: _touchpoints,
    ORG_UNITS.name: _org_units,
}
# The small tables the derived columns are looked up in: (columns, SQL) per lookup.
LOOKUPS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "org_units": (("id", "path"), "SELECT u.id, u.path FROM org_units u", "u"),
    "touchpoints": (
        ("id", "stage_id", "journey_id"),
        "SELECT tp.id, tp.stage_id, s.journey_id FROM touchpoints tp "
        "LEFT JOIN journey_stages s ON s.id = tp.stage_id",
        "tp",
    ),
}
# Packing the customers' segment ids: customer and ids joined with U+001E, customers U+001D.
PAIR_SEPARATOR, CUSTOMER_SEPARATOR = "\x1e", "\x1d"


def raw_schema(dataset: Dataset) -> pa.Schema:
    """Return the schema of what a dataset's query returns: the layout less derived columns."""
    derived = DERIVED.get(dataset.name, ())
    return pa.schema(
        [
            pa.field(field.name, RAW_TYPES.get(field.name, field.type))
            for field in dataset.schema
            if field.name not in derived
        ]
    )


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """Return the UTC start of `month` ('YYYY-MM') and of the month after it."""
    start = datetime.strptime(month, "%Y-%m").replace(tzinfo=UTC)
    following = start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)
    return start, following


def dataset_query(dataset: Dataset, dialect: Dialect, scope: Scope) -> tuple[str, list[Any]]:
    """Return the SELECT (and its parameters) of a dataset's raw rows within `scope`."""
    where = Filter(dialect, scope)
    return QUERIES[dataset.name](dialect, where), where.params


def rows_query(dataset: Dataset, dialect: Dialect, ids: Sequence[str]) -> tuple[str, list[Any]]:
    """Return the SELECT of a month-partitioned dataset's raw rows with the given ids."""
    if not dataset.by_month:
        raise ValueError(f"dataset {dataset.name} has no row marks to select rows by")
    where = Filter(dialect, None, ids=ids)
    sql = QUERIES[dataset.name](dialect, where)
    if not dialect.postgres:
        return sql, where.params
    # One primary-key look-up per id, whatever the planner guesses: given a plain id filter
    # it scans whole tables (items, survey responses) for a few thousand ids. LATERAL with
    # OFFSET 0 keeps the per-id subquery from being flattened into such a join.
    wrapped = (
        f"SELECT picked.* FROM unnest({dialect.placeholder}::text[]) AS ids(id) "
        f"CROSS JOIN LATERAL ({sql}) AS picked"
    )
    return wrapped, [list(ids), *where.params]


def lookup_query(name: str, dialect: Dialect, scope: Scope) -> tuple[str, list[Any]]:
    """Return the SELECT of a lookup table for the scope's workspaces."""
    _, sql, alias = LOOKUPS[name]
    where = Filter(dialect, scope)
    return sql + where.workspaces(alias), where.params


def segment_ids_query(dialect: Dialect, scope: Scope) -> tuple[str, list[Any]]:
    """Return the SELECT of every customer in a segment of the scope, with its segment ids.

    A big workspace has hundreds of thousands of such customers: one row each would cost the
    driver a loop turn per row, so the rows come packed, a few thousand customers per text
    (grouped by the first two characters of their id), which Arrow splits
    (touchpoints.analytics.segment_sets.CustomerSegmentSets.from_packed).
    """
    where = Filter(dialect, scope)
    members = (
        f"SELECT cs.customer_id, {dialect.ids('cs.segment_id')} AS ids "
        "FROM customer_segments cs JOIN segments sg ON sg.id = cs.segment_id"
        + where.workspaces("sg")
        + " GROUP BY cs.customer_id"
    )
    pair = f"m.customer_id || {_char(dialect, PAIR_SEPARATOR)} || m.ids"
    packed = dialect.joined(pair, ord(CUSTOMER_SEPARATOR))
    return f"SELECT {packed} FROM ({members}) m GROUP BY substr(m.customer_id, 1, 2)", where.params


def _char(dialect: Dialect, character: str) -> str:
    return f"chr({ord(character)})" if dialect.postgres else f"char({ord(character)})"
