"""Fixtures for distribution: a real SMTP server, a worker sending through it, helpers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import Caller
from tests.distribution.sms_provider import SmsProviderServer, running_sms_provider
from tests.jobs.conftest import Clock
from tests.mail.smtp_server import Inbox, free_port
from tests.surveys.samples import publish
from touchpoints.config import Settings
from touchpoints.distribution.flows import register_handlers
from touchpoints.jobs.registry import JobRegistry
from touchpoints.jobs.worker import Worker

PUBLIC_URL = "https://cx.example"
# Addresses the test mail server refuses permanently, like a mailbox that does not exist.
REFUSED_DOMAIN = "@gone.example"
LINK = re.compile(re.escape(PUBLIC_URL) + r"(/s/i/[\w-]+)")
UNSUBSCRIBE = re.compile(re.escape(PUBLIC_URL) + r"(/unsubscribe/[\w-]+)")
SMS_SECRET = "sms-shared-secret-for-tests"


class _Server:
    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox

    async def handle_RCPT(
        self, _server: Any, session: Any, envelope: Any, address: str, _options: Any
    ) -> str:
        if address.endswith(REFUSED_DOMAIN):
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        import email

        self.inbox.messages.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    """A real SMTP server on a free port that refuses addresses at gone.example."""
    inbox = Inbox(host="127.0.0.1", port=free_port())
    controller = Controller(_Server(inbox), hostname=inbox.host, port=inbox.port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def mail_settings(settings: Settings, inbox: Inbox) -> Settings:
    """Settings sending through the test SMTP server, with links to the public address."""
    return settings.model_copy(
        update={"smtp_host": inbox.host, "smtp_port": inbox.port, "public_url": PUBLIC_URL}
    )


@pytest.fixture
def clock() -> Clock:
    """A test clock the test moves forward to make reminders due."""
    return Clock()


@pytest.fixture
def worker(
    committed_factory: sessionmaker[Session], mail_settings: Settings, clock: Clock
) -> Worker:
    """A worker running the distribution jobs against the test mail server."""
    registry = JobRegistry()
    register_handlers(registry, settings=mail_settings)
    return Worker(
        committed_factory, mail_settings, registry, "mailer", maintenance=False, clock=clock
    )


@pytest.fixture
def sms_provider() -> Iterator[SmsProviderServer]:
    """A real HTTP server on a free port playing the SMS provider."""
    with running_sms_provider(SMS_SECRET) as provider:
        yield provider


@pytest.fixture
def sms_settings(mail_settings: Settings, sms_provider: SmsProviderServer) -> Settings:
    """Mail settings plus the SMS webhook of the test provider."""
    return mail_settings.model_copy(
        update={
            "sms_webhook_url": sms_provider.url,
            "sms_webhook_secret": SecretStr(SMS_SECRET),
            "sms_sender": "Brightwing",
            "sms_webhook_timeout_seconds": 1.0,
        }
    )


@pytest.fixture
def sms_admin(committed_admin: Caller, sms_settings: Settings) -> Caller:
    """The committed admin, calling an app configured to send SMS through the test provider."""
    committed_admin.http.app.state.settings = sms_settings  # type: ignore[attr-defined]
    return committed_admin


@pytest.fixture
def sms_worker(
    committed_factory: sessionmaker[Session], sms_settings: Settings, clock: Clock
) -> Worker:
    """A worker sending SMS through the test provider."""
    registry = JobRegistry()
    register_handlers(registry, settings=sms_settings)
    return Worker(
        committed_factory, sms_settings, registry, "texter", maintenance=False, clock=clock
    )


@pytest.fixture
def visitor(committed_admin: Caller) -> Iterator[TestClient]:
    """A customer's browser without credentials that does not follow redirects by itself."""
    app = committed_admin.http.app
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as http:
        yield http


def add_customer(admin: Caller, email: str, name: str = "Ana Lima") -> str:
    """Create a customer with an email address through the API; return its id."""
    created = admin.http.post("/api/v1/customers", json={"display_name": name, "email": email})
    assert created.status_code == 201, created.text
    customer_id: str = created.json()["id"]
    return customer_id


def add_phone_customer(admin: Caller, phone: str, **fields: Any) -> str:
    """Create a customer reachable by phone through the API; return its id."""
    body = {"display_name": "Ana Lima", "phone": phone, **fields}
    created = admin.http.post("/api/v1/customers", json=body)
    assert created.status_code == 201, created.text
    customer_id: str = created.json()["id"]
    return customer_id


def new_survey(admin: Caller) -> str:
    """Publish the sample checkout survey; return its id."""
    return publish(admin)[0]


def invite(admin: Caller, survey_id: str, customer_ids: list[str], **options: Any) -> Any:
    """Invite customers by email; return the answer's body."""
    body = {"customer_ids": customer_ids, "channel": "email", **options}
    answer = admin.http.post(f"/api/v1/surveys/{survey_id}/invitations", json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()


def personal_path(message: Message) -> str:
    """Return the path of the personal survey link in an email."""
    match = LINK.search(body_of(message))
    assert match, body_of(message)
    return match.group(1)


def unsubscribe_path(message: Message) -> str:
    """Return the path of the unsubscribe link in an email."""
    match = UNSUBSCRIBE.search(body_of(message))
    assert match, body_of(message)
    return match.group(1)


def body_of(message: Message, subtype: str = "plain") -> str:
    """Return the decoded text/plain (or text/html) part of an email."""
    [part] = [p for p in message.walk() if p.get_content_type() == f"text/{subtype}"]
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(part.get_content_charset() or "utf-8")
