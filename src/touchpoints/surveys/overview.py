"""The survey list as people read it: each survey with where it is asked and how it is answered."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from touchpoints.api.listing import ListParams
from touchpoints.auth.permissions import Principal
from touchpoints.distribution.models import Invitation
from touchpoints.distribution.tracking import scoped_invitations
from touchpoints.journeys.models import JourneyStage, Touchpoint
from touchpoints.surveys.models import ResponseStatus, Survey, SurveyResponse
from touchpoints.surveys.service import list_surveys

MAX_SURVEYS = 500


@dataclass(frozen=True)
class SurveySummary:
    """One row of the survey list."""

    survey: Survey
    touchpoint: str | None
    stage: str | None
    responses: int
    invitations_sent: int
    invitations_completed: int

    @property
    def response_rate(self) -> float | None:
        """Return completed / sent invitations, or None when none was sent."""
        if not self.invitations_sent:
            return None
        return self.invitations_completed / self.invitations_sent


def survey_summaries(
    *, db_session: Session, actor: Principal, status: str | None = None
) -> list[SurveySummary]:
    """List the workspace's surveys (newest first) with touchpoint, stage and response counts.

    Counts follow the caller's org-unit scope: a scoped caller counts the invitations and
    answers of customers in their units; anonymous answers belong to no unit and count only
    for callers who see the whole workspace.
    """
    filters = (f"status:eq:{status}",) if status else ()
    surveys, _ = list_surveys(
        db_session=db_session, actor=actor, params=ListParams(limit=MAX_SURVEYS, filters=filters)
    )
    ids = [survey.id for survey in surveys]
    names = _place_names(db_session, surveys)
    invited = _invitation_counts(db_session, actor, ids)
    # A scoped caller sees only invited customers' answers: their completed invitations.
    answered = {} if actor.is_scoped else _completed_responses(db_session, ids)
    summaries = []
    for survey in surveys:
        sent, completed = invited.get(survey.id, (0, 0))
        summaries.append(
            SurveySummary(
                survey=survey,
                touchpoint=names.get(survey.touchpoint_id or ""),
                stage=names.get(survey.stage_id or ""),
                responses=completed if actor.is_scoped else answered.get(survey.id, 0),
                invitations_sent=sent,
                invitations_completed=completed,
            )
        )
    return summaries


def _place_names(db_session: Session, surveys: Sequence[Survey]) -> dict[str, str]:
    touchpoint_ids = {s.touchpoint_id for s in surveys if s.touchpoint_id}
    stage_ids = {s.stage_id for s in surveys if s.stage_id}
    names: dict[str, str] = {}
    if touchpoint_ids:
        rows = db_session.execute(
            select(Touchpoint.id, Touchpoint.name).where(Touchpoint.id.in_(touchpoint_ids))
        )
        names |= {str(row_id): str(name) for row_id, name in rows}
    if stage_ids:
        rows = db_session.execute(
            select(JourneyStage.id, JourneyStage.name).where(JourneyStage.id.in_(stage_ids))
        )
        names |= {str(row_id): str(name) for row_id, name in rows}
    return names


def _invitation_counts(
    db_session: Session, actor: Principal, survey_ids: Sequence[str]
) -> dict[str, tuple[int, int]]:
    if not survey_ids:
        return {}
    statement = (
        select(
            Invitation.survey_id,
            func.count(Invitation.sent_at),
            func.count(Invitation.completed_at),
        )
        .where(Invitation.survey_id.in_(survey_ids))
        .group_by(Invitation.survey_id)
    )
    rows = db_session.execute(scoped_invitations(actor, statement))
    return {str(survey_id): (int(sent), int(done)) for survey_id, sent, done in rows}


def _completed_responses(db_session: Session, survey_ids: Sequence[str]) -> dict[str, int]:
    if not survey_ids:
        return {}
    statement = (
        select(SurveyResponse.survey_id, func.count())
        .where(
            SurveyResponse.survey_id.in_(survey_ids),
            SurveyResponse.status == ResponseStatus.COMPLETED.value,
        )
        .group_by(SurveyResponse.survey_id)
    )
    return {str(survey_id): int(count) for survey_id, count in db_session.execute(statement)}
