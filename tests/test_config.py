"""Settings: defaults for the embedded store, refusal of placeholder secrets in production."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from touchpoints.config import DEVELOPMENT_SECRET, Settings


def test_default_store_is_sqlite_file_in_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "d")
    assert settings.is_sqlite
    assert settings.resolved_database_url == f"sqlite:///{(tmp_path / 'd' / 'touchpoints.db')}"


def test_environment_variables_configure_the_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOUCHPOINTS_DATABASE_URL", "postgresql+psycopg://u@db/x")
    monkeypatch.setenv("TOUCHPOINTS_DATA_DIR", "/srv/touchpoints")
    settings = Settings()
    assert not settings.is_sqlite
    assert settings.data_dir == Path("/srv/touchpoints")


@pytest.mark.parametrize("secret", [DEVELOPMENT_SECRET, "changethis", "short-but-not-placeholder"])
def test_production_refuses_placeholder_or_short_secret(secret: str) -> None:
    with pytest.raises(ValidationError, match="TOUCHPOINTS_SECRET_KEY"):
        Settings(environment="production", secret_key=secret)  # type: ignore[arg-type]


def test_production_accepts_a_real_secret() -> None:
    settings = Settings(environment="production", secret_key="x" * 48)  # type: ignore[arg-type]
    assert settings.secret_key.get_secret_value() == "x" * 48


def test_importing_the_package_builds_nothing() -> None:
    import touchpoints.api.app as app_module

    assert not hasattr(app_module, "app"), "the app must come from create_app(), not import"
