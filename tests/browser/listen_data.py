"""A published survey, its invitations and an import with a quarantine on the live demo site."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.browser.conftest import ADMIN, LiveSite
from touchpoints.auth.models import User
from touchpoints.auth.permissions import Principal, Role
from touchpoints.customers.models import Customer
from touchpoints.db.base import utcnow
from touchpoints.distribution.models import Invitation, InvitationStatus
from touchpoints.imports.flows import ImportRequest, import_file
from touchpoints.imports.models import ImportFormat, ImportKind, QuarantinedRow
from touchpoints.imports.readers import ImportFile
from touchpoints.surveys.links import create_link
from touchpoints.surveys.models import SurveyLink
from touchpoints.surveys.schemas import SurveyCreate, SurveyLinkCreate
from touchpoints.surveys.service import create_survey, publish_survey

PHONE_SURVEY: dict[str, Any] = {
    "name": "Boarding survey",
    "title": {"en": "How was boarding today?"},
    "thank_you": {"en": "Thank you, have a good flight!"},
    "questions": [
        {
            "id": "nps",
            "type": "nps",
            "required": True,
            "text": {"en": "How likely are you to recommend Brightwing to a friend?"},
        },
        {"id": "comment", "type": "open_text", "text": {"en": "What could we do better?"}},
    ],
}
BAD_ROWS = b"text,scores.nps,channel\nGreat crew,9,email\nToo high,12,email\nOdd channel,5,pigeon\n"
_made: dict[str, dict[str, str]] = {}


def admin_of(site: LiveSite) -> Principal:
    """Return the demo admin as a caller of the services."""
    with site.session() as session:
        user_id = session.scalars(select(User.id).where(User.email == ADMIN)).one()
    return Principal(workspace_id=site.demo.workspace_id, user_id=user_id, role=Role.ADMIN)


def publish_phone_survey(site: LiveSite) -> tuple[str, str]:
    """Publish the boarding survey with a web link; return its id and the link token."""
    admin = admin_of(site)
    with site.session() as session:
        survey_in = SurveyCreate(definition=PHONE_SURVEY)
        survey = create_survey(db_session=session, actor=admin, survey_in=survey_in)
        publish_survey(db_session=session, actor=admin, survey_id=survey.id)
        link_in = SurveyLinkCreate.model_validate({"channel": "web"})
        link = create_link(db_session=session, actor=admin, survey_id=survey.id, link_in=link_in)
        session.commit()
        return survey.id, link.token


def listen_ids(site: LiveSite) -> dict[str, str]:
    """Return a survey with invitations, an import run and a quarantined row (made once)."""
    if site.url in _made:
        return _made[site.url]
    survey_id, _ = publish_phone_survey(site)
    admin = admin_of(site)
    with site.session() as session:
        customers = session.scalars(
            select(Customer.id).where(Customer.workspace_id == site.demo.workspace_id).limit(40)
        ).all()
        _invite(session, survey_id, list(customers))
        request = ImportRequest(
            source=ImportFile.from_bytes("reviews.csv", BAD_ROWS),
            kind=ImportKind.FEEDBACK,
            fmt=ImportFormat.CSV,
        )
        run = import_file(db_session=session, actor=admin, request=request)
        row = session.scalars(select(QuarantinedRow).where(QuarantinedRow.run_id == run.id)).first()
        assert row is not None
        session.commit()
        _made[site.url] = {"survey_id": survey_id, "run_id": run.id, "row_id": row.id}
    return _made[site.url]


def _invite(session: Session, survey_id: str, customer_ids: list[str]) -> None:
    """Record invitations sent by email, a third of them answered (as the worker would)."""
    link = session.scalars(select(SurveyLink).where(SurveyLink.survey_id == survey_id)).one()
    now = utcnow()
    for number, customer_id in enumerate(customer_ids):
        done = number % 3 == 0
        session.add(
            Invitation(
                workspace_id=link.workspace_id,
                survey_id=survey_id,
                customer_id=customer_id,
                link_id=link.id,
                channel="email",
                address=f"guest{number}@example.com",
                status=(InvitationStatus.COMPLETED if done else InvitationStatus.SENT).value,
                sent_at=now,
                completed_at=now if done else None,
                started_at=now if done else None,
                expires_at=now + timedelta(days=30),
                created_at=now,
            )
        )
