"""Routes for bulk imports and their quarantine."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile

from touchpoints.api.deps import ActorDep, ListParamsDep, SessionDep
from touchpoints.api.listing import Page
from touchpoints.imports import service
from touchpoints.imports.flows import ImportRequest, import_file
from touchpoints.imports.formats import guess_format
from touchpoints.imports.mapping import mapping_from_json
from touchpoints.imports.models import ImportFormat, ImportKind
from touchpoints.imports.readers import ImportFile
from touchpoints.imports.schemas import (
    ImportRunRead,
    QuarantinedRowRead,
    QuarantinedRowUpdate,
    ReplayRequest,
    ReplayResult,
)

router = APIRouter(tags=["imports"])


@router.post("/imports", response_model=ImportRunRead, status_code=201, summary="Import a file")
def create_import(
    session: SessionDep,
    actor: ActorDep,
    file: Annotated[UploadFile, File(description="CSV, JSON Lines or Parquet file.")],
    kind: Annotated[ImportKind, Form(description="feedback, events or customers.")],
    format: Annotated[
        ImportFormat | None,
        Form(description="csv, jsonl, parquet, qualtrics or surveymonkey; default from the name."),
    ] = None,
    mapping: Annotated[
        str | None, Form(description="Column mapping as JSON (see docs/import.md).")
    ] = None,
) -> ImportRunRead:
    """Import a small file now and return the run with its counts.

    Bad rows are kept in the run's quarantine with their line and reason; good rows are
    stored. Sending the same file again imports nothing twice: rows it already stored or
    quarantined count as duplicates. The request body limit applies (1 MiB by default):
    import bigger files with `touchpoints import`. Needs feedback:write, events:write or
    customers:write, by kind.
    """
    name = file.filename or "upload"
    request = ImportRequest(
        source=ImportFile.from_bytes(name, file.file.read()),
        kind=kind,
        fmt=format or guess_format(name),
        mapping=mapping_from_json(mapping) if mapping else None,
    )
    run = import_file(db_session=session, actor=actor, request=request)
    return ImportRunRead.model_validate(run)


@router.get("/imports", response_model=Page[ImportRunRead], summary="List import runs")
def list_imports(
    session: SessionDep, actor: ActorDep, params: ListParamsDep
) -> Page[ImportRunRead]:
    """List import runs of the kinds the caller may import, newest first.

    Filter and sort by kind, format, file_name, file_sha256, status, started_at,
    finished_at and quarantined, for example `filter=status:eq:failed`.
    """
    items, total = service.list_runs(db_session=session, actor=actor, params=params)
    return Page(
        items=[ImportRunRead.model_validate(run) for run in items],
        total=total,
        limit=params.limit,
        offset=params.offset,
    )


@router.get("/imports/{run_id}", response_model=ImportRunRead, summary="Read an import run")
def read_import(run_id: str, session: SessionDep, actor: ActorDep) -> ImportRunRead:
    """Return one import run with its counts."""
    run = service.get_run(db_session=session, actor=actor, run_id=run_id)
    return ImportRunRead.model_validate(run)


@router.get(
    "/imports/{run_id}/quarantine",
    response_model=Page[QuarantinedRowRead],
    summary="List a run's quarantined rows",
)
def list_quarantine(
    run_id: str, session: SessionDep, actor: ActorDep, params: ListParamsDep
) -> Page[QuarantinedRowRead]:
    """List the rows of a run that could not be stored, in file order, with their problems.

    Filter by status (open, fixed, replayed, discarded): `filter=status:eq:open`.
    """
    items, total = service.list_quarantine(
        db_session=session, actor=actor, run_id=run_id, params=params
    )
    return Page(
        items=[QuarantinedRowRead.model_validate(row) for row in items],
        total=total,
        limit=params.limit,
        offset=params.offset,
    )


@router.patch(
    "/quarantine/{row_id}", response_model=QuarantinedRowRead, summary="Fix a quarantined row"
)
def update_quarantined_row(
    row_id: str, body: QuarantinedRowUpdate, session: SessionDep, actor: ActorDep
) -> QuarantinedRowRead:
    """Replace a row's values (it becomes `fixed`, ready to replay), or discard it.

    Send `raw` with the corrected row, column by column as in the file, or
    `status: discarded` to give up on it.
    """
    row = service.update_quarantined_row(
        db_session=session, actor=actor, row_id=row_id, row_in=body
    )
    return QuarantinedRowRead.model_validate(row)


@router.post("/imports/{run_id}/replay", response_model=ReplayResult, summary="Replay fixed rows")
def replay_import(
    run_id: str, session: SessionDep, actor: ActorDep, body: ReplayRequest | None = None
) -> ReplayResult:
    """Send the run's fixed rows (or the rows named) through the import again.

    Rows that now pass are stored and marked `replayed`; the others stay open with their
    new problems. Replaying is safe to retry: a row stored once is never stored twice.
    """
    return service.replay(
        db_session=session,
        actor=actor,
        run_id=run_id,
        row_ids=body.row_ids if body is not None else None,
    )
