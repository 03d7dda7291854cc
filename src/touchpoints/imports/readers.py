"""Stream rows out of CSV, JSON Lines and Parquet files, one (line, values) pair at a time."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, NamedTuple

SNIFF_BYTES = 64 * 1024
SNIFF_DELIMITERS = ",;\t|"
PARQUET_BATCH_ROWS = 10_000
MAX_RAW_TEXT = 2_000
RAW_TEXT_KEY = "_raw"


class RawRow(NamedTuple):
    """One row of a file: its line (row number in Parquet), values by column, any problem."""

    line: int
    values: dict[str, Any]
    problem: str | None = None


@dataclass(frozen=True)
class ImportFile:
    """A file to import: its name and a way to open it (again) as bytes."""

    name: str
    open: Callable[[], IO[bytes]]

    @classmethod
    def from_path(cls, path: Path) -> ImportFile:
        """Describe a file on disk."""
        return cls(name=path.name, open=lambda: path.open("rb"))

    @classmethod
    def from_bytes(cls, name: str, content: bytes) -> ImportFile:
        """Describe a file held in memory (an upload)."""
        return cls(name=name, open=lambda: io.BytesIO(content))

    def sha256(self) -> str:
        """Return the SHA-256 of the file's bytes: the same file always gives the same rows."""
        digest = hashlib.sha256()
        with self.open() as stream:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()


@dataclass(frozen=True)
class CsvRecord:
    """One CSV record before it meets the header: where it starts and its cells or error."""

    line: int
    cells: list[str]
    text: str
    error: str | None = None


class _LineCounter:
    """Feed text lines to csv.reader while remembering which lines each record used."""

    def __init__(self, lines: Iterable[str]) -> None:
        self._lines = iter(lines)
        self.consumed = 0
        self.pending: list[str] = []

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.consumed += 1
        self.pending.append(line)
        return line

    def take(self) -> tuple[int, str]:
        """Return the first line of the record just read and its text; start the next one."""
        start = self.consumed - len(self.pending) + 1
        text = "".join(self.pending)
        self.pending = []
        return start, text


def open_text(stream: IO[bytes]) -> io.TextIOWrapper:
    """Wrap bytes as UTF-8 text (a byte-order mark is dropped), keeping newlines for csv."""
    return io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")


def sniff_delimiter(source: ImportFile) -> str:
    """Guess the CSV delimiter from the start of the file; a comma when unsure."""
    with source.open() as stream:
        sample = stream.read(SNIFF_BYTES).decode("utf-8-sig", errors="replace")
    # Only whole lines: a cut line misleads the sniffer.
    sample = sample[: sample.rfind("\n") + 1] or sample
    try:
        return csv.Sniffer().sniff(sample, delimiters=SNIFF_DELIMITERS).delimiter
    except csv.Error:
        # Ragged rows confuse the sniffer; the header line alone still tells.
        header = sample.split("\n", 1)[0]
        counts = {delimiter: header.count(delimiter) for delimiter in SNIFF_DELIMITERS}
        best = max(counts, key=lambda delimiter: counts[delimiter])
        return best if counts[best] else ","


def csv_records(text: IO[str], delimiter: str) -> Iterator[CsvRecord]:
    """Yield every non-blank CSV record with the line it starts on; broken quoting is an error."""
    counter = _LineCounter(text)
    reader = csv.reader(counter, delimiter=delimiter, strict=True)
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            line, raw = counter.take()
            yield CsvRecord(line, [], raw, f"the CSV quoting is broken: {exc}")
            continue
        line, raw = counter.take()
        if cells:
            yield CsvRecord(line, cells, raw)


def unique_names(names: Iterable[str]) -> list[str]:
    """Return column names made unique: a repeated `Score` becomes `Score (2)`."""
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return unique


def record_row(record: CsvRecord, header: list[str]) -> RawRow:
    """Pair a record's cells with the header, reporting records of the wrong width."""
    if record.error is not None:
        return RawRow(record.line, {RAW_TEXT_KEY: record.text[:MAX_RAW_TEXT]}, record.error)
    values = dict(zip(header, record.cells, strict=False))
    if len(record.cells) != len(header):
        problem = f"has {len(record.cells)} values but the header has {len(header)} columns"
        return RawRow(record.line, values | {RAW_TEXT_KEY: record.text[:MAX_RAW_TEXT]}, problem)
    return RawRow(record.line, values)


def read_csv(source: ImportFile, *, delimiter: str | None = None) -> Iterator[RawRow]:
    """Yield the rows of a CSV file with one header row, streaming."""
    delimiter = delimiter or sniff_delimiter(source)
    with source.open() as stream, open_text(stream) as text:
        records = csv_records(text, delimiter)
        header = next((r.cells for r in records if r.error is None), None)
        if header is None:
            return
        header = unique_names(name.strip() for name in header)
        for record in records:
            yield record_row(record, header)


def read_jsonl(source: ImportFile) -> Iterator[RawRow]:
    """Yield the objects of a JSON Lines file, one per line; blank lines are skipped."""
    with source.open() as stream, open_text(stream) as text:
        for line, content in enumerate(text, start=1):
            if not content.strip():
                continue
            try:
                values = json.loads(content)
            except json.JSONDecodeError as exc:
                raw = {RAW_TEXT_KEY: content.rstrip("\r\n")[:MAX_RAW_TEXT]}
                yield RawRow(line, raw, f"is not valid JSON: {exc.msg} at column {exc.colno}")
                continue
            if not isinstance(values, dict):
                raw = {RAW_TEXT_KEY: content.rstrip("\r\n")[:MAX_RAW_TEXT]}
                yield RawRow(line, raw, "is not a JSON object ({...})")
                continue
            yield RawRow(line, values)


def read_parquet(source: ImportFile, *, batch_rows: int = PARQUET_BATCH_ROWS) -> Iterator[RawRow]:
    """Yield the rows of a Parquet file batch by batch; `line` is the 1-based row number."""
    import pyarrow.parquet as pq

    with source.open() as stream:
        parquet = pq.ParquetFile(stream)
        line = 0
        for batch in parquet.iter_batches(batch_size=batch_rows):
            for values in batch.to_pylist():
                line += 1
                yield RawRow(line, {name: json_safe(value) for name, value in values.items()})


def json_safe(value: Any) -> Any:
    """Return a Parquet value as JSON can keep it (times as ISO 8601, decimals as numbers)."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [json_safe(item) for item in value]
    return value
