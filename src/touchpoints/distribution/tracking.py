"""Follow a survey's invitations: who was invited and how far they got, per channel, in scope."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVarTuple

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from touchpoints.auth.permissions import Permission, Principal, scope_condition
from touchpoints.customers.models import Customer
from touchpoints.distribution.models import Invitation, InvitationStatus
from touchpoints.errors import InvalidInput
from touchpoints.metrics.statistics import MetricValue, csat_from_counts
from touchpoints.surveys.models import ResponseStatus, SurveyLink, SurveyResponse
from touchpoints.surveys.service import get_survey

MAX_PAGE_SIZE = 200
Columns = TypeVarTuple("Columns")
# Statuses proving that an invitation reached the customer: confirmed by the channel, or opened.
REACHED = sorted({s.value for s in InvitationStatus} & {"delivered", "started", "completed"})


@dataclass(frozen=True)
class InvitationRow:
    """An invitation as a list shows it; the address only for roles that may read customers."""

    invitation: Invitation
    customer_name: str | None
    address: str | None


@dataclass(frozen=True)
class InvitationPage:
    """One page of a survey's invitations and how many match in all."""

    rows: list[InvitationRow]
    total: int
    offset: int
    limit: int


@dataclass(frozen=True)
class ChannelFunnel:
    """How far the invitations of one channel got, and the response rate with its interval."""

    channel: str
    invited: int
    sent: int
    delivered: int
    bounced: int
    started: int
    completed: int
    rate: MetricValue


@dataclass(frozen=True)
class LinkResponses:
    """Answers that came through anonymous public links of one channel (no invitation)."""

    channel: str
    started: int
    completed: int


def scoped_invitations(actor: Principal, statement: Select[*Columns]) -> Select[*Columns]:
    """Limit a select over invitations to the customers in the caller's org-unit scope."""
    scope = scope_condition(actor, Customer.org_unit_id)
    if scope is None:
        return statement
    return statement.join(Customer, Customer.id == Invitation.customer_id).where(scope)


def invitation_page(
    *,
    db_session: Session,
    actor: Principal,
    survey_id: str,
    status: str | None = None,
    channel: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> InvitationPage:
    """List a survey's invitations in the caller's scope, newest first, by status and channel."""
    survey = get_survey(db_session=db_session, actor=actor, survey_id=survey_id)
    if status is not None and status not in {s.value for s in InvitationStatus}:
        known = ", ".join(s.value for s in InvitationStatus)
        raise InvalidInput("status", f"unknown status {status!r}; choose one of {known}")
    statement = select(Invitation).where(Invitation.survey_id == survey.id)
    if status is not None:
        statement = statement.where(Invitation.status == status)
    if channel is not None:
        statement = statement.where(Invitation.channel == channel)
    statement = scoped_invitations(actor, statement)
    total = db_session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    offset = max(0, offset)
    ordered = statement.order_by(Invitation.created_at.desc(), Invitation.id.desc())
    invitations = list(db_session.scalars(ordered.offset(offset).limit(limit)))
    return InvitationPage(_rows(db_session, actor, invitations), int(total), offset, limit)


def _rows(
    db_session: Session, actor: Principal, invitations: list[Invitation]
) -> list[InvitationRow]:
    if not actor.can(Permission.CUSTOMERS_READ):
        return [InvitationRow(invitation, None, None) for invitation in invitations]
    ids = {invitation.customer_id for invitation in invitations}
    names: dict[str, str | None] = {}
    if ids:
        statement = select(Customer.id, Customer.display_name).where(Customer.id.in_(ids))
        names = {str(customer_id): name for customer_id, name in db_session.execute(statement)}
    return [
        InvitationRow(invitation, names.get(invitation.customer_id), invitation.address)
        for invitation in invitations
    ]


def channel_funnels(
    *, db_session: Session, actor: Principal, survey_id: str
) -> list[ChannelFunnel]:
    """Count invited, sent, started and completed per channel, with the rate's Wilson interval."""
    survey = get_survey(db_session=db_session, actor=actor, survey_id=survey_id)
    statement = (
        select(
            Invitation.channel,
            func.count(),
            func.count(Invitation.sent_at),
            func.count().filter(Invitation.status.in_(REACHED)),
            func.count(Invitation.bounced_at),
            func.count(Invitation.started_at),
            func.count(Invitation.completed_at),
        )
        .where(Invitation.survey_id == survey.id)
        .group_by(Invitation.channel)
        .order_by(Invitation.channel)
    )
    return [
        ChannelFunnel(
            channel=str(channel),
            invited=int(invited),
            sent=int(sent),
            delivered=int(delivered),
            bounced=int(bounced),
            started=int(started),
            completed=int(completed),
            # Completed among sent: a share, so its interval is the Wilson score interval.
            rate=csat_from_counts(min(int(completed), int(sent)), int(sent)),
        )
        for channel, invited, sent, delivered, bounced, started, completed in db_session.execute(
            scoped_invitations(actor, statement)
        )
    ]


def link_responses(*, db_session: Session, actor: Principal, survey_id: str) -> list[LinkResponses]:
    """Count answers through anonymous public links per channel (callers seeing every unit)."""
    survey = get_survey(db_session=db_session, actor=actor, survey_id=survey_id)
    if actor.is_scoped:
        return []  # anonymous answers belong to no org unit
    invited = select(Invitation.response_id).where(
        Invitation.survey_id == survey.id, Invitation.response_id.is_not(None)
    )
    completed = func.count().filter(SurveyResponse.status == ResponseStatus.COMPLETED.value)
    statement = (
        select(SurveyLink.channel, func.count(), completed)
        .join(SurveyLink, SurveyLink.id == SurveyResponse.link_id)
        .where(SurveyResponse.survey_id == survey.id, SurveyResponse.id.not_in(invited))
        .group_by(SurveyLink.channel)
        .order_by(SurveyLink.channel)
    )
    return [
        LinkResponses(channel=str(channel), started=int(started), completed=int(done))
        for channel, started, done in db_session.execute(statement)
    ]
