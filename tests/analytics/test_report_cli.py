"""`touchpoints report`: a Rich table with intervals and suppressed cells, or JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.analytics.conftest import at, feedback, write_dataset
from touchpoints.analytics.engine import SparkEngine
from touchpoints.analytics.layout import FEEDBACK
from touchpoints.cli.main import app

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("TOUCHPOINTS_DATABASE_URL", raising=False)
    monkeypatch.delenv("TOUCHPOINTS_DATA_DIR", raising=False)
    monkeypatch.delenv("TOUCHPOINTS_ANALYTICS_DIR", raising=False)
    folder = tmp_path / "tp"
    result = runner.invoke(
        app,
        [
            "init",
            "--data-dir",
            str(folder),
            "--workspace",
            "acme",
            "--admin-email",
            "a@acme.example",
        ],
    )
    assert result.exit_code == 0, result.output
    listed = runner.invoke(app, ["workspaces", "list", "--data-dir", str(folder), "--json"])
    workspace_id = json.loads(listed.output)[0]["id"]
    rows = [feedback(at("2024-05-10"), nps=s, channel="web") for s in [10] * 25 + [0] * 10]
    rows += [feedback(at("2024-05-11"), nps=9, channel="sms") for _ in range(4)]
    write_dataset(folder / "analytics", FEEDBACK, rows, workspace_id=workspace_id)
    return folder


def report(data_dir: Path, *args: str) -> str:
    result = runner.invoke(app, ["report", *args, "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    return result.output


def test_table_shows_values_intervals_and_suppressed_cells(data_dir: Path) -> None:
    output = report(data_dir, "nps", "--by", "channel")
    assert "+42.9" in output, output  # (25 - 10) / 35
    assert "suppressed (n < 30)" in output and "sms" in output
    assert " to " in output


def test_json_output_and_engines_agree(data_dir: Path, spark_engine: SparkEngine) -> None:
    duck = json.loads(report(data_dir, "csat", "--by", "channel", "--json", "--minimum-n", "1"))
    nps = json.loads(
        report(
            data_dir, "nps", "--by", "channel", "--period", "month", "--json", "--engine", "spark"
        )
    )
    assert duck["engine"] == "duckdb" and duck["rows"] == []  # no CSAT answers at all
    web = next(row for row in nps["rows"] if row["channel"] == "web")
    assert nps["engine"] == "spark" and web["n"] == 35 and web["period_label"] == "2024-05"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["loyalty"], "unknown metric"),
        (["nps", "--by", "colour"], "unknown dimension"),
        (["nps", "--from", "2024-06-01", "--to", "2024-05-01"], "after"),
        (["nps", "--from", "June"], "not a date"),
        (["nps", "--filter", "channel"], "dimension=value"),
        (["nps", "--engine", "trino"], "unknown engine"),
    ],
)
def test_bad_input_is_a_clear_error(data_dir: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["report", *args, "--data-dir", str(data_dir)])
    assert result.exit_code == 1
    assert message in result.output
