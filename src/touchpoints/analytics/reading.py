"""Read the operational store in one consistent snapshot, as Arrow.

No streamed row becomes a Python object on PostgreSQL: `COPY (SELECT ...) TO STDOUT` sends
CSV that Arrow's C++ reader parses in blocks. SQLite has no COPY; its cursor's rows become
Arrow arrays a batch at a time. Every read of one snapshot sees the same data (PostgreSQL: a
REPEATABLE READ, READ ONLY transaction; SQLite: a deferred read transaction, which does not
block writers in WAL mode).
"""

from __future__ import annotations

from collections.abc import Generator, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
from sqlalchemy import Engine

SQLITE_BATCH_ROWS = 50_000
CSV_BLOCK_BYTES = 8 << 20
Batches = Generator[pa.RecordBatch, None, None]


def wire_type(field: pa.Field, *, postgres: bool) -> pa.DataType:
    """Return the type a column arrives as, before touchpoints.analytics.rows converts it."""
    kind = field.type
    if pa.types.is_timestamp(kind):
        return pa.int64() if postgres else pa.string()
    if pa.types.is_list(kind):
        return pa.string()
    if not postgres and (pa.types.is_boolean(kind) or pa.types.is_integer(kind)):
        return pa.int64()
    return kind


class CopyStream:
    """A read-only file over the chunks (one per row) of a psycopg COPY ... TO STDOUT."""

    def __init__(self, copy: Any) -> None:
        self._chunks: Iterator[Any] = iter(copy)
        self._rest = b""
        self.closed = False

    def at_end(self) -> bool:
        """Tell whether the COPY sent no data at all (Arrow refuses an empty CSV)."""
        if not self._rest:
            self._rest = bytes(next(self._chunks, b""))
        return not self._rest

    def read(self, size: int = -1) -> bytes:
        """Return up to `size` bytes (all that is left when `size` is negative)."""
        parts = [self._rest]
        total = len(self._rest)
        if size < 0 or total < size:
            for chunk in self._chunks:  # the hot loop: one iteration per row
                parts.append(chunk)
                total += len(chunk)
                if 0 <= size <= total:
                    break
        data = b"".join(parts)
        if size < 0:
            size = len(data)
        self._rest = data[size:]
        return data[:size]

    def readable(self) -> bool:
        """Tell readers this stream can be read."""
        return True

    def close(self) -> None:
        """Mark the stream closed (the COPY ends with its context)."""
        self.closed = True


def _csv_reader(stream: CopyStream, schema: pa.Schema) -> pa_csv.CSVStreamingReader:
    types = {field.name: wire_type(field, postgres=True) for field in schema}
    return pa_csv.open_csv(
        stream,
        read_options=pa_csv.ReadOptions(column_names=schema.names, block_size=CSV_BLOCK_BYTES),
        parse_options=pa_csv.ParseOptions(newlines_in_values=True),
        convert_options=pa_csv.ConvertOptions(
            column_types=types,
            # PostgreSQL writes NULL unquoted and an empty string as "" in CSV.
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
            true_values=["t"],
            false_values=["f"],
        ),
    )


def _rows_to_batch(
    rows: Sequence[Sequence[Any]], schema: pa.Schema, postgres: bool
) -> pa.RecordBatch:
    types = [wire_type(field, postgres=postgres) for field in schema]
    columns = zip(*rows, strict=True) if rows else ([] for _ in types)
    arrays = [pa.array(values, type=kind) for values, kind in zip(columns, types, strict=True)]
    return pa.RecordBatch.from_arrays(arrays, names=schema.names)


class Snapshot:
    """One consistent read of the store: small tables whole, big ones streamed."""

    def __init__(self, connection: Any, postgres: bool) -> None:
        self._connection = connection
        self.postgres = postgres

    def table(self, sql: str, params: list[Any], schema: pa.Schema) -> pa.Table:
        """Return a small query's rows (lookup tables) as one table in wire types."""
        cursor = self._connection.cursor()
        try:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        finally:
            cursor.close()
        return pa.Table.from_batches([_rows_to_batch(rows, schema, self.postgres)])

    def batches(self, sql: str, params: list[Any], schema: pa.Schema) -> Batches:
        """Yield a query's rows as batches of `schema`'s wire types."""
        return (
            self._copy(sql, params, schema) if self.postgres else self._fetch(sql, params, schema)
        )

    def _copy(self, sql: str, params: list[Any], schema: pa.Schema) -> Batches:
        with (
            self._connection.cursor() as cursor,
            cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)", params) as copy,
        ):
            stream = CopyStream(copy)
            if not stream.at_end():
                yield from _csv_reader(stream, schema)

    def _fetch(self, sql: str, params: list[Any], schema: pa.Schema) -> Batches:
        cursor = self._connection.cursor()
        try:
            cursor.execute(sql, params)
            while rows := cursor.fetchmany(SQLITE_BATCH_ROWS):
                yield _rows_to_batch(rows, schema, self.postgres)
        finally:
            cursor.close()


@contextmanager
def snapshot(engine: Engine) -> Iterator[Snapshot]:
    """Open one read-only snapshot of the store for the block."""
    postgres = engine.dialect.name == "postgresql"
    raw = engine.raw_connection()
    connection = raw.driver_connection
    try:
        cursor = connection.cursor()  # type: ignore[union-attr]
        if postgres:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        else:
            cursor.execute("BEGIN")  # deferred: the first read fixes the snapshot, no lock
        cursor.close()
        try:
            yield Snapshot(connection, postgres)
        finally:
            if postgres:
                connection.rollback()  # type: ignore[union-attr]
            else:
                connection.execute("ROLLBACK")  # type: ignore[union-attr]
    finally:
        raw.close()
