"""rollup keys: NOT NULL org unit and touchpoint keys, unique cells for incremental upserts

Revision ID: 7c2a91d4e5f0
Revises: 0e4d4967c908
Create Date: 2026-11-23 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7c2a91d4e5f0"
down_revision: str | None = "0e4d4967c908"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = {
    "feedback_rollups": ("workspace_id", "day", "org_unit_id", "touchpoint_id", "channel"),
    "feedback_month_rollups": ("workspace_id", "month", "org_unit_id", "touchpoint_id"),
}


def upgrade() -> None:
    for table, cell in TABLES.items():
        op.execute(sa.text(f"DELETE FROM {table}"))
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in ("org_unit_id", "touchpoint_id"):
                batch_op.alter_column(column, existing_type=sa.String(length=32), nullable=False)
            batch_op.create_unique_constraint(f"uq_{table}_cell", list(cell))
    # The rows were rebuilt here from feedback_items; revision 0007 drops both tables (the
    # metrics read the analytics store), so a store passing through leaves them empty.


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f"uq_{table}_cell", type_="unique")
            for column in ("org_unit_id", "touchpoint_id"):
                batch_op.alter_column(column, existing_type=sa.String(length=32), nullable=True)
        for column in ("org_unit_id", "touchpoint_id"):
            op.execute(sa.text(f"UPDATE {table} SET {column} = NULL WHERE {column} = ''"))
