"""Customer, identity and segment tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from touchpoints.db.base import Base, IdMixin, TimestampMixin, WorkspaceMixin


class Customer(IdMixin, TimestampMixin, WorkspaceMixin, Base):
    """A person or account the company serves."""

    __tablename__ = "customers"

    display_name: Mapped[str | None] = mapped_column(String(200))
    org_unit_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("org_units.id", ondelete="SET NULL"), index=True
    )
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Consent: None means never asked; False is an explicit refusal that must be honoured.
    consent_email: Mapped[bool | None] = mapped_column()
    consent_sms: Mapped[bool | None] = mapped_column()
    consent_research: Mapped[bool | None] = mapped_column()
    first_seen_at: Mapped[datetime | None] = mapped_column()

    identities: Mapped[list[CustomerIdentity]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", lazy="selectin"
    )
    segments: Mapped[list[Segment]] = relationship(
        secondary="customer_segments", lazy="selectin", order_by="Segment.name"
    )


class CustomerIdentity(IdMixin, WorkspaceMixin, Base):
    """One normalized way to recognise a customer: email, phone (E.164) or an external id."""

    __tablename__ = "customer_identities"
    __table_args__ = (UniqueConstraint("workspace_id", "kind", "source", "value"),)

    customer_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(64), default="")
    value: Mapped[str] = mapped_column(String(320))

    customer: Mapped[Customer] = relationship(back_populates="identities")


class Segment(IdMixin, TimestampMixin, WorkspaceMixin, Base):
    """A named group of customers (high value, frequent flyer, at risk)."""

    __tablename__ = "segments"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str | None] = mapped_column(String(1000))


class CustomerSegment(Base):
    """Membership of a customer in a segment."""

    __tablename__ = "customer_segments"

    customer_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True
    )
    segment_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("segments.id", ondelete="CASCADE"), primary_key=True, index=True
    )
