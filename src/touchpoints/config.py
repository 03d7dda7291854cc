"""One settings object for the whole platform, read from the environment or a `.env` file."""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_SECRET = "touchpoints-development-secret-change-me"
PLACEHOLDER_SECRETS = frozenset({DEVELOPMENT_SECRET, "changethis", "secret", "change-me", ""})
FRAME_ORIGIN = re.compile(r"https?://(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(:\d{1,5})?")


class Environment(StrEnum):
    """Where the platform runs; production refuses unsafe defaults."""

    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Configuration of a Touchpoints installation (environment variables `TOUCHPOINTS_*`)."""

    model_config = SettingsConfigDict(
        env_prefix="TOUCHPOINTS_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    environment: Environment = Field(
        default=Environment.DEVELOPMENT,
        description="development, test or production; production refuses placeholder secrets.",
    )
    data_dir: Path = Field(
        default=Path("data"),
        description="Folder for the SQLite store, analytics files and uploads.",
    )
    database_url: str | None = Field(
        default=None,
        description=(
            "SQLAlchemy URL of the operational store. Empty means the embedded SQLite file "
            "`<data_dir>/touchpoints.db`. PostgreSQL: `postgresql+psycopg://user@host/db`."
        ),
    )
    secret_key: SecretStr = Field(
        default=SecretStr(DEVELOPMENT_SECRET),
        description="Key that signs sessions and tokens; must be set outside development.",
    )
    database_echo: bool = Field(default=False, description="Log every SQL statement.")
    database_pool_size: int = Field(default=10, ge=1, description="PostgreSQL pool size.")
    api_max_body_bytes: int = Field(
        default=1_048_576, ge=1024, description="Largest request body the API accepts."
    )
    idempotency_ttl_hours: int = Field(
        default=48, ge=1, description="How long a stored Idempotency-Key answer is replayed."
    )
    worker_poll_seconds: float = Field(
        default=1.0, gt=0, description="How often an idle worker looks for jobs."
    )
    worker_lease_seconds: int = Field(
        default=300, ge=5, description="A running job not finished after this is retried."
    )
    session_max_age_hours: int = Field(
        default=12, ge=1, description="A web sign-in lasts this long, then asks again."
    )
    session_idle_minutes: int = Field(
        default=120, ge=5, description="A web session unused for this long is signed out."
    )
    cookie_secure: bool | None = Field(
        default=None,
        description="Send cookies over HTTPS only; empty means on in production, off otherwise.",
    )
    login_max_failures: int = Field(
        default=5, ge=1, description="Wrong passwords in a row before an account is locked."
    )
    login_lockout_minutes: int = Field(
        default=15, ge=1, description="How long a locked account stays locked."
    )
    login_rate_per_minute: int = Field(
        default=10, ge=1, description="Sign-in attempts allowed per minute from one address."
    )
    password_reset_minutes: int = Field(
        default=30, ge=5, description="How long a password-reset link works."
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Address users reach the web app at; used in links sent by email.",
    )
    smtp_host: str = Field(default="127.0.0.1", description="SMTP server for outgoing email.")
    smtp_port: int = Field(default=25, ge=1, le=65535, description="SMTP port.")
    smtp_username: str | None = Field(default=None, description="SMTP user, if it needs one.")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password.")
    smtp_starttls: bool = Field(default=False, description="Upgrade SMTP with STARTTLS.")
    mail_from: str = Field(
        default="Touchpoints <touchpoints@localhost>", description="Sender of outgoing email."
    )
    sms_webhook_url: str | None = Field(
        default=None, description="URL the SMS provider webhook is POSTed to; empty turns SMS off."
    )
    sms_webhook_secret: SecretStr | None = Field(
        default=None, description="Shared secret signing SMS requests and delivery callbacks."
    )
    sms_sender: str | None = Field(
        default=None, description="Sender id or number SMS invitations come from."
    )
    sms_webhook_timeout_seconds: float = Field(
        default=10.0, gt=0, le=60, description="How long to wait for the SMS provider's answer."
    )
    widget_frame_ancestors: str = Field(
        default="",
        description="Origins allowed to frame survey pages (the widget), space-separated.",
    )
    embedded_worker: bool = Field(
        default=True,
        description="Run one in-process worker inside `touchpoints serve` (the SQLite default).",
    )
    analytics_dir: Path | None = Field(
        default=None,
        description="Analytics store (Parquet files); empty means <data_dir>/analytics.",
    )

    @field_validator("widget_frame_ancestors")
    @classmethod
    def _origins_only(cls, value: str) -> str:
        origins = [origin.rstrip("/") for origin in value.split()]
        for origin in origins:
            if not FRAME_ORIGIN.fullmatch(origin):
                raise ValueError(
                    f"{origin!r} is not an origin; write origins like https://shop.example "
                    "separated by spaces"
                )
        return " ".join(origins)

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Self:
        secret = self.secret_key.get_secret_value()
        if self.environment is Environment.PRODUCTION and (
            secret in PLACEHOLDER_SECRETS or len(secret) < 32
        ):
            raise ValueError(
                "TOUCHPOINTS_SECRET_KEY must be set to a random value of at least 32 characters "
                "in production; make one with: "
                "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
        return self

    @property
    def resolved_database_url(self) -> str:
        """Return the database URL, defaulting to the SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'touchpoints.db').resolve()}"

    @property
    def secure_cookies(self) -> bool:
        """Tell whether cookies carry the Secure flag."""
        if self.cookie_secure is not None:
            return self.cookie_secure
        return self.environment is Environment.PRODUCTION

    @property
    def analytics_root(self) -> Path:
        """Return the folder of the analytics store's Parquet files."""
        return self.data_dir / "analytics" if self.analytics_dir is None else self.analytics_dir

    @property
    def is_sqlite(self) -> bool:
        """Tell whether the operational store is the embedded SQLite file."""
        return self.resolved_database_url.startswith("sqlite")


def get_settings(**overrides: object) -> Settings:
    """Build settings from the environment, with explicit overrides winning."""
    return Settings(**overrides)  # type: ignore[arg-type]
