"""Factories for operational events."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from touchpoints.db.base import utcnow
from touchpoints.operations.models import EventType, OperationalEvent


def make_event(
    db_session: Session,
    *,
    workspace_id: str,
    occurred_at: datetime | None = None,
    **fields: Any,
) -> OperationalEvent:
    """Create an operational event (a 120 EUR order by default) directly in the store."""
    values: dict[str, Any] = {
        "type": EventType.ORDER.value,
        "name": "booking",
        "source": "shop",
        "value": 120.0,
        "currency": "EUR",
        "occurred_at": occurred_at or utcnow() - timedelta(hours=1),
    }
    event = OperationalEvent(workspace_id=workspace_id, **(values | fields))
    db_session.add(event)
    db_session.flush()
    return event
