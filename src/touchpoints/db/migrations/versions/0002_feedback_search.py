"""feedback full-text search

Revision ID: 5c2e9a7d41b3
Revises: aa3035eb85d9
Create Date: 2026-11-22 11:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from touchpoints.feedback.search import install_search, uninstall_search

revision: str = "5c2e9a7d41b3"
down_revision: str | None = "aa3035eb85d9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the search index (FTS5 on SQLite, GIN on PostgreSQL) and fill it."""
    install_search(op.get_bind())


def downgrade() -> None:
    """Drop the search index."""
    uninstall_search(op.get_bind())
