"""Sample distribution objects for tests outside this package (the API role matrix)."""

from __future__ import annotations

import secrets

from sqlalchemy.orm import Session

from tests.factories.surveys import make_survey
from touchpoints.surveys.models import SurveyLink


def survey_samples(db_session: Session, workspace_id: str) -> dict[str, str]:
    """Create an active survey with a public link; return their ids as path values."""
    survey = make_survey(db_session, workspace_id=workspace_id)
    link = SurveyLink(
        workspace_id=workspace_id,
        survey_id=survey.id,
        token=secrets.token_urlsafe(16),
        channel="store",
    )
    db_session.add(link)
    db_session.flush()
    return {"survey_id": survey.id, "link_id": link.id}
