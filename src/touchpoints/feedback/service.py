"""Feedback items: what customers said, scoped to the caller's workspace and org units."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from touchpoints.api.listing import ListParams, paginate
from touchpoints.auth.permissions import Permission, Principal, require
from touchpoints.errors import NotFound
from touchpoints.feedback.models import FeedbackItem
from touchpoints.feedback.schemas import FeedbackItemCreate, FeedbackItemUpdate
from touchpoints.feedback.search import MAX_QUERY_CHARS as MAX_QUERY_CHARS
from touchpoints.feedback.search import matching_ids_condition
from touchpoints.signals.service import LINK_FIELDS, check_links, ensure_new_source_ref, visible


def feedback_fields() -> dict[str, Any]:
    """Return the filterable and sortable feedback columns."""
    return {
        "id": FeedbackItem.id,
        "solicited": FeedbackItem.solicited,
        "source": FeedbackItem.source,
        "source_ref": FeedbackItem.source_ref,
        "channel": FeedbackItem.channel,
        "touchpoint_id": FeedbackItem.touchpoint_id,
        "customer_id": FeedbackItem.customer_id,
        "org_unit_id": FeedbackItem.org_unit_id,
        "occurred_at": FeedbackItem.occurred_at,
        "received_at": FeedbackItem.received_at,
        "language": FeedbackItem.language,
        "title": FeedbackItem.title,
        "nps": FeedbackItem.nps,
        "csat": FeedbackItem.csat,
        "ces": FeedbackItem.ces,
        "rating": FeedbackItem.rating,
    }


def list_feedback(
    *, db_session: Session, actor: Principal, params: ListParams, q: str | None = None
) -> tuple[list[FeedbackItem], int]:
    """List the feedback the caller can see, newest first; `q` finds words in title or text."""
    require(actor, Permission.FEEDBACK_READ)
    statement = visible(actor, FeedbackItem)
    if q is not None and q.strip():
        dialect = db_session.get_bind().dialect.name
        statement = statement.where(matching_ids_condition(dialect, q.strip()))
    return paginate(
        db_session, statement, params=params, fields=feedback_fields(), default_sort="-occurred_at"
    )


def get_feedback(*, db_session: Session, actor: Principal, feedback_id: str) -> FeedbackItem:
    """Return one feedback item in the caller's workspace and scope."""
    require(actor, Permission.FEEDBACK_READ)
    item = db_session.scalar(visible(actor, FeedbackItem).where(FeedbackItem.id == feedback_id))
    if item is None:
        raise NotFound(f"feedback item {feedback_id} not found")
    return item


def create_feedback(
    *, db_session: Session, actor: Principal, feedback_in: FeedbackItemCreate
) -> FeedbackItem:
    """Store a feedback item after checking its links and that it is not a duplicate."""
    require(actor, Permission.FEEDBACK_WRITE)
    check_links(db_session, actor, feedback_in.model_dump(include=set(LINK_FIELDS)))
    ensure_new_source_ref(
        db_session, actor, FeedbackItem, feedback_in.source, feedback_in.source_ref, "feedback"
    )
    values = feedback_in.model_dump(exclude={"scores", "metadata"})
    scores = feedback_in.scores.columns() if feedback_in.scores is not None else {}
    item = FeedbackItem(
        workspace_id=actor.workspace_id,
        metadata_=feedback_in.metadata,
        **values,
        **scores,
    )
    db_session.add(item)
    db_session.flush()
    return item


def update_feedback(
    *,
    db_session: Session,
    actor: Principal,
    feedback_id: str,
    feedback_in: FeedbackItemUpdate,
) -> FeedbackItem:
    """Change a feedback item's links, title, language or metadata."""
    require(actor, Permission.FEEDBACK_WRITE)
    item = get_feedback(db_session=db_session, actor=actor, feedback_id=feedback_id)
    changes = feedback_in.model_dump(exclude_unset=True)
    check_links(db_session, actor, {k: v for k, v in changes.items() if k in LINK_FIELDS})
    if "metadata" in changes:
        item.metadata_ = changes.pop("metadata")
    for name, value in changes.items():
        setattr(item, name, value)
    db_session.flush()
    return item


def delete_feedback(*, db_session: Session, actor: Principal, feedback_id: str) -> None:
    """Delete a feedback item."""
    require(actor, Permission.FEEDBACK_WRITE)
    item = get_feedback(db_session=db_session, actor=actor, feedback_id=feedback_id)
    db_session.delete(item)
    db_session.flush()
