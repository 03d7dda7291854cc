"""Delivery reports from the SMS provider: verify the signature, then mark the invitation."""

from __future__ import annotations

import hmac
import json
import time
from dataclasses import dataclass
from datetime import timedelta

from pydantic import ValidationError
from sqlalchemy.orm import Session

from touchpoints.config import Settings
from touchpoints.db.base import utcnow
from touchpoints.distribution.models import Invitation, InvitationChannel, InvitationStatus
from touchpoints.distribution.schemas import DeliveryStatusIn, DeliveryStatusRead
from touchpoints.distribution.sms import invitation_id_of
from touchpoints.distribution.sms_webhook import sign
from touchpoints.errors import Conflict, InvalidInput, NotFound, Unauthenticated
from touchpoints.idempotency.service import request_fingerprint, run_once

MAX_CLOCK_SKEW_SECONDS = 300
# Replays inside the clock window are answered from the record, never applied twice.
REPLAY_MEMORY = timedelta(seconds=2 * MAX_CLOCK_SKEW_SECONDS)
# A report may only move an invitation forward from these statuses.
DELIVERABLE = (InvitationStatus.QUEUED.value, InvitationStatus.SENT.value)
BOUNCEABLE = (*DELIVERABLE, InvitationStatus.DELIVERED.value)


class SignatureRejected(Unauthenticated):
    """A delivery report's signature or timestamp does not prove it came from the provider."""


@dataclass(frozen=True)
class DeliveryReport:
    """One delivery-status request as received."""

    path: str
    body: bytes
    signature: str | None
    timestamp: str | None


def verify(settings: Settings, report: DeliveryReport, *, now: float | None = None) -> None:
    """Refuse a report unless it is signed with the SMS secret within five minutes."""
    if settings.sms_webhook_secret is None:
        raise Conflict("SMS is not configured: set TOUCHPOINTS_SMS_WEBHOOK_SECRET")
    if not report.signature or not report.timestamp:
        raise SignatureRejected("send X-Touchpoints-Signature and X-Touchpoints-Timestamp")
    if not report.timestamp.isdigit():
        raise SignatureRejected("X-Touchpoints-Timestamp must be Unix time in whole seconds")
    if abs((time.time() if now is None else now) - int(report.timestamp)) > MAX_CLOCK_SKEW_SECONDS:
        raise SignatureRejected(
            "X-Touchpoints-Timestamp is more than 5 minutes away from our clock; sign each "
            "report when sending it"
        )
    secret = settings.sms_webhook_secret.get_secret_value()
    expected = sign(secret, report.timestamp, report.body)
    if not hmac.compare_digest(expected.encode(), report.signature.strip().encode()):
        raise SignatureRejected(
            "the signature does not match: sign f'{timestamp}.{raw body}' with HMAC-SHA256 and "
            "the SMS webhook secret, and send it as sha256=<hex>"
        )


def receive_report(
    *, db_session: Session, settings: Settings, report: DeliveryReport
) -> tuple[DeliveryStatusRead, bool]:
    """Verify a delivery report and apply it once; return the outcome and whether it replayed."""
    verify(settings, report)
    status_in = _parse(report.body)
    invitation = db_session.get(Invitation, invitation_id_of(status_in.reference))
    if invitation is None or invitation.channel != InvitationChannel.SMS:
        raise NotFound(f"no SMS invitation has the reference {status_in.reference!r}")
    assert report.signature is not None
    _status, body, replayed = run_once(
        db_session=db_session,
        workspace_id=invitation.workspace_id,
        key=f"sms-status:{report.signature.strip()}",
        method="POST",
        path=report.path,
        fingerprint=request_fingerprint("POST", report.path, report.body),
        status_code=200,
        ttl=REPLAY_MEMORY,
        write=lambda: apply_report(db_session, invitation, status_in),
    )
    return DeliveryStatusRead.model_validate(body), replayed


def apply_report(
    db_session: Session, invitation: Invitation, status_in: DeliveryStatusIn
) -> DeliveryStatusRead:
    """Mark an invitation delivered or bounced, never moving it back from started or completed."""
    if status_in.status == "delivered" and invitation.status in DELIVERABLE:
        invitation.status = InvitationStatus.DELIVERED.value
        invitation.sent_at = invitation.sent_at or utcnow()
    elif status_in.status == "bounced":
        invitation.next_reminder_at = None
        invitation.failure = (status_in.error or "the SMS provider reported it undelivered")[:1000]
        if invitation.status in BOUNCEABLE:
            invitation.status = InvitationStatus.BOUNCED.value
            invitation.bounced_at = utcnow()
    db_session.flush()
    return DeliveryStatusRead(invitation_id=invitation.id, status=invitation.status)


def _parse(body: bytes) -> DeliveryStatusIn:
    try:
        return DeliveryStatusIn.model_validate(json.loads(body))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput("body", f"not valid JSON: {exc}") from exc
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        field = ".".join(str(part) for part in error.get("loc", ())) or "body"
        raise InvalidInput(field, str(error.get("msg", "invalid"))) from exc
