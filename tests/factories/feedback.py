"""Factories for feedback items and the customers and touchpoints they link to."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from touchpoints.customers.models import Customer
from touchpoints.db.base import utcnow
from touchpoints.feedback.models import FeedbackItem
from touchpoints.journeys.models import Channel, Touchpoint

_sequence = itertools.count(1)


def make_customer(db_session: Session, *, workspace_id: str, **fields: Any) -> Customer:
    """Create a customer directly in the store."""
    number = next(_sequence)
    customer = Customer(workspace_id=workspace_id, display_name=f"Customer {number}", **fields)
    db_session.add(customer)
    db_session.flush()
    return customer


def make_touchpoint(db_session: Session, *, workspace_id: str, **fields: Any) -> Touchpoint:
    """Create a touchpoint (a web checkout by default) directly in the store."""
    number = next(_sequence)
    values: dict[str, Any] = {
        "name": f"Checkout {number}",
        "channel": Channel.WEB.value,
        "owner_department": "sales",
    }
    touchpoint = Touchpoint(workspace_id=workspace_id, **(values | fields))
    db_session.add(touchpoint)
    db_session.flush()
    return touchpoint


def make_feedback_item(
    db_session: Session,
    *,
    workspace_id: str,
    occurred_at: datetime | None = None,
    **fields: Any,
) -> FeedbackItem:
    """Create a feedback item (an unsolicited review by default) directly in the store."""
    values: dict[str, Any] = {
        "solicited": False,
        "source": "app_store",
        "channel": Channel.REVIEW_SITE.value,
        "text": "The app works well.",
        "occurred_at": occurred_at or utcnow() - timedelta(hours=1),
    }
    item = FeedbackItem(workspace_id=workspace_id, **(values | fields))
    db_session.add(item)
    db_session.flush()
    return item
