"""drop feedback_items' index on workspace_id alone: every other index of the table leads with it

Revision ID: 3c5d2e9a7b41
Revises: 7f1a8e3f13d3
Create Date: 2026-12-04 11:02:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "3c5d2e9a7b41"
down_revision: str | None = "7f1a8e3f13d3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain DDL, no batch mode: on SQLite a batch could copy the table and lose its triggers.
def upgrade() -> None:
    op.drop_index("ix_feedback_items_workspace_id", table_name="feedback_items")


def downgrade() -> None:
    op.create_index("ix_feedback_items_workspace_id", "feedback_items", ["workspace_id"])
