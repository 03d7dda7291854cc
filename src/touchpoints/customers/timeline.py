"""A customer's interactions (feedback and operational events) in time order, within scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, literal, select, union_all
from sqlalchemy.orm import Session

from touchpoints.auth.permissions import Permission, Principal
from touchpoints.feedback.models import FeedbackItem
from touchpoints.operations.models import OperationalEvent
from touchpoints.signals.service import visible

TIMELINE_PAGE = 50


@dataclass(frozen=True)
class Interaction:
    """One thing in a customer's history: something they said or did (or that happened)."""

    occurred_at: datetime
    feedback: FeedbackItem | None = None
    event: OperationalEvent | None = None

    @property
    def kind(self) -> str:
        """Return 'feedback' or 'event'."""
        return "feedback" if self.feedback is not None else "event"


def _keys(actor: Principal, customer_id: str) -> list[Select[str, str, datetime]]:
    # Each kind of signal is read only with its own permission, inside the caller's scope.
    parts: list[Select[str, str, datetime]] = []
    if actor.can(Permission.FEEDBACK_READ):
        feedback = visible(actor, FeedbackItem).where(FeedbackItem.customer_id == customer_id)
        parts.append(
            feedback.with_only_columns(
                literal("feedback").label("kind"),
                FeedbackItem.id.label("id"),
                FeedbackItem.occurred_at.label("occurred_at"),
            )
        )
    if actor.can(Permission.EVENTS_READ):
        events = visible(actor, OperationalEvent).where(OperationalEvent.customer_id == customer_id)
        parts.append(
            events.with_only_columns(
                literal("event").label("kind"),
                OperationalEvent.id.label("id"),
                OperationalEvent.occurred_at.label("occurred_at"),
            )
        )
    return parts


def _load(db_session: Session, keys: list[tuple[str, str]]) -> list[Interaction]:
    feedback_ids = [row_id for kind, row_id in keys if kind == "feedback"]
    event_ids = [row_id for kind, row_id in keys if kind == "event"]
    found: dict[str, FeedbackItem | OperationalEvent] = {}
    if feedback_ids:
        items = db_session.scalars(select(FeedbackItem).where(FeedbackItem.id.in_(feedback_ids)))
        found.update((item.id, item) for item in items)
    if event_ids:
        events = db_session.scalars(
            select(OperationalEvent).where(OperationalEvent.id.in_(event_ids))
        )
        found.update((event.id, event) for event in events)
    result = []
    for _kind, row_id in keys:
        row = found[row_id]
        if isinstance(row, FeedbackItem):
            result.append(Interaction(row.occurred_at, feedback=row))
        else:
            result.append(Interaction(row.occurred_at, event=row))
    return result


def customer_timeline(
    *, db_session: Session, actor: Principal, customer_id: str, offset: int = 0
) -> tuple[list[Interaction], bool]:
    """Return one page of a customer's interactions, newest first, and whether more follow."""
    parts = _keys(actor, customer_id)
    if not parts:
        return [], False
    union = union_all(*parts).subquery()
    statement = (
        select(union.c.kind, union.c.id)
        .order_by(union.c.occurred_at.desc(), union.c.id.desc())
        .offset(offset)
        .limit(TIMELINE_PAGE + 1)
    )
    keys = [(str(kind), str(row_id)) for kind, row_id in db_session.execute(statement)]
    return _load(db_session, keys[:TIMELINE_PAGE]), len(keys) > TIMELINE_PAGE


def interactions_around(
    *,
    db_session: Session,
    actor: Principal,
    customer_id: str,
    moment: datetime,
    each_side: int = 5,
) -> list[Interaction]:
    """Return a customer's interactions just before and after a moment, newest first."""
    parts = _keys(actor, customer_id)
    if not parts:
        return []
    union = union_all(*parts).subquery()
    base = select(union.c.kind, union.c.id, union.c.occurred_at)
    later = base.where(union.c.occurred_at >= moment).order_by(union.c.occurred_at)
    earlier = base.where(union.c.occurred_at < moment).order_by(union.c.occurred_at.desc())
    after = list(db_session.execute(later.limit(each_side + 1)))
    before = list(db_session.execute(earlier.limit(each_side)))
    rows = sorted([*after, *before], key=lambda row: (row[2], row[1]), reverse=True)
    return _load(db_session, [(str(row[0]), str(row[1])) for row in rows])
