"""The change log of the analytics store: what writes made stale since the last export.

Triggers (touchpoints.analytics.triggers) leave marks on every write, of two kinds:

- partition marks (`analytics_changes`): a whole partition is stale; the exporter rewrites it
  from the store;
- row marks (`analytics_row_changes`): one feedback item or operational event changed; the
  exporter merges the partition from its current file and the marked rows (see
  touchpoints.analytics.merge).

The exporter claims the unclaimed partition marks and reads the row marks, exports their
partitions, and then deletes exactly the marks it claimed and read; a write that lands while
it works adds new marks, which the next run picks up. A crash leaves the marks behind, and the
next run processes them again, so no change is ever lost.

Row marks live in their own table rather than in a nullable column of `analytics_changes`:
every write's trigger asks "is this partition already marked whole?", and on their own table
the partition marks stay a handful of rows however many row marks pile up beside them (in one
table that question would walk past them, or need the row id in its index); the cap on row
marks reads the span of the row marks' own sequence (touchpoints.analytics.marks); and a
partition mark keeps its one meaning everywhere it is read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    delete,
    event,
    select,
    text,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column

from touchpoints.analytics.layout import UNPARTITIONED
from touchpoints.analytics.marks import (
    CHANGES_TABLE,
    EVERY_MONTH,
    ROW_CHANGES_TABLE,
    source_tables,
)
from touchpoints.analytics.sources import month_bounds
from touchpoints.analytics.triggers import install_change_tracking, uninstall_change_tracking
from touchpoints.db.base import Base
from touchpoints.surveys.models import SurveyResponse

__all__ = [
    "AnalyticsChange",
    "AnalyticsRowChange",
    "DatasetWork",
    "RowMarks",
    "attach_change_tracking_ddl",
    "claim_marks",
    "claimed_partitions",
    "clear_marks",
    "read_row_marks",
]


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


class AnalyticsRowChange(Base):
    """A feedback item or operational event changed since the export (a row mark)."""

    __tablename__ = ROW_CHANGES_TABLE

    # A sequence: the triggers bound the log by the span of its ids, and the exporter deletes
    # exactly the marks it read, by id (no claim flag to update: see read_row_marks).
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    workspace_id: Mapped[str] = mapped_column(String(32))
    # 'feedback' or 'events'; the month ('YYYY-MM') is the partition the row was or is in.
    dataset: Mapped[str] = mapped_column(String(20))
    month: Mapped[str] = mapped_column(String(7))
    # The changed row's id (no foreign key: a deleted row's mark must outlive it).
    row_id: Mapped[str] = mapped_column(String(32))


# The exporter joins each feedback item to the survey response it came from (its survey id).
# A completed response creates exactly one item (touchpoints.surveys.responses); the unique
# index holds that promise, so the join can never repeat an item, and makes the lookup cheap.
Index(
    "ix_survey_responses_feedback_item_id",
    SurveyResponse.__table__.c.feedback_item_id,
    unique=True,
)


# --- what the exporter asks of the log ---------------------------------------------------

Partition = tuple[str, str]  # (workspace id, month or 'all')


@dataclass
class RowMarks:
    """The row marks an export read: the changed ids per partition, and the marks' own ids."""

    changed: dict[str, dict[Partition, set[str]]] = field(default_factory=dict)
    mark_ids: dict[str, list[int]] = field(default_factory=dict)

    def partitions(self) -> set[tuple[str, str, str]]:
        """Return the (dataset, workspace, month) of every partition with row marks."""
        return {(name, *partition) for name, parts in self.changed.items() for partition in parts}


@dataclass
class DatasetWork:
    """What an incremental export does to one dataset: the partitions to rewrite and merge."""

    # Per workspace, the months to rewrite (None: every month, or the unpartitioned whole).
    scope: dict[str, frozenset[str] | None] = field(default_factory=dict)
    # Per partition to merge, the ids of its changed rows.
    merges: dict[Partition, list[str]] = field(default_factory=dict)

    def rewrite(self, workspace_id: str, month: str) -> None:
        """Rewrite a partition ('*', 'all' or a malformed month: the workspace's whole set)."""
        current = self.scope.get(workspace_id, frozenset())
        if current is None or month in (EVERY_MONTH, UNPARTITIONED) or not _is_month(month):
            self.scope[workspace_id] = None
        else:
            self.scope[workspace_id] = current | {month}

    def covers(self, partition: Partition) -> bool:
        """Tell whether a partition is rewritten already."""
        workspace_id, month = partition
        if workspace_id not in self.scope:
            return False
        months = self.scope[workspace_id]
        return months is None or month in months


def _is_month(value: str) -> bool:
    try:
        month_bounds(value)
    except ValueError:
        return False
    return True


def claim_marks(engine: Engine) -> None:
    """Claim every unclaimed partition mark: what this run will export and then clear."""
    statement = (
        update(AnalyticsChange)
        .where(AnalyticsChange.claimed.is_(False))
        .values(claimed=True)
        .execution_options(synchronize_session=False)
    )
    with engine.begin() as connection:
        connection.execute(statement)


def claimed_partitions(engine: Engine) -> list[tuple[str, str, str]]:
    """Return the (dataset, workspace, month) of every claimed partition mark."""
    statement = (
        select(AnalyticsChange.dataset, AnalyticsChange.workspace_id, AnalyticsChange.month)
        .where(AnalyticsChange.claimed.is_(True))
        .distinct()
    )
    with engine.connect() as connection:
        return [(dataset, ws, month) for dataset, ws, month in connection.execute(statement)]


def read_row_marks(engine: Engine) -> RowMarks:
    """Read every row mark: what this run will export and then delete, by id.

    Row marks need no claim: nothing else reads a row mark's state, so deleting exactly the
    marks read (after the swap) leaves those written meanwhile for the next run, as claiming
    would, without rewriting every mark first. Read before the export's snapshot, like a
    claim: the writes behind these marks are committed, so the snapshot sees them.
    """
    marks = RowMarks()
    statement = select(
        AnalyticsRowChange.id,
        AnalyticsRowChange.dataset,
        AnalyticsRowChange.workspace_id,
        AnalyticsRowChange.month,
        AnalyticsRowChange.row_id,
    )
    with engine.connect() as connection:
        for mark_id, dataset, workspace_id, month, row_id in connection.execute(statement):
            partitions = marks.changed.setdefault(dataset, {})
            partitions.setdefault((workspace_id, month), set()).add(row_id)
            marks.mark_ids.setdefault(dataset, []).append(mark_id)
    return marks


def clear_marks(engine: Engine, dataset: str | None, row_mark_ids: list[int]) -> None:
    """Delete the claimed partition marks of a dataset (None: all) and the row marks read."""
    claimed = delete(AnalyticsChange).where(AnalyticsChange.claimed.is_(True))
    if dataset is not None:
        claimed = claimed.where(AnalyticsChange.dataset == dataset)
    # One parameter for all the ids: an expanded IN list of thousands of parameters costs
    # more to build and plan than the deletion itself.
    if engine.dialect.name == "postgresql":
        rows = text(f"DELETE FROM {ROW_CHANGES_TABLE} WHERE id = ANY(:ids)")
        ids: Any = list(row_mark_ids)
    else:
        rows = text(
            f"DELETE FROM {ROW_CHANGES_TABLE} WHERE id IN (SELECT value FROM json_each(:ids))"
        )
        ids = json.dumps(row_mark_ids)
    with engine.begin() as connection:
        connection.execute(claimed)
        if row_mark_ids:
            connection.execute(rows, {"ids": ids})


def attach_change_tracking_ddl(metadata: MetaData) -> None:
    """Make `create_all` install the change triggers once every table exists, on either store."""
    event.listen(metadata, "after_create", _install_after_create)
    event.listen(metadata, "before_drop", _uninstall_before_drop)


def _install_after_create(target: MetaData, connection: Connection, **kw: Any) -> None:
    created = {table.name for table in kw.get("tables") or ()}
    # create_all(tables=...) may build a subset; triggers need the logs and every source table.
    logs = {CHANGES_TABLE, ROW_CHANGES_TABLE}
    if logs & created and logs | set(source_tables()) <= set(target.tables):
        install_change_tracking(connection)


def _uninstall_before_drop(target: MetaData, connection: Connection, **kw: Any) -> None:
    dropped = {table.name for table in kw.get("tables") or ()}
    if {CHANGES_TABLE, ROW_CHANGES_TABLE} & dropped:
        uninstall_change_tracking(connection)


attach_change_tracking_ddl(Base.metadata)
