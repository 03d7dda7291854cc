"""Imports: runs with their counts, uploading a file, and a quarantine to fix and replay."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from touchpoints.api.deps import SessionDep
from touchpoints.api.listing import ListParams
from touchpoints.errors import Conflict, InvalidInput, NotFound
from touchpoints.imports import service
from touchpoints.imports.corrections import cell_text, corrected_raw
from touchpoints.imports.flows import ImportRequest, import_file
from touchpoints.imports.formats import guess_format
from touchpoints.imports.mapping import mapping_from_json
from touchpoints.imports.models import ImportFormat, ImportKind, ImportStatus, QuarantineStatus
from touchpoints.imports.readers import ImportFile
from touchpoints.imports.rows import KIND_PERMISSION
from touchpoints.imports.schemas import QuarantinedRowUpdate
from touchpoints.web.deps import WebCallerDep
from touchpoints.web.rendering import render
from touchpoints.web.sessions import WebCaller

router = APIRouter()
PAGE_SIZE = 50
FormField = Annotated[str, Form()]
CELL_PREFIX = "cell."


def _offset(request: Request) -> int:
    value = request.query_params.get("offset", "")
    return int(value) if value.isdigit() else 0


def _choice(value: str | None, allowed: list[str]) -> str | None:
    return value if value in allowed else None


def _runs_page(
    request: Request,
    session: Session,
    caller: WebCaller,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    statuses = [s.value for s in ImportStatus]
    status = _choice(request.query_params.get("status"), statuses)
    offset = _offset(request)
    params = ListParams(
        limit=PAGE_SIZE, offset=offset, filters=(f"status:eq:{status}",) if status else ()
    )
    runs, total = service.list_runs(db_session=session, actor=caller.principal, params=params)
    kinds = [
        k.value for k, permission in KIND_PERMISSION.items() if caller.principal.can(permission)
    ]
    return render(
        request,
        session,
        caller,
        "imports/list.html",
        title="Imports",
        status_code=status_code,
        runs=runs,
        total=total,
        offset=offset,
        page_size=PAGE_SIZE,
        query_prefix=urlencode({"status": status}) + "&" if status else "",
        statuses=statuses,
        status=status or "",
        kinds=kinds,
        formats=[f.value for f in ImportFormat],
        errors=errors or {},
        form=form or {},
    )


@router.get("/imports")
def imports(request: Request, caller: WebCallerDep, session: SessionDep) -> HTMLResponse:
    """List import runs with how many rows were imported, duplicates or quarantined."""
    service.require_import_rights(caller.principal)
    return _runs_page(request, session, caller)


@router.post("/imports", response_model=None)
def upload(
    request: Request,
    caller: WebCallerDep,
    session: SessionDep,
    file: Annotated[UploadFile | None, File()] = None,
    kind: FormField = "",
    format: FormField = "",
    mapping: FormField = "",
) -> Response:
    """Import a small file now: good rows are stored, bad rows quarantined with reasons."""
    service.require_import_rights(caller.principal)
    form = {"kind": kind, "format": format, "mapping": mapping}
    try:
        if file is None or not file.filename:
            raise InvalidInput("file", "choose a CSV, JSON Lines or Parquet file")
        if kind not in {k.value for k in ImportKind}:
            raise InvalidInput("kind", "choose what the file holds")
        request_in = ImportRequest(
            source=ImportFile.from_bytes(file.filename, file.file.read()),
            kind=ImportKind(kind),
            fmt=ImportFormat(format)
            if format in {f.value for f in ImportFormat}
            else guess_format(file.filename),
            mapping=mapping_from_json(mapping) if mapping.strip() else None,
        )
        run = import_file(db_session=session, actor=caller.principal, request=request_in)
    except InvalidInput as problem:
        session.rollback()  # a file that fails half-way leaves nothing behind
        field = problem.field if problem.field in ("file", "kind", "format", "mapping") else "file"
        errors = {field: problem.reason}
        return _runs_page(request, session, caller, errors=errors, form=form, status_code=422)
    return RedirectResponse(f"/imports/{run.id}?done=imported", status_code=303)


@router.get("/imports/{run_id}")
def import_run(
    request: Request, run_id: str, caller: WebCallerDep, session: SessionDep
) -> HTMLResponse:
    """Show a run's counts and its quarantine: line, field, reason and the row as read."""
    run = service.get_run(db_session=session, actor=caller.principal, run_id=run_id)
    statuses = [s.value for s in QuarantineStatus]
    status = _choice(request.query_params.get("status"), statuses)
    offset = _offset(request)
    filters = (f"status:eq:{status}",) if status else ()
    rows, total = service.list_quarantine(
        db_session=session,
        actor=caller.principal,
        run_id=run.id,
        params=ListParams(limit=PAGE_SIZE, offset=offset, filters=filters),
    )
    _, fixed = service.list_quarantine(
        db_session=session,
        actor=caller.principal,
        run_id=run.id,
        params=ListParams(limit=1, filters=("status:eq:fixed",)),
    )
    query = request.query_params
    replay = None
    if query.get("replayed", "").isdigit() and query.get("still", "").isdigit():
        replay = {"replayed": int(query["replayed"]), "still": int(query["still"])}
    return render(
        request,
        session,
        caller,
        "imports/run.html",
        title=f"Import of {run.file_name}",
        run=run,
        rows=rows,
        total=total,
        offset=offset,
        page_size=PAGE_SIZE,
        query_prefix=urlencode({"status": status}) + "&" if status else "",
        statuses=statuses,
        status=status or "",
        fixed=fixed,
        replay=replay,
        done=query.get("done"),
        cell_text=cell_text,
    )


def _row_page(
    request: Request,
    session: Session,
    caller: WebCaller,
    run_id: str,
    row_id: str,
    *,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    run = service.get_run(db_session=session, actor=caller.principal, run_id=run_id)
    row = service.get_quarantined_row(db_session=session, actor=caller.principal, row_id=row_id)
    if row.run_id != run.id:
        raise NotFound(f"quarantined row {row_id} not found in import run {run_id}")
    by_column: dict[str, list[str]] = {}
    general: list[str] = []
    for problem in row.errors:
        column = problem.get("column")
        reason = f"{problem.get('field')}: {problem.get('reason')}"
        (by_column.setdefault(column, []) if column in row.raw else general).append(reason)
    cells = [
        {
            "column": column,
            "text": (typed or {}).get(column, cell_text(value)),
            "problems": by_column.get(column, []),
        }
        for column, value in row.raw.items()
    ]
    return render(
        request,
        session,
        caller,
        "imports/row.html",
        title=f"Line {row.line} of {run.file_name}",
        status_code=status_code,
        run=run,
        row=row,
        cells=cells,
        general=general,
        errors=errors or {},
    )


@router.get("/imports/{run_id}/rows/{row_id}")
def quarantined_row(
    request: Request, run_id: str, row_id: str, caller: WebCallerDep, session: SessionDep
) -> HTMLResponse:
    """Show one quarantined row as a form to correct its cells."""
    return _row_page(request, session, caller, run_id, row_id)


async def _typed_cells(request: Request) -> dict[str, str]:
    """Read the posted cells (`cell.<column>` fields) of a row's correction form."""
    form = await request.form()
    return {
        name.removeprefix(CELL_PREFIX): str(value)
        for name, value in form.multi_items()
        if name.startswith(CELL_PREFIX)
    }


TypedCells = Annotated[dict[str, str], Depends(_typed_cells)]


@router.post("/imports/{run_id}/rows/{row_id}", response_model=None)
def fix_row(
    request: Request,
    run_id: str,
    row_id: str,
    caller: WebCallerDep,
    session: SessionDep,
    typed: TypedCells,
    action: FormField = "save",
) -> Response:
    """Save a corrected row (it becomes fixed), save and replay it at once, or discard it."""
    return _fix(request, session, caller, run_id, row_id, action, typed)


def _fix(
    request: Request,
    session: Session,
    caller: WebCaller,
    run_id: str,
    row_id: str,
    action: str,
    typed: dict[str, str],
) -> Response:
    row = service.get_quarantined_row(db_session=session, actor=caller.principal, row_id=row_id)
    if row.run_id != run_id:
        raise NotFound(f"quarantined row {row_id} not found in import run {run_id}")
    if action == "discard":
        change = QuarantinedRowUpdate(status="discarded")
    elif action == "reopen":
        change = QuarantinedRowUpdate(status="open")
    else:
        change = QuarantinedRowUpdate(raw=corrected_raw(row.raw, typed))
    try:
        service.update_quarantined_row(
            db_session=session, actor=caller.principal, row_id=row.id, row_in=change
        )
        if action == "replay":
            result = service.replay(
                db_session=session, actor=caller.principal, run_id=run_id, row_ids=[row.id]
            )
            target = {"replayed": result.replayed, "still": result.still_quarantined}
            return RedirectResponse(
                f"/imports/{run_id}?{urlencode(target)}#row-{row.id}", status_code=303
            )
    except (Conflict, InvalidInput) as problem:
        session.rollback()
        errors = {"form": getattr(problem, "reason", problem.detail)}
        return _row_page(
            request,
            session,
            caller,
            run_id,
            row_id,
            errors=errors,
            typed=typed,
            status_code=problem.status_code,
        )
    return RedirectResponse(f"/imports/{run_id}?done={action}#row-{row.id}", status_code=303)


@router.post("/imports/{run_id}/replay", response_model=None)
def replay(
    request: Request, run_id: str, caller: WebCallerDep, session: SessionDep, row_id: FormField = ""
) -> Response:
    """Replay every fixed row of the run (or the one row named) and show what happened."""
    try:
        result = service.replay(
            db_session=session,
            actor=caller.principal,
            run_id=run_id,
            row_ids=[row_id] if row_id else None,
        )
    except InvalidInput as problem:
        target = urlencode({"done": "nothing", "reason": problem.reason})
        return RedirectResponse(f"/imports/{run_id}?{target}", status_code=303)
    query: dict[str, Any] = {"replayed": result.replayed, "still": result.still_quarantined}
    anchor = f"#row-{row_id}" if row_id else "#quarantine"
    return RedirectResponse(f"/imports/{run_id}?{urlencode(query)}{anchor}", status_code=303)
