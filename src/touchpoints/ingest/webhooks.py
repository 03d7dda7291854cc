"""Webhook sources and their HMAC-signed deliveries of feedback or operational events."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from touchpoints.api.listing import ListParams, paginate
from touchpoints.auth.permissions import Permission, Principal, Role, require
from touchpoints.errors import Conflict, InvalidInput, NotFound, Unauthenticated
from touchpoints.idempotency.service import request_fingerprint, run_once
from touchpoints.ingest.models import WebhookKind, WebhookSource
from touchpoints.ingest.schemas import BatchIn, BatchResult, WebhookSourceCreate
from touchpoints.ingest.service import ingest_events, ingest_feedback

SIGNATURE_PREFIX = "sha256="
MAX_CLOCK_SKEW_SECONDS = 300
MAX_DELIVERY_ID_LENGTH = 150


class SignatureRejected(Unauthenticated):
    """A delivery's signature or timestamp does not prove it came from the source."""


@dataclass(frozen=True)
class Delivery:
    """One inbound webhook request as received."""

    source_id: str
    path: str
    body: bytes
    signature: str | None
    timestamp: str | None
    delivery_id: str | None


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Return the signature header value for a body sent at `timestamp` (Unix seconds)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return SIGNATURE_PREFIX + digest.hexdigest()


def source_fields() -> dict[str, Any]:
    """Return the filterable and sortable webhook-source columns."""
    return {
        "id": WebhookSource.id,
        "name": WebhookSource.name,
        "kind": WebhookSource.kind,
        "created_at": WebhookSource.created_at,
    }


def list_sources(
    *, db_session: Session, actor: Principal, params: ListParams
) -> tuple[list[WebhookSource], int]:
    """List the workspace's webhook sources (admins)."""
    require(actor, Permission.TOKENS_MANAGE)
    statement = select(WebhookSource).where(WebhookSource.workspace_id == actor.workspace_id)
    return paginate(
        db_session, statement, params=params, fields=source_fields(), default_sort="name"
    )


def create_source(
    *, db_session: Session, actor: Principal, source_in: WebhookSourceCreate
) -> WebhookSource:
    """Add a webhook source with a new random secret (admins)."""
    require(actor, Permission.TOKENS_MANAGE)
    taken = db_session.scalar(
        select(WebhookSource.id).where(
            WebhookSource.workspace_id == actor.workspace_id,
            WebhookSource.name == source_in.name,
        )
    )
    if taken is not None:
        raise Conflict(f"a webhook source named {source_in.name!r} exists; pick another name")
    source = WebhookSource(
        workspace_id=actor.workspace_id,
        name=source_in.name,
        kind=source_in.kind.value,
        secret=secrets.token_urlsafe(32),
        created_by_user_id=actor.user_id,
    )
    db_session.add(source)
    db_session.flush()
    return source


def delete_source(*, db_session: Session, actor: Principal, source_id: str) -> WebhookSource:
    """Delete a webhook source; its later deliveries are refused (admins)."""
    require(actor, Permission.TOKENS_MANAGE)
    source = db_session.get(WebhookSource, source_id)
    if source is None or source.workspace_id != actor.workspace_id:
        raise NotFound(f"webhook source {source_id} not found")
    db_session.delete(source)
    db_session.flush()
    return source


def verify(source: WebhookSource, delivery: Delivery, *, now: float | None = None) -> None:
    """Refuse a delivery unless it is signed with the source's secret within five minutes."""
    if not delivery.signature or not delivery.timestamp:
        raise SignatureRejected(
            "send X-Touchpoints-Signature and X-Touchpoints-Timestamp with every delivery"
        )
    if not delivery.timestamp.isdigit():
        raise SignatureRejected("X-Touchpoints-Timestamp must be Unix time in whole seconds")
    age = (time.time() if now is None else now) - int(delivery.timestamp)
    if abs(age) > MAX_CLOCK_SKEW_SECONDS:
        raise SignatureRejected(
            "X-Touchpoints-Timestamp is more than 5 minutes away from our clock; sign each "
            "delivery when sending it and keep the sender's clock in sync"
        )
    expected = sign(source.secret, delivery.timestamp, delivery.body)
    if not hmac.compare_digest(expected.encode(), delivery.signature.strip().encode()):
        raise SignatureRejected(
            "the signature does not match: sign f'{timestamp}.{raw body}' with HMAC-SHA256 and "
            "the source's secret, and send it as sha256=<hex>"
        )


def receive(
    *, db_session: Session, delivery: Delivery, ttl: timedelta
) -> tuple[dict[str, Any], bool]:
    """Verify and store a delivery once; return its answer and whether it was a replay."""
    source = db_session.get(WebhookSource, delivery.source_id)
    if source is None:
        raise NotFound(f"webhook source {delivery.source_id} not found")
    verify(source, delivery)
    delivery_id = (delivery.delivery_id or "").strip()
    if not 1 <= len(delivery_id) <= MAX_DELIVERY_ID_LENGTH:
        raise InvalidInput(
            "X-Touchpoints-Delivery",
            f"required: an id of 1 to {MAX_DELIVERY_ID_LENGTH} characters, unique per delivery "
            "and the same on retries",
        )
    actor = source_principal(source)
    _status, body, replayed = run_once(
        db_session=db_session,
        workspace_id=source.workspace_id,
        key=f"webhook:{source.id}:{delivery_id}",
        method="POST",
        path=delivery.path,
        fingerprint=request_fingerprint("POST", delivery.path, delivery.body),
        status_code=200,
        ttl=ttl,
        write=lambda: _store(db_session, actor, source, delivery.body),
    )
    return body, replayed


def source_principal(source: WebhookSource) -> Principal:
    """Return the caller a source's deliveries write as: an analyst of the whole workspace."""
    return Principal(
        workspace_id=source.workspace_id,
        user_id=source.created_by_user_id or "",
        role=Role.ANALYST,
    )


def _store(
    db_session: Session, actor: Principal, source: WebhookSource, body: bytes
) -> BatchResult:
    batch_in = _batch(body)
    ingest = ingest_feedback if source.kind == WebhookKind.FEEDBACK else ingest_events
    return ingest(db_session=db_session, actor=actor, batch_in=batch_in, default_source=source.name)


def _batch(body: bytes) -> BatchIn:
    """Read a delivery: one item, or `{"items": [...]}` like the batch endpoints."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput("body", f"not valid JSON: {exc}") from exc
    if isinstance(document, dict) and isinstance(document.get("items"), list):
        values = document
    else:
        values = {"items": [document]}
    try:
        return BatchIn.model_validate(values)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        field = ".".join(str(part) for part in error.get("loc", ())) or "body"
        raise InvalidInput(field, str(error.get("msg", "invalid"))) from exc
