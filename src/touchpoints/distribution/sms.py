"""What every way of sending SMS offers, and the text of an SMS invitation or reminder."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from touchpoints.config import Settings
from touchpoints.distribution.emails import answer_url, unsubscribe_url
from touchpoints.distribution.models import Invitation
from touchpoints.surveys.models import Survey

# Survey names are cut so that the text with its two links stays about two SMS segments long.
MAX_SURVEY_NAME_IN_SMS = 40


@dataclass(frozen=True)
class OutgoingSms:
    """A text message to one phone number (E.164), with the reference that makes it unique."""

    to: str
    body: str
    # The same on every retry of one message, so the provider can drop a duplicate.
    reference: str
    callback_url: str | None = None


@dataclass(frozen=True)
class ProviderReceipt:
    """The provider's word that it accepted a message, with its own id when it gives one."""

    reference: str
    provider_message_id: str | None = None


class SmsNotSent(Exception):
    """The provider refused the message (permanent) or could not be reached (retryable)."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.permanent = permanent


class SmsProvider(ABC):
    """Something that sends SMS (an HTTP webhook in production, a local server in tests)."""

    @abstractmethod
    def send(self, message: OutgoingSms) -> ProviderReceipt:
        """Hand one message to the provider or raise SmsNotSent saying why it was not taken."""


def message_reference(invitation_id: str, reminder: int) -> str:
    """Return the reference of an invitation's message: its id and the reminder number."""
    return f"{invitation_id}:{reminder}"


def invitation_id_of(reference: str) -> str:
    """Return the invitation id a message reference names."""
    return reference.rpartition(":")[0] or reference


def invitation_sms(
    settings: Settings,
    *,
    invitation: Invitation,
    survey: Survey,
    token: str,
    reminder: int,
    callback_url: str | None,
) -> OutgoingSms:
    """Return the short text inviting (or reminding) a customer, with both personal links."""
    assert invitation.address is not None
    name = survey.name
    if len(name) > MAX_SURVEY_NAME_IN_SMS:
        name = name[: MAX_SURVEY_NAME_IN_SMS - 1].rstrip() + "…"
    lead = "Reminder: we'd still value" if reminder else "We'd value"
    body = (
        f"{lead} your opinion on {name}: {answer_url(settings, token)}\n"
        f"No more surveys: {unsubscribe_url(settings, token)}"
    )
    return OutgoingSms(
        to=invitation.address,
        body=body,
        reference=message_reference(invitation.id, reminder),
        callback_url=callback_url,
    )
