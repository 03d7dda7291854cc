"""Routes for batch ingestion, signed webhooks, webhook sources and customer merges."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.responses import JSONResponse

from touchpoints.api.deps import ActorDep, ListParamsDep, SessionDep, client_address
from touchpoints.api.listing import Page
from touchpoints.api.problems import problem_response
from touchpoints.api.writes import WriteRequestDep, respond
from touchpoints.audit.actions import AuditAction
from touchpoints.audit.service import record_change
from touchpoints.customers.merge import merge_customers
from touchpoints.customers.schemas import CustomerRead
from touchpoints.ingest import service, webhooks
from touchpoints.ingest.schemas import (
    BatchIn,
    BatchResult,
    MergeIn,
    WebhookSourceCreate,
    WebhookSourceCreated,
    WebhookSourceRead,
)

router = APIRouter(tags=["ingestion"])


@router.post(
    "/ingest/feedback",
    response_model=BatchResult,
    summary="Ingest a batch of feedback items",
)
def ingest_feedback(
    body: BatchIn, session: SessionDep, actor: ActorDep, write: WriteRequestDep
) -> JSONResponse:
    """Store reviews, posts, emails, chat and call transcripts (`turns`), up to 1,000 at once.

    Each item is stored or rejected on its own: the answer lists every item by `index` with
    its status (created, duplicate, rejected), id and errors. An item whose (source,
    source_ref) is already stored comes back as duplicate with the stored id. An item may name
    its customer by `customer: {email, phone, external_id, source}` instead of `customer_id`.
    """
    return respond(
        write,
        db_session=session,
        actor=actor,
        status_code=200,
        write=lambda: service.ingest_feedback(db_session=session, actor=actor, batch_in=body),
    )


@router.post(
    "/ingest/events",
    response_model=BatchResult,
    summary="Ingest a batch of operational events",
)
def ingest_events(
    body: BatchIn, session: SessionDep, actor: ActorDep, write: WriteRequestDep
) -> JSONResponse:
    """Store orders, renewals, support contacts, digital and external events, up to 1,000.

    Each item is stored or rejected on its own: the answer lists every item by `index` with
    its status (created, duplicate, rejected), id and errors. An item whose (source,
    source_ref) is already stored comes back as duplicate with the stored id. An item may name
    its customer by `customer: {email, phone, external_id, source}` instead of `customer_id`.
    """
    return respond(
        write,
        db_session=session,
        actor=actor,
        status_code=200,
        write=lambda: service.ingest_events(db_session=session, actor=actor, batch_in=body),
    )


@router.post(
    "/ingest/customers",
    response_model=BatchResult,
    summary="Upsert a batch of customers by identity",
)
def ingest_customers(
    body: BatchIn, session: SessionDep, actor: ActorDep, write: WriteRequestDep
) -> JSONResponse:
    """Update the customer any identity matches (adding new identities), or create one.

    Attributes sent are merged into the stored ones; identities matching two different
    customers reject the item. Up to 1,000 customers at once.
    """
    return respond(
        write,
        db_session=session,
        actor=actor,
        status_code=200,
        write=lambda: service.ingest_customers(db_session=session, actor=actor, batch_in=body),
    )


async def raw_body(request: Request) -> bytes:
    """Return the request body exactly as received (signatures cover these bytes)."""
    return await request.body()


@router.post(
    "/ingest/webhooks/{source_id}",
    response_model=BatchResult,
    summary="Receive a signed webhook delivery",
    openapi_extra={
        "security": [],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "description": (
                            "One feedback item or event (by the source's kind), or "
                            '`{"items": [...]}` with up to 1,000 of them.'
                        ),
                    }
                }
            },
        },
    },
)
def receive_webhook(
    source_id: str,
    request: Request,
    session: SessionDep,
    body: Annotated[bytes, Depends(raw_body)],
    signature: Annotated[
        str | None,
        Header(alias="X-Touchpoints-Signature", description="sha256=<hex HMAC>"),
    ] = None,
    timestamp: Annotated[
        str | None,
        Header(alias="X-Touchpoints-Timestamp", description="Unix seconds; signed with the body."),
    ] = None,
    delivery_id: Annotated[
        str | None,
        Header(alias="X-Touchpoints-Delivery", description="Unique per delivery, same on retry."),
    ] = None,
) -> Response:
    """Store one item, or `{"items": [...]}`, from a webhook source; no API token needed.

    Sign `f"{timestamp}.{body}"` with HMAC-SHA256 and the source's secret. A delivery id seen
    before answers with the first answer and stores nothing again.
    """
    delivery = webhooks.Delivery(
        source_id=source_id,
        path=request.url.path,
        body=body,
        signature=signature,
        timestamp=timestamp,
        delivery_id=delivery_id,
    )
    hours = request.app.state.settings.idempotency_ttl_hours
    try:
        answer, replayed = webhooks.receive(
            db_session=session, delivery=delivery, ttl=timedelta(hours=hours)
        )
    except webhooks.SignatureRejected as exc:
        return problem_response(401, "Unauthorized", exc.detail)
    headers = {"Idempotent-Replayed": "true"} if replayed else None
    return JSONResponse(answer, headers=headers)


@router.get(
    "/ingest/sources", response_model=Page[WebhookSourceRead], summary="List webhook sources"
)
def list_sources(
    session: SessionDep, actor: ActorDep, params: ListParamsDep
) -> Page[WebhookSourceRead]:
    """List webhook sources without their secrets (admins); sortable by name, kind, created_at."""
    items, total = webhooks.list_sources(db_session=session, actor=actor, params=params)
    return Page(
        items=[WebhookSourceRead.model_validate(s) for s in items],
        total=total,
        limit=params.limit,
        offset=params.offset,
    )


@router.post(
    "/ingest/sources",
    response_model=WebhookSourceCreated,
    status_code=201,
    summary="Create a webhook source",
)
def create_source(
    body: WebhookSourceCreate,
    session: SessionDep,
    actor: ActorDep,
    write: WriteRequestDep,
    request: Request,
) -> JSONResponse:
    """Add a webhook source (admins); the answer shows its signing secret, this once only."""

    def create() -> WebhookSourceCreated:
        source = webhooks.create_source(db_session=session, actor=actor, source_in=body)
        record_change(
            db_session=session,
            actor=actor,
            action=AuditAction.WEBHOOK_SOURCE_CREATED,
            object_type="webhook_source",
            object_id=source.id,
            details={"name": source.name, "kind": source.kind},
            ip_address=client_address(request),
        )
        return WebhookSourceCreated.model_validate(source)

    return respond(write, db_session=session, actor=actor, status_code=201, write=create)


@router.delete("/ingest/sources/{source_id}", status_code=204, summary="Delete a webhook source")
def delete_source(
    source_id: str, session: SessionDep, actor: ActorDep, request: Request
) -> Response:
    """Delete a webhook source (admins); its deliveries are refused from now on."""
    source = webhooks.delete_source(db_session=session, actor=actor, source_id=source_id)
    record_change(
        db_session=session,
        actor=actor,
        action=AuditAction.WEBHOOK_SOURCE_DELETED,
        object_type="webhook_source",
        object_id=source_id,
        details={"name": source.name},
        ip_address=client_address(request),
    )
    return Response(status_code=204)


@router.post(
    "/customers/{survivor_id}/merge",
    response_model=CustomerRead,
    tags=["customers"],
    summary="Merge a duplicate customer into this one",
)
def merge_customer(
    survivor_id: str,
    body: MergeIn,
    session: SessionDep,
    actor: ActorDep,
    write: WriteRequestDep,
    request: Request,
) -> JSONResponse:
    """Move the duplicate's identities, segments, feedback and events here; delete it.

    Attributes are combined (this customer's values win), a consent refusal on either is
    kept, and the earliest first-seen time stays.
    """

    def merge() -> CustomerRead:
        merged = merge_customers(
            db_session=session, actor=actor, survivor_id=survivor_id, duplicate_id=body.duplicate_id
        )
        record_change(
            db_session=session,
            actor=actor,
            action=AuditAction.CUSTOMER_MERGED,
            object_type="customer",
            object_id=survivor_id,
            details={"duplicate_id": body.duplicate_id, "moved": merged.moved},
            ip_address=client_address(request),
        )
        return CustomerRead.model_validate(merged.survivor)

    return respond(write, db_session=session, actor=actor, status_code=200, write=merge)
