"""The `touchpoints` command line on the embedded default (a SQLite file in --data-dir)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from touchpoints.api.app import create_app
from touchpoints.cli.main import app
from touchpoints.config import Settings

runner = CliRunner()


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(autouse=True)
def _no_env_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOUCHPOINTS_DATABASE_URL", raising=False)
    monkeypatch.delenv("TOUCHPOINTS_DATA_DIR", raising=False)


def test_init_creates_store_workspace_and_admin(tmp_path: Path) -> None:
    data_dir = tmp_path / "tp"
    out = json.loads(
        invoke(
            "init",
            "--data-dir",
            str(data_dir),
            "--workspace",
            "acme",
            "--workspace-name",
            "Acme",
            "--admin-email",
            "Ops@Acme.example",
            "--json",
        )
    )
    assert (data_dir / "touchpoints.db").exists()
    assert out["workspace"]["slug"] == "acme"
    assert out["workspace"]["admin"] == "ops@acme.example"
    current = json.loads(invoke("db", "current", "--data-dir", str(data_dir), "--json"))
    assert current["up_to_date"] is True


def test_token_from_cli_opens_the_api(tmp_path: Path) -> None:
    data_dir = str(tmp_path)
    invoke("init", "--data-dir", data_dir, "--workspace", "acme", "--admin-email", "a@acme.example")
    token = json.loads(invoke("tokens", "create", "--data-dir", data_dir, "--json"))
    assert token["user"] == "a@acme.example"
    assert token["token"].startswith("tp_")
    settings = Settings(data_dir=tmp_path, embedded_worker=False)
    with TestClient(create_app(settings)) as http:
        me = http.get("/api/v1/me", headers={"Authorization": f"Bearer {token['token']}"})
    assert me.status_code == 200
    assert me.json()["role"] == "admin"


def test_users_create_with_role_and_scope(tmp_path: Path) -> None:
    data_dir = str(tmp_path)
    invoke("init", "--data-dir", data_dir, "--workspace", "acme", "--admin-email", "a@acme.example")
    invoke("workspaces", "create", "beta", "--name", "Beta", "--data-dir", data_dir)
    created = json.loads(
        invoke(
            "users",
            "create",
            "--email",
            "v@acme.example",
            "--role",
            "analyst",
            "--workspace",
            "acme",
            "--data-dir",
            data_dir,
            "--json",
        )
    )
    assert created["role"] == "analyst"
    listed = json.loads(invoke("users", "list", "-w", "acme", "--data-dir", data_dir, "--json"))
    assert {u["email"]: u["role"] for u in listed} == {
        "a@acme.example": "admin",
        "v@acme.example": "analyst",
    }
    slugs = [
        w["slug"]
        for w in json.loads(invoke("workspaces", "list", "--data-dir", data_dir, "--json"))
    ]
    assert sorted(slugs) == ["acme", "beta"]


def test_clear_errors_instead_of_tracebacks(tmp_path: Path) -> None:
    data_dir = str(tmp_path)
    invoke("db", "upgrade", "--data-dir", data_dir)
    no_workspace = runner.invoke(app, ["tokens", "create", "--data-dir", data_dir])
    assert no_workspace.exit_code == 1
    assert "no workspace yet" in no_workspace.output
    invoke("workspaces", "create", "a1", "--name", "A", "--data-dir", data_dir)
    invoke("workspaces", "create", "b1", "--name", "B", "--data-dir", data_dir)
    ambiguous = runner.invoke(app, ["tokens", "create", "--data-dir", data_dir])
    assert ambiguous.exit_code == 1
    assert "--workspace" in ambiguous.output
    bad_org = runner.invoke(
        app,
        [
            "users",
            "create",
            "--email",
            "x@y.example",
            "-w",
            "a1",
            "--org-unit",
            "nowhere",
            "--data-dir",
            data_dir,
        ],
    )
    assert bad_org.exit_code == 1
    assert "no org unit with code 'nowhere'" in bad_org.output
    bad_slug = runner.invoke(
        app, ["workspaces", "create", "Bad Slug", "--name", "x", "--data-dir", data_dir]
    )
    assert bad_slug.exit_code == 1
    assert "lowercase" in bad_slug.output


def test_every_command_has_help() -> None:
    import typer.main

    root = typer.main.get_command(app)
    for name, command in root.commands.items():  # type: ignore[attr-defined]
        assert command.help, f"`touchpoints {name}` has no help"
        for sub_name, sub in getattr(command, "commands", {}).items():
            assert sub.help, f"`touchpoints {name} {sub_name}` has no help"
            assert "Usage" in invoke(name, sub_name, "--help")
        assert "Usage" in invoke(name, "--help")


def test_cli_reference_in_docs_is_current() -> None:
    from touchpoints.cli.reference import render_cli_reference

    docs = Path(__file__).parents[2] / "docs" / "cli.md"
    assert docs.read_text() == render_cli_reference(), (
        "docs/cli.md is stale: run `python -m touchpoints.cli.reference > docs/cli.md`"
    )


def test_every_setting_is_documented() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "configuration.md").read_text()
    for name in Settings.model_fields:
        assert f"TOUCHPOINTS_{name.upper()}" in docs, f"TOUCHPOINTS_{name.upper()} undocumented"


def test_invalid_user_email_is_refused(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["init", "--data-dir", str(tmp_path), "--workspace", "acme", "--admin-email", "nope"]
    )
    assert result.exit_code == 1
    assert "not a valid email address" in result.output
