"""Workspace and org-unit tables."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from touchpoints.db.base import Base, IdMixin, TimestampMixin, WorkspaceMixin


class Workspace(IdMixin, TimestampMixin, Base):
    """A tenant: one company's program, data and people."""

    __tablename__ = "workspaces"

    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)


class OrgUnit(IdMixin, TimestampMixin, WorkspaceMixin, Base):
    """A node of the organization (region, store, team) that data and people are scoped to."""

    __tablename__ = "org_units"
    __table_args__ = (
        UniqueConstraint("workspace_id", "code"),
        Index("ix_org_units_workspace_path", "workspace_id", "path"),
    )

    parent_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("org_units.id", ondelete="RESTRICT"), index=True
    )
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40), default="unit")
    # Materialized path of ids ("/root/child/"): a subtree is one prefix match.
    path: Mapped[str] = mapped_column(String(2000))
