"""analytics row changes: row marks, so an export merges a partition instead of rewriting it

Revision ID: e8f23199141b
Revises: 67fa838e3b4b
Create Date: 2026-11-23 01:50:00.000000

The triggers are reinstalled to write row marks for feedback items and operational events
(touchpoints.analytics.marks). Marks already waiting in `analytics_changes` stay valid.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from touchpoints.analytics.triggers import install_change_tracking, uninstall_change_tracking

revision: str = "e8f23199141b"
down_revision: str | None = "67fa838e3b4b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "analytics_row_changes",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("dataset", sa.String(length=20), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("row_id", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_row_changes")),
    )
    # The row-mark table exists now, so the reinstalled triggers write row marks.
    # The rules of this revision: segment changes did not mark feedback before 0009.
    install_change_tracking(op.get_bind(), segment_sets=False)


def downgrade() -> None:
    uninstall_change_tracking(op.get_bind())
    # Row marks not exported yet become partition marks, so no change is lost.
    op.execute(
        "INSERT INTO analytics_changes (workspace_id, dataset, month, claimed) "
        "SELECT DISTINCT workspace_id, dataset, month, false FROM analytics_row_changes"
    )
    op.drop_table("analytics_row_changes")
    # Without the row-mark table the triggers go back to partition marks only.
    # The rules of this revision: segment changes did not mark feedback before 0009.
    install_change_tracking(op.get_bind(), segment_sets=False)
