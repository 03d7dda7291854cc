"""Import runs and their quarantine: start, record, list, fix and replay rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from touchpoints.api.listing import ListParams, paginate
from touchpoints.auth.permissions import Principal, require
from touchpoints.db.base import utcnow
from touchpoints.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from touchpoints.imports.mapping import RowMapper
from touchpoints.imports.models import (
    ImportFormat,
    ImportKind,
    ImportRun,
    ImportStatus,
    QuarantinedRow,
    QuarantineStatus,
)
from touchpoints.imports.readers import RawRow
from touchpoints.imports.rows import KIND_PERMISSION, Outcome, RowResult, RowWriter
from touchpoints.imports.schemas import (
    ColumnMapping,
    ImportRunRead,
    QuarantinedRowUpdate,
    ReplayResult,
)

MAX_ERROR_CHARS = 2000


def run_fields() -> dict[str, Any]:
    """Return the filterable and sortable import-run columns."""
    return {
        "id": ImportRun.id,
        "kind": ImportRun.kind,
        "format": ImportRun.format,
        "file_name": ImportRun.file_name,
        "file_sha256": ImportRun.file_sha256,
        "status": ImportRun.status,
        "started_at": ImportRun.started_at,
        "finished_at": ImportRun.finished_at,
        "quarantined": ImportRun.quarantined,
    }


def quarantine_fields() -> dict[str, Any]:
    """Return the filterable and sortable quarantined-row columns."""
    return {
        "id": QuarantinedRow.id,
        "line": QuarantinedRow.line,
        "status": QuarantinedRow.status,
        "created_at": QuarantinedRow.created_at,
        "updated_at": QuarantinedRow.updated_at,
    }


def _writable_kinds(actor: Principal) -> list[str]:
    return [kind.value for kind, permission in KIND_PERMISSION.items() if actor.can(permission)]


def start_run(
    *,
    db_session: Session,
    actor: Principal,
    kind: ImportKind,
    fmt: ImportFormat,
    file_name: str,
    file_sha256: str,
    mapping: ColumnMapping,
) -> ImportRun:
    """Open a run for a file, resuming the unfinished run of the same file if there is one."""
    require(actor, KIND_PERMISSION[kind])
    run = db_session.scalar(
        select(ImportRun)
        .where(
            ImportRun.workspace_id == actor.workspace_id,
            ImportRun.kind == kind.value,
            ImportRun.file_sha256 == file_sha256,
            ImportRun.status != ImportStatus.COMPLETED.value,
        )
        .order_by(ImportRun.started_at.desc())
        .limit(1)
    )
    if run is None:
        run = ImportRun(
            workspace_id=actor.workspace_id,
            kind=kind.value,
            file_sha256=file_sha256,
            total=0,
            imported=0,
            duplicate=0,
            quarantined=0,
            last_line=0,
        )
        db_session.add(run)
    run.format = fmt.value
    run.file_name = file_name[:255]
    run.mapping = mapping.model_dump(mode="json")
    run.status = ImportStatus.RUNNING.value
    run.error = None
    run.finished_at = None
    run.user_id = actor.user_id
    db_session.flush()
    return run


def _already_quarantined(db_session: Session, run: ImportRun, lines: list[int]) -> set[int]:
    """Return the lines an earlier import of the same file already quarantined."""
    if not lines:
        return set()
    found = db_session.scalars(
        select(QuarantinedRow.line)
        .join(ImportRun, ImportRun.id == QuarantinedRow.run_id)
        .where(
            ImportRun.workspace_id == run.workspace_id,
            ImportRun.kind == run.kind,
            ImportRun.file_sha256 == run.file_sha256,
            QuarantinedRow.line.in_(lines),
        )
    )
    return set(found)


def record_results(
    *, db_session: Session, run: ImportRun, rows: Sequence[RawRow], results: Sequence[RowResult]
) -> None:
    """Count a chunk's outcomes on the run and quarantine its bad rows with their problems."""
    bad = [result.line for result in results if result.outcome is Outcome.QUARANTINED]
    seen = _already_quarantined(db_session, run, bad)
    for row, result in zip(rows, results, strict=True):
        run.total += 1
        if result.outcome is Outcome.IMPORTED:
            run.imported += 1
        elif result.outcome is Outcome.DUPLICATE or result.line in seen:
            run.duplicate += 1
        else:
            run.quarantined += 1
            db_session.add(
                QuarantinedRow(
                    workspace_id=run.workspace_id,
                    run_id=run.id,
                    line=row.line,
                    raw=row.values,
                    errors=[problem.model_dump(exclude_none=True) for problem in result.problems],
                    status=QuarantineStatus.OPEN.value,
                )
            )
        run.last_line = max(run.last_line, row.line)
    db_session.flush()


def finish_run(*, db_session: Session, run: ImportRun, error: str | None = None) -> None:
    """Mark a run completed, or failed with the reason it stopped."""
    run.status = ImportStatus.FAILED.value if error else ImportStatus.COMPLETED.value
    run.error = error[:MAX_ERROR_CHARS] if error else None
    run.finished_at = utcnow()
    db_session.flush()


def require_import_rights(actor: Principal) -> None:
    """Refuse callers whose role may not import any kind of data (before any lookup)."""
    if not _writable_kinds(actor):
        raise PermissionDenied(f"the {actor.role.value} role may not import data")


def _visible_runs(actor: Principal) -> Select[ImportRun]:
    return select(ImportRun).where(
        ImportRun.workspace_id == actor.workspace_id, ImportRun.kind.in_(_writable_kinds(actor))
    )


def list_runs(
    *, db_session: Session, actor: Principal, params: ListParams
) -> tuple[list[ImportRun], int]:
    """List the import runs of the kinds the caller may import, newest first."""
    require_import_rights(actor)
    return paginate(
        db_session,
        _visible_runs(actor),
        params=params,
        fields=run_fields(),
        default_sort="-started_at",
    )


def get_run(*, db_session: Session, actor: Principal, run_id: str) -> ImportRun:
    """Return one import run of the caller's workspace."""
    require_import_rights(actor)
    run = db_session.scalar(
        select(ImportRun).where(
            ImportRun.id == run_id, ImportRun.workspace_id == actor.workspace_id
        )
    )
    if run is None:
        raise NotFound(f"import run {run_id} not found")
    require(actor, KIND_PERMISSION[ImportKind(run.kind)])
    return run


def list_quarantine(
    *, db_session: Session, actor: Principal, run_id: str, params: ListParams
) -> tuple[list[QuarantinedRow], int]:
    """List a run's quarantined rows in file order; filter `status:eq:open` for the open ones."""
    run = get_run(db_session=db_session, actor=actor, run_id=run_id)
    statement = select(QuarantinedRow).where(QuarantinedRow.run_id == run.id)
    return paginate(
        db_session, statement, params=params, fields=quarantine_fields(), default_sort="line"
    )


def get_quarantined_row(*, db_session: Session, actor: Principal, row_id: str) -> QuarantinedRow:
    """Return one quarantined row of the caller's workspace."""
    require_import_rights(actor)
    row = db_session.scalar(
        select(QuarantinedRow).where(
            QuarantinedRow.id == row_id, QuarantinedRow.workspace_id == actor.workspace_id
        )
    )
    if row is None:
        raise NotFound(f"quarantined row {row_id} not found")
    get_run(db_session=db_session, actor=actor, run_id=row.run_id)
    return row


def update_quarantined_row(
    *, db_session: Session, actor: Principal, row_id: str, row_in: QuarantinedRowUpdate
) -> QuarantinedRow:
    """Correct a row's values (it becomes fixed), or discard or reopen it."""
    row = get_quarantined_row(db_session=db_session, actor=actor, row_id=row_id)
    if row.status == QuarantineStatus.REPLAYED.value:
        raise Conflict(f"row {row_id} was already replayed and stored; change the stored item")
    if row_in.raw is not None:
        row.raw = row_in.raw
        row.status = QuarantineStatus.FIXED.value
    if row_in.status is not None:
        row.status = row_in.status
    db_session.flush()
    return row


def _rows_to_replay(
    db_session: Session, run: ImportRun, row_ids: list[str] | None
) -> list[QuarantinedRow]:
    statement = select(QuarantinedRow).where(QuarantinedRow.run_id == run.id)
    if row_ids is None:
        statement = statement.where(QuarantinedRow.status == QuarantineStatus.FIXED.value)
    else:
        statement = statement.where(QuarantinedRow.id.in_(row_ids))
    rows = list(db_session.scalars(statement.order_by(QuarantinedRow.line)))
    missing = set(row_ids or ()) - {row.id for row in rows}
    if missing:
        raise InvalidInput("row_ids", f"not rows of run {run.id}: {', '.join(sorted(missing))}")
    done = [
        r.id for r in rows if r.status in (QuarantineStatus.REPLAYED, QuarantineStatus.DISCARDED)
    ]
    if done:
        raise InvalidInput("row_ids", f"already replayed or discarded: {', '.join(done)}")
    return rows


def replay(
    *, db_session: Session, actor: Principal, run_id: str, row_ids: list[str] | None = None
) -> ReplayResult:
    """Send fixed rows (or the rows named) through the import again; stored rows are replayed."""
    run = get_run(db_session=db_session, actor=actor, run_id=run_id)
    rows = _rows_to_replay(db_session, run, row_ids)
    mapping = ColumnMapping.model_validate(run.mapping)
    writer = RowWriter(
        db_session=db_session,
        actor=actor,
        kind=ImportKind(run.kind),
        mapper=RowMapper(mapping, ImportKind(run.kind)),
        file_sha256=run.file_sha256,
    )
    results = writer.store([RawRow(row.line, row.raw) for row in rows])
    for row, result in zip(rows, results, strict=True):
        if result.outcome is Outcome.QUARANTINED:
            row.status = QuarantineStatus.OPEN.value
            row.errors = [problem.model_dump(exclude_none=True) for problem in result.problems]
            continue
        row.status = QuarantineStatus.REPLAYED.value
        run.quarantined -= 1
        if result.outcome is Outcome.IMPORTED:
            run.imported += 1
        else:
            run.duplicate += 1
    db_session.flush()
    replayed = sum(1 for row in rows if row.status == QuarantineStatus.REPLAYED.value)
    return ReplayResult(
        replayed=replayed,
        still_quarantined=len(rows) - replayed,
        run=ImportRunRead.model_validate(run),
    )
