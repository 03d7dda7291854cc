"""Sending email through a real SMTP server."""

from __future__ import annotations

import pytest

from tests.mail.smtp_server import free_port, running_smtp_server
from touchpoints.config import Settings
from touchpoints.mail import MailNotSent, OutgoingEmail, SmtpMailer


def test_an_email_arrives_with_sender_recipient_and_subject() -> None:
    with running_smtp_server() as inbox:
        settings = Settings(
            smtp_host=inbox.host, smtp_port=inbox.port, mail_from="CX <cx@air.example>"
        )
        SmtpMailer(settings).send(
            OutgoingEmail(to="ana@air.example", subject="Hello", text="Your café order ✓\n")
        )
    [message] = inbox.to("ana@air.example")
    assert message["From"] == "CX <cx@air.example>"
    assert message["Subject"] == "Hello"
    assert message["Message-ID"].endswith("@air.example>")
    assert "Your café order ✓" in message.get_payload(decode=True).decode()  # type: ignore[union-attr]


def test_an_unreachable_server_says_where_it_tried() -> None:
    port = free_port()
    mailer = SmtpMailer(Settings(smtp_host="127.0.0.1", smtp_port=port))
    with pytest.raises(MailNotSent, match=f"127.0.0.1:{port}"):
        mailer.send(OutgoingEmail(to="ana@air.example", subject="Hello", text="Hi"))


def test_an_email_with_html_arrives_as_multipart_alternative() -> None:
    with running_smtp_server() as inbox:
        settings = Settings(smtp_host=inbox.host, smtp_port=inbox.port)
        SmtpMailer(settings).send(
            OutgoingEmail(
                to="ana@air.example",
                subject="Hello",
                text="Plain café\n",
                html="<p>Rich café</p>",
                unsubscribe_url="https://cx.example/unsubscribe/t",
            )
        )
    [message] = inbox.to("ana@air.example")
    assert message.get_content_type() == "multipart/alternative"
    text, rich = message.get_payload()  # type: ignore[misc]
    assert "Plain café" in text.get_payload(decode=True).decode()
    assert "<p>Rich café</p>" in rich.get_payload(decode=True).decode()
    assert message["List-Unsubscribe"] == "<https://cx.example/unsubscribe/t>"
