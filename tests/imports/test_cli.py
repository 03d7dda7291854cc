"""`touchpoints import` end to end on the embedded default (a SQLite file in --data-dir)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.imports.conftest import FIXTURES
from touchpoints.cli.main import app
from touchpoints.db.engine import make_engine
from touchpoints.db.registry import load_metadata

runner = CliRunner()
CSV = str(FIXTURES / "feedback_malformed.csv")
MAPPING = str(FIXTURES / "feedback_mapping.json")


def invoke(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A data directory with a store and a workspace with its first admin."""
    monkeypatch.delenv("TOUCHPOINTS_DATABASE_URL", raising=False)
    monkeypatch.delenv("TOUCHPOINTS_DATA_DIR", raising=False)
    invoke(
        "init",
        "--data-dir",
        str(tmp_path),
        "--workspace",
        "acme",
        "--admin-email",
        "a@acme.example",
    )
    # Tables newer than the last migration revision; a no-op once the migration has them.
    engine = make_engine(f"sqlite:///{tmp_path / 'touchpoints.db'}")
    load_metadata().create_all(engine)
    engine.dispose()
    return str(tmp_path)


def test_import_prints_counts_and_a_rerun_adds_nothing(data_dir: str) -> None:
    out = invoke("import", "feedback", CSV, "--mapping", MAPPING, "--data-dir", data_dir)
    assert "completed" in out
    assert "5 rows quarantined" in out
    again = json.loads(
        invoke("import", "feedback", CSV, "-m", MAPPING, "--data-dir", data_dir, "--json")
    )
    assert (again["total"], again["imported"], again["duplicate"]) == (9, 0, 9)
    runs = json.loads(invoke("import", "runs", "--data-dir", data_dir, "--json"))
    assert len(runs) == 2


def test_quarantine_list_fix_replay_and_discard(data_dir: str) -> None:
    run = json.loads(
        invoke("import", "feedback", CSV, "--mapping", MAPPING, "--data-dir", data_dir, "--json")
    )
    assert (run["imported"], run["quarantined"]) == (4, 5)
    listed = invoke("import", "quarantine", "list", run["id"], "--data-dir", data_dir)
    assert "scores.nps (Score)" in listed and "5 rows" in listed
    rows = json.loads(
        invoke("import", "quarantine", "list", run["id"], "--data-dir", data_dir, "--json")
    )["items"]
    by_line = {row["line"]: row for row in rows}
    shown = invoke("import", "quarantine", "show", by_line[4]["id"], "--data-dir", data_dir)
    assert "31/13/2024" in shown
    invoke(
        "import",
        "quarantine",
        "fix",
        by_line[4]["id"],
        "--set",
        "Date=30/04/2024 10:00",
        "--data-dir",
        data_dir,
    )
    replayed = json.loads(
        invoke("import", "quarantine", "replay", run["id"], "--data-dir", data_dir, "--json")
    )
    assert (replayed["replayed"], replayed["run"]["imported"]) == (1, 5)
    invoke("import", "quarantine", "discard", by_line[8]["id"], "--data-dir", data_dir)
    still_open = json.loads(
        invoke("import", "quarantine", "list", run["id"], "--data-dir", data_dir, "--json")
    )
    assert [row["line"] for row in still_open["items"]] == [5, 6, 7]


def test_format_and_delimiter_options(data_dir: str) -> None:
    out = json.loads(
        invoke(
            "import",
            "customers",
            str(FIXTURES / "customers.csv"),
            "--delimiter",
            ";",
            "--format",
            "csv",
            "--data-dir",
            data_dir,
            "--json",
        )
    )
    assert (out["kind"], out["imported"], out["quarantined"]) == ("customers", 2, 2)
    events = json.loads(
        invoke("import", "events", str(FIXTURES / "events.jsonl"), "--data-dir", data_dir, "--json")
    )
    assert events["imported"] == 2


def test_errors_are_clear(data_dir: str, tmp_path: Path) -> None:
    sheet = tmp_path / "answers.xlsx"
    sheet.write_bytes(b"PK")
    result = runner.invoke(app, ["import", "feedback", str(sheet), "--data-dir", data_dir])
    assert result.exit_code == 1
    assert "cannot tell the format" in result.output
    unknown = runner.invoke(app, ["import", "quarantine", "show", "nope", "--data-dir", data_dir])
    assert unknown.exit_code == 1 and "not found" in unknown.output
