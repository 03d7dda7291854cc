"""Jobs that send invitations and reminders by email or SMS, run by the worker."""

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
from touchpoints.distribution.models import Invitation, InvitationChannel, InvitationStatus
from touchpoints.distribution.personal import personal_token, token_digest
from touchpoints.distribution.service import SEND_INVITATION, sms_configured
from touchpoints.distribution.sms import (
    OutgoingSms,
    ProviderReceipt,
    SmsNotSent,
    SmsProvider,
    invitation_sms,
)
from touchpoints.distribution.sms_webhook import WebhookSmsProvider
from touchpoints.jobs.models import Job
from touchpoints.jobs.registry import JobContext, JobRegistry, PermanentJobError
from touchpoints.jobs.service import enqueue
from touchpoints.mail import Mailer, MailNotSent, OutgoingEmail, SmtpMailer
from touchpoints.surveys.models import Survey

SEND_REMINDERS = "distribution.reminders"
SMS_STATUS_PATH = "/api/v1/sms/status"
SMS_OFF = "SMS is not configured: set TOUCHPOINTS_SMS_WEBHOOK_URL and _SECRET"
# Statuses of invitations that may still be answered, hence reminded.
AWAITING = (
    InvitationStatus.SENT.value,
    InvitationStatus.DELIVERED.value,
    InvitationStatus.STARTED.value,
)

logger = logging.getLogger(__name__)
Outgoing = OutgoingEmail | OutgoingSms
NotSent = MailNotSent | SmsNotSent


def is_permanent_rejection(error: MailNotSent) -> bool:
    """Tell whether the server refused the address itself (a 5xx reply to RCPT TO)."""
    cause = error.__cause__
    if not isinstance(cause, smtplib.SMTPRecipientsRefused) or not cause.recipients:
        return False
    return all(500 <= code < 600 for code, _ in cause.recipients.values())


class InvitationSender:
    """Send one invitation or reminder (email or SMS) and record what happened."""

    def __init__(
        self, settings: Settings, mailer: Mailer, sms_provider: SmsProvider | None = None
    ) -> None:
        self.settings = settings
        self.mailer = mailer
        self.sms_provider = sms_provider

    def __call__(self, context: JobContext) -> None:
        """Send the message a `distribution.send_invitation` job asks for (at most once)."""
        reminder = int(context.payload.get("reminder", 0))
        invitation_id = str(context.payload.get("invitation_id"))
        # Read, send, then record: no database transaction stays open while the network talks.
        with unit_of_work(context.session_factory) as session:
            outgoing = self._message(session, invitation_id, reminder)
        if outgoing is None:
            return
        failure: NotSent | None = None
        receipt: ProviderReceipt | None = None
        try:
            receipt = self._deliver(outgoing)
        except (MailNotSent, SmsNotSent) as error:
            failure = error
        with unit_of_work(context.session_factory) as session:
            invitation = session.get(Invitation, invitation_id)
            assert invitation is not None
            invitation.token_sha256 = token_digest(personal_token(self.settings, invitation.id))
            if failure is None:
                self._record_sent(invitation, reminder, utcnow())
                if receipt is not None:
                    logger.info(
                        "SMS %s accepted: %s", receipt.reference, receipt.provider_message_id
                    )
            elif not self._record_failure(invitation, failure, context, reminder):
                raise failure

    def _deliver(self, outgoing: Outgoing) -> ProviderReceipt | None:
        if isinstance(outgoing, OutgoingEmail):
            self.mailer.send(outgoing)
            return None
        assert self.sms_provider is not None
        return self.sms_provider.send(outgoing)

    def _message(self, session: Session, invitation_id: str, reminder: int) -> Outgoing | None:
        invitation = session.get(Invitation, invitation_id)
        if invitation is None:
            raise PermanentJobError(f"invitation {invitation_id} no longer exists")
        customer = session.get(Customer, invitation.customer_id)
        survey = session.get(Survey, invitation.survey_id)
        if customer is None or survey is None or not _due(invitation, customer, reminder):
            return None
        token = personal_token(self.settings, invitation.id)
        if invitation.channel == InvitationChannel.SMS:
            if self.sms_provider is None:
                _give_up(invitation, SMS_OFF, reminder)
                return None
            callback = f"{self.settings.public_url.rstrip('/')}{SMS_STATUS_PATH}"
            return invitation_sms(
                self.settings,
                invitation=invitation,
                survey=survey,
                token=token,
                reminder=reminder,
                callback_url=callback,
            )
        return invitation_email(
            self.settings,
            invitation=invitation,
            survey=survey,
            customer=customer,
            token=token,
            reminder=reminder > 0,
        )

    def _record_sent(self, invitation: Invitation, reminder: int, now: datetime) -> None:
        if reminder == 0:
            # A delivery report may have come first; never move an invitation backwards.
            if invitation.status == InvitationStatus.QUEUED.value:
                invitation.status = InvitationStatus.SENT.value
            invitation.sent_at = invitation.sent_at or now
        else:
            invitation.reminder_count = reminder
        invitation.next_reminder_at = next_reminder_at(invitation)

    def _record_failure(
        self, invitation: Invitation, error: NotSent, context: JobContext, reminder: int
    ) -> bool:
        """Record a bounce or a final failure; return False when the job should retry."""
        invitation.failure = str(error)[:1000]
        if isinstance(error, MailNotSent) and is_permanent_rejection(error):
            invitation.status = InvitationStatus.BOUNCED.value
            invitation.bounced_at = utcnow()
            invitation.next_reminder_at = None
            return True
        if isinstance(error, SmsNotSent) and error.permanent:
            _give_up(invitation, str(error), reminder)
            return True
        if context.attempt >= context.max_attempts:
            _give_up(invitation, str(error), reminder)
            return True
        return False


def _give_up(invitation: Invitation, reason: str, reminder: int) -> None:
    """Stop trying: a first message fails the invitation; a reminder only ends the reminders."""
    invitation.failure = reason[:1000]
    invitation.next_reminder_at = None
    if reminder == 0 and invitation.status == InvitationStatus.QUEUED.value:
        invitation.status = InvitationStatus.FAILED.value


def _due(invitation: Invitation, customer: Customer, reminder: int) -> bool:
    consent = customer.consent_sms if invitation.channel == "sms" else customer.consent_email
    if consent is False:
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


def webhook_sms_provider(settings: Settings) -> SmsProvider | None:
    """Return the HTTP-webhook SMS provider, or None when SMS is not configured."""
    return WebhookSmsProvider(settings) if sms_configured(settings) else None


def register_handlers(
    registry: JobRegistry,
    *,
    settings: Settings | None = None,
    mailer_factory: Callable[[Settings], Mailer] = SmtpMailer,
    sms_provider_factory: Callable[[Settings], SmsProvider | None] = webhook_sms_provider,
) -> None:
    """Register the distribution jobs; settings default to the environment's."""
    resolved = settings or get_settings()
    sender = InvitationSender(resolved, mailer_factory(resolved), sms_provider_factory(resolved))
    registry.add(SEND_INVITATION, sender)
    registry.add(SEND_REMINDERS, send_reminders)
