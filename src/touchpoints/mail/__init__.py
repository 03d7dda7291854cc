"""Outgoing email: the `Mailer` interface and its SMTP implementation."""

from touchpoints.mail.base import Mailer, MailNotSent, OutgoingEmail
from touchpoints.mail.smtp import SmtpMailer

__all__ = ["MailNotSent", "Mailer", "OutgoingEmail", "SmtpMailer"]
