"""Factories for surveys with a published version."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tests.surveys.samples import checkout
from touchpoints.surveys.definitions import parse_definition
from touchpoints.surveys.models import Survey, SurveyStatus, SurveyVersion


def make_survey(db_session: Session, *, workspace_id: str) -> Survey:
    """Create an active survey whose version 1 is the sample checkout survey."""
    definition = parse_definition(checkout()).model_dump(mode="json", exclude_none=True)
    survey = Survey(
        workspace_id=workspace_id,
        name=definition["name"],
        status=SurveyStatus.ACTIVE.value,
        default_language="en",
        languages=["en", "fr"],
        latest_version=1,
    )
    db_session.add(survey)
    db_session.flush()
    db_session.add(
        SurveyVersion(
            workspace_id=workspace_id, survey_id=survey.id, number=1, definition=definition
        )
    )
    db_session.flush()
    return survey
