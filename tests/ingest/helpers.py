"""Shared helpers for ingestion tests: posting batches and counting what was stored."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import Caller
from touchpoints.customers.models import Customer
from touchpoints.feedback.models import FeedbackItem
from touchpoints.operations.models import OperationalEvent

OCCURRED_AT = "2024-05-01T09:30:00+02:00"


def post_batch(
    caller: Caller, kind: str, items: list[Any], *, expected: int = 200, **options: Any
) -> dict[str, Any]:
    """Post a batch to /ingest/{kind} and return the answer."""
    response = caller.http.post(f"/api/v1/ingest/{kind}", json={"items": items, **options})
    assert response.status_code == expected, response.text
    answer: dict[str, Any] = response.json()
    return answer


def statuses(answer: dict[str, Any]) -> list[str]:
    """Return the status of each item, in order."""
    return [item["status"] for item in answer["items"]]


def errors_of(answer: dict[str, Any], index: int) -> dict[str, str]:
    """Return an item's errors as {field: reason}."""
    return {e["field"]: e["reason"] for e in answer["items"][index]["errors"]}


def count(
    db_session: Session,
    model: type[FeedbackItem] | type[OperationalEvent] | type[Customer],
    workspace_id: str,
) -> int:
    """Count the rows of a workspace in a table."""
    statement = select(func.count()).select_from(model).where(model.workspace_id == workspace_id)
    return db_session.scalar(statement) or 0
