"""The change log of the analytics store: partitions that writes made stale since the export.

Triggers (touchpoints.analytics.triggers) add a row per stale partition on every write. The
exporter claims the unclaimed rows in one statement, rewrites their partitions, and then
deletes exactly the rows it claimed; a write that lands while it works adds a new, unclaimed
row, which the next run picks up. A crash leaves claimed rows behind, and the next run
processes them again, so no change is ever lost.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Connection, Index, Integer, MetaData, String, event
from sqlalchemy.orm import Mapped, mapped_column

from touchpoints.analytics.triggers import (
    CHANGES_TABLE,
    install_change_tracking,
    source_tables,
    uninstall_change_tracking,
)
from touchpoints.db.base import Base
from touchpoints.surveys.models import SurveyResponse

__all__ = ["AnalyticsChange", "attach_change_tracking_ddl"]


class AnalyticsChange(Base):
    """A partition of the analytics store made stale by a write (a dirty mark)."""

    __tablename__ = CHANGES_TABLE
    __table_args__ = (
        Index("ix_analytics_changes_partition", "workspace_id", "dataset", "month", "claimed"),
    )

    # A sequence, so a mark added while the exporter works is a new row it did not read.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    # No foreign key: deleting a workspace must still leave marks that remove its files.
    workspace_id: Mapped[str] = mapped_column(String(32))
    dataset: Mapped[str] = mapped_column(String(20))
    # 'YYYY-MM', 'all' (unpartitioned datasets) or '*' (every month of the workspace).
    month: Mapped[str] = mapped_column(String(7))
    claimed: Mapped[bool] = mapped_column(default=False)
    # PostgreSQL: the writing transaction (txid_current()), so one transaction marks a
    # partition once however many statements it runs; SQLite leaves it empty.
    transaction_id: Mapped[int | None] = mapped_column(BigInteger)


# The exporter joins each feedback item to the survey response it came from (its survey id).
# A completed response creates exactly one item (touchpoints.surveys.responses); the unique
# index holds that promise, so the join can never repeat an item, and makes the lookup cheap.
Index(
    "ix_survey_responses_feedback_item_id",
    SurveyResponse.__table__.c.feedback_item_id,
    unique=True,
)


def attach_change_tracking_ddl(metadata: MetaData) -> None:
    """Make `create_all` install the change triggers once every table exists, on either store."""
    event.listen(metadata, "after_create", _install_after_create)
    event.listen(metadata, "before_drop", _uninstall_before_drop)


def _install_after_create(target: MetaData, connection: Connection, **kw: Any) -> None:
    created = {table.name for table in kw.get("tables") or ()}
    # create_all(tables=...) may build a subset; triggers need the log and every source table.
    if CHANGES_TABLE in created and set(source_tables()) <= set(target.tables):
        install_change_tracking(connection)


def _uninstall_before_drop(target: MetaData, connection: Connection, **kw: Any) -> None:
    dropped = {table.name for table in kw.get("tables") or ()}
    if CHANGES_TABLE in dropped:
        uninstall_change_tracking(connection)


attach_change_tracking_ddl(Base.metadata)
