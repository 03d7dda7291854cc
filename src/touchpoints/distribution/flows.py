"""Jobs that send invitations and reminders by email, run by the worker."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from touchpoints.config import Settings, get_settings
from touchpoints.customers.models import Customer
from touchpoints.db.base import utcnow
from touchpoints.db.engine import unit_of_work
from touchpoints.distribution.emails import invitation_email
from touchpoints.distribution.models import Invitation, InvitationStatus
from touchpoints.distribution.personal import personal_token, token_digest
from touchpoints.distribution.service import SEND_INVITATION
from touchpoints.jobs.models import Job
from touchpoints.jobs.registry import JobContext, JobRegistry, PermanentJobError
from touchpoints.jobs.service import enqueue
from touchpoints.mail import Mailer, MailNotSent, OutgoingEmail, SmtpMailer
from touchpoints.surveys.models import Survey

SEND_REMINDERS = "distribution.reminders"
# Statuses of invitations that may still be answered, hence reminded.
AWAITING = (InvitationStatus.SENT.value, InvitationStatus.STARTED.value)

logger = logging.getLogger(__name__)


def is_permanent_rejection(error: MailNotSent) -> bool:
    """Tell whether the server refused the address itself (a 5xx reply to RCPT TO)."""
    cause = error.__cause__
    if not isinstance(cause, smtplib.SMTPRecipientsRefused) or not cause.recipients:
        return False
    return all(500 <= code < 600 for code, _ in cause.recipients.values())


class InvitationSender:
    """Send one invitation or reminder email and record what happened."""

    def __init__(self, settings: Settings, mailer: Mailer) -> None:
        self.settings = settings
        self.mailer = mailer

    def __call__(self, context: JobContext) -> None:
        """Send the email a `distribution.send_invitation` job asks for (at most once)."""
        reminder = int(context.payload.get("reminder", 0))
        invitation_id = str(context.payload.get("invitation_id"))
        # Read, send, then record: no database transaction stays open while SMTP talks.
        with unit_of_work(context.session_factory) as session:
            email = self._email(session, invitation_id, reminder)
        if email is None:
            return
        failure: MailNotSent | None = None
        try:
            self.mailer.send(email)
        except MailNotSent as error:
            failure = error
        with unit_of_work(context.session_factory) as session:
            invitation = session.get(Invitation, invitation_id)
            assert invitation is not None
            invitation.token_sha256 = token_digest(personal_token(self.settings, invitation.id))
            if failure is None:
                self._record_sent(invitation, reminder, utcnow())
            elif not self._record_failure(invitation, failure, context):
                raise failure

    def _email(self, session: Session, invitation_id: str, reminder: int) -> OutgoingEmail | None:
        invitation = session.get(Invitation, invitation_id)
        if invitation is None:
            raise PermanentJobError(f"invitation {invitation_id} no longer exists")
        customer = session.get(Customer, invitation.customer_id)
        survey = session.get(Survey, invitation.survey_id)
        if customer is None or survey is None or not _due(invitation, customer, reminder):
            return None
        return invitation_email(
            self.settings,
            invitation=invitation,
            survey=survey,
            customer=customer,
            token=personal_token(self.settings, invitation.id),
            reminder=reminder > 0,
        )

    def _record_sent(self, invitation: Invitation, reminder: int, now: datetime) -> None:
        if reminder == 0:
            invitation.status = InvitationStatus.SENT.value
            invitation.sent_at = now
        else:
            invitation.reminder_count = reminder
        invitation.next_reminder_at = next_reminder_at(invitation)

    def _record_failure(
        self, invitation: Invitation, error: MailNotSent, context: JobContext
    ) -> bool:
        """Record a bounce or a final failure; return False when the job should retry."""
        invitation.failure = str(error)[:1000]
        if is_permanent_rejection(error):
            invitation.status = InvitationStatus.BOUNCED.value
            invitation.bounced_at = utcnow()
            invitation.next_reminder_at = None
            return True
        if (
            context.attempt >= context.max_attempts
            and invitation.status == InvitationStatus.QUEUED.value
        ):
            invitation.status = InvitationStatus.FAILED.value
            return True
        return False


def _due(invitation: Invitation, customer: Customer, reminder: int) -> bool:
    if customer.consent_email is False:
        return False
    if reminder == 0:
        return invitation.status == InvitationStatus.QUEUED.value
    return invitation.status in AWAITING and invitation.reminder_count < reminder


def next_reminder_at(invitation: Invitation) -> datetime | None:
    """Return when the next reminder is due, or None when none is left."""
    days = invitation.reminder_days or []
    if invitation.sent_at is None or invitation.reminder_count >= len(days):
        return None
    due = invitation.sent_at + timedelta(days=days[invitation.reminder_count])
    return due if due < invitation.expires_at else None


def enqueue_due_reminders(session: Session, *, now: datetime | None = None) -> list[Job]:
    """Enqueue a reminder job for each unanswered invitation whose reminder is due."""
    now = now or utcnow()
    statement = select(Invitation).where(
        Invitation.next_reminder_at <= now,
        Invitation.status.in_(AWAITING),
        Invitation.expires_at > now,
    )
    jobs = []
    for invitation in session.scalars(statement.order_by(Invitation.next_reminder_at)):
        number = invitation.reminder_count + 1
        jobs.append(
            enqueue(
                db_session=session,
                kind=SEND_INVITATION,
                payload={"invitation_id": invitation.id, "reminder": number},
                workspace_id=invitation.workspace_id,
                dedupe_key=f"invitation:{invitation.id}:{number}",
            )
        )
    return jobs


def send_reminders(context: JobContext) -> None:
    """Enqueue the reminders that are due (the hourly `distribution.reminders` job)."""
    with unit_of_work(context.session_factory) as session:
        jobs = enqueue_due_reminders(session)
    logger.info("enqueued %d invitation reminders", len(jobs))


def register_handlers(
    registry: JobRegistry,
    *,
    settings: Settings | None = None,
    mailer_factory: Callable[[Settings], Mailer] = SmtpMailer,
) -> None:
    """Register the distribution jobs; settings default to the environment's."""
    resolved = settings or get_settings()
    registry.add(SEND_INVITATION, InvitationSender(resolved, mailer_factory(resolved)))
    registry.add(SEND_REMINDERS, send_reminders)
