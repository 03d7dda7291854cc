"""A respondent's way through a survey: saving pages, resuming, completing into feedback."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from touchpoints.db.base import utcnow
from touchpoints.errors import NotFound
from touchpoints.feedback.models import FeedbackItem
from touchpoints.surveys.answers import Answer, next_page, read_page
from touchpoints.surveys.definitions import QuestionType, SurveyDefinition
from touchpoints.surveys.links import OpenSurvey, open_survey
from touchpoints.surveys.models import ResponseStatus, SurveyResponse, SurveyVersion

FEEDBACK_SOURCE = "survey"
RESUME_TOKEN_BYTES = 24
SCORE_COLUMNS = {QuestionType.NPS: "nps", QuestionType.CSAT: "csat", QuestionType.CES: "ces"}


@dataclass
class Attempt:
    """A respondent on a survey: a new one, or a saved response being resumed."""

    opened: OpenSurvey
    definition: SurveyDefinition
    version: SurveyVersion
    response: SurveyResponse | None = None

    @property
    def page(self) -> int:
        """Return the index of the page to show next."""
        return self.response.page if self.response else 0

    @property
    def answers(self) -> dict[str, Any]:
        """Return the answers saved so far."""
        return dict(self.response.answers) if self.response else {}

    @property
    def completed(self) -> bool:
        """Tell whether the respondent has finished."""
        return self.response is not None and self.response.status == ResponseStatus.COMPLETED


@dataclass
class PageOutcome:
    """What became of a submitted page: errors by question id, or the saved response."""

    errors: dict[str, str] = field(default_factory=dict)
    response: SurveyResponse | None = None


def start(db_session: Session, token: str) -> Attempt:
    """Begin answering the active survey behind a public link."""
    opened = open_survey(db_session, token)
    return Attempt(opened=opened, definition=opened.definition, version=opened.version)


def resume(db_session: Session, token: str, resume_token: str) -> Attempt:
    """Return a saved response of the link's survey, with the version it is answering."""
    opened = open_survey(db_session, token)
    response = db_session.scalar(
        select(SurveyResponse).where(SurveyResponse.resume_token == resume_token)
    )
    if response is None or response.survey_id != opened.survey.id:
        raise NotFound("these answers were not found; open the survey link again")
    version = db_session.get(SurveyVersion, response.version_id)
    if version is None:
        raise NotFound("these answers were not found; open the survey link again")
    definition = SurveyDefinition.model_validate(version.definition)
    return Attempt(opened=opened, definition=definition, version=version, response=response)


def submit_page(
    db_session: Session,
    attempt: Attempt,
    *,
    form: Mapping[str, Sequence[str]],
    language: str,
    finish_later: bool = False,
) -> PageOutcome:
    """Check and save the current page; on the last page complete the response into feedback."""
    page = attempt.page
    earlier = attempt.answers
    answers, errors = read_page(attempt.definition, page, form, earlier, require=not finish_later)
    if errors:
        return PageOutcome(errors=errors)
    on_page = {q.id for q in attempt.definition.pages[page].questions}
    merged = {k: v for k, v in earlier.items() if k not in on_page} | answers
    response = attempt.response or _new_response(db_session, attempt, language)
    response.answers = merged
    response.language = language
    following = None if finish_later else next_page(attempt.definition, page, merged)
    if finish_later:
        response.page = page
    elif following is not None:
        response.page = following
    else:
        _complete(db_session, attempt, response)
    db_session.flush()
    return PageOutcome(response=response)


def _new_response(db_session: Session, attempt: Attempt, language: str) -> SurveyResponse:
    response = SurveyResponse(
        workspace_id=attempt.opened.survey.workspace_id,
        survey_id=attempt.opened.survey.id,
        version_id=attempt.version.id,
        link_id=attempt.opened.link.id,
        resume_token=secrets.token_urlsafe(RESUME_TOKEN_BYTES),
        status=ResponseStatus.IN_PROGRESS.value,
        language=language,
        answers={},
        page=0,
    )
    db_session.add(response)
    db_session.flush()
    return response


def _complete(db_session: Session, attempt: Attempt, response: SurveyResponse) -> None:
    now = utcnow()
    response.status = ResponseStatus.COMPLETED.value
    response.completed_at = now
    survey = attempt.opened.survey
    item = FeedbackItem(
        workspace_id=survey.workspace_id,
        solicited=True,
        source=FEEDBACK_SOURCE,
        source_ref=response.id,
        channel=attempt.opened.link.channel,
        touchpoint_id=survey.touchpoint_id,
        occurred_at=now,
        title=survey.name,
        text=_open_text(attempt.definition, response.answers),
        language=response.language,
        metadata_={
            "survey_id": survey.id,
            "survey_version": attempt.version.number,
            "survey_version_id": attempt.version.id,
            "answers": response.answers,
        },
        **scores_of(attempt.definition, response.answers),
    )
    db_session.add(item)
    db_session.flush()
    response.feedback_item_id = item.id


def scores_of(definition: SurveyDefinition, answers: Mapping[str, Answer]) -> dict[str, Any]:
    """Return the feedback score columns from the first answered question of each metric."""
    scores: dict[str, Any] = {}
    for _, question in definition.questions():
        answer = answers.get(question.id)
        if not isinstance(answer, int):
            continue
        column = SCORE_COLUMNS.get(question.type)
        if column is not None:
            scores.setdefault(column, answer)
        elif question.type == QuestionType.RATING and "rating" not in scores:
            scores["rating"] = float(answer)
            scores["rating_scale"] = (question.scale() or (1, 5))[1]
    return scores


def _open_text(definition: SurveyDefinition, answers: Mapping[str, Answer]) -> str | None:
    texts = [
        answer
        for _, question in definition.questions()
        if question.type == QuestionType.OPEN_TEXT
        and isinstance(answer := answers.get(question.id), str)
    ]
    return "\n\n".join(texts) or None
