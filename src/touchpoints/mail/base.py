"""What every way of sending email offers: one message (text, optionally HTML) to one person."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class OutgoingEmail:
    """An email to one recipient: plain text, with an optional HTML alternative."""

    to: str
    subject: str
    text: str
    # Sent as multipart/alternative with `text` when set; it must say what `text` says.
    html: str | None = None
    # Offered to mail clients as the List-Unsubscribe header.
    unsubscribe_url: str | None = None


class MailNotSent(Exception):
    """The mail server refused the message or could not be reached."""


class Mailer(Protocol):
    """Something that delivers email (SMTP in production, a capturing fake in tests)."""

    def send(self, email: OutgoingEmail) -> None:
        """Deliver one email or raise MailNotSent saying why it could not be sent."""
        ...
