"""Send email through the SMTP server named in the settings (`TOUCHPOINTS_SMTP_*`)."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import make_msgid

from touchpoints.config import Settings
from touchpoints.mail.base import MailNotSent, OutgoingEmail

SMTP_TIMEOUT_SECONDS = 15.0


class SmtpMailer:
    """Deliver email over SMTP, with optional STARTTLS and login."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def build_message(self, email: OutgoingEmail) -> EmailMessage:
        """Return the MIME message (multipart/alternative when it has HTML), from the sender."""
        message = EmailMessage()
        message["From"] = self.settings.mail_from
        message["To"] = email.to
        message["Subject"] = email.subject
        message["Message-ID"] = make_msgid(domain=self._sender_domain())
        if email.unsubscribe_url:
            message["List-Unsubscribe"] = f"<{email.unsubscribe_url}>"
        message.set_content(email.text)
        if email.html is not None:
            message.add_alternative(email.html, subtype="html")
        return message

    def send(self, email: OutgoingEmail) -> None:
        """Deliver one email or raise MailNotSent with the server's reason."""
        settings = self.settings
        try:
            with smtplib.SMTP(
                settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_SECONDS
            ) as server:
                if settings.smtp_starttls:
                    server.starttls()
                if settings.smtp_username and settings.smtp_password is not None:
                    server.login(settings.smtp_username, settings.smtp_password.get_secret_value())
                server.send_message(self.build_message(email))
        except (OSError, smtplib.SMTPException) as exc:
            raise MailNotSent(
                f"could not send email through {settings.smtp_host}:{settings.smtp_port}: {exc}"
            ) from exc

    def _sender_domain(self) -> str:
        address = self.settings.mail_from.rsplit("<", 1)[-1].rstrip(">")
        return address.rpartition("@")[2] or "localhost"
