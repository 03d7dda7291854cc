"""Public links of a survey: unguessable tokens respondents open without signing in."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from touchpoints.auth.permissions import Permission, Principal, require
from touchpoints.errors import NotFound
from touchpoints.surveys.definitions import SurveyDefinition
from touchpoints.surveys.models import Survey, SurveyLink, SurveyStatus, SurveyVersion
from touchpoints.surveys.schemas import SurveyLinkCreate, SurveyLinkRead
from touchpoints.surveys.service import get_survey

TOKEN_BYTES = 16


@dataclass(frozen=True)
class OpenSurvey:
    """An active survey reached through a link, with the version respondents answer now."""

    link: SurveyLink
    survey: Survey
    version: SurveyVersion
    definition: SurveyDefinition


def create_link(
    *, db_session: Session, actor: Principal, survey_id: str, link_in: SurveyLinkCreate
) -> SurveyLink:
    """Add an anonymous public link to a survey."""
    require(actor, Permission.SURVEYS_WRITE)
    survey = get_survey(db_session=db_session, actor=actor, survey_id=survey_id)
    link = SurveyLink(
        workspace_id=survey.workspace_id,
        survey_id=survey.id,
        token=secrets.token_urlsafe(TOKEN_BYTES),
        channel=link_in.channel.value,
    )
    db_session.add(link)
    db_session.flush()
    return link


def list_links(*, db_session: Session, actor: Principal, survey_id: str) -> list[SurveyLink]:
    """Return a survey's public links, oldest first."""
    survey = get_survey(db_session=db_session, actor=actor, survey_id=survey_id)
    statement = select(SurveyLink).where(SurveyLink.survey_id == survey.id)
    return list(db_session.scalars(statement.order_by(SurveyLink.created_at, SurveyLink.id)))


def link_read(link: SurveyLink) -> SurveyLinkRead:
    """Describe a link with the path respondents open."""
    return SurveyLinkRead(
        id=link.id,
        survey_id=link.survey_id,
        token=link.token,
        channel=link.channel,
        path=f"/s/{link.token}",
        created_at=link.created_at,
    )


def open_survey(db_session: Session, token: str) -> OpenSurvey:
    """Return the active survey behind a public link; anything else is not found."""
    link = db_session.scalar(select(SurveyLink).where(SurveyLink.token == token))
    survey = db_session.get(Survey, link.survey_id) if link else None
    if link is None or survey is None or survey.status != SurveyStatus.ACTIVE.value:
        raise NotFound("this survey does not exist or no longer takes answers")
    version = db_session.scalar(
        select(SurveyVersion).where(
            SurveyVersion.survey_id == survey.id, SurveyVersion.number == survey.latest_version
        )
    )
    if version is None:
        raise NotFound("this survey does not exist or no longer takes answers")
    definition = SurveyDefinition.model_validate(version.definition)
    return OpenSurvey(link=link, survey=survey, version=version, definition=definition)
