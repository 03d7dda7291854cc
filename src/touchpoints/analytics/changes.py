"""The change log of the analytics store: what writes made stale since the last export.

Triggers (touchpoints.analytics.triggers) leave marks on every write, of two kinds:

- partition marks (`analytics_changes`): a whole partition is stale; the exporter rewrites it
  from the store;
- row marks (`analytics_row_changes`): one feedback item or operational event changed; the
  exporter merges the partition from its current file and the marked rows (see
  touchpoints.analytics.merge).

The exporter claims the unclaimed marks of both tables in one transaction, exports their
partitions, and then deletes exactly the marks it claimed; a write that lands while it works
adds new, unclaimed marks, which the next run picks up. A crash leaves claimed marks behind,
and the next run processes them again, so no change is ever lost.

Row marks live in their own table rather than in a nullable column of `analytics_changes`:
every write's trigger asks "is this partition already marked whole?", and on their own table
the partition marks stay a handful of rows however many row marks pile up beside them (in one
table that question would walk past them, or need the row id in its index); the cap on row
marks reads the span of the row marks' own sequence (touchpoints.analytics.marks); and a
partition mark keeps its one meaning everywhere it is read.
"""

from __future__ import annotations

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
    func,
    select,
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
    "StaleMark",
    "attach_change_tracking_ddl",
    "claim_marks",
    "clear_marks",
    "delete_claimed_marks",
    "marked_rows",
    "stale_marks",
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
    __table_args__ = (
        Index("ix_analytics_row_changes_partition", "workspace_id", "dataset", "month", "claimed"),
    )

    # A sequence, as for partition marks; the triggers also bound the log by its span.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    workspace_id: Mapped[str] = mapped_column(String(32))
    # 'feedback' or 'events'; the month ('YYYY-MM') is the partition the row was or is in.
    dataset: Mapped[str] = mapped_column(String(20))
    month: Mapped[str] = mapped_column(String(7))
    # The changed row's id (no foreign key: a deleted row's mark must outlive it).
    row_id: Mapped[str] = mapped_column(String(32))
    claimed: Mapped[bool] = mapped_column(default=False)
    transaction_id: Mapped[int | None] = mapped_column(BigInteger)


# The exporter joins each feedback item to the survey response it came from (its survey id).
# A completed response creates exactly one item (touchpoints.surveys.responses); the unique
# index holds that promise, so the join can never repeat an item, and makes the lookup cheap.
Index(
    "ix_survey_responses_feedback_item_id",
    SurveyResponse.__table__.c.feedback_item_id,
    unique=True,
)


# --- what the exporter asks of the log ---------------------------------------------------

LOGS = (AnalyticsChange, AnalyticsRowChange)
Partition = tuple[str, str]  # (workspace id, month or 'all')


@dataclass(frozen=True)
class StaleMark:
    """A claimed partition, with the number of its changed rows when it has only row marks."""

    dataset: str
    workspace_id: str
    month: str
    # None: a partition mark (the whole partition is stale).
    changed_rows: int | None = None


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
    """Claim every unclaimed mark of both logs: what this run will export and then clear."""
    with engine.begin() as connection:
        for log in LOGS:
            connection.execute(
                update(log)
                .where(log.claimed.is_(False))
                .values(claimed=True)
                .execution_options(synchronize_session=False)
            )


def stale_marks(engine: Engine) -> list[StaleMark]:
    """Return the claimed partitions, partition marks first, then those with row marks."""
    whole = (
        select(AnalyticsChange.dataset, AnalyticsChange.workspace_id, AnalyticsChange.month)
        .where(AnalyticsChange.claimed.is_(True))
        .distinct()
    )
    rows = (
        select(
            AnalyticsRowChange.dataset,
            AnalyticsRowChange.workspace_id,
            AnalyticsRowChange.month,
            func.count(AnalyticsRowChange.row_id.distinct()),
        )
        .where(AnalyticsRowChange.claimed.is_(True))
        .group_by(
            AnalyticsRowChange.dataset, AnalyticsRowChange.workspace_id, AnalyticsRowChange.month
        )
    )
    with engine.connect() as connection:
        marks = [StaleMark(*row) for row in connection.execute(whole)]
        marks += [StaleMark(*row) for row in connection.execute(rows)]
    return marks


def marked_rows(
    engine: Engine, dataset: str, partitions: list[Partition]
) -> dict[Partition, list[str]]:
    """Return the ids the claimed row marks of each partition name."""
    marked = {}
    with engine.connect() as connection:
        for workspace_id, month in partitions:
            statement = (
                select(AnalyticsRowChange.row_id)
                .distinct()
                .where(
                    AnalyticsRowChange.claimed.is_(True),
                    AnalyticsRowChange.dataset == dataset,
                    AnalyticsRowChange.workspace_id == workspace_id,
                    AnalyticsRowChange.month == month,
                )
            )
            marked[(workspace_id, month)] = list(connection.scalars(statement))
    return marked


def clear_marks(engine: Engine, dataset: str) -> None:
    """Delete the claimed marks of a dataset (its partitions are exported and swapped)."""
    with engine.begin() as connection:
        for log in LOGS:
            connection.execute(delete(log).where(log.claimed.is_(True), log.dataset == dataset))


def delete_claimed_marks(engine: Engine) -> None:
    """Delete every claimed mark (a rebuild exported everything)."""
    with engine.begin() as connection:
        for log in LOGS:
            connection.execute(delete(log).where(log.claimed.is_(True)))


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
