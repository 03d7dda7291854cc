"""What every way of sending email offers: one plain-text message to one person."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class OutgoingEmail:
    """A plain-text email to one recipient."""

    to: str
    subject: str
    text: str


class MailNotSent(Exception):
    """The mail server refused the message or could not be reached."""


class Mailer(Protocol):
    """Something that delivers email (SMTP in production, a capturing fake in tests)."""

    def send(self, email: OutgoingEmail) -> None:
        """Deliver one email or raise MailNotSent saying why it could not be sent."""
        ...
