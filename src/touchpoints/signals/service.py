"""Rules every customer signal shares: valid links, one row per source id, scoped reads."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from touchpoints.auth.permissions import Principal, ensure_org_unit_in_scope, scope_condition
from touchpoints.customers.models import Customer
from touchpoints.errors import Conflict, InvalidInput, NotFound
from touchpoints.feedback.models import FeedbackItem
from touchpoints.journeys.models import Touchpoint
from touchpoints.operations.models import OperationalEvent
from touchpoints.orgs.models import OrgUnit

LINK_FIELDS = ("touchpoint_id", "customer_id", "org_unit_id")

Signal = TypeVar("Signal", FeedbackItem, OperationalEvent)


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


def ensure_new_source_ref(
    db_session: Session,
    actor: Principal,
    model: type[Signal],
    source: str,
    source_ref: str | None,
    noun: str,
) -> None:
    """Refuse a signal whose (source, source_ref) the workspace already stored.

    `noun` opens the message: "feedback", "an event".
    """
    if source_ref is None:
        return
    existing = db_session.scalar(
        select(model.id).where(
            model.workspace_id == actor.workspace_id,
            model.source == source,
            model.source_ref == source_ref,
        )
    )
    if existing is not None:
        raise Conflict(
            f"{noun} from {source!r} with source_ref {source_ref!r} is already stored as {existing}"
        )


def visible(actor: Principal, model: type[Signal]) -> Select[Signal]:
    """Return a select of the signals in the caller's workspace and org-unit scope."""
    statement = select(model).where(model.workspace_id == actor.workspace_id)
    in_scope = scope_condition(actor, model.org_unit_id)
    return statement if in_scope is None else statement.where(in_scope)
