"""Store mapped rows through the same services the API uses, one savepoint per row."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from touchpoints.auth.permissions import Permission, Principal
from touchpoints.customers import service as customers
from touchpoints.customers.identities import IdentityKind, NormalizedIdentity, normalize_identity
from touchpoints.customers.identities import phone_region as workspace_phone_region
from touchpoints.customers.models import CustomerIdentity
from touchpoints.customers.schemas import CustomerCreate, CustomerUpdate, IdentityCreate
from touchpoints.errors import Conflict, InvalidInput, NotFound
from touchpoints.feedback.models import FeedbackItem
from touchpoints.feedback.schemas import FeedbackItemCreate
from touchpoints.feedback.service import create_feedback
from touchpoints.imports.mapping import MappedRow, RowMapper, validation_problems
from touchpoints.imports.models import ImportKind
from touchpoints.imports.readers import RawRow
from touchpoints.imports.schemas import Problem
from touchpoints.operations.models import OperationalEvent
from touchpoints.operations.schemas import OperationalEventCreate
from touchpoints.operations.service import create_event

DEFAULT_SOURCE = "import"
KIND_PERMISSION = {
    ImportKind.FEEDBACK: Permission.FEEDBACK_WRITE,
    ImportKind.EVENTS: Permission.EVENTS_WRITE,
    ImportKind.CUSTOMERS: Permission.CUSTOMERS_WRITE,
}
IDENTITY_FIELDS = (
    ("email", IdentityKind.EMAIL),
    ("phone", IdentityKind.PHONE),
    ("external_id", IdentityKind.EXTERNAL_ID),
)
SignalCreate = FeedbackItemCreate | OperationalEventCreate


class Outcome(StrEnum):
    """How one row ended."""

    IMPORTED = "imported"
    DUPLICATE = "duplicate"
    QUARANTINED = "quarantined"


@dataclass
class RowResult:
    """The outcome of one row and, when quarantined, why."""

    line: int
    outcome: Outcome
    problems: list[Problem] = field(default_factory=list)


def source_ref_for(file_sha256: str, line: int) -> str:
    """Return the stable reference of a row of a file that names none of its own."""
    return f"{file_sha256[:16]}:{line}"


@dataclass
class _Batch:
    """The rows of one chunk on their way to the store."""

    db_session: Session
    actor: Principal
    kind: ImportKind
    region: str
    known: dict[NormalizedIdentity, str] = field(default_factory=dict)  # identity -> customer


class RowWriter:
    """Store the rows of one file of one kind for one caller."""

    def __init__(
        self,
        *,
        db_session: Session,
        actor: Principal,
        kind: ImportKind,
        mapper: RowMapper,
        file_sha256: str,
    ) -> None:
        self.db_session = db_session
        self.actor = actor
        self.kind = kind
        self.mapper = mapper
        self.file_sha256 = file_sha256

    def store(self, rows: Sequence[RawRow]) -> list[RowResult]:
        """Store a chunk of rows; return one result per row, in order."""
        region = workspace_phone_region(
            db_session=self.db_session, workspace_id=self.actor.workspace_id
        )
        batch = _Batch(self.db_session, self.actor, self.kind, region)
        mapped = [self.mapped(row) for row in rows]
        if self.kind is ImportKind.CUSTOMERS:
            return [self._store_customer(batch, row) for row in mapped]
        checked = [(row, self.validated(row)) for row in mapped]
        stored = self._stored_refs([model for _, model in checked if model is not None])
        _load_identities(batch, [row for row, model in checked if model is not None])
        return [self._store_signal(batch, row, model, stored) for row, model in checked]

    def store_checked(self, row: MappedRow, model: SignalCreate) -> RowResult:
        """Store one feedback or event row that passed validation, through the services."""
        region = workspace_phone_region(
            db_session=self.db_session, workspace_id=self.actor.workspace_id
        )
        batch = _Batch(self.db_session, self.actor, self.kind, region)
        stored = self._stored_refs([model])
        _load_identities(batch, [row])
        return self._store_signal(batch, row, model, stored)

    def mapped(self, raw: RawRow) -> MappedRow:
        """Map a row read from the file into fields, with the reader's problem if it had one."""
        if raw.problem is not None:
            # Unparsed values would only add misleading "field required" problems.
            problem = Problem(field="row", reason=raw.problem)
            return MappedRow(line=raw.line, problems=[problem], readable=False)
        row = self.mapper.map(raw.line, raw.values)
        if self.kind is not ImportKind.CUSTOMERS:
            row.payload.setdefault("source", DEFAULT_SOURCE)
            row.payload.setdefault("source_ref", source_ref_for(self.file_sha256, raw.line))
        return row

    def validated(self, row: MappedRow) -> SignalCreate | None:
        """Return the row's Create schema, or None with the problems added to the row."""
        if not row.readable:
            return None
        schema: type[SignalCreate] = (
            FeedbackItemCreate if self.kind is ImportKind.FEEDBACK else OperationalEventCreate
        )
        model = _validate(schema, row)
        return model if model is not None and not row.problems else None

    def _stored_refs(self, models: Iterable[SignalCreate]) -> set[tuple[str, str]]:
        table = FeedbackItem if self.kind is ImportKind.FEEDBACK else OperationalEvent
        wanted = {(m.source, m.source_ref) for m in models if m.source_ref is not None}
        found: set[tuple[str, str]] = set()
        for source in {source for source, _ in wanted}:
            refs = [ref for s, ref in wanted if s == source]
            rows = self.db_session.execute(
                select(table.source, table.source_ref).where(
                    table.workspace_id == self.actor.workspace_id,
                    table.source == source,
                    table.source_ref.in_(refs),
                )
            )
            found |= {(s, ref) for s, ref in rows if ref is not None}
        return found

    def _store_signal(
        self,
        batch: _Batch,
        row: MappedRow,
        model: SignalCreate | None,
        stored: set[tuple[str, str]],
    ) -> RowResult:
        if model is None:
            return RowResult(row.line, Outcome.QUARANTINED, row.problems)
        if (model.source, model.source_ref) in stored:
            return RowResult(row.line, Outcome.DUPLICATE)
        try:
            with self.db_session.begin_nested():
                created = _link_customer(batch, row, model)
                if isinstance(model, FeedbackItemCreate):
                    create_feedback(db_session=self.db_session, actor=self.actor, feedback_in=model)
                else:
                    create_event(db_session=self.db_session, actor=self.actor, event_in=model)
        except Conflict:
            return RowResult(row.line, Outcome.DUPLICATE)
        except (InvalidInput, NotFound) as exc:
            return RowResult(row.line, Outcome.QUARANTINED, [_problem_of(exc, row)])
        batch.known |= created
        return RowResult(row.line, Outcome.IMPORTED)

    def _store_customer(self, batch: _Batch, row: MappedRow) -> RowResult:
        model = _validate(CustomerCreate, row) if row.readable else None
        if model is None or row.problems:
            return RowResult(row.line, Outcome.QUARANTINED, row.problems)
        if model.email is None and model.phone is None and model.external_id is None:
            reason = "give an email, phone or external_id so a re-import finds the customer again"
            return RowResult(row.line, Outcome.QUARANTINED, [Problem(field="email", reason=reason)])
        try:
            with self.db_session.begin_nested():
                existing = _find_customer(batch, model)
                if existing is None:
                    customers.create_customer(
                        db_session=self.db_session, actor=self.actor, customer_in=model
                    )
                    return RowResult(row.line, Outcome.IMPORTED)
                _update_customer(batch, existing, model, row)
        except (InvalidInput, NotFound, Conflict) as exc:
            return RowResult(row.line, Outcome.QUARANTINED, [_problem_of(exc, row)])
        return RowResult(row.line, Outcome.DUPLICATE)


def _validate(schema: type[Any], row: MappedRow) -> Any:
    try:
        return schema.model_validate(row.payload)
    except ValidationError as exc:
        # A value the mapping could not read is already reported; "field required" would mislead.
        reported = {problem.field for problem in row.problems}
        found = validation_problems(exc, row.columns)
        row.problems.extend(p for p in found if p.field not in reported)
        return None


def _problem_of(exc: InvalidInput | NotFound | Conflict, row: MappedRow) -> Problem:
    if isinstance(exc, InvalidInput):
        return Problem(field=exc.field, reason=exc.reason, column=row.columns.get(exc.field))
    return Problem(field="row", reason=exc.detail)


def _row_identities(batch: _Batch, row: MappedRow) -> list[NormalizedIdentity]:
    identities = []
    for name, kind in IDENTITY_FIELDS:
        value = row.customer.get(name)
        if value is None:
            continue
        identities.append(
            normalize_identity(
                kind,
                value,
                source=row.customer.get("external_id_source", "") if name == "external_id" else "",
                region=batch.region,
                field=f"customer.{name}",
            )
        )
    return identities


def _load_identities(batch: _Batch, rows: Iterable[MappedRow]) -> None:
    """Look up, in one query per identity kind, the customers a chunk's rows name."""
    wanted: set[NormalizedIdentity] = set()
    for row in rows:
        try:
            wanted.update(_row_identities(batch, row))
        except InvalidInput:
            continue  # reported when the row is stored
    for kind in {identity.kind for identity in wanted}:
        values = [i.value for i in wanted if i.kind is kind]
        found = batch.db_session.execute(
            select(
                CustomerIdentity.source, CustomerIdentity.value, CustomerIdentity.customer_id
            ).where(
                CustomerIdentity.workspace_id == batch.actor.workspace_id,
                CustomerIdentity.kind == kind.value,
                CustomerIdentity.value.in_(values),
            )
        )
        for source, value, customer_id in found:
            batch.known[NormalizedIdentity(kind, source, value)] = customer_id


def _link_customer(
    batch: _Batch, row: MappedRow, model: SignalCreate
) -> dict[NormalizedIdentity, str]:
    """Point the signal at the customer its identities name, creating one when none matches."""
    identities = _row_identities(batch, row)
    if not identities or model.customer_id is not None:
        return {}
    customer_id = next((batch.known[i] for i in identities if i in batch.known), None)
    created: dict[NormalizedIdentity, str] = {}
    if customer_id is None:
        customer = customers.create_customer(
            db_session=batch.db_session,
            actor=batch.actor,
            customer_in=CustomerCreate(
                display_name=row.customer.get("display_name"),
                org_unit_id=model.org_unit_id,
                identities=[
                    IdentityCreate(kind=i.kind, value=i.value, source=i.source) for i in identities
                ],
            ),
        )
        customer_id = customer.id
        created = dict.fromkeys(identities, customer_id)
    model.customer_id = customer_id
    return created


def _find_customer(batch: _Batch, model: CustomerCreate) -> Any:
    pairs = [
        (IdentityKind.EMAIL, model.email, ""),
        (IdentityKind.PHONE, model.phone, ""),
        (IdentityKind.EXTERNAL_ID, model.external_id, model.external_id_source),
    ]
    for kind, value, source in pairs:
        if value is None:
            continue
        customer = customers.find_by_identity(
            db_session=batch.db_session,
            workspace_id=batch.actor.workspace_id,
            kind=kind,
            value=value,
            source=source,
        )
        if customer is not None:
            return customer
    return None


def _update_customer(batch: _Batch, existing: Any, model: CustomerCreate, row: MappedRow) -> None:
    """Upsert: apply the row's fields to the matched customer and add identities it lacks."""
    given = set(row.payload) & set(CustomerUpdate.model_fields)
    changes: dict[str, Any] = {name: getattr(model, name) for name in given}
    if "attributes" in changes:
        changes["attributes"] = {**existing.attributes, **changes["attributes"]}
    customers.update_customer(
        db_session=batch.db_session,
        actor=batch.actor,
        customer_id=existing.id,
        customer_in=CustomerUpdate(**changes),
    )
    for name, kind in IDENTITY_FIELDS:
        value = getattr(model, name)
        if value is None:
            continue
        source = model.external_id_source if name == "external_id" else ""
        customers.add_identity(
            db_session=batch.db_session,
            actor=batch.actor,
            customer_id=existing.id,
            identity_in=IdentityCreate(kind=kind, value=value, source=source),
        )
