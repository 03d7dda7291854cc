"""analytics changes: the log of stale analytics partitions and the triggers that fill it

Revision ID: 5814096560fa
Revises: 7c2a91d4e5f0
Create Date: 2026-11-22 12:41:30.052919

No marks are written for existing data: the first export into an analytics folder without
the store's marker file is a full rebuild (touchpoints.analytics.export).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from touchpoints.analytics.triggers import install_change_tracking, uninstall_change_tracking

revision: str = "5814096560fa"
down_revision: str | None = "7c2a91d4e5f0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "analytics_changes",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("dataset", sa.String(length=20), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("claimed", sa.Boolean(), nullable=False),
        sa.Column("transaction_id", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_changes")),
    )
    op.create_index(
        "ix_analytics_changes_partition",
        "analytics_changes",
        ["workspace_id", "dataset", "month", "claimed"],
        unique=False,
    )
    op.create_index(
        "ix_survey_responses_feedback_item_id",
        "survey_responses",
        ["feedback_item_id"],
        unique=True,
    )
    # Triggers are raw DDL (autogenerate does not see them), the same that create_all runs.
    # The rules of this revision: segment changes did not mark feedback before 0009.
    install_change_tracking(op.get_bind(), segment_sets=False)


def downgrade() -> None:
    uninstall_change_tracking(op.get_bind())
    op.drop_index("ix_survey_responses_feedback_item_id", table_name="survey_responses")
    op.drop_index("ix_analytics_changes_partition", table_name="analytics_changes")
    op.drop_table("analytics_changes")
