"""Replay the first answer of a write retried with the same Idempotency-Key."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from touchpoints.db.base import utcnow
from touchpoints.errors import Conflict, InvalidInput
from touchpoints.idempotency.models import IdempotencyRecord

IN_PROGRESS = 0
MAX_KEY_LENGTH = 200


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    """Hash what makes two requests the same request."""
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def run_once(
    *,
    db_session: Session,
    workspace_id: str,
    key: str,
    method: str,
    path: str,
    fingerprint: str,
    status_code: int,
    ttl: timedelta,
    write: Callable[[], BaseModel],
) -> tuple[int, dict[str, Any], bool]:
    """Run `write` once per key; return (status, body, replayed).

    The key is claimed before the write, in the same transaction, so a concurrent retry
    waits on the unique index and then replays instead of writing a second time.
    """
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidInput("Idempotency-Key", f"must be 1 to {MAX_KEY_LENGTH} characters")
    stored = _find(db_session, workspace_id, key)
    if stored is not None and stored.expires_at > utcnow():
        return _replay(stored, fingerprint)
    if stored is not None:
        db_session.delete(stored)
        db_session.flush()
    record = IdempotencyRecord(
        workspace_id=workspace_id,
        key=key,
        method=method.upper(),
        path=path,
        request_hash=fingerprint,
        status_code=IN_PROGRESS,
        response_body={},
        expires_at=utcnow() + ttl,
    )
    try:
        with db_session.begin_nested():
            db_session.add(record)
    except IntegrityError:
        stored = _find(db_session, workspace_id, key)
        if stored is None:
            raise
        return _replay(stored, fingerprint)
    body = write().model_dump(mode="json")
    record.status_code = status_code
    record.response_body = body
    return status_code, body, False


def _find(db_session: Session, workspace_id: str, key: str) -> IdempotencyRecord | None:
    return db_session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.workspace_id == workspace_id,
            IdempotencyRecord.key == key,
        )
    )


def _replay(stored: IdempotencyRecord, fingerprint: str) -> tuple[int, dict[str, Any], bool]:
    if stored.request_hash != fingerprint:
        raise InvalidInput(
            "Idempotency-Key", "this key was already used for a different request body or path"
        )
    if stored.status_code == IN_PROGRESS:
        raise Conflict("a request with this Idempotency-Key is still being processed; retry later")
    return stored.status_code, stored.response_body, True


def prune_expired(*, db_session: Session) -> int:
    """Delete stored answers whose time to live has passed; return how many."""
    result = db_session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.expires_at <= utcnow())
    )
    return int(getattr(result, "rowcount", 0) or 0)
