"""The embeddable widget: a customer's own backend signs who is answering; we start the response.

The host site's backend signs `link token, customer external id, id source, expiry` with the
workspace's widget secret. A visitor holds only the signature for themselves, so they cannot
answer as another customer, and a leaked address stops working at its expiry.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from touchpoints.auth.permissions import Permission, Principal, require
from touchpoints.config import Settings
from touchpoints.customers.identities import IdentityKind
from touchpoints.customers.models import Customer
from touchpoints.customers.service import find_by_identity
from touchpoints.db.base import utcnow
from touchpoints.distribution.frequency import last_invited, survey_frequency_days, too_soon
from touchpoints.distribution.models import Invitation, InvitationChannel, InvitationStatus
from touchpoints.distribution.personal import start_answering
from touchpoints.distribution.schemas import WidgetSecretRead
from touchpoints.errors import Conflict, NotFound, PermissionDenied
from touchpoints.orgs.models import Workspace
from touchpoints.surveys.links import OpenSurvey, open_survey

VERSION_SETTING = "widget_secret_version"
# A signed opening works at most this long; sign one per page view, valid for minutes or hours.
MAX_SIGNATURE_LIFETIME = timedelta(days=7)
WIDGET_INVITATION_DAYS = 30


class WidgetSignatureRejected(PermissionDenied):
    """The widget opening is not signed by the workspace's backend, or its signature expired."""


class TooSoon(Conflict):
    """The customer was invited to a survey too recently to be asked again."""


@dataclass(frozen=True)
class WidgetOpening:
    """A request to open a survey in the widget for one customer, as the host page sent it."""

    link_token: str
    customer: str
    source: str
    expires: str
    signature: str


def secret_version(workspace: Workspace) -> int:
    """Return the workspace's widget-secret version (0 until first rotated)."""
    version = (workspace.settings or {}).get(VERSION_SETTING, 0)
    return version if isinstance(version, int) and not isinstance(version, bool) else 0


def widget_secret(settings: Settings, workspace: Workspace) -> str:
    """Return the workspace's widget secret, derived from the installation's secret key."""
    key = settings.secret_key.get_secret_value().encode()
    label = f"widget:{workspace.id}:{secret_version(workspace)}".encode()
    digest = hmac.new(key, label, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def opening_signature(
    secret: str, *, link_token: str, customer: str, source: str, expires: str
) -> str:
    """Return the hex HMAC-SHA256 of the opening's fields joined by newlines."""
    message = "\n".join((link_token, source, customer, expires)).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def read_widget_secret(
    *, db_session: Session, actor: Principal, settings: Settings
) -> WidgetSecretRead:
    """Return the workspace's widget secret for its backend (admins)."""
    require(actor, Permission.TOKENS_MANAGE)
    workspace = db_session.get(Workspace, actor.workspace_id)
    assert workspace is not None
    return WidgetSecretRead(
        secret=widget_secret(settings, workspace), version=secret_version(workspace)
    )


def rotate_widget_secret(
    *, db_session: Session, actor: Principal, settings: Settings
) -> WidgetSecretRead:
    """Replace the widget secret; openings signed with the old one stop working (admins)."""
    require(actor, Permission.TOKENS_MANAGE)
    workspace = db_session.get(Workspace, actor.workspace_id)
    assert workspace is not None
    # A new dict, so the JSON column sees the change.
    workspace.settings = {
        **(workspace.settings or {}),
        VERSION_SETTING: secret_version(workspace) + 1,
    }
    db_session.flush()
    return read_widget_secret(db_session=db_session, actor=actor, settings=settings)


def verify_opening(settings: Settings, workspace: Workspace, opening: WidgetOpening) -> None:
    """Refuse an opening unless the workspace's backend signed it and it has not expired."""
    if not opening.signature or not opening.customer or not opening.expires:
        raise WidgetSignatureRejected(
            "open the widget with customer, expires and signature made by your backend"
        )
    if not opening.expires.isdigit():
        raise WidgetSignatureRejected("expires must be Unix time in whole seconds")
    expected = opening_signature(
        widget_secret(settings, workspace),
        link_token=opening.link_token,
        customer=opening.customer,
        source=opening.source,
        expires=opening.expires,
    )
    if not hmac.compare_digest(expected.encode(), opening.signature.strip().lower().encode()):
        raise WidgetSignatureRejected(
            "the signature does not match: sign 'link token\\nsource\\ncustomer\\nexpires' with "
            "HMAC-SHA256 and the workspace's widget secret, as hex"
        )
    now = utcnow().timestamp()
    expires = int(opening.expires)
    if expires <= now:
        raise WidgetSignatureRejected("this widget signature has expired; sign a new one")
    if expires - now > MAX_SIGNATURE_LIFETIME.total_seconds():
        raise WidgetSignatureRejected("expires is more than 7 days ahead; sign shorter openings")


def open_for_customer(db_session: Session, settings: Settings, opening: WidgetOpening) -> str:
    """Start (or resume) the customer's response through the widget; return the page's path."""
    opened = open_survey(db_session, opening.link_token)
    workspace = db_session.get(Workspace, opened.link.workspace_id)
    assert workspace is not None
    verify_opening(settings, workspace, opening)
    customer = find_by_identity(
        db_session=db_session,
        workspace_id=workspace.id,
        kind=IdentityKind.EXTERNAL_ID,
        value=opening.customer,
        source=opening.source,
    )
    if customer is None:
        raise NotFound("no customer has this external id; add the customer first")
    now = utcnow()
    invitation = _open_invitation(db_session, opened, customer, now)
    if invitation is None:
        invitation = _new_invitation(db_session, workspace, opened, customer, now)
    return start_answering(db_session, invitation)


def _open_invitation(
    db_session: Session, opened: OpenSurvey, customer: Customer, now: datetime
) -> Invitation | None:
    """Return the customer's unfinished widget invitation to this survey, to resume it."""
    statement = select(Invitation).where(
        Invitation.survey_id == opened.survey.id,
        Invitation.customer_id == customer.id,
        Invitation.channel == InvitationChannel.WEB.value,
        Invitation.status == InvitationStatus.STARTED.value,
        Invitation.expires_at > now,
    )
    return db_session.scalar(statement.order_by(Invitation.created_at.desc()).limit(1))


def _new_invitation(
    db_session: Session,
    workspace: Workspace,
    opened: OpenSurvey,
    customer: Customer,
    now: datetime,
) -> Invitation:
    """Record the widget opening as a web invitation, under the contact-frequency rule."""
    limit = survey_frequency_days(workspace, opened.survey.id)
    reason = too_soon(last_invited(db_session, [customer.id]).get(customer.id), limit, now)
    if reason is not None:
        raise TooSoon(f"this customer was asked for feedback recently ({reason})")
    invitation = Invitation(
        workspace_id=workspace.id,
        survey_id=opened.survey.id,
        customer_id=customer.id,
        link_id=opened.link.id,
        channel=InvitationChannel.WEB.value,
        status=InvitationStatus.SENT.value,
        sent_at=now,
        reminder_days=[],
        reminder_count=0,
        expires_at=now + timedelta(days=WIDGET_INVITATION_DAYS),
        created_at=now,
    )
    db_session.add(invitation)
    db_session.flush()
    return invitation
