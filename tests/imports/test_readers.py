"""Readers and mappings: rows come out of each format with their line numbers and fields."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.imports.conftest import FIXTURES, fixture_file
from touchpoints.errors import InvalidInput
from touchpoints.imports.formats import read_qualtrics, read_surveymonkey, resolve_mapping
from touchpoints.imports.mapping import RowMapper, load_mapping, parse_when
from touchpoints.imports.models import ImportFormat, ImportKind
from touchpoints.imports.readers import (
    RAW_TEXT_KEY,
    ImportFile,
    read_csv,
    read_jsonl,
    read_parquet,
    sniff_delimiter,
)
from touchpoints.imports.schemas import ColumnMapping


def test_csv_rows_keep_their_line_numbers_and_report_broken_quoting() -> None:
    rows = list(read_csv(fixture_file("feedback_malformed.csv")))
    assert [row.line for row in rows] == [2, 3, 4, 5, 6, 7, 8, 9, 11]
    assert rows[0].values["Comment"] == "Friendly crew, smooth boarding"
    broken = rows[6]
    assert broken.problem is not None and "quoting" in broken.problem
    assert "Great" in broken.values[RAW_TEXT_KEY]
    assert rows[7].values["Comment"] == "Quick refund,\nthank you"
    assert rows[8].values["Comment"] == "Clean toilets for once"


def test_csv_delimiter_is_sniffed_and_short_rows_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "semicolons.csv"
    path.write_text("text;nps\nGood;9\nOnly one value\n", encoding="utf-8")
    source = ImportFile.from_path(path)
    assert sniff_delimiter(source) == ";"
    good, short = read_csv(source)
    assert good.values == {"text": "Good", "nps": "9"} and good.problem is None
    assert short.line == 3
    assert short.problem == "has 1 values but the header has 2 columns"


def test_jsonl_reports_bad_lines_and_skips_blank_ones() -> None:
    rows = list(read_jsonl(fixture_file("events.jsonl")))
    assert [row.line for row in rows] == [1, 2, 3, 5, 6]
    assert rows[0].values["customer"] == {"email": "ann.lee@example.com"}
    assert rows[2].problem is not None and rows[2].problem.startswith("is not valid JSON")
    assert rows[4].problem == "is not a JSON object ({...})"


def test_parquet_rows_come_in_batches_with_json_safe_values(tmp_path: Path) -> None:
    path = tmp_path / "feedback.parquet"
    moments = [datetime(2024, 5, 1, 9, 0, tzinfo=UTC), datetime(2024, 5, 2, 9, 0, tzinfo=UTC)]
    table = pa.table(
        {
            "text": ["Fine", "Slow"],
            "nps": [8, 3],
            "occurred_at": pa.array(moments, pa.timestamp("s", tz="UTC")),
        }
    )
    pq.write_table(table, path)
    rows = list(read_parquet(ImportFile.from_path(path), batch_rows=1))
    assert [row.line for row in rows] == [1, 2]
    assert rows[1].values == {"text": "Slow", "nps": 3, "occurred_at": "2024-05-02T09:00:00+00:00"}


def test_qualtrics_export_skips_its_second_and_third_header_rows() -> None:
    rows = list(read_qualtrics(fixture_file("qualtrics_export.csv")))
    # The question row spans two lines, so the responses start on line 5.
    assert [row.line for row in rows] == [5, 6, 7]
    assert rows[0].values["ResponseId"] == "R_1aBcDeFgHiJkLmN"
    assert rows[0].values["Q1"] == "10"
    mapping = resolve_mapping(
        fixture_file("qualtrics_export.csv"), ImportFormat.QUALTRICS, ImportKind.FEEDBACK, None
    )
    assert mapping.timezone == "Europe/Berlin"
    assert mapping.columns["RecordedDate"] == "occurred_at"


def test_surveymonkey_export_combines_question_and_answer_rows() -> None:
    rows = list(read_surveymonkey(fixture_file("surveymonkey_export.csv")))
    assert [row.line for row in rows] == [3, 4]
    second = rows[1].values
    assert second["Respondent ID"] == "114400012346"
    assert second["What is the main reason for your score?"] == "Two visits to fix one card issue."
    assert second["Which of these did you use this month? - Branch"] == "Branch"
    other = "Which of these did you use this month? - Other (please specify)"
    assert second[other] == "Phone support was slow"


def test_surveymonkey_needs_a_timezone() -> None:
    with pytest.raises(InvalidInput) as caught:
        resolve_mapping(
            fixture_file("surveymonkey_export.csv"),
            ImportFormat.SURVEYMONKEY,
            ImportKind.FEEDBACK,
            None,
        )
    assert caught.value.field == "timezone"


def test_mapping_reads_dates_in_its_format_and_timezone() -> None:
    mapping = load_mapping(FIXTURES / "feedback_mapping.json")
    # 1 May in London is summer time (UTC+1).
    assert parse_when("01/05/2024 09:30", mapping) == datetime(2024, 5, 1, 8, 30, tzinfo=UTC)
    mapped = RowMapper(mapping, ImportKind.FEEDBACK).map(
        2, {"Comment": " Nice ", "Score": "9", "Email": "a@example.com", "Date": "31/13/2024 10:00"}
    )
    assert mapped.payload == {
        "text": "Nice",
        "scores": {"nps": "9"},
        "channel": "email",
        "source": "import",
    }
    assert mapped.customer == {"email": "a@example.com"}
    [problem] = mapped.problems
    assert (problem.field, problem.column) == ("occurred_at", "Date")
    assert "does not match the date format %d/%m/%Y %H:%M" in problem.reason


def test_dates_without_timezone_are_refused_when_the_mapping_gives_none() -> None:
    with pytest.raises(ValueError, match="has no timezone"):
        parse_when("2024-05-01 09:30", ColumnMapping())
    aware = parse_when("2024-05-01T09:30:00+02:00", ColumnMapping())
    assert aware == datetime(2024, 5, 1, 7, 30, tzinfo=UTC)


def test_toml_mapping_and_bad_mappings(tmp_path: Path) -> None:
    toml = tmp_path / "mapping.toml"
    toml.write_text('kind = "events"\ntimezone = "UTC"\n[columns]\nWhen = "occurred_at"\n')
    assert load_mapping(toml).columns == {"When": "occurred_at"}
    wrong = tmp_path / "wrong.json"
    wrong.write_text('{"timezone": "Mars/Olympus"}')
    with pytest.raises(InvalidInput) as caught:
        load_mapping(wrong)
    assert caught.value.field == "mapping.timezone"
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(InvalidInput, match="not valid JSON or TOML"):
        load_mapping(broken)
