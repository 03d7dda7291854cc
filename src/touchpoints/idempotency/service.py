"""Replay the first answer of a write retried with the same Idempotency-Key."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection
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
    check_key(key)
    stored = _find(db_session, workspace_id, key)
    if stored is not None and stored.expires_at > utcnow():
        return replay(stored, fingerprint)
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
        return replay(stored, fingerprint)
    body = write().model_dump(mode="json")
    record.status_code = status_code
    record.response_body = body
    return status_code, body, False


def stored_answers(
    *, db_session: Session, workspace_id: str, keys: Collection[str]
) -> dict[str, IdempotencyRecord]:
    """Return the live (unexpired) stored answers of these keys, by key, in one query."""
    if not keys:
        return {}
    records = db_session.scalars(
        select(IdempotencyRecord).where(
            IdempotencyRecord.workspace_id == workspace_id,
            IdempotencyRecord.key.in_(sorted(keys)),
        )
    )
    now = utcnow()
    return {record.key: record for record in records if record.expires_at > now}


def store_answer(
    *,
    db_session: Session,
    workspace_id: str,
    key: str,
    method: str,
    path: str,
    fingerprint: str,
    status_code: int,
    body: dict[str, Any],
    ttl: timedelta,
) -> None:
    """Keep the answer of a write done under a new key (in the write's transaction)."""
    check_key(key)
    db_session.add(
        IdempotencyRecord(
            workspace_id=workspace_id,
            key=key,
            method=method.upper(),
            path=path,
            request_hash=fingerprint,
            status_code=status_code,
            response_body=body,
            expires_at=utcnow() + ttl,
        )
    )


def check_key(key: str) -> None:
    """Refuse an empty or overlong Idempotency-Key."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidInput("Idempotency-Key", f"must be 1 to {MAX_KEY_LENGTH} characters")


def _find(db_session: Session, workspace_id: str, key: str) -> IdempotencyRecord | None:
    return db_session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.workspace_id == workspace_id,
            IdempotencyRecord.key == key,
        )
    )


def replay(stored: IdempotencyRecord, fingerprint: str) -> tuple[int, dict[str, Any], bool]:
    """Return the first answer of a retried request; refuse another request under the key."""
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
