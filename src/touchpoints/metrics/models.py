"""Metric rollups by day and month: the counts behind NPS, CSAT and CES, kept exact."""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Date, Float, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from touchpoints.db.base import Base, WorkspaceMixin

# Counts of the rollup, in the order the recompute query selects them.
COUNT_COLUMNS = (
    "responses",
    "nps_n",
    "promoters",
    "passives",
    "detractors",
    "csat_n",
    "csat_top2",
    "csat_sum",
    "ces_n",
    "ces_sum",
    "ces_sumsq",
    "rating_n",
    "rating_sum",
)
# Stands for "no org unit" / "no touchpoint" in the rollup keys: the keys are NOT NULL so the
# unique constraint the incremental upsert targets also holds for feedback without them.
NO_KEY = ""
# The unique keys of a day row and of a month row.
DAY_CELL = ("workspace_id", "day", "org_unit_id", "touchpoint_id", "channel")
MONTH_CELL = ("workspace_id", "month", "org_unit_id", "touchpoint_id")


class RollupCounts:
    """The additive counts every rollup row carries."""

    responses: Mapped[int] = mapped_column(Integer)
    nps_n: Mapped[int] = mapped_column(Integer)
    promoters: Mapped[int] = mapped_column(Integer)
    passives: Mapped[int] = mapped_column(Integer)
    detractors: Mapped[int] = mapped_column(Integer)
    csat_n: Mapped[int] = mapped_column(Integer)
    csat_top2: Mapped[int] = mapped_column(Integer)
    csat_sum: Mapped[int] = mapped_column(Integer)
    ces_n: Mapped[int] = mapped_column(Integer)
    ces_sum: Mapped[int] = mapped_column(Integer)
    ces_sumsq: Mapped[int] = mapped_column(Integer)
    rating_n: Mapped[int] = mapped_column(Integer)
    rating_sum: Mapped[float] = mapped_column(Float)


def _row_id() -> Mapped[int]:
    return mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )


class FeedbackRollup(RollupCounts, WorkspaceMixin, Base):
    """Counts of one day's feedback for one org unit, touchpoint and channel.

    Derived data: rebuilt from feedback_items by touchpoints.metrics.rollups, never edited by
    hand. Org units and touchpoints carry no foreign key so deleting one never blocks on it;
    NO_KEY stands for feedback without an org unit or touchpoint.
    """

    __tablename__ = "feedback_rollups"
    __table_args__ = (
        Index("ix_feedback_rollups_workspace_day", "workspace_id", "day"),
        UniqueConstraint(*DAY_CELL, name="uq_feedback_rollups_cell"),
    )

    id: Mapped[int] = _row_id()
    day: Mapped[date] = mapped_column(Date)
    org_unit_id: Mapped[str] = mapped_column(String(32))
    touchpoint_id: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(20))


class FeedbackMonthRollup(RollupCounts, WorkspaceMixin, Base):
    """Counts of one month's feedback for one org unit and touchpoint, summed from the days.

    What dashboards read: a month holds a few hundred rows where the days hold thousands.
    """

    __tablename__ = "feedback_month_rollups"
    __table_args__ = (
        Index("ix_feedback_month_rollups_workspace_month", "workspace_id", "month"),
        UniqueConstraint(*MONTH_CELL, name="uq_feedback_month_rollups_cell"),
    )

    id: Mapped[int] = _row_id()
    month: Mapped[date] = mapped_column(Date)  # the first day of the month
    org_unit_id: Mapped[str] = mapped_column(String(32))
    touchpoint_id: Mapped[str] = mapped_column(String(32))
