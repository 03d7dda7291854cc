"""Link ingested items to customers by normalized identity, creating customers when asked."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from touchpoints.auth.permissions import Principal
from touchpoints.customers.identities import (
    IdentityKind,
    NormalizedIdentity,
    normalize_identity,
    phone_region,
)
from touchpoints.customers.models import CustomerIdentity
from touchpoints.customers.schemas import CustomerCreate
from touchpoints.customers.service import create_customer
from touchpoints.errors import InvalidInput, TouchpointsError
from touchpoints.ingest.batches import ItemRejected, error_of
from touchpoints.ingest.schemas import CustomerRef, ItemError

CUSTOMER_FIELD = "customer"


def normalized_identities(
    db_session: Session,
    workspace_id: str,
    wanted: Sequence[tuple[IdentityKind, str | None, str, str]],
) -> list[NormalizedIdentity]:
    """Normalize (kind, value, source, field) tuples; reject the item naming every bad one."""
    region = phone_region(db_session=db_session, workspace_id=workspace_id)
    found: list[NormalizedIdentity] = []
    errors: list[ItemError] = []
    for kind, value, source, field in wanted:
        if value is None:
            continue
        try:
            found.append(normalize_identity(kind, value, source=source, region=region, field=field))
        except InvalidInput as exc:
            errors.append(error_of(exc))
    if errors:
        raise ItemRejected(errors)
    return list(dict.fromkeys(found))


def ref_identities(
    db_session: Session, workspace_id: str, ref: CustomerRef
) -> list[NormalizedIdentity]:
    """Normalize the identities a `customer` reference names."""
    prefix = f"{CUSTOMER_FIELD}."
    return normalized_identities(
        db_session,
        workspace_id,
        [
            (IdentityKind.EMAIL, ref.email, "", f"{prefix}email"),
            (IdentityKind.PHONE, ref.phone, "", f"{prefix}phone"),
            (
                IdentityKind.EXTERNAL_ID,
                ref.external_id,
                ref.external_id_source,
                f"{prefix}external_id",
            ),
        ],
    )


def owners(
    db_session: Session, workspace_id: str, identities: Sequence[NormalizedIdentity]
) -> dict[NormalizedIdentity, str]:
    """Return the customer id each identity already belongs to (unclaimed ones are left out)."""
    if not identities:
        return {}
    matches = or_(
        *(
            and_(
                CustomerIdentity.kind == identity.kind.value,
                CustomerIdentity.source == identity.source,
                CustomerIdentity.value == identity.value,
            )
            for identity in identities
        )
    )
    rows = db_session.execute(
        select(
            CustomerIdentity.kind,
            CustomerIdentity.source,
            CustomerIdentity.value,
            CustomerIdentity.customer_id,
        ).where(CustomerIdentity.workspace_id == workspace_id, matches)
    )
    return {
        NormalizedIdentity(IdentityKind(kind), source, value): customer_id
        for kind, source, value, customer_id in rows
    }


def single_owner(claimed: dict[NormalizedIdentity, str], field: str) -> str | None:
    """Return the one customer the identities point to; reject identities of several."""
    customer_ids = sorted(set(claimed.values()))
    if len(customer_ids) > 1:
        described = "; ".join(
            f"{_describe(identity)} belongs to customer {customer_id}"
            for identity, customer_id in sorted(claimed.items(), key=lambda pair: pair[1])
        )
        raise ItemRejected.one(
            field,
            f"the identities match different customers ({described}); send one identity, or "
            f"merge the customers first (POST /customers/{{survivor_id}}/merge)",
        )
    return customer_ids[0] if customer_ids else None


def _describe(identity: NormalizedIdentity) -> str:
    prefix = f"{identity.source}:" if identity.source else ""
    return f"{identity.kind.value} {prefix}{identity.value}"


def link_customer(
    db_session: Session,
    actor: Principal,
    ref: CustomerRef,
    *,
    org_unit_id: str | None,
    create: bool,
) -> str | None:
    """Return the id of the customer `ref` names, creating one when none matches and asked to."""
    identities = ref_identities(db_session, actor.workspace_id, ref)
    customer_id = single_owner(owners(db_session, actor.workspace_id, identities), CUSTOMER_FIELD)
    if customer_id is not None or not create:
        return customer_id
    customer_in = CustomerCreate(
        email=ref.email,
        phone=ref.phone,
        external_id=ref.external_id,
        external_id_source=ref.external_id_source,
        org_unit_id=org_unit_id,
    )
    try:
        customer = create_customer(db_session=db_session, actor=actor, customer_in=customer_in)
    except TouchpointsError as exc:
        raise ItemRejected([error_of(exc, prefix=CUSTOMER_FIELD)]) from exc
    return customer.id
