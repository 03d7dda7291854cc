"""`touchpoints import`: bulk import of feedback, events and customers, and the quarantine."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.orm import Session, sessionmaker

from touchpoints.api.listing import ListParams
from touchpoints.auth.permissions import Principal, Role
from touchpoints.auth.service import first_admin
from touchpoints.cli.common import (
    DataDirOption,
    JsonOption,
    console,
    fail,
    load_settings,
    open_store,
    print_json,
    report_error,
)
from touchpoints.cli.workspaces import WorkspaceOption, resolve_workspace
from touchpoints.db.engine import unit_of_work
from touchpoints.errors import TouchpointsError
from touchpoints.imports import service
from touchpoints.imports.flows import CHUNK_ROWS, ImportRequest, import_file
from touchpoints.imports.formats import expected_last_line, guess_format
from touchpoints.imports.mapping import load_mapping
from touchpoints.imports.models import ImportFormat, ImportKind, ImportRun
from touchpoints.imports.readers import ImportFile
from touchpoints.imports.schemas import (
    ColumnMapping,
    ImportRunRead,
    QuarantinedRowRead,
    QuarantinedRowUpdate,
)

app = typer.Typer(
    help="Import feedback, events and customers from CSV, JSON Lines or Parquet files.",
    no_args_is_help=True,
)
quarantine_app = typer.Typer(
    help="List, fix, replay and discard the rows an import could not store.",
    no_args_is_help=True,
)
app.add_typer(quarantine_app, name="quarantine")

FileArgument = Annotated[
    Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="The file to import.")
]
MappingOption = Annotated[
    Path | None,
    typer.Option(
        "--mapping", "-m", exists=True, dir_okay=False, help="Column mapping file (.json or .toml)."
    ),
]
FormatOption = Annotated[
    ImportFormat | None,
    typer.Option("--format", "-f", help="File format; default from the file name."),
]
DelimiterOption = Annotated[
    str | None, typer.Option(help="CSV delimiter (`;`, `\\t`); sniffed when left out.")
]
ChunkOption = Annotated[
    int,
    typer.Option(
        "--chunk-rows",
        min=100,
        max=100_000,
        help="Rows stored per transaction; an interrupted import resumes after the last one.",
    ),
]
COUNTS = ("total", "imported", "duplicate", "quarantined")


def _acting_admin(session: Session, workspace: str | None) -> Principal:
    ws = resolve_workspace(session, workspace)
    admin = first_admin(db_session=session, workspace_id=ws.id)
    if admin is None:
        fail(f"workspace {ws.slug} has no admin; add one with `touchpoints users create`")
    return Principal(workspace_id=ws.id, user_id=admin.user.id, role=Role.ADMIN)


def _request(
    kind: ImportKind,
    path: Path,
    mapping_file: Path | None,
    fmt: ImportFormat | None,
    delimiter: str | None,
) -> ImportRequest:
    mapping = load_mapping(mapping_file) if mapping_file else None
    if delimiter is not None:
        delimiter = "\t" if delimiter in ("\\t", "tab") else delimiter
        mapping = (mapping or ColumnMapping()).model_copy(update={"delimiter": delimiter})
    return ImportRequest(
        source=ImportFile.from_path(path),
        kind=kind,
        fmt=fmt or guess_format(path.name),
        mapping=mapping,
    )


def _run_import(
    factory: sessionmaker[Session],
    workspace: str | None,
    request: ImportRequest,
    *,
    quiet: bool,
    chunk_rows: int = CHUNK_ROWS,
) -> ImportRunRead:
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    total = expected_last_line(request.source, request.fmt)
    with factory() as session, Progress(*columns, console=console, disable=quiet) as progress:
        task = progress.add_task(f"importing {request.source.name}", total=total)

        def advance(run: ImportRun) -> None:
            progress.update(task, completed=min(run.last_line, total))

        actor = _acting_admin(session, workspace)
        run = import_file(
            db_session=session,
            actor=actor,
            request=request,
            commit=session.commit,
            progress=advance,
            chunk_rows=chunk_rows,
        )
        progress.update(task, completed=total)
        return ImportRunRead.model_validate(run)


def _print_run(run: ImportRunRead) -> None:
    console.print(f"run {run.id}: {run.file_name}, {run.status}")
    table = Table(*COUNTS)
    table.add_row(*(f"{getattr(run, name):,}" for name in COUNTS))
    console.print(table)
    if run.quarantined:
        console.print(
            f"{run.quarantined:,} rows quarantined: see them with "
            f"`touchpoints import quarantine list {run.id}`"
        )


def _import_command(kind: ImportKind) -> Any:
    def command(
        file: FileArgument,
        mapping: MappingOption = None,
        fmt: FormatOption = None,
        delimiter: DelimiterOption = None,
        workspace: WorkspaceOption = None,
        chunk_rows: ChunkOption = CHUNK_ROWS,
        data_dir: DataDirOption = None,
        as_json: JsonOption = False,
    ) -> None:
        _, factory = open_store(load_settings(data_dir))
        try:
            request = _request(kind, file, mapping, fmt, delimiter)
            run = _run_import(factory, workspace, request, quiet=as_json, chunk_rows=chunk_rows)
        except TouchpointsError as exc:
            report_error(exc)
        if as_json:
            print_json(run.model_dump(mode="json"))
        else:
            _print_run(run)

    command.__doc__ = (
        f"Import {kind.value} from a file; a re-run of the same file imports nothing twice "
        "and resumes an interrupted run."
    )
    return command


for _kind in ImportKind:
    app.command(_kind.value)(_import_command(_kind))


@app.command("runs")
def runs_command(
    workspace: WorkspaceOption = None,
    limit: Annotated[int, typer.Option(min=1, max=500, help="How many runs.")] = 20,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """List recent import runs with their counts."""
    _, factory = open_store(load_settings(data_dir))
    with factory() as session:
        actor = _acting_admin(session, workspace)
        runs, _ = service.list_runs(db_session=session, actor=actor, params=ListParams(limit=limit))
        rows = [ImportRunRead.model_validate(run) for run in runs]
    if as_json:
        print_json([row.model_dump(mode="json") for row in rows])
        return
    table = Table("started", "kind", "file", "status", "imported", "quarantined")
    table.add_column("run", no_wrap=True, min_width=32)
    for run in rows:
        started = f"{run.started_at:%Y-%m-%d %H:%M}"
        imported, left = f"{run.imported:,} of {run.total:,}", f"{run.quarantined:,}"
        table.add_row(started, run.kind, run.file_name, run.status, imported, left, run.id)
    console.print(table)


def _problems_text(row: QuarantinedRowRead) -> str:
    return "; ".join(
        f"{p.field}{f' ({p.column})' if p.column else ''}: {p.reason}" for p in row.errors
    )


@quarantine_app.command("list")
def quarantine_list_command(
    run_id: Annotated[str, typer.Argument(help="The import run (see `touchpoints import runs`).")],
    status: Annotated[
        str | None, typer.Option(help="Only rows with this status: open, fixed, replayed...")
    ] = "open",
    limit: Annotated[int, typer.Option(min=1, max=500, help="How many rows.")] = 100,
    workspace: WorkspaceOption = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """List a run's quarantined rows with their line numbers and problems."""
    _, factory = open_store(load_settings(data_dir))
    filters = (f"status:eq:{status}",) if status else ()
    with factory() as session:
        actor = _acting_admin(session, workspace)
        try:
            rows, total = service.list_quarantine(
                db_session=session,
                actor=actor,
                run_id=run_id,
                params=ListParams(limit=limit, filters=filters),
            )
        except TouchpointsError as exc:
            report_error(exc)
        read = [QuarantinedRowRead.model_validate(row) for row in rows]
    if as_json:
        print_json({"total": total, "items": [row.model_dump(mode="json") for row in read]})
        return
    table = Table("line", "status", "problems")
    table.add_column("row", no_wrap=True, min_width=32)
    for row in read:
        table.add_row(str(row.line), row.status, _problems_text(row), row.id)
    console.print(table)
    console.print(f"{total:,} rows")


def _show(row: QuarantinedRowRead, as_json: bool) -> None:
    if as_json:
        print_json(row.model_dump(mode="json"))
        return
    console.print(f"row {row.id}, line {row.line}, {row.status}")
    console.print(f"problems: {_problems_text(row)}")
    console.print_json(json.dumps(row.raw, default=str))


@quarantine_app.command("show")
def quarantine_show_command(
    row_id: Annotated[str, typer.Argument(help="The quarantined row.")],
    workspace: WorkspaceOption = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show a quarantined row: its values as read from the file and its problems."""
    _, factory = open_store(load_settings(data_dir))
    with factory() as session:
        actor = _acting_admin(session, workspace)
        try:
            row = service.get_quarantined_row(db_session=session, actor=actor, row_id=row_id)
        except TouchpointsError as exc:
            report_error(exc)
        _show(QuarantinedRowRead.model_validate(row), as_json)


def _fixed_raw(current: dict[str, Any], sets: list[str], raw: str | None) -> dict[str, Any]:
    if raw is not None:
        try:
            document = json.loads(raw)
        except json.JSONDecodeError as exc:
            fail(f"--raw is not valid JSON: {exc}")
        if not isinstance(document, dict):
            fail("--raw must be a JSON object of column: value")
        return document
    fixed = dict(current)
    for assignment in sets:
        column, sep, value = assignment.partition("=")
        if not sep:
            fail(f"--set takes COLUMN=VALUE, not {assignment!r}")
        fixed[column] = value
    return fixed


@quarantine_app.command("fix")
def quarantine_fix_command(
    row_id: Annotated[str, typer.Argument(help="The quarantined row.")],
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="COLUMN=VALUE to change (repeatable): --set Score=9."),
    ] = None,
    raw: Annotated[
        str | None, typer.Option(help="The whole corrected row as a JSON object instead.")
    ] = None,
    workspace: WorkspaceOption = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Correct a quarantined row's values; it is then ready for `quarantine replay`."""
    if not set_ and raw is None:
        fail("give --set COLUMN=VALUE (repeatable) or --raw JSON")
    _, factory = open_store(load_settings(data_dir))
    try:
        with unit_of_work(factory) as session:
            actor = _acting_admin(session, workspace)
            row = service.get_quarantined_row(db_session=session, actor=actor, row_id=row_id)
            update = QuarantinedRowUpdate(raw=_fixed_raw(row.raw, set_ or [], raw))
            row = service.update_quarantined_row(
                db_session=session, actor=actor, row_id=row_id, row_in=update
            )
            read = QuarantinedRowRead.model_validate(row)
    except TouchpointsError as exc:
        report_error(exc)
    _show(read, as_json)


@quarantine_app.command("replay")
def quarantine_replay_command(
    run_id: Annotated[str, typer.Argument(help="The import run.")],
    row: Annotated[
        list[str] | None, typer.Option("--row", help="Replay only this row (repeatable).")
    ] = None,
    workspace: WorkspaceOption = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Send a run's fixed rows (or the rows named) through the import again."""
    _, factory = open_store(load_settings(data_dir))
    try:
        with unit_of_work(factory) as session:
            actor = _acting_admin(session, workspace)
            result = service.replay(db_session=session, actor=actor, run_id=run_id, row_ids=row)
    except TouchpointsError as exc:
        report_error(exc)
    if as_json:
        print_json(result.model_dump(mode="json"))
        return
    console.print(
        f"{result.replayed:,} rows stored; {result.still_quarantined:,} still quarantined"
    )
    _print_run(result.run)


@quarantine_app.command("discard")
def quarantine_discard_command(
    row_ids: Annotated[list[str], typer.Argument(help="The quarantined rows to give up on.")],
    workspace: WorkspaceOption = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Give up on quarantined rows: they stay listed as discarded and are never replayed."""
    _, factory = open_store(load_settings(data_dir))
    try:
        with unit_of_work(factory) as session:
            actor = _acting_admin(session, workspace)
            for row_id in row_ids:
                service.update_quarantined_row(
                    db_session=session,
                    actor=actor,
                    row_id=row_id,
                    row_in=QuarantinedRowUpdate(status="discarded"),
                )
    except TouchpointsError as exc:
        report_error(exc)
    if as_json:
        print_json({"discarded": row_ids})
    else:
        console.print(f"{len(row_ids)} rows discarded")
