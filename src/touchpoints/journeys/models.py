"""Journey, stage and touchpoint tables."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from touchpoints.db.base import Base, IdMixin, TimestampMixin, WorkspaceMixin


class Channel(StrEnum):
    """Where a customer meets the brand or talks to it."""

    WEB = "web"
    APP = "app"
    EMAIL = "email"
    PHONE = "phone"
    CHAT = "chat"
    STORE = "store"
    SOCIAL = "social"
    REVIEW_SITE = "review_site"
    SMS = "sms"
    OTHER = "other"


class Journey(IdMixin, TimestampMixin, WorkspaceMixin, Base):
    """An ordered set of stages a customer goes through."""

    __tablename__ = "journeys"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(String(2000))

    stages: Mapped[list[JourneyStage]] = relationship(
        back_populates="journey",
        cascade="all, delete-orphan",
        order_by="JourneyStage.position",
        lazy="selectin",
    )


class JourneyStage(IdMixin, TimestampMixin, WorkspaceMixin, Base):
    """One step of a journey (purchase, onboarding, support...)."""

    __tablename__ = "journey_stages"
    __table_args__ = (UniqueConstraint("journey_id", "name"),)

    journey_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("journeys.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column()

    journey: Mapped[Journey] = relationship(back_populates="stages")


class Touchpoint(IdMixin, TimestampMixin, WorkspaceMixin, Base):
    """A place where the customer meets the brand, owned by a department."""

    __tablename__ = "touchpoints"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    stage_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("journey_stages.id", ondelete="SET NULL"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(String(2000))
    channel: Mapped[str] = mapped_column(String(20))
    owner_department: Mapped[str] = mapped_column(String(80))
    controllable: Mapped[bool] = mapped_column(default=True)

    # Lets a touchpoint show its stage name and journey without another query per row.
    stage: Mapped[JourneyStage | None] = relationship(lazy="selectin")
