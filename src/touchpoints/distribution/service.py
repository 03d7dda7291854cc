"""Invite customers to surveys, list invitations and count response rates."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from touchpoints.api.listing import ListParams, paginate
from touchpoints.auth.permissions import Permission, Principal, require, scope_condition
from touchpoints.config import Settings
from touchpoints.customers.models import Customer, CustomerSegment
from touchpoints.customers.segments import get_segment
from touchpoints.db.base import utcnow
from touchpoints.distribution.frequency import Skipped, check_customers, survey_frequency_days
from touchpoints.distribution.models import Invitation, InvitationChannel, InvitationStatus
from touchpoints.distribution.schemas import ChannelRate, InvitationCreate, ResponseRates
from touchpoints.errors import Conflict, InvalidInput
from touchpoints.jobs.service import enqueue
from touchpoints.orgs.models import Workspace
from touchpoints.surveys.links import TOKEN_BYTES
from touchpoints.surveys.models import Survey, SurveyLink, SurveyStatus
from touchpoints.surveys.service import get_survey

SEND_INVITATION = "distribution.send_invitation"
# Statuses proving the message reached the customer: confirmed by the provider, or opened.
REACHED = (
    InvitationStatus.DELIVERED.value,
    InvitationStatus.STARTED.value,
    InvitationStatus.COMPLETED.value,
)
INVITATION_FIELDS: dict[str, Any] = {
    "status": Invitation.status,
    "channel": Invitation.channel,
    "customer_id": Invitation.customer_id,
    "sent_at": Invitation.sent_at,
    "completed_at": Invitation.completed_at,
    "created_at": Invitation.created_at,
}


def create_invitations(
    *,
    db_session: Session,
    actor: Principal,
    survey_id: str,
    invitation_in: InvitationCreate,
    settings: Settings | None = None,
) -> tuple[list[Invitation], list[Skipped]]:
    """Queue one invitation (and its send job) per allowed customer; return them and the skipped.

    With `settings`, SMS invitations are refused up front when no SMS provider is configured;
    without, the send job records them as failed.
    """
    require(actor, Permission.SURVEYS_WRITE)
    survey = get_survey(db_session=db_session, actor=actor, survey_id=survey_id)
    if survey.status != SurveyStatus.ACTIVE.value:
        raise Conflict(f"survey {survey.id} is {survey.status}; publish it before inviting")
    channel = invitation_in.channel
    if (
        channel == InvitationChannel.SMS.value
        and settings is not None
        and not sms_configured(settings)
    ):
        raise Conflict(
            "SMS is not configured: set TOUCHPOINTS_SMS_WEBHOOK_URL and "
            "TOUCHPOINTS_SMS_WEBHOOK_SECRET, then invite again"
        )
    customers = _audience(db_session, actor, invitation_in)
    workspace = db_session.get(Workspace, actor.workspace_id)
    assert workspace is not None
    limit = survey_frequency_days(workspace, survey.id, invitation_in.contact_frequency_days)
    now = utcnow()
    allowed, skipped = check_customers(
        db_session, customers, limit_days=limit, now=now, channel=channel
    )
    link = channel_link(db_session, survey, channel)
    invitations = [
        _queue(db_session, survey, link, customer, address, invitation_in, now)
        for customer, address in allowed
    ]
    return invitations, skipped


def _audience(db_session: Session, actor: Principal, request: InvitationCreate) -> list[Customer]:
    statement = select(Customer).where(Customer.workspace_id == actor.workspace_id)
    scope = scope_condition(actor, Customer.org_unit_id)
    if scope is not None:
        statement = statement.where(scope)
    if request.segment_id is not None:
        segment = get_segment(db_session=db_session, actor=actor, segment_id=request.segment_id)
        statement = statement.join(CustomerSegment).where(CustomerSegment.segment_id == segment.id)
        return list(db_session.scalars(statement.order_by(Customer.id)))
    wanted = list(dict.fromkeys(request.customer_ids or []))
    found = {c.id: c for c in db_session.scalars(statement.where(Customer.id.in_(wanted)))}
    unknown = [customer_id for customer_id in wanted if customer_id not in found]
    if unknown:
        raise InvalidInput("customer_ids", f"customers not found: {', '.join(unknown[:10])}")
    return [found[customer_id] for customer_id in wanted]


def sms_configured(settings: Settings) -> bool:
    """Tell whether SMS can be sent: a provider webhook URL and its shared secret are set."""
    return bool(settings.sms_webhook_url) and settings.sms_webhook_secret is not None


def channel_link(db_session: Session, survey: Survey, channel: str) -> SurveyLink:
    """Return the survey's link of a channel (answers are tagged with it), adding one."""
    statement = select(SurveyLink).where(
        SurveyLink.survey_id == survey.id, SurveyLink.channel == channel
    )
    link = db_session.scalar(statement.order_by(SurveyLink.created_at, SurveyLink.id).limit(1))
    if link is None:
        link = SurveyLink(
            workspace_id=survey.workspace_id,
            survey_id=survey.id,
            token=secrets.token_urlsafe(TOKEN_BYTES),
            channel=channel,
        )
        db_session.add(link)
        db_session.flush()
    return link


def _queue(
    db_session: Session,
    survey: Survey,
    link: SurveyLink,
    customer: Customer,
    address: str,
    request: InvitationCreate,
    now: datetime,
) -> Invitation:
    invitation = Invitation(
        workspace_id=survey.workspace_id,
        survey_id=survey.id,
        customer_id=customer.id,
        link_id=link.id,
        channel=request.channel,
        status=InvitationStatus.QUEUED.value,
        address=address,
        reminder_days=list(request.reminders),
        reminder_count=0,
        expires_at=now + timedelta(days=request.expires_in_days),
        created_at=now,
    )
    db_session.add(invitation)
    db_session.flush()
    enqueue(
        db_session=db_session,
        kind=SEND_INVITATION,
        payload={"invitation_id": invitation.id},
        workspace_id=survey.workspace_id,
        dedupe_key=f"invitation:{invitation.id}:0",
    )
    return invitation


def list_invitations(
    *, db_session: Session, actor: Principal, survey_id: str, params: ListParams
) -> tuple[list[Invitation], int]:
    """List a survey's invitations, newest first; filterable by status and channel."""
    survey = get_survey(db_session=db_session, actor=actor, survey_id=survey_id)
    statement = select(Invitation).where(Invitation.survey_id == survey.id)
    return paginate(
        db_session, statement, params=params, fields=INVITATION_FIELDS, default_sort="-created_at"
    )


def response_rates(*, db_session: Session, actor: Principal, survey_id: str) -> ResponseRates:
    """Count sent, delivered, started and completed invitations of a survey, per channel."""
    survey = get_survey(db_session=db_session, actor=actor, survey_id=survey_id)
    statement = (
        select(
            Invitation.channel,
            func.count(Invitation.sent_at),
            func.count(case((Invitation.status.in_(REACHED), 1))),
            func.count(Invitation.bounced_at),
            func.count(Invitation.started_at),
            func.count(Invitation.completed_at),
        )
        .where(Invitation.survey_id == survey.id)
        .group_by(Invitation.channel)
        .order_by(Invitation.channel)
    )
    channels = [
        ChannelRate(
            channel=channel,
            sent=sent,
            delivered=delivered,
            bounced=bounced,
            started=started,
            completed=completed,
            response_rate=completed / sent if sent else None,
        )
        for channel, sent, delivered, bounced, started, completed in db_session.execute(statement)
    ]
    return ResponseRates(survey_id=survey.id, channels=channels)
