"""Personal links: tokens only the invited customer holds, answering and unsubscribing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from touchpoints.config import Settings
from touchpoints.customers.models import Customer
from touchpoints.db.base import utcnow
from touchpoints.distribution.models import (
    Invitation,
    InvitationChannel,
    InvitationStatus,
    Unsubscribe,
)
from touchpoints.errors import NotFound
from touchpoints.feedback.models import FeedbackItem
from touchpoints.surveys.links import open_survey
from touchpoints.surveys.models import SurveyLink, SurveyResponse
from touchpoints.surveys.responses import RESUME_TOKEN_BYTES


class LinkState(StrEnum):
    """Whether a personal link still opens the survey."""

    OPEN = "open"
    USED = "used"
    EXPIRED = "expired"


@dataclass(frozen=True)
class PersonalLink:
    """An invitation reached through its personal token."""

    invitation: Invitation
    state: LinkState


def personal_token(settings: Settings, invitation_id: str) -> str:
    """Return the invitation's token: an HMAC of its id, unguessable without the secret key."""
    key = settings.secret_key.get_secret_value().encode()
    digest = hmac.new(key, f"invitation:{invitation_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def token_digest(token: str) -> str:
    """Return the SHA-256 hex digest stored in place of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def find_link(db_session: Session, token: str) -> PersonalLink:
    """Return the invitation behind a personal token and whether it can still be used."""
    invitation = db_session.scalar(
        select(Invitation).where(Invitation.token_sha256 == token_digest(token))
    )
    if invitation is None:
        raise NotFound("this invitation link is not valid")
    if invitation.status == InvitationStatus.COMPLETED.value:
        return PersonalLink(invitation, LinkState.USED)
    if invitation.expires_at <= utcnow():
        return PersonalLink(invitation, LinkState.EXPIRED)
    return PersonalLink(invitation, LinkState.OPEN)


def start_answering(db_session: Session, invitation: Invitation) -> str:
    """Start (or find) the invitation's response; return its path on the survey's email link."""
    link = db_session.get(SurveyLink, invitation.link_id)
    if link is None:
        raise NotFound("this survey does not exist or no longer takes answers")
    response = db_session.get(SurveyResponse, invitation.response_id or "")
    if response is None:
        opened = open_survey(db_session, link.token)
        response = SurveyResponse(
            workspace_id=invitation.workspace_id,
            survey_id=invitation.survey_id,
            version_id=opened.version.id,
            link_id=link.id,
            resume_token=secrets.token_urlsafe(RESUME_TOKEN_BYTES),
            language=opened.survey.default_language,
            answers={},
            page=0,
        )
        db_session.add(response)
        db_session.flush()
        invitation.response_id = response.id
    if invitation.started_at is None:
        invitation.started_at = utcnow()
    if invitation.status != InvitationStatus.COMPLETED.value:
        invitation.status = InvitationStatus.STARTED.value
    db_session.flush()
    return f"/s/{link.token}/r/{response.resume_token}"


def record_completion(db_session: Session, response: SurveyResponse) -> Invitation | None:
    """Complete the invitation a finished response answers and link its feedback to the customer."""
    invitation = db_session.scalar(select(Invitation).where(Invitation.response_id == response.id))
    if invitation is None:
        return None
    invitation.status = InvitationStatus.COMPLETED.value
    invitation.completed_at = response.completed_at or utcnow()
    invitation.next_reminder_at = None
    item = db_session.get(FeedbackItem, response.feedback_item_id or "")
    if item is not None:
        item.customer_id = invitation.customer_id
    db_session.flush()
    return invitation


def unsubscribe(db_session: Session, invitation: Invitation) -> None:
    """Stop survey messages on the invitation's channel (email or SMS) and record the request."""
    customer = db_session.get(Customer, invitation.customer_id)
    if customer is None:
        return
    if invitation.channel == InvitationChannel.SMS:
        customer.consent_sms = False
    else:
        customer.consent_email = False
    invitation.next_reminder_at = None
    db_session.add(
        Unsubscribe(
            workspace_id=invitation.workspace_id,
            customer_id=customer.id,
            invitation_id=invitation.id,
            channel=invitation.channel,
        )
    )
    db_session.flush()
