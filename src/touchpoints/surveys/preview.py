"""A preview of a survey definition as respondents would see it, which records nothing."""

from __future__ import annotations

from touchpoints.surveys.definitions import SurveyDefinition
from touchpoints.surveys.links import OpenSurvey
from touchpoints.surveys.models import (
    ResponseStatus,
    Survey,
    SurveyLink,
    SurveyResponse,
    SurveyStatus,
    SurveyVersion,
)
from touchpoints.surveys.responses import Attempt

PREVIEW_TOKEN = "preview"


def preview_attempt(definition: SurveyDefinition, page: int = 0) -> Attempt:
    """Return a respondent's attempt at one page of a definition, made of unsaved objects.

    None of these objects is ever added to a database session: rendering the respondent
    page from them cannot store a survey, a link or a response.
    """
    page = max(0, min(page, len(definition.pages) - 1))
    document = definition.model_dump(mode="json", exclude_none=True)
    survey = Survey(
        name=definition.name,
        status=SurveyStatus.DRAFT.value,
        default_language=definition.default_language,
        languages=definition.all_languages(),
    )
    link = SurveyLink(token=PREVIEW_TOKEN, channel="web")
    version = SurveyVersion(number=0, definition=document)
    response = SurveyResponse(
        resume_token=PREVIEW_TOKEN,
        status=ResponseStatus.IN_PROGRESS.value,
        language=definition.default_language,
        answers={},
        page=page,
    )
    opened = OpenSurvey(link=link, survey=survey, version=version, definition=definition)
    return Attempt(opened=opened, definition=definition, version=version, response=response)
