"""Reminders to customers who have not answered, bounces and retries."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import Caller
from tests.distribution.conftest import add_customer, invite, new_survey, personal_path
from tests.distribution.test_invitations import answer, invitations
from tests.jobs.conftest import Clock
from tests.mail.smtp_server import Inbox, free_port
from touchpoints.config import Settings
from touchpoints.db.engine import unit_of_work
from touchpoints.distribution.flows import enqueue_due_reminders, register_handlers
from touchpoints.jobs.models import Job
from touchpoints.jobs.registry import JobRegistry
from touchpoints.jobs.worker import Worker


def _remind(factory: sessionmaker[Session], clock: Clock) -> int:
    with unit_of_work(factory) as session:
        return len(enqueue_due_reminders(session, now=clock()))


def test_a_reminder_goes_out_once_when_due(
    committed_admin: Caller,
    worker: Worker,
    inbox: Inbox,
    clock: Clock,
    committed_factory: sessionmaker[Session],
) -> None:
    customer_id = add_customer(committed_admin, "ana@shop.example")
    survey_id = new_survey(committed_admin)
    invite(committed_admin, survey_id, [customer_id], reminders=[3])
    worker.run_once()
    assert _remind(committed_factory, clock) == 0, "not due yet"

    clock.advance(timedelta(days=3, hours=1).total_seconds())
    assert _remind(committed_factory, clock) == 1
    assert worker.run_once() == 1

    first, reminder = inbox.to("ana@shop.example")
    assert reminder["Subject"] == "Reminder: Checkout survey"
    assert personal_path(reminder) == personal_path(first), "the same personal link"
    [sent] = invitations(committed_admin, survey_id)
    assert (sent["reminder_count"], sent["next_reminder_at"]) == (1, None)
    clock.advance(timedelta(days=10).total_seconds())
    assert _remind(committed_factory, clock) == 0, "only the configured number of reminders"


def test_no_reminder_after_the_customer_answered(
    committed_admin: Caller,
    worker: Worker,
    inbox: Inbox,
    clock: Clock,
    visitor: TestClient,
    committed_factory: sessionmaker[Session],
) -> None:
    customer_id = add_customer(committed_admin, "ana@shop.example")
    invite(committed_admin, new_survey(committed_admin), [customer_id], reminders=[3, 7])
    worker.run_once()
    answer(visitor, personal_path(inbox.messages[0]))

    clock.advance(timedelta(days=8).total_seconds())
    assert _remind(committed_factory, clock) == 0
    assert len(inbox.messages) == 1


def test_a_refused_address_bounces_without_retrying(
    committed_admin: Caller, worker: Worker, inbox: Inbox
) -> None:
    customer_id = add_customer(committed_admin, "old@gone.example")
    survey_id = new_survey(committed_admin)
    invite(committed_admin, survey_id, [customer_id], reminders=[3])

    assert worker.run_once() == 1

    [bounced] = invitations(committed_admin, survey_id)
    assert bounced["status"] == "bounced" and bounced["bounced_at"] is not None
    assert bounced["next_reminder_at"] is None
    assert inbox.messages == []


def test_an_unreachable_mail_server_retries_the_job(
    committed_admin: Caller,
    committed_factory: sessionmaker[Session],
    settings: Settings,
    clock: Clock,
) -> None:
    customer_id = add_customer(committed_admin, "ana@shop.example")
    survey_id = new_survey(committed_admin)
    invite(committed_admin, survey_id, [customer_id])
    registry = JobRegistry()
    down = settings.model_copy(update={"smtp_port": free_port()})
    register_handlers(registry, settings=down)
    worker = Worker(committed_factory, down, registry, "down", maintenance=False, clock=clock)

    assert worker.run_once() == 1

    with committed_factory() as session:
        [job] = session.query(Job).all()
        assert (job.status, job.attempts) == ("queued", 1)
        assert "could not send email" in (job.last_error or "")
    [queued] = invitations(committed_admin, survey_id)
    assert queued["status"] == "queued"
