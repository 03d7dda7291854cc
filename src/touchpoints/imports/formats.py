"""File formats: CSV, JSON Lines, Parquet and the CSV exports of Qualtrics and SurveyMonkey."""

from __future__ import annotations

import json
from collections.abc import Iterator

from touchpoints.errors import InvalidInput
from touchpoints.imports.models import ImportFormat, ImportKind
from touchpoints.imports.readers import (
    CsvRecord,
    ImportFile,
    RawRow,
    csv_records,
    open_text,
    read_csv,
    read_jsonl,
    read_parquet,
    record_row,
    sniff_delimiter,
    unique_names,
)
from touchpoints.imports.schemas import ColumnMapping

QUALTRICS_HEADER_ROWS = 3
SURVEYMONKEY_HEADER_ROWS = 2
# SurveyMonkey's second header row says this under single-answer questions.
SURVEYMONKEY_PLAIN_ANSWERS = frozenset({"", "Response", "Open-Ended Response"})

QUALTRICS_FEEDBACK = ColumnMapping(
    columns={
        "RecordedDate": "occurred_at",
        "ResponseId": "source_ref",
        "RecipientEmail": "customer.email",
        "UserLanguage": "language",
        "DistributionChannel": "channel",
        "ExternalReference": "metadata.external_reference",
        "Finished": "metadata.finished",
    },
    values={
        "DistributionChannel": {
            "anonymous": "web",
            "gl": "web",
            "email": "email",
            "sms": "sms",
            "qr": "other",
            "preview": "other",
            "offline": "other",
        }
    },
    defaults={"source": "qualtrics", "solicited": True},
    date_format="%Y-%m-%d %H:%M:%S",
)
SURVEYMONKEY_FEEDBACK = ColumnMapping(
    columns={
        "Respondent ID": "source_ref",
        "End Date": "occurred_at",
        "Email Address": "customer.email",
        "Collector ID": "metadata.collector_id",
    },
    defaults={"source": "surveymonkey", "solicited": True},
    date_format="%m/%d/%Y %I:%M:%S %p",
)


def _header_records(source: ImportFile, count: int, delimiter: str) -> list[CsvRecord]:
    with source.open() as stream, open_text(stream) as text:
        records = []
        for record in csv_records(text, delimiter):
            records.append(record)
            if len(records) == count:
                break
    if len(records) < count or any(r.error for r in records):
        raise InvalidInput("file", f"{source.name} does not start with {count} header rows")
    return records


def _data_rows(
    source: ImportFile, header: list[str], skip: int, delimiter: str
) -> Iterator[RawRow]:
    with source.open() as stream, open_text(stream) as text:
        for index, record in enumerate(csv_records(text, delimiter)):
            if index >= skip:
                yield record_row(record, header)


def qualtrics_timezone(source: ImportFile, delimiter: str) -> str | None:
    """Return the timezone Qualtrics wrote its dates in (third header row), if it says."""
    import_ids = _header_records(source, QUALTRICS_HEADER_ROWS, delimiter)[2].cells
    for cell in import_ids:
        try:
            described = json.loads(cell)
        except json.JSONDecodeError:
            continue
        if isinstance(described, dict) and isinstance(described.get("timeZone"), str):
            return str(described["timeZone"])
    return None


def read_qualtrics(source: ImportFile, *, delimiter: str = ",") -> Iterator[RawRow]:
    """Yield the responses of a Qualtrics CSV export: column ids head the columns."""
    headers = _header_records(source, QUALTRICS_HEADER_ROWS, delimiter)
    header = unique_names(cell.strip() for cell in headers[0].cells)
    yield from _data_rows(source, header, QUALTRICS_HEADER_ROWS, delimiter)


def surveymonkey_columns(questions: list[str], answers: list[str]) -> list[str]:
    """Combine the question row and the answer row into one name per column."""
    names = []
    question = ""
    for index, answer in enumerate(answers):
        asked = questions[index].strip() if index < len(questions) else ""
        question = asked or question
        answer = answer.strip()
        if not question:
            names.append(answer)
        elif answer in SURVEYMONKEY_PLAIN_ANSWERS:
            names.append(question)
        else:
            names.append(f"{question} - {answer}")
    return unique_names(names)


def read_surveymonkey(source: ImportFile, *, delimiter: str = ",") -> Iterator[RawRow]:
    """Yield the responses of a SurveyMonkey CSV export (question row plus answer row)."""
    questions, answers = _header_records(source, SURVEYMONKEY_HEADER_ROWS, delimiter)
    width = max(len(questions.cells), len(answers.cells))
    padded = answers.cells + [""] * (width - len(answers.cells))
    header = surveymonkey_columns(questions.cells, padded)
    yield from _data_rows(source, header, SURVEYMONKEY_HEADER_ROWS, delimiter)


def resolve_mapping(
    source: ImportFile, fmt: ImportFormat, kind: ImportKind, given: ColumnMapping | None
) -> ColumnMapping:
    """Return the mapping to read the file with: the format's preset overlaid with `given`."""
    given = given or ColumnMapping()
    if given.kind is not None and given.kind is not kind:
        raise InvalidInput("mapping.kind", f"the mapping is for {given.kind}, not {kind}")
    delimiter = given.delimiter
    if fmt in (ImportFormat.CSV, ImportFormat.QUALTRICS, ImportFormat.SURVEYMONKEY):
        delimiter = delimiter or sniff_delimiter(source)
    base = ColumnMapping()
    if kind is ImportKind.FEEDBACK and fmt is ImportFormat.QUALTRICS:
        zone = qualtrics_timezone(source, delimiter or ",")
        base = QUALTRICS_FEEDBACK.model_copy(update={"timezone": zone})
    elif kind is ImportKind.FEEDBACK and fmt is ImportFormat.SURVEYMONKEY:
        base = SURVEYMONKEY_FEEDBACK
        if given.timezone is None:
            raise InvalidInput(
                "timezone",
                "SurveyMonkey exports write times without a timezone; "
                'give the account\'s timezone in the mapping ("timezone": "Europe/London")',
            )
    resolved = base.merged_with(given)
    return resolved.model_copy(update={"kind": kind, "delimiter": delimiter})


def read_rows(source: ImportFile, fmt: ImportFormat, mapping: ColumnMapping) -> Iterator[RawRow]:
    """Yield the rows of a file in the given format."""
    delimiter = mapping.delimiter or ","
    if fmt is ImportFormat.JSONL:
        return read_jsonl(source)
    if fmt is ImportFormat.PARQUET:
        return read_parquet(source)
    if fmt is ImportFormat.QUALTRICS:
        return read_qualtrics(source, delimiter=delimiter)
    if fmt is ImportFormat.SURVEYMONKEY:
        return read_surveymonkey(source, delimiter=delimiter)
    return read_csv(source, delimiter=delimiter)


def guess_format(file_name: str) -> ImportFormat:
    """Guess a file's format from its extension (.csv, .jsonl/.ndjson, .parquet)."""
    suffix = file_name.lower().rsplit(".", 1)[-1] if "." in file_name else ""
    known = {"csv": "csv", "tsv": "csv", "txt": "csv", "jsonl": "jsonl", "ndjson": "jsonl"}
    known |= {"parquet": "parquet", "pq": "parquet"}
    if suffix not in known:
        raise InvalidInput(
            "format",
            f"cannot tell the format of {file_name!r}; give one of "
            + ", ".join(f.value for f in ImportFormat),
        )
    return ImportFormat(known[suffix])


def expected_last_line(source: ImportFile, fmt: ImportFormat) -> int:
    """Estimate the last line (Parquet: row) number, for a progress bar."""
    if fmt is ImportFormat.PARQUET:
        import pyarrow.parquet as pq

        with source.open() as stream:
            return int(pq.ParquetFile(stream).metadata.num_rows)
    lines = 0
    with source.open() as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            lines += block.count(b"\n")
    return lines
