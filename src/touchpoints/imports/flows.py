"""Import a whole file: read it in chunks, store each chunk, commit the run's progress."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice

from sqlalchemy.orm import Session

from touchpoints.auth.permissions import Principal, require
from touchpoints.imports.formats import read_rows, resolve_mapping
from touchpoints.imports.mapping import RowMapper
from touchpoints.imports.models import ImportFormat, ImportKind, ImportRun
from touchpoints.imports.readers import ImportFile, RawRow
from touchpoints.imports.rows import KIND_PERMISSION, RowWriter
from touchpoints.imports.schemas import ColumnMapping
from touchpoints.imports.service import finish_run, record_results, start_run

CHUNK_ROWS = 1_000
Progress = Callable[[ImportRun], None]
RowSource = Callable[[ImportFile, ImportFormat, ColumnMapping], Iterable[RawRow]]


@dataclass(frozen=True)
class ImportRequest:
    """What to import: a file, what it holds, its format and an optional column mapping."""

    source: ImportFile
    kind: ImportKind
    fmt: ImportFormat
    mapping: ColumnMapping | None = None


def chunks(rows: Iterable[RawRow], size: int) -> Iterator[list[RawRow]]:
    """Split rows into lists of at most `size`."""
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


def import_file(
    *,
    db_session: Session,
    actor: Principal,
    request: ImportRequest,
    commit: Callable[[], None] | None = None,
    progress: Progress | None = None,
    chunk_rows: int = CHUNK_ROWS,
    read: RowSource = read_rows,
) -> ImportRun:
    """Import a file and return its run; rows a run already committed are skipped.

    With `commit`, the run and each chunk with the run's progress are committed as they go,
    so a run stopped half-way resumes where it stopped when the same file is imported again;
    without it (an API request) the caller commits everything at the end.
    """
    require(actor, KIND_PERMISSION[request.kind])
    mapping = resolve_mapping(request.source, request.fmt, request.kind, request.mapping)
    run = start_run(
        db_session=db_session,
        actor=actor,
        kind=request.kind,
        fmt=request.fmt,
        file_name=request.source.name,
        file_sha256=request.source.sha256(),
        mapping=mapping,
    )
    if commit is not None:
        commit()
    writer = RowWriter(
        db_session=db_session,
        actor=actor,
        kind=request.kind,
        mapper=RowMapper(mapping, request.kind),
        file_sha256=run.file_sha256,
    )
    resume_after = run.last_line
    pending = (row for row in read(request.source, request.fmt, mapping) if row.line > resume_after)
    try:
        for chunk in chunks(pending, chunk_rows):
            results = writer.store(chunk)
            record_results(db_session=db_session, run=run, rows=chunk, results=results)
            if commit is not None:
                commit()
            if progress is not None:
                progress(run)
    except Exception as exc:
        if commit is not None:
            _record_failure(db_session, run, exc, commit)
        raise
    finish_run(db_session=db_session, run=run)
    if commit is not None:
        commit()
    return run


def _record_failure(
    db_session: Session, run: ImportRun, exc: Exception, commit: Callable[[], None]
) -> None:
    """Undo the unfinished chunk and mark the run failed; a re-run resumes it."""
    db_session.rollback()
    finish_run(db_session=db_session, run=run, error=f"{type(exc).__name__}: {exc}")
    commit()
