"""The Alembic revisions build exactly the schema the models describe, on both stores."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, text

from tests.conftest import DEFAULT_POSTGRES_URL
from touchpoints.db import migrate
from touchpoints.db.engine import make_engine
from touchpoints.db.registry import load_metadata
from touchpoints.feedback.search import include_object


def _assert_matches_models(engine: Engine) -> None:
    with engine.connect() as connection:
        # The search index is raw DDL that autogenerate cannot describe; everything else counts.
        opts = {"compare_type": False, "include_object": include_object}
        context = MigrationContext.configure(connection, opts=opts)
        differences = compare_metadata(context, load_metadata())
    assert differences == [], f"models and migrations differ: {differences}"


def test_sqlite_upgrade_from_empty_matches_models_and_uses_wal(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    _assert_matches_models(engine)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    migrate.upgrade(engine)  # a second upgrade is a no-op
    engine.dispose()


def test_postgres_upgrade_from_empty_matches_models() -> None:
    base_url = os.environ.get("TOUCHPOINTS_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    admin = make_engine(base_url, pool_size=1)
    try:
        with admin.begin() as connection:
            schema = f"tp_mig_{secrets.token_hex(4)}"
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # pragma: no cover - depends on the machine
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL not reachable at {base_url}: {exc}")
    engine = make_engine(f"{base_url}?options=-csearch_path%3D{schema}", pool_size=1)
    try:
        migrate.upgrade(engine)
        assert migrate.current_revision(engine) == migrate.head_revision()
        _assert_matches_models(engine)
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_feedback_items_keeps_no_index_of_the_workspace_alone(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    migrate.upgrade(engine)

    def indexes_and_triggers() -> tuple[set[str], set[str]]:
        with engine.connect() as connection:
            rows = connection.exec_driver_sql(
                "SELECT type, name FROM sqlite_master WHERE tbl_name = 'feedback_items'"
            ).all()
        return {n for t, n in rows if t == "index"}, {n for t, n in rows if t == "trigger"}

    indexes, triggers = indexes_and_triggers()
    assert "ix_feedback_items_workspace_id" not in indexes
    assert "ix_feedback_items_workspace_occurred" in indexes  # the workspace leads these
    assert {"feedback_search_insert", "analytics_mark_feedback_items_insert"} <= triggers
    config = migrate.alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "7f1a8e3f13d3")  # back to the revision before
    indexes_after, triggers_after = indexes_and_triggers()
    assert "ix_feedback_items_workspace_id" in indexes_after
    assert triggers_after == triggers
    engine.dispose()
