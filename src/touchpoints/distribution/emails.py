"""The invitation and reminder emails: plain text with the personal and unsubscribe links."""

from __future__ import annotations

from touchpoints.config import Settings
from touchpoints.customers.models import Customer
from touchpoints.distribution.models import Invitation
from touchpoints.mail import OutgoingEmail
from touchpoints.surveys.models import Survey

INVITATION_TEXT = """\
Hello {name},

We would value your opinion about {survey}. It takes a few minutes:

{answer_url}

This link is personal, please do not share it. It works until {expires}.

To receive no more survey invitations from us: {unsubscribe_url}
"""
REMINDER_TEXT = """\
Hello {name},

A short reminder: we would still value your opinion about {survey}.

{answer_url}

The link works until {expires}. If you have answered already, thank you, and please ignore
this message.

To receive no more survey invitations from us: {unsubscribe_url}
"""


def answer_url(settings: Settings, token: str) -> str:
    """Return the address of the personal survey link."""
    return f"{settings.public_url.rstrip('/')}/s/i/{token}"


def unsubscribe_url(settings: Settings, token: str) -> str:
    """Return the address of the unsubscribe page of a personal link."""
    return f"{settings.public_url.rstrip('/')}/unsubscribe/{token}"


def invitation_email(
    settings: Settings,
    *,
    invitation: Invitation,
    survey: Survey,
    customer: Customer,
    token: str,
    reminder: bool,
) -> OutgoingEmail:
    """Return the email inviting (or reminding) a customer to answer a survey."""
    assert invitation.address is not None
    text = (REMINDER_TEXT if reminder else INVITATION_TEXT).format(
        name=customer.display_name or "there",
        survey=survey.name,
        answer_url=answer_url(settings, token),
        unsubscribe_url=unsubscribe_url(settings, token),
        expires=f"{invitation.expires_at:%d %B %Y}",
    )
    subject = f"Reminder: {survey.name}" if reminder else f"Your opinion on {survey.name}"
    return OutgoingEmail(to=invitation.address, subject=subject, text=text)
