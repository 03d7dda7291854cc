"""Operational event table."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from touchpoints.db.base import Base, IdMixin, WorkspaceMixin, utcnow


class EventType(StrEnum):
    """Kinds of operational data."""

    ORDER = "order"
    SUBSCRIPTION = "subscription"
    CHURN = "churn"
    SUPPORT_CONTACT = "support_contact"
    DIGITAL = "digital"
    EXTERNAL = "external"


class OperationalEvent(IdMixin, WorkspaceMixin, Base):
    """Something the customer did or that happened to them."""

    __tablename__ = "operational_events"
    __table_args__ = (
        UniqueConstraint("workspace_id", "source", "source_ref"),
        Index("ix_operational_events_workspace_occurred", "workspace_id", "occurred_at"),
        Index("ix_operational_events_workspace_customer", "workspace_id", "customer_id"),
        Index("ix_operational_events_workspace_type", "workspace_id", "type"),
    )

    type: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(80))
    source: Mapped[str] = mapped_column(String(64), default="api")
    source_ref: Mapped[str | None] = mapped_column(String(200))
    occurred_at: Mapped[datetime] = mapped_column()
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    customer_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("customers.id", ondelete="SET NULL")
    )
    touchpoint_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("touchpoints.id", ondelete="SET NULL")
    )
    org_unit_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("org_units.id", ondelete="SET NULL")
    )
    value: Mapped[float | None] = mapped_column(Float)
    currency: Mapped[str | None] = mapped_column(String(3))
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)
