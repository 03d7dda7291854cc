"""Writes with an optional Idempotency-Key: the same retried request never writes twice."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from touchpoints.auth.permissions import Principal
from touchpoints.idempotency.service import request_fingerprint, run_once


@dataclass(frozen=True)
class WriteRequest:
    """What identifies a write for idempotency: its key and a fingerprint of the request."""

    key: str | None
    method: str
    path: str
    fingerprint: str  # empty without a key
    ttl: timedelta


async def write_request(
    request: Request,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description=(
                "Any unique string (a UUID, say). Retrying the same request with the same key "
                "returns the first answer instead of writing again."
            ),
        ),
    ] = None,
) -> WriteRequest:
    """Capture the Idempotency-Key header and a fingerprint of the request."""
    return write_request_of(request, await request.body(), idempotency_key)


def write_request_of(request: Request, body: bytes, idempotency_key: str | None) -> WriteRequest:
    """Return the identity of a write from its request, its body and its Idempotency-Key."""
    query = request.scope.get("query_string", b"").decode("latin-1")
    path = request.scope["path"] + (f"?{query}" if query else "")
    hours = request.app.state.settings.idempotency_ttl_hours
    # Only a keyed write is ever compared with another: hash the body for those alone.
    fingerprint = "" if idempotency_key is None else request_fingerprint(request.method, path, body)
    return WriteRequest(
        key=idempotency_key,
        method=request.method,
        path=path,
        fingerprint=fingerprint,
        ttl=timedelta(hours=hours),
    )


WriteRequestDep = Annotated[WriteRequest, Depends(write_request)]


def respond(
    write_request: WriteRequest,
    *,
    db_session: Session,
    actor: Principal,
    status_code: int,
    write: Callable[[], BaseModel],
) -> JSONResponse:
    """Run the write (once per Idempotency-Key) and answer with its result."""
    status, body, replayed = perform(
        write_request, db_session=db_session, actor=actor, status_code=status_code, write=write
    )
    headers = {"Idempotent-Replayed": "true"} if replayed else None
    return JSONResponse(body, status_code=status, headers=headers)


def perform(
    write_request: WriteRequest,
    *,
    db_session: Session,
    actor: Principal,
    status_code: int,
    write: Callable[[], BaseModel],
) -> tuple[int, dict[str, Any], bool]:
    """Run the write once per Idempotency-Key; return (status, body, replayed)."""
    if write_request.key is None:
        return status_code, write().model_dump(mode="json"), False
    return run_once(
        db_session=db_session,
        workspace_id=actor.workspace_id,
        key=write_request.key,
        method=write_request.method,
        path=write_request.path,
        fingerprint=write_request.fingerprint,
        status_code=status_code,
        ttl=write_request.ttl,
        write=write,
    )
