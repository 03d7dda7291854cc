"""drop metric rollups: the metrics read the analytics store (Parquet) instead

Revision ID: 67fa838e3b4b
Revises: 5814096560fa
Create Date: 2026-11-22 14:23:45.691530
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "67fa838e3b4b"
down_revision: str | None = "5814096560fa"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("feedback_rollups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedback_rollups_workspace_day"))
        batch_op.drop_index(batch_op.f("ix_feedback_rollups_workspace_id"))

    op.drop_table("feedback_rollups")
    with op.batch_alter_table("feedback_month_rollups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedback_month_rollups_workspace_id"))
        batch_op.drop_index(batch_op.f("ix_feedback_month_rollups_workspace_month"))

    op.drop_table("feedback_month_rollups")


def downgrade() -> None:
    # The tables come back empty; nothing reads or fills them any more.
    op.create_table(
        "feedback_month_rollups",
        sa.Column("id", sa.INTEGER(), nullable=False),
        sa.Column("month", sa.DATE(), nullable=False),
        sa.Column("org_unit_id", sa.VARCHAR(length=32), nullable=False),
        sa.Column("touchpoint_id", sa.VARCHAR(length=32), nullable=False),
        sa.Column("responses", sa.INTEGER(), nullable=False),
        sa.Column("nps_n", sa.INTEGER(), nullable=False),
        sa.Column("promoters", sa.INTEGER(), nullable=False),
        sa.Column("passives", sa.INTEGER(), nullable=False),
        sa.Column("detractors", sa.INTEGER(), nullable=False),
        sa.Column("csat_n", sa.INTEGER(), nullable=False),
        sa.Column("csat_top2", sa.INTEGER(), nullable=False),
        sa.Column("csat_sum", sa.INTEGER(), nullable=False),
        sa.Column("ces_n", sa.INTEGER(), nullable=False),
        sa.Column("ces_sum", sa.INTEGER(), nullable=False),
        sa.Column("ces_sumsq", sa.INTEGER(), nullable=False),
        sa.Column("rating_n", sa.INTEGER(), nullable=False),
        sa.Column("rating_sum", sa.FLOAT(), nullable=False),
        sa.Column("workspace_id", sa.VARCHAR(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_feedback_month_rollups_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_month_rollups")),
        sa.UniqueConstraint(
            "workspace_id",
            "month",
            "org_unit_id",
            "touchpoint_id",
            name=op.f("uq_feedback_month_rollups_cell"),
        ),
    )
    with op.batch_alter_table("feedback_month_rollups", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_feedback_month_rollups_workspace_month"),
            ["workspace_id", "month"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_feedback_month_rollups_workspace_id"), ["workspace_id"], unique=False
        )

    op.create_table(
        "feedback_rollups",
        sa.Column("id", sa.INTEGER(), nullable=False),
        sa.Column("day", sa.DATE(), nullable=False),
        sa.Column("org_unit_id", sa.VARCHAR(length=32), nullable=False),
        sa.Column("touchpoint_id", sa.VARCHAR(length=32), nullable=False),
        sa.Column("channel", sa.VARCHAR(length=20), nullable=False),
        sa.Column("responses", sa.INTEGER(), nullable=False),
        sa.Column("nps_n", sa.INTEGER(), nullable=False),
        sa.Column("promoters", sa.INTEGER(), nullable=False),
        sa.Column("passives", sa.INTEGER(), nullable=False),
        sa.Column("detractors", sa.INTEGER(), nullable=False),
        sa.Column("csat_n", sa.INTEGER(), nullable=False),
        sa.Column("csat_top2", sa.INTEGER(), nullable=False),
        sa.Column("csat_sum", sa.INTEGER(), nullable=False),
        sa.Column("ces_n", sa.INTEGER(), nullable=False),
        sa.Column("ces_sum", sa.INTEGER(), nullable=False),
        sa.Column("ces_sumsq", sa.INTEGER(), nullable=False),
        sa.Column("rating_n", sa.INTEGER(), nullable=False),
        sa.Column("rating_sum", sa.FLOAT(), nullable=False),
        sa.Column("workspace_id", sa.VARCHAR(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_feedback_rollups_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_rollups")),
        sa.UniqueConstraint(
            "workspace_id",
            "day",
            "org_unit_id",
            "touchpoint_id",
            "channel",
            name=op.f("uq_feedback_rollups_cell"),
        ),
    )
    with op.batch_alter_table("feedback_rollups", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_feedback_rollups_workspace_id"), ["workspace_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_feedback_rollups_workspace_day"), ["workspace_id", "day"], unique=False
        )
