"""distribution: invitations and unsubscribes

Revision ID: 0e4d4967c908
Revises: 0e155d47e312
Create Date: 2026-11-22 11:44:11.862517
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import touchpoints.db.base

revision: str = "0e4d4967c908"
down_revision: str | None = "0e155d47e312"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "invitations",
        sa.Column("survey_id", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("link_id", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=True),
        sa.Column("sent_at", touchpoints.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("bounced_at", touchpoints.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("started_at", touchpoints.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("completed_at", touchpoints.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("failure", sa.String(length=1000), nullable=True),
        sa.Column(
            "reminder_days",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("reminder_count", sa.Integer(), nullable=False),
        sa.Column(
            "next_reminder_at", touchpoints.db.base.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("expires_at", touchpoints.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("response_id", sa.String(length=32), nullable=True),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("created_at", touchpoints.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", touchpoints.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_invitations_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["link_id"],
            ["survey_links.id"],
            name=op.f("fk_invitations_link_id_survey_links"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["survey_responses.id"],
            name=op.f("fk_invitations_response_id_survey_responses"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["surveys.id"],
            name=op.f("fk_invitations_survey_id_surveys"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_invitations_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_invitations_token_sha256")),
    )
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_invitations_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_invitations_next_reminder_at"), ["next_reminder_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_invitations_survey_id"), ["survey_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_invitations_workspace_id"), ["workspace_id"], unique=False
        )

    op.create_table(
        "unsubscribes",
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("invitation_id", sa.String(length=32), nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("created_at", touchpoints.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_unsubscribes_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["invitation_id"],
            ["invitations.id"],
            name=op.f("fk_unsubscribes_invitation_id_invitations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_unsubscribes_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unsubscribes")),
    )
    with op.batch_alter_table("unsubscribes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_unsubscribes_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_unsubscribes_workspace_id"), ["workspace_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("unsubscribes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_unsubscribes_workspace_id"))
        batch_op.drop_index(batch_op.f("ix_unsubscribes_customer_id"))

    op.drop_table("unsubscribes")
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invitations_workspace_id"))
        batch_op.drop_index(batch_op.f("ix_invitations_survey_id"))
        batch_op.drop_index(batch_op.f("ix_invitations_next_reminder_at"))
        batch_op.drop_index(batch_op.f("ix_invitations_customer_id"))

    op.drop_table("invitations")
