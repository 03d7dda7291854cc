"""Import runs and the rows they quarantined."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from touchpoints.db.base import Base, IdMixin, WorkspaceMixin, utcnow

# A list of {field, reason} problems; JSON arrays need their own column type.
ProblemList = JSON().with_variant(JSONB(), "postgresql")


class ImportKind(StrEnum):
    """What a file holds."""

    FEEDBACK = "feedback"
    EVENTS = "events"
    CUSTOMERS = "customers"


class ImportFormat(StrEnum):
    """How a file is laid out."""

    CSV = "csv"
    JSONL = "jsonl"
    PARQUET = "parquet"
    QUALTRICS = "qualtrics"
    SURVEYMONKEY = "surveymonkey"


class ImportStatus(StrEnum):
    """Where an import run stands; a run that is not completed resumes on a re-run."""

    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


class QuarantineStatus(StrEnum):
    """Where a quarantined row stands."""

    OPEN = "open"
    FIXED = "fixed"
    REPLAYED = "replayed"
    DISCARDED = "discarded"


class ImportRun(IdMixin, WorkspaceMixin, Base):
    """One import of one file: what it held and how each row ended."""

    __tablename__ = "import_runs"
    __table_args__ = (
        Index("ix_import_runs_workspace_file", "workspace_id", "kind", "file_sha256"),
    )

    kind: Mapped[str] = mapped_column(String(20))
    format: Mapped[str] = mapped_column(String(20))
    file_name: Mapped[str] = mapped_column(String(255))
    file_sha256: Mapped[str] = mapped_column(String(64))
    # The resolved column mapping the rows were read with; replays use it again.
    mapping: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(20), default=ImportStatus.RUNNING.value)
    total: Mapped[int] = mapped_column(Integer, default=0)
    imported: Mapped[int] = mapped_column(Integer, default=0)
    duplicate: Mapped[int] = mapped_column(Integer, default=0)
    quarantined: Mapped[int] = mapped_column(Integer, default=0)
    # The last line whose outcome is committed: a resumed run starts after it.
    last_line: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(2000))
    user_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="SET NULL")
    )
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()


class QuarantinedRow(IdMixin, WorkspaceMixin, Base):
    """A row an import could not store, with why, kept until it is fixed or discarded."""

    __tablename__ = "quarantined_rows"
    __table_args__ = (Index("ix_quarantined_rows_run_line", "run_id", "line"),)

    run_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("import_runs.id", ondelete="CASCADE")
    )
    line: Mapped[int] = mapped_column(Integer)
    raw: Mapped[dict[str, Any]] = mapped_column(default=dict)
    errors: Mapped[list[dict[str, str]]] = mapped_column(ProblemList, default=list)
    status: Mapped[str] = mapped_column(String(20), default=QuarantineStatus.OPEN.value)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
