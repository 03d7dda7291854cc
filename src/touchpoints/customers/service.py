"""Customers, their identities and segments, scoped to the caller's workspace and org unit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.orm import Session

from touchpoints.api.listing import ListParams, paginate
from touchpoints.auth.permissions import (
    Permission,
    Principal,
    ensure_org_unit_in_scope,
    require,
    scope_condition,
)
from touchpoints.customers.identities import (
    IdentityKind,
    NormalizedIdentity,
    normalize_identity,
    phone_region,
)
from touchpoints.customers.models import Customer, CustomerIdentity, CustomerSegment
from touchpoints.customers.schemas import (
    CustomerCreate,
    CustomerUpdate,
    IdentityCreate,
)
from touchpoints.db.base import utcnow
from touchpoints.errors import Conflict, InvalidInput, NotFound
from touchpoints.orgs.models import OrgUnit


@dataclass(frozen=True)
class CustomerLookup:
    """Identity and segment criteria that narrow a customer list."""

    email: str | None = None
    phone: str | None = None
    external_id: str | None = None
    external_id_source: str = ""
    segment_id: str | None = None


def customer_fields() -> dict[str, Any]:
    """Return the filterable and sortable customer columns."""
    return {
        "id": Customer.id,
        "display_name": Customer.display_name,
        "org_unit_id": Customer.org_unit_id,
        "created_at": Customer.created_at,
        "updated_at": Customer.updated_at,
        "first_seen_at": Customer.first_seen_at,
        "consent_email": Customer.consent_email,
        "consent_sms": Customer.consent_sms,
        "consent_research": Customer.consent_research,
    }


def _visible_customers(actor: Principal) -> Select[Customer]:
    statement = select(Customer).where(Customer.workspace_id == actor.workspace_id)
    in_scope = scope_condition(actor, Customer.org_unit_id)
    return statement if in_scope is None else statement.where(in_scope)


def _identity_match(workspace_id: str, identity: NormalizedIdentity) -> ColumnElement[bool]:
    return and_(
        CustomerIdentity.workspace_id == workspace_id,
        CustomerIdentity.kind == identity.kind.value,
        CustomerIdentity.source == identity.source,
        CustomerIdentity.value == identity.value,
    )


def _lookup_identities(
    db_session: Session, workspace_id: str, lookup: CustomerLookup
) -> list[NormalizedIdentity]:
    region = phone_region(db_session=db_session, workspace_id=workspace_id)
    wanted: list[NormalizedIdentity] = []
    if lookup.email is not None:
        wanted.append(normalize_identity(IdentityKind.EMAIL, lookup.email, field="email"))
    if lookup.phone is not None:
        wanted.append(
            normalize_identity(IdentityKind.PHONE, lookup.phone, region=region, field="phone")
        )
    if lookup.external_id is not None:
        wanted.append(
            normalize_identity(
                IdentityKind.EXTERNAL_ID,
                lookup.external_id,
                source=lookup.external_id_source,
                field="external_id",
                source_field="external_id_source",
            )
        )
    return wanted


def list_customers(
    *,
    db_session: Session,
    actor: Principal,
    params: ListParams,
    lookup: CustomerLookup | None = None,
) -> tuple[list[Customer], int]:
    """List the customers the caller can see, narrowed by identity or segment if asked."""
    require(actor, Permission.CUSTOMERS_READ)
    lookup = lookup or CustomerLookup()
    statement = _visible_customers(actor)
    for identity in _lookup_identities(db_session, actor.workspace_id, lookup):
        owners = select(CustomerIdentity.customer_id).where(
            _identity_match(actor.workspace_id, identity)
        )
        statement = statement.where(Customer.id.in_(owners))
    if lookup.segment_id is not None:
        members = select(CustomerSegment.customer_id).where(
            CustomerSegment.segment_id == lookup.segment_id
        )
        statement = statement.where(Customer.id.in_(members))
    return paginate(
        db_session, statement, params=params, fields=customer_fields(), default_sort="-created_at"
    )


def get_customer(*, db_session: Session, actor: Principal, customer_id: str) -> Customer:
    """Return one customer in the caller's workspace and scope."""
    require(actor, Permission.CUSTOMERS_READ)
    customer = db_session.scalar(_visible_customers(actor).where(Customer.id == customer_id))
    if customer is None:
        raise NotFound(f"customer {customer_id} not found")
    return customer


def find_by_identity(
    *,
    db_session: Session,
    workspace_id: str,
    kind: IdentityKind | str,
    value: str,
    source: str = "",
) -> Customer | None:
    """Return the customer an email, phone or external id belongs to, normalizing it first."""
    try:
        identity_kind = IdentityKind(kind)
    except ValueError as exc:
        kinds = ", ".join(k.value for k in IdentityKind)
        raise InvalidInput("kind", f"unknown identity kind {kind!r}; use one of {kinds}") from exc
    region = phone_region(db_session=db_session, workspace_id=workspace_id)
    identity = normalize_identity(
        identity_kind, value, source=source, region=region, field=identity_kind.value
    )
    return db_session.scalar(
        select(Customer)
        .join(CustomerIdentity, CustomerIdentity.customer_id == Customer.id)
        .where(_identity_match(workspace_id, identity))
    )


def _describe(identity: NormalizedIdentity | CustomerIdentity) -> str:
    prefix = f"{identity.source}:" if identity.source else ""
    return f"{identity.kind} {prefix}{identity.value}"


def _ensure_unclaimed(
    db_session: Session,
    workspace_id: str,
    identities: Sequence[NormalizedIdentity],
    *,
    customer_id: str | None = None,
) -> None:
    """Refuse identities that already belong to another customer of the workspace."""
    if not identities:
        return
    taken = db_session.scalars(
        select(CustomerIdentity).where(
            or_(*(_identity_match(workspace_id, identity) for identity in identities)),
            CustomerIdentity.customer_id != (customer_id or ""),
        )
    ).all()
    if taken:
        clashes = "; ".join(
            f"{_describe(row)} already belongs to customer {row.customer_id}" for row in taken
        )
        raise Conflict(f"{clashes}. Update that customer, or remove the identity from it first.")


def _requested_identities(customer_in: CustomerCreate, region: str) -> list[NormalizedIdentity]:
    found: list[NormalizedIdentity] = []
    if customer_in.email is not None:
        found.append(normalize_identity(IdentityKind.EMAIL, customer_in.email, field="email"))
    if customer_in.phone is not None:
        found.append(
            normalize_identity(IdentityKind.PHONE, customer_in.phone, region=region, field="phone")
        )
    if customer_in.external_id is not None:
        found.append(
            normalize_identity(
                IdentityKind.EXTERNAL_ID,
                customer_in.external_id,
                source=customer_in.external_id_source,
                field="external_id",
                source_field="external_id_source",
            )
        )
    elif customer_in.external_id_source:
        raise InvalidInput("external_id_source", "send external_id together with its source")
    for index, identity_in in enumerate(customer_in.identities):
        found.append(_normalize_identity_in(identity_in, region, field=f"identities.{index}"))
    return list(dict.fromkeys(found))


def _normalize_identity_in(
    identity_in: IdentityCreate, region: str, *, field: str = ""
) -> NormalizedIdentity:
    prefix = f"{field}." if field else ""
    return normalize_identity(
        identity_in.kind,
        identity_in.value,
        source=identity_in.source,
        region=region,
        field=f"{prefix}value",
        source_field=f"{prefix}source",
    )


def _org_unit_path(db_session: Session, workspace_id: str, org_unit_id: str | None) -> str | None:
    if org_unit_id is None:
        return None
    unit = db_session.get(OrgUnit, org_unit_id)
    if unit is None or unit.workspace_id != workspace_id:
        raise InvalidInput("org_unit_id", f"no org unit {org_unit_id} in this workspace")
    return unit.path


def _ensure_placement(actor: Principal, org_unit_path: str | None) -> None:
    """Keep a scoped writer's customers inside their org-unit subtree."""
    if actor.is_scoped and org_unit_path is None:
        raise InvalidInput(
            "org_unit_id", "you are limited to an org unit; place the customer in it or below it"
        )
    ensure_org_unit_in_scope(actor, org_unit_path)


def build_customer(
    *, db_session: Session, workspace_id: str, customer_in: CustomerCreate
) -> Customer:
    """Insert a customer with normalized identities, refusing identities already taken."""
    _org_unit_path(db_session, workspace_id, customer_in.org_unit_id)
    region = phone_region(db_session=db_session, workspace_id=workspace_id)
    identities = _requested_identities(customer_in, region)
    _ensure_unclaimed(db_session, workspace_id, identities)
    customer = Customer(
        workspace_id=workspace_id,
        display_name=customer_in.display_name,
        org_unit_id=customer_in.org_unit_id,
        attributes=customer_in.attributes,
        consent_email=customer_in.consent_email,
        consent_sms=customer_in.consent_sms,
        consent_research=customer_in.consent_research,
        first_seen_at=customer_in.first_seen_at or utcnow(),
        identities=[
            CustomerIdentity(
                workspace_id=workspace_id, kind=i.kind.value, source=i.source, value=i.value
            )
            for i in identities
        ],
    )
    db_session.add(customer)
    db_session.flush()
    return customer


def create_customer(
    *, db_session: Session, actor: Principal, customer_in: CustomerCreate
) -> Customer:
    """Add a customer to the caller's workspace, inside the caller's org-unit scope."""
    require(actor, Permission.CUSTOMERS_WRITE)
    path = _org_unit_path(db_session, actor.workspace_id, customer_in.org_unit_id)
    _ensure_placement(actor, path)
    return build_customer(
        db_session=db_session, workspace_id=actor.workspace_id, customer_in=customer_in
    )


def update_customer(
    *, db_session: Session, actor: Principal, customer_id: str, customer_in: CustomerUpdate
) -> Customer:
    """Change the fields sent; attributes are replaced as a whole."""
    require(actor, Permission.CUSTOMERS_WRITE)
    customer = get_customer(db_session=db_session, actor=actor, customer_id=customer_id)
    changes = customer_in.model_dump(exclude_unset=True)
    if "org_unit_id" in changes:
        _ensure_placement(
            actor, _org_unit_path(db_session, actor.workspace_id, changes["org_unit_id"])
        )
    if "attributes" in changes and changes["attributes"] is None:
        changes["attributes"] = {}
    for name, value in changes.items():
        setattr(customer, name, value)
    db_session.flush()
    return customer


def delete_customer(*, db_session: Session, actor: Principal, customer_id: str) -> None:
    """Delete a customer with their identities and segment memberships."""
    require(actor, Permission.CUSTOMERS_WRITE)
    customer = get_customer(db_session=db_session, actor=actor, customer_id=customer_id)
    db_session.delete(customer)
    db_session.flush()


def add_identity(
    *, db_session: Session, actor: Principal, customer_id: str, identity_in: IdentityCreate
) -> CustomerIdentity:
    """Give a customer one more identity; one they already have is returned as is."""
    require(actor, Permission.CUSTOMERS_WRITE)
    customer = get_customer(db_session=db_session, actor=actor, customer_id=customer_id)
    region = phone_region(db_session=db_session, workspace_id=actor.workspace_id)
    identity = _normalize_identity_in(identity_in, region)
    _ensure_unclaimed(db_session, actor.workspace_id, [identity], customer_id=customer.id)
    wanted = (identity.kind.value, identity.source, identity.value)
    for existing in customer.identities:
        if (existing.kind, existing.source, existing.value) == wanted:
            return existing
    row = CustomerIdentity(
        workspace_id=actor.workspace_id,
        kind=identity.kind.value,
        source=identity.source,
        value=identity.value,
    )
    customer.identities.append(row)
    db_session.flush()
    return row


def remove_identity(
    *, db_session: Session, actor: Principal, customer_id: str, identity_id: str
) -> None:
    """Remove one identity from a customer."""
    require(actor, Permission.CUSTOMERS_WRITE)
    customer = get_customer(db_session=db_session, actor=actor, customer_id=customer_id)
    row = next((i for i in customer.identities if i.id == identity_id), None)
    if row is None:
        raise NotFound(f"identity {identity_id} not found on customer {customer_id}")
    customer.identities.remove(row)
    db_session.flush()
