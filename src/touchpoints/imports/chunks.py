"""Store a chunk of feedback rows in bulk, with the outcomes the row path would give.

Rows the plan vouched for are stored together: one duplicate lookup, one identity lookup per
kind, one insert of the missing customers and one insert of the items. Any other row goes
through the row path (`RowWriter`) on its own, at its place in the file: a valid row the plan
left out ends the current run of bulk rows first, so duplicates and customers are decided in
file order exactly as row by row.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

from sqlalchemy import String, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import QueryableAttribute, Session

from touchpoints.auth.permissions import Permission, Principal, require
from touchpoints.customers.bulk import NewCustomer, insert_customers
from touchpoints.customers.identities import NormalizedIdentity
from touchpoints.customers.models import Customer, CustomerIdentity
from touchpoints.db.statistics import TableStatistics
from touchpoints.feedback.bulk import feedback_row, insert_feedback
from touchpoints.feedback.models import FeedbackItem
from touchpoints.imports.plan import CheckedRow
from touchpoints.imports.readers import RawRow
from touchpoints.imports.rows import Outcome, RowResult, RowWriter
from touchpoints.journeys.models import Touchpoint
from touchpoints.orgs.models import OrgUnit

# Values per IN (...) list: well under SQLite's and PostgreSQL's limits on parameters.
LOOKUP_BATCH = 5_000
ANALYZE_FIRST_ROWS = 5_000
ANALYZED_TABLES = ("feedback_items", "customers", "customer_identities")


def listed(db_session: Session, column: QueryableAttribute[Any], values: Iterable[str]) -> Any:
    """Return `column IN (values)` with the values sent as one parameter, however many.

    Nothing is compiled per value, and the values form a set the database can join with (a
    hash or an index lookup per value, whatever the table's statistics say during a bulk load):
    PostgreSQL's `unnest` of one array, SQLite's `json_each` of one JSON array.
    """
    ordered = sorted(values)
    if db_session.get_bind().dialect.name == "postgresql":
        array = bindparam("listed_values", ordered, type_=ARRAY(String()))
        return column.in_(select(func.unnest(array)))
    document = bindparam("listed_values", json.dumps(ordered), type_=String())
    return column.in_(select(func.json_each(document).table_valued("value").c.value))


def batched(values: Iterable[Any], size: int = LOOKUP_BATCH) -> Iterator[list[Any]]:
    """Split values into lists of at most `size`."""
    iterator = iter(values)
    while batch := list(islice(iterator, size)):
        yield batch


class ChunkWriter:
    """Store chunks of feedback rows of one file for one caller, in bulk where possible."""

    def __init__(self, *, db_session: Session, actor: Principal, row_writer: RowWriter) -> None:
        self.db_session = db_session
        self.actor = actor
        self.row_writer = row_writer
        self.statistics = TableStatistics(ANALYZED_TABLES, first_rows=ANALYZE_FIRST_ROWS)

    def store(
        self, rows: Sequence[RawRow], checked: Sequence[CheckedRow | None]
    ) -> list[RowResult]:
        """Store a chunk; `checked` holds the plan's verdict for each row. One result per row."""
        checked = self._with_known_links(checked)
        results: list[RowResult | None] = [None] * len(rows)
        run: list[tuple[int, CheckedRow]] = []
        for index, (raw, good) in enumerate(zip(rows, checked, strict=True)):
            if good is not None:
                run.append((index, good))
                continue
            mapped = self.row_writer.mapped(raw)
            model = self.row_writer.validated(mapped)
            if model is None:
                results[index] = RowResult(raw.line, Outcome.QUARANTINED, mapped.problems)
                continue
            self._store_run(run, results)
            run = []
            results[index] = self.row_writer.store_checked(mapped, model)
        self._store_run(run, results)
        return [result for result in results if result is not None]

    def _store_run(
        self, run: list[tuple[int, CheckedRow]], results: list[RowResult | None]
    ) -> None:
        if not run:
            return
        outcomes = self._store_bulk([good for _, good in run])
        for (index, good), outcome in zip(run, outcomes, strict=True):
            results[index] = RowResult(good.line, outcome)

    def _store_bulk(self, rows: list[CheckedRow]) -> list[Outcome]:
        """Store consecutive checked rows; each is imported or a duplicate."""
        stored = self._stored_refs(rows)
        outcomes = []
        fresh = []
        for row in rows:
            ref = (row.values["source"], row.values["source_ref"])
            if ref in stored:
                outcomes.append(Outcome.DUPLICATE)
                continue
            stored.add(ref)  # a later row of the file with the same ref is its duplicate
            outcomes.append(Outcome.IMPORTED)
            fresh.append(row)
        workspace_id = self.actor.workspace_id
        customers = self._link_customers(fresh)
        insert_customers(self.db_session, workspace_id=workspace_id, customers=customers)
        insert_feedback(self.db_session, [feedback_row(workspace_id, row.values) for row in fresh])
        # The lookups of the next chunks join their refs and identities with these tables.
        self.statistics.added(self.db_session, len(fresh))
        return outcomes

    def _stored_refs(self, rows: list[CheckedRow]) -> set[tuple[str, str]]:
        """Return the (source, source_ref) pairs of the rows that the workspace already has."""
        by_source: dict[str, set[str]] = {}
        for row in rows:
            by_source.setdefault(row.values["source"], set()).add(row.values["source_ref"])
        found: set[tuple[str, str]] = set()
        for source, refs in by_source.items():
            statement = select(FeedbackItem.source_ref).where(
                FeedbackItem.workspace_id == self.actor.workspace_id,
                FeedbackItem.source == source,
                listed(self.db_session, FeedbackItem.source_ref, refs),
            )
            found.update((source, ref) for ref in self.db_session.scalars(statement) if ref)
        return found

    def _link_customers(self, rows: list[CheckedRow]) -> list[NewCustomer]:
        """Point each row at the customer its identities name; return the customers to create.

        As the row path does: the first of the row's identities (email, phone, external id)
        that a customer holds wins; when none is held, a new customer gets them all.
        """
        linking = [row for row in rows if row.identities and row.values["customer_id"] is None]
        if not linking:
            return []
        known = self._owners({identity for row in linking for identity in row.identities})
        created: list[NewCustomer] = []
        for row in linking:
            customer_id = next((known[i] for i in row.identities if i in known), None)
            if customer_id is None:
                require(self.actor, Permission.CUSTOMERS_WRITE)
                customer = NewCustomer(
                    identities=list(row.identities),
                    display_name=row.display_name,
                    org_unit_id=row.values["org_unit_id"],
                )
                created.append(customer)
                customer_id = customer.id
                known.update(dict.fromkeys(row.identities, customer_id))
            row.values["customer_id"] = customer_id
        return created

    def _owners(self, identities: set[NormalizedIdentity]) -> dict[NormalizedIdentity, str]:
        """Look up who holds the identities: one query per kind (and external-id source)."""
        owners: dict[NormalizedIdentity, str] = {}
        for kind, source in sorted({(identity.kind, identity.source) for identity in identities}):
            values = {i.value for i in identities if i.kind is kind and i.source == source}
            found = self.db_session.execute(
                select(CustomerIdentity.value, CustomerIdentity.customer_id).where(
                    CustomerIdentity.workspace_id == self.actor.workspace_id,
                    CustomerIdentity.kind == kind.value,
                    CustomerIdentity.source == source,
                    listed(self.db_session, CustomerIdentity.value, values),
                )
            )
            for value, customer_id in found:
                owners[NormalizedIdentity(kind, source, value)] = customer_id
        return owners

    def _with_known_links(self, checked: Sequence[CheckedRow | None]) -> list[CheckedRow | None]:
        """Send rows whose touchpoint, customer or org unit is not known to the row path.

        The row path words the problem (or, for an org unit, checks the caller's scope the
        way the services do); here each link is looked up once per chunk.
        """
        wanted: dict[str, set[str]] = {"touchpoint_id": set(), "customer_id": set()}
        wanted["org_unit_id"] = set()
        for good in checked:
            if good is not None:
                for name, ids in wanted.items():
                    if good.values[name] is not None:
                        ids.add(good.values[name])
        if not any(wanted.values()):
            return list(checked)
        known = {name: self._existing(name, ids) for name, ids in wanted.items()}
        return [
            good
            if good is None
            or all(good.values[name] is None or good.values[name] in known[name] for name in known)
            else None
            for good in checked
        ]

    def _existing(self, name: str, ids: set[str]) -> set[str]:
        """Return the ids of the workspace (and for org units, of the caller's scope)."""
        model: type[Touchpoint] | type[Customer] | type[OrgUnit] = OrgUnit
        if name == "touchpoint_id":
            model = Touchpoint
        elif name == "customer_id":
            model = Customer
        found: set[str] = set()
        for batch in batched(sorted(ids)):
            statement = select(model.id).where(
                model.workspace_id == self.actor.workspace_id, model.id.in_(batch)
            )
            if model is OrgUnit and self.actor.org_unit_path is not None:
                in_scope = OrgUnit.path.startswith(self.actor.org_unit_path, autoescape=True)
                statement = statement.where(in_scope)
            found.update(self.db_session.scalars(statement))
        return found
