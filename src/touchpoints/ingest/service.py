"""Ingest batches of feedback, operational events and customers, item by item."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from touchpoints.auth.permissions import Permission, Principal, require
from touchpoints.customers.identities import IdentityKind, NormalizedIdentity
from touchpoints.customers.models import Customer
from touchpoints.customers.schemas import CustomerCreate, CustomerUpdate, IdentityCreate
from touchpoints.customers.service import add_identity, create_customer, update_customer
from touchpoints.feedback.models import FeedbackItem
from touchpoints.feedback.schemas import FeedbackItemCreate
from touchpoints.feedback.service import create_feedback
from touchpoints.ingest.batches import ItemRejected, Outcome, parse, run_batch
from touchpoints.ingest.linking import link_customer, normalized_identities, owners, single_owner
from touchpoints.ingest.schemas import (
    BatchIn,
    BatchResult,
    CustomerRef,
    ItemError,
    ItemStatus,
    Transcript,
)
from touchpoints.operations.models import OperationalEvent
from touchpoints.operations.schemas import OperationalEventCreate
from touchpoints.operations.service import create_event
from touchpoints.signals.schemas import MAX_METADATA_JSON_CHARS

CUSTOMER_UPDATE_FIELDS = (
    "display_name",
    "org_unit_id",
    "consent_email",
    "consent_sms",
    "consent_research",
)


def ingest_feedback(
    *, db_session: Session, actor: Principal, batch_in: BatchIn, default_source: str | None = None
) -> BatchResult:
    """Store each valid feedback item of a batch; report duplicates and rejected items."""
    require(actor, Permission.FEEDBACK_WRITE)

    def handle(raw: dict[str, Any]) -> Outcome:
        fields, ref, errors = _split_customer(raw, default_source)
        turns_ok = _add_transcript(fields, errors) if "turns" in fields else True
        feedback_in = parse(FeedbackItemCreate, fields, errors)
        if not turns_ok:
            # Bad turns leave the item without text; saying so again would mislead.
            errors = [error for error in errors if error.field != ""]
        if errors or feedback_in is None:
            raise ItemRejected(errors)
        stored = _stored_id(
            db_session, actor, FeedbackItem, feedback_in.source, feedback_in.source_ref
        )
        if stored is not None:
            return Outcome(ItemStatus.DUPLICATE, stored[0], stored[1])
        customer_id = _customer_id(db_session, actor, ref, feedback_in, batch_in.create_customers)
        feedback_in = feedback_in.model_copy(update={"customer_id": customer_id})
        item = create_feedback(db_session=db_session, actor=actor, feedback_in=feedback_in)
        return Outcome(ItemStatus.CREATED, item.id, item.customer_id)

    return run_batch(db_session, batch_in.items, handle)


def ingest_events(
    *, db_session: Session, actor: Principal, batch_in: BatchIn, default_source: str | None = None
) -> BatchResult:
    """Store each valid operational event of a batch; report duplicates and rejected items."""
    require(actor, Permission.EVENTS_WRITE)

    def handle(raw: dict[str, Any]) -> Outcome:
        fields, ref, errors = _split_customer(raw, default_source)
        event_in = parse(OperationalEventCreate, fields, errors)
        if errors or event_in is None:
            raise ItemRejected(errors)
        stored = _stored_id(
            db_session, actor, OperationalEvent, event_in.source, event_in.source_ref
        )
        if stored is not None:
            return Outcome(ItemStatus.DUPLICATE, stored[0], stored[1])
        customer_id = _customer_id(db_session, actor, ref, event_in, batch_in.create_customers)
        event_in = event_in.model_copy(update={"customer_id": customer_id})
        event = create_event(db_session=db_session, actor=actor, event_in=event_in)
        return Outcome(ItemStatus.CREATED, event.id, event.customer_id)

    return run_batch(db_session, batch_in.items, handle)


def _split_customer(
    raw: dict[str, Any], default_source: str | None
) -> tuple[dict[str, Any], CustomerRef | None, list[ItemError]]:
    """Separate the `customer` reference from the item's own fields."""
    fields = dict(raw)
    errors: list[ItemError] = []
    if default_source is not None:
        fields.setdefault("source", default_source)
    ref = None
    if "customer" in fields:
        ref = parse(CustomerRef, fields.pop("customer"), errors, prefix="customer")
        if fields.get("customer_id") is not None:
            errors.append(
                ItemError(field="customer", reason="send customer_id or customer, not both")
            )
    return fields, ref, errors


def _add_transcript(fields: dict[str, Any], errors: list[ItemError]) -> bool:
    """Move `turns` into metadata and, when the item has no text, render them as its text.

    Return whether the turns were valid.
    """
    transcript = parse(Transcript, {"turns": fields.pop("turns")}, errors)
    if transcript is None:
        return False
    turns = transcript.as_metadata()
    metadata = fields.get("metadata", {})
    if isinstance(metadata, dict):  # anything else is reported by the item's validation
        fields["metadata"] = metadata | {"turns": turns}
    if len(json.dumps(turns)) > MAX_METADATA_JSON_CHARS:
        reason = f"a transcript takes at most {MAX_METADATA_JSON_CHARS:,} characters; split it"
        errors.append(ItemError(field="turns", reason=reason))
    if not fields.get("text"):
        fields["text"] = transcript.as_text()
    return True


def _stored_id(
    db_session: Session,
    actor: Principal,
    model: type[FeedbackItem] | type[OperationalEvent],
    source: str,
    source_ref: str | None,
) -> tuple[str, str | None] | None:
    """Return (id, customer_id) of the row already stored under (source, source_ref)."""
    if source_ref is None:
        return None
    row = db_session.execute(
        select(model.id, model.customer_id).where(
            model.workspace_id == actor.workspace_id,
            model.source == source,
            model.source_ref == source_ref,
        )
    ).first()
    return None if row is None else (row[0], row[1])


def _customer_id(
    db_session: Session,
    actor: Principal,
    ref: CustomerRef | None,
    signal_in: FeedbackItemCreate | OperationalEventCreate,
    create: bool,
) -> str | None:
    if ref is None:
        return signal_in.customer_id
    return link_customer(db_session, actor, ref, org_unit_id=signal_in.org_unit_id, create=create)


def ingest_customers(*, db_session: Session, actor: Principal, batch_in: BatchIn) -> BatchResult:
    """Upsert each customer by any identity: update the match, or create when none matches."""
    require(actor, Permission.CUSTOMERS_WRITE)

    def handle(raw: dict[str, Any]) -> Outcome:
        errors = [
            ItemError(field=name, reason="unknown field")
            for name in raw
            if name not in CustomerCreate.model_fields
        ]
        customer_in = parse(CustomerCreate, raw, errors)
        if errors or customer_in is None:
            raise ItemRejected(errors)
        identities = _customer_identities(db_session, actor, customer_in)
        claimed = owners(db_session, actor.workspace_id, identities)
        customer_id = single_owner(claimed, "identities")
        if customer_id is None:
            customer = create_customer(db_session=db_session, actor=actor, customer_in=customer_in)
            return Outcome(ItemStatus.CREATED, customer.id, customer.id)
        new = [identity for identity in identities if identity not in claimed]
        customer = _update_match(db_session, actor, customer_id, customer_in, new)
        return Outcome(ItemStatus.UPDATED, customer.id, customer.id)

    return run_batch(db_session, batch_in.items, handle)


def _customer_identities(
    db_session: Session, actor: Principal, customer_in: CustomerCreate
) -> list[NormalizedIdentity]:
    """Normalize every identity a customer item names; it must name at least one."""
    if customer_in.external_id is None and customer_in.external_id_source:
        raise ItemRejected.one("external_id_source", "send external_id together with its source")
    wanted: list[tuple[IdentityKind, str | None, str, str]] = [
        (IdentityKind.EMAIL, customer_in.email, "", "email"),
        (IdentityKind.PHONE, customer_in.phone, "", "phone"),
        (
            IdentityKind.EXTERNAL_ID,
            customer_in.external_id,
            customer_in.external_id_source,
            "external_id",
        ),
    ]
    wanted += [
        (identity.kind, identity.value, identity.source, f"identities.{index}.value")
        for index, identity in enumerate(customer_in.identities)
    ]
    identities = normalized_identities(db_session, actor.workspace_id, wanted)
    if not identities:
        raise ItemRejected.one(
            "identities",
            "give at least one identity (email, phone, external_id) to match the customer by",
        )
    return identities


def _update_match(
    db_session: Session,
    actor: Principal,
    customer_id: str,
    customer_in: CustomerCreate,
    new_identities: list[NormalizedIdentity],
) -> Customer:
    """Apply the fields sent to the matched customer and give it the identities it lacks."""
    sent = customer_in.model_fields_set
    changes: dict[str, Any] = {
        name: getattr(customer_in, name) for name in CUSTOMER_UPDATE_FIELDS if name in sent
    }
    if "attributes" in sent:
        current = db_session.get(Customer, customer_id)
        kept = dict(current.attributes) if current is not None else {}
        changes["attributes"] = kept | customer_in.attributes
    customer = update_customer(
        db_session=db_session,
        actor=actor,
        customer_id=customer_id,
        customer_in=CustomerUpdate(**changes),
    )
    first_seen = customer_in.first_seen_at
    if first_seen is not None and (
        customer.first_seen_at is None or first_seen < customer.first_seen_at
    ):
        customer.first_seen_at = first_seen
    for identity in new_identities:
        add_identity(
            db_session=db_session,
            actor=actor,
            customer_id=customer.id,
            identity_in=IdentityCreate(
                kind=identity.kind, value=identity.value, source=identity.source
            ),
        )
    db_session.flush()
    return customer
