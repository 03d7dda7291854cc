"""Import a whole file: read it in chunks, store each chunk, commit the run's progress."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice

from sqlalchemy.orm import Session

from touchpoints.auth.permissions import Principal, require
from touchpoints.customers.identities import phone_region
from touchpoints.imports.chunks import ChunkWriter
from touchpoints.imports.formats import read_rows, resolve_mapping
from touchpoints.imports.mapping import RowMapper
from touchpoints.imports.models import ImportFormat, ImportKind, ImportRun
from touchpoints.imports.packing import pack_chunk, unpack_chunk
from touchpoints.imports.plan import CheckedRow, FeedbackPlan
from touchpoints.imports.readers import ImportFile, RawRow
from touchpoints.imports.reading import can_fork, read_ahead, read_ahead_forked
from touchpoints.imports.rows import KIND_PERMISSION, RowResult, RowWriter
from touchpoints.imports.schemas import ColumnMapping
from touchpoints.imports.service import finish_run, record_results, start_run

CHUNK_ROWS = 10_000
IMPORT_PAGE_CACHE_KIB = 128 * 1024
DEFAULT_PAGE_CACHE = -2000  # SQLite's own default: 2,000 KiB
Progress = Callable[[ImportRun], None]
RowSource = Callable[[ImportFile, ImportFormat, ColumnMapping], Iterable[RawRow]]
Checked = list[CheckedRow | None]


@dataclass(frozen=True)
class ImportRequest:
    """What to import: a file, what it holds, its format and an optional column mapping."""

    source: ImportFile
    kind: ImportKind
    fmt: ImportFormat
    mapping: ColumnMapping | None = None


@dataclass(frozen=True)
class ChunkStore:
    """How chunks of one import are checked (no database) and then stored."""

    check: Callable[[Sequence[RawRow]], Checked]
    store: Callable[[Sequence[RawRow], Checked], list[RowResult]]


def chunks(rows: Iterable[RawRow], size: int) -> Iterator[list[RawRow]]:
    """Split rows into lists of at most `size`."""
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


def chunk_store(
    *, db_session: Session, actor: Principal, kind: ImportKind, mapper: RowMapper, run: ImportRun
) -> ChunkStore:
    """Return the bulk path for feedback, and the row path for events and customers."""
    writer = RowWriter(
        db_session=db_session, actor=actor, kind=kind, mapper=mapper, file_sha256=run.file_sha256
    )
    if kind is not ImportKind.FEEDBACK:
        return ChunkStore(
            check=lambda rows: [None] * len(rows), store=lambda rows, _: writer.store(rows)
        )
    plan = FeedbackPlan(
        mapper,
        file_sha256=run.file_sha256,
        region=phone_region(db_session=db_session, workspace_id=actor.workspace_id),
        scoped=actor.is_scoped,
    )
    bulk = ChunkWriter(db_session=db_session, actor=actor, row_writer=writer)
    return ChunkStore(check=lambda rows: [plan.check(row) for row in rows], store=bulk.store)


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
    store = chunk_store(
        db_session=db_session,
        actor=actor,
        kind=request.kind,
        mapper=RowMapper(mapping, request.kind),
        run=run,
    )
    resume_after = run.last_line
    pending = (row for row in read(request.source, request.fmt, mapping) if row.line > resume_after)
    # Checking feedback is Python work: a forked child does it on the other core, if it can.
    batches = chunks(pending, chunk_rows)
    if request.kind is ImportKind.FEEDBACK and can_fork():
        ahead = read_ahead_forked(batches, store.check, pack_chunk, unpack_chunk)
    else:
        ahead = read_ahead(batches, store.check)
    try:
        for chunk, checked in ahead:
            sized_page_cache(db_session, IMPORT_PAGE_CACHE_KIB)
            results = store.store(chunk, checked)
            record_results(db_session=db_session, run=run, rows=chunk, results=results)
            if commit is not None:
                commit()
            if progress is not None:
                progress(run)
    except Exception as exc:
        if commit is not None:
            _record_failure(db_session, run, exc, commit)
        raise
    sized_page_cache(db_session, None)
    finish_run(db_session=db_session, run=run)
    if commit is not None:
        commit()
    return run


def sized_page_cache(db_session: Session, kib: int | None) -> None:
    """Give SQLite's page cache `kib` KiB for this connection, or its default back (None).

    A million-row import inserts into five indexes and the full-text index at random places;
    with SQLite's default cache (2 MiB) most of those pages are read again for every chunk.
    """
    if db_session.get_bind().dialect.name != "sqlite":
        return
    pages = DEFAULT_PAGE_CACHE if kib is None else -kib
    db_session.connection().exec_driver_sql(f"PRAGMA cache_size = {int(pages)}")


def _record_failure(
    db_session: Session, run: ImportRun, exc: Exception, commit: Callable[[], None]
) -> None:
    """Undo the unfinished chunk and mark the run failed; a re-run resumes it."""
    db_session.rollback()
    finish_run(db_session=db_session, run=run, error=f"{type(exc).__name__}: {exc}")
    commit()
