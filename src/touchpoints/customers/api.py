"""Routes for customers, their identities and segments."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import JSONResponse

from touchpoints.api.deps import ActorDep, ListParamsDep, SessionDep
from touchpoints.api.listing import Page
from touchpoints.api.writes import WriteRequestDep, respond
from touchpoints.customers import segments, service
from touchpoints.customers.schemas import (
    CustomerCreate,
    CustomerRead,
    CustomerUpdate,
    IdentityCreate,
    IdentityRead,
    SegmentCreate,
    SegmentRead,
    SegmentUpdate,
)
from touchpoints.customers.service import CustomerLookup

router = APIRouter(tags=["customers"])


def customer_lookup(
    email: Annotated[
        str | None, Query(description="Only the customer with this email (any case).")
    ] = None,
    phone: Annotated[
        str | None,
        Query(description="Only the customer with this phone, in any common format."),
    ] = None,
    external_id: Annotated[
        str | None, Query(description="Only the customer with this external id.")
    ] = None,
    external_id_source: Annotated[
        str, Query(description="Namespace of `external_id` (`crm`, `shop`).")
    ] = "",
    segment_id: Annotated[str | None, Query(description="Only customers in this segment.")] = None,
) -> CustomerLookup:
    """Read the identity and segment criteria of a customer list."""
    return CustomerLookup(
        email=email,
        phone=phone,
        external_id=external_id,
        external_id_source=external_id_source,
        segment_id=segment_id,
    )


CustomerLookupDep = Annotated[CustomerLookup, Depends(customer_lookup)]


@router.get("/customers", response_model=Page[CustomerRead], summary="List customers")
def list_customers(
    session: SessionDep, actor: ActorDep, params: ListParamsDep, lookup: CustomerLookupDep
) -> Page[CustomerRead]:
    """List customers you can see; look one up by email, phone or external id.

    Filterable and sortable by display_name, org_unit_id, created_at, updated_at,
    first_seen_at and consent_email/consent_sms/consent_research.
    """
    items, total = service.list_customers(
        db_session=session, actor=actor, params=params, lookup=lookup
    )
    return Page(
        items=[CustomerRead.model_validate(c) for c in items],
        total=total,
        limit=params.limit,
        offset=params.offset,
    )


@router.post(
    "/customers", response_model=CustomerRead, status_code=201, summary="Create a customer"
)
def create_customer(
    body: CustomerCreate, session: SessionDep, actor: ActorDep, write: WriteRequestDep
) -> JSONResponse:
    """Add a customer; identities are normalized and must not belong to another customer."""
    return respond(
        write,
        db_session=session,
        actor=actor,
        status_code=201,
        write=lambda: CustomerRead.model_validate(
            service.create_customer(db_session=session, actor=actor, customer_in=body)
        ),
    )


@router.get("/customers/{customer_id}", response_model=CustomerRead, summary="Read a customer")
def read_customer(customer_id: str, session: SessionDep, actor: ActorDep) -> CustomerRead:
    """Return one customer with identities and segments."""
    customer = service.get_customer(db_session=session, actor=actor, customer_id=customer_id)
    return CustomerRead.model_validate(customer)


@router.patch("/customers/{customer_id}", response_model=CustomerRead, summary="Update a customer")
def update_customer(
    customer_id: str, body: CustomerUpdate, session: SessionDep, actor: ActorDep
) -> CustomerRead:
    """Change the fields sent (name, org unit, attributes, consent); others stay."""
    customer = service.update_customer(
        db_session=session, actor=actor, customer_id=customer_id, customer_in=body
    )
    return CustomerRead.model_validate(customer)


@router.delete("/customers/{customer_id}", status_code=204, summary="Delete a customer")
def delete_customer(customer_id: str, session: SessionDep, actor: ActorDep) -> Response:
    """Delete a customer with their identities and segment memberships."""
    service.delete_customer(db_session=session, actor=actor, customer_id=customer_id)
    return Response(status_code=204)


@router.post(
    "/customers/{customer_id}/identities",
    response_model=IdentityRead,
    status_code=201,
    summary="Add an identity to a customer",
)
def add_identity(
    customer_id: str,
    body: IdentityCreate,
    session: SessionDep,
    actor: ActorDep,
    write: WriteRequestDep,
) -> JSONResponse:
    """Give a customer one more email, phone or external id (normalized before storing)."""
    return respond(
        write,
        db_session=session,
        actor=actor,
        status_code=201,
        write=lambda: IdentityRead.model_validate(
            service.add_identity(
                db_session=session, actor=actor, customer_id=customer_id, identity_in=body
            )
        ),
    )


@router.delete(
    "/customers/{customer_id}/identities/{identity_id}",
    status_code=204,
    summary="Remove an identity from a customer",
)
def remove_identity(
    customer_id: str, identity_id: str, session: SessionDep, actor: ActorDep
) -> Response:
    """Remove one identity; the customer stays."""
    service.remove_identity(
        db_session=session, actor=actor, customer_id=customer_id, identity_id=identity_id
    )
    return Response(status_code=204)


@router.get("/segments", response_model=Page[SegmentRead], summary="List segments")
def list_segments(session: SessionDep, actor: ActorDep, params: ListParamsDep) -> Page[SegmentRead]:
    """List segments; filterable and sortable by name, created_at, updated_at."""
    items, total = segments.list_segments(db_session=session, actor=actor, params=params)
    return Page(
        items=[SegmentRead.model_validate(s) for s in items],
        total=total,
        limit=params.limit,
        offset=params.offset,
    )


@router.post("/segments", response_model=SegmentRead, status_code=201, summary="Create a segment")
def create_segment(
    body: SegmentCreate, session: SessionDep, actor: ActorDep, write: WriteRequestDep
) -> JSONResponse:
    """Add a named group of customers; names are unique in the workspace."""
    return respond(
        write,
        db_session=session,
        actor=actor,
        status_code=201,
        write=lambda: SegmentRead.model_validate(
            segments.create_segment(db_session=session, actor=actor, segment_in=body)
        ),
    )


@router.get("/segments/{segment_id}", response_model=SegmentRead, summary="Read a segment")
def read_segment(segment_id: str, session: SessionDep, actor: ActorDep) -> SegmentRead:
    """Return one segment; list its customers with `GET /customers?segment_id=...`."""
    segment = segments.get_segment(db_session=session, actor=actor, segment_id=segment_id)
    return SegmentRead.model_validate(segment)


@router.patch("/segments/{segment_id}", response_model=SegmentRead, summary="Update a segment")
def update_segment(
    segment_id: str, body: SegmentUpdate, session: SessionDep, actor: ActorDep
) -> SegmentRead:
    """Rename a segment or change its description."""
    segment = segments.update_segment(
        db_session=session, actor=actor, segment_id=segment_id, segment_in=body
    )
    return SegmentRead.model_validate(segment)


@router.delete("/segments/{segment_id}", status_code=204, summary="Delete a segment")
def delete_segment(segment_id: str, session: SessionDep, actor: ActorDep) -> Response:
    """Delete a segment; its customers stay."""
    segments.delete_segment(db_session=session, actor=actor, segment_id=segment_id)
    return Response(status_code=204)


@router.put(
    "/segments/{segment_id}/customers/{customer_id}",
    response_model=CustomerRead,
    summary="Add a customer to a segment",
)
def add_to_segment(
    segment_id: str, customer_id: str, session: SessionDep, actor: ActorDep
) -> CustomerRead:
    """Put a customer in a segment; repeating it changes nothing."""
    customer = segments.add_to_segment(
        db_session=session, actor=actor, segment_id=segment_id, customer_id=customer_id
    )
    return CustomerRead.model_validate(customer)


@router.delete(
    "/segments/{segment_id}/customers/{customer_id}",
    status_code=204,
    summary="Remove a customer from a segment",
)
def remove_from_segment(
    segment_id: str, customer_id: str, session: SessionDep, actor: ActorDep
) -> Response:
    """Take a customer out of a segment; one not in it is left as is."""
    segments.remove_from_segment(
        db_session=session, actor=actor, segment_id=segment_id, customer_id=customer_id
    )
    return Response(status_code=204)
