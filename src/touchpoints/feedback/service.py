"""Feedback items: what customers said, scoped to the caller's workspace and org units."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from touchpoints.api.listing import ListParams, paginate
from touchpoints.auth.permissions import (
    Permission,
    Principal,
    ensure_org_unit_in_scope,
    require,
    scope_condition,
)
from touchpoints.customers.models import Customer
from touchpoints.errors import Conflict, InvalidInput, NotFound
from touchpoints.feedback.models import FeedbackItem
from touchpoints.feedback.schemas import FeedbackItemCreate, FeedbackItemUpdate
from touchpoints.journeys.models import Touchpoint
from touchpoints.orgs.models import OrgUnit

MAX_QUERY_CHARS = 200
LINK_FIELDS = ("touchpoint_id", "customer_id", "org_unit_id")


def check_links(db_session: Session, actor: Principal, links: dict[str, Any]) -> None:
    """Refuse touchpoint, customer or org-unit ids that the caller's workspace lacks.

    Only the link fields present in `links` are checked. A caller limited to an org unit
    must place the data inside their subtree.
    """
    models: dict[str, type[Touchpoint] | type[Customer]] = {
        "touchpoint_id": Touchpoint,
        "customer_id": Customer,
    }
    for field, model in models.items():
        linked_id = links.get(field)
        if linked_id is not None and not _exists(db_session, actor, model, linked_id):
            label = field.removesuffix("_id")
            raise InvalidInput(field, f"no {label} {linked_id} in this workspace")
    if "org_unit_id" in links:
        _check_org_unit(db_session, actor, links.get("org_unit_id"))


def _exists(
    db_session: Session, actor: Principal, model: type[Touchpoint] | type[Customer], row_id: str
) -> bool:
    statement = select(model.id).where(model.id == row_id, model.workspace_id == actor.workspace_id)
    return db_session.scalar(statement) is not None


def _check_org_unit(db_session: Session, actor: Principal, org_unit_id: str | None) -> None:
    if org_unit_id is None:
        if actor.is_scoped:
            raise InvalidInput("org_unit_id", "required: you may only write data of your org units")
        return
    path = db_session.scalar(
        select(OrgUnit.path).where(
            OrgUnit.id == org_unit_id, OrgUnit.workspace_id == actor.workspace_id
        )
    )
    try:
        if path is None:
            raise NotFound(org_unit_id)
        ensure_org_unit_in_scope(actor, path)
    except NotFound as exc:
        # One message whether it is missing or outside the scope: nothing leaks.
        raise InvalidInput("org_unit_id", f"no org unit {org_unit_id} in your scope") from exc


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


def _visible(actor: Principal) -> Select[FeedbackItem]:
    statement = select(FeedbackItem).where(FeedbackItem.workspace_id == actor.workspace_id)
    in_scope = scope_condition(actor, FeedbackItem.org_unit_id)
    return statement if in_scope is None else statement.where(in_scope)


def list_feedback(
    *, db_session: Session, actor: Principal, params: ListParams, q: str | None = None
) -> tuple[list[FeedbackItem], int]:
    """List the feedback the caller can see, newest first; `q` searches title and text."""
    require(actor, Permission.FEEDBACK_READ)
    statement = _visible(actor)
    if q is not None and q.strip():
        if len(q) > MAX_QUERY_CHARS:
            raise InvalidInput("q", f"search at most {MAX_QUERY_CHARS} characters")
        statement = statement.where(
            or_(
                FeedbackItem.text.icontains(q.strip(), autoescape=True),
                FeedbackItem.title.icontains(q.strip(), autoescape=True),
            )
        )
    return paginate(
        db_session, statement, params=params, fields=feedback_fields(), default_sort="-occurred_at"
    )


def get_feedback(*, db_session: Session, actor: Principal, feedback_id: str) -> FeedbackItem:
    """Return one feedback item in the caller's workspace and scope."""
    require(actor, Permission.FEEDBACK_READ)
    item = db_session.scalar(_visible(actor).where(FeedbackItem.id == feedback_id))
    if item is None:
        raise NotFound(f"feedback item {feedback_id} not found")
    return item


def _ensure_new_source_ref(
    db_session: Session, actor: Principal, source: str, source_ref: str | None
) -> None:
    if source_ref is None:
        return
    existing = db_session.scalar(
        select(FeedbackItem.id).where(
            FeedbackItem.workspace_id == actor.workspace_id,
            FeedbackItem.source == source,
            FeedbackItem.source_ref == source_ref,
        )
    )
    if existing is not None:
        raise Conflict(
            f"feedback from {source!r} with source_ref {source_ref!r} is already stored "
            f"as {existing}"
        )


def create_feedback(
    *, db_session: Session, actor: Principal, feedback_in: FeedbackItemCreate
) -> FeedbackItem:
    """Store a feedback item after checking its links and that it is not a duplicate."""
    require(actor, Permission.FEEDBACK_WRITE)
    check_links(db_session, actor, feedback_in.model_dump(include=set(LINK_FIELDS)))
    _ensure_new_source_ref(db_session, actor, feedback_in.source, feedback_in.source_ref)
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
