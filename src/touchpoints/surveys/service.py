"""Surveys: create, edit (as a draft of the next version), publish and close."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from touchpoints.api.listing import ListParams, paginate
from touchpoints.auth.permissions import Permission, Principal, require
from touchpoints.db.base import utcnow
from touchpoints.errors import Conflict, NotFound
from touchpoints.journeys.models import JourneyStage, Touchpoint
from touchpoints.surveys.definitions import SurveyDefinition, parse_definition
from touchpoints.surveys.models import Survey, SurveyStatus, SurveyVersion
from touchpoints.surveys.schemas import SurveyCreate, SurveyUpdate

SURVEY_FIELDS: dict[str, Any] = {
    "name": Survey.name,
    "status": Survey.status,
    "touchpoint_id": Survey.touchpoint_id,
    "stage_id": Survey.stage_id,
    "created_at": Survey.created_at,
    "updated_at": Survey.updated_at,
}


def list_surveys(
    *, db_session: Session, actor: Principal, params: ListParams
) -> tuple[list[Survey], int]:
    """List the workspace's surveys, newest first."""
    require(actor, Permission.SURVEYS_READ)
    statement = select(Survey).where(Survey.workspace_id == actor.workspace_id)
    return paginate(
        db_session, statement, params=params, fields=SURVEY_FIELDS, default_sort="-created_at"
    )


def get_survey(*, db_session: Session, actor: Principal, survey_id: str) -> Survey:
    """Return one survey of the caller's workspace."""
    require(actor, Permission.SURVEYS_READ)
    survey = db_session.get(Survey, survey_id)
    if survey is None or survey.workspace_id != actor.workspace_id:
        raise NotFound(f"survey {survey_id} not found")
    return survey


def create_survey(*, db_session: Session, actor: Principal, survey_in: SurveyCreate) -> Survey:
    """Store a new draft survey after validating its definition and links."""
    require(actor, Permission.SURVEYS_WRITE)
    definition = parse_definition(survey_in.definition)
    _check_links(db_session, actor, survey_in.touchpoint_id, survey_in.stage_id)
    survey = Survey(
        workspace_id=actor.workspace_id,
        touchpoint_id=survey_in.touchpoint_id,
        stage_id=survey_in.stage_id,
        status=SurveyStatus.DRAFT.value,
    )
    _set_draft(survey, definition)
    db_session.add(survey)
    db_session.flush()
    return survey


def update_survey(
    *, db_session: Session, actor: Principal, survey_id: str, survey_in: SurveyUpdate
) -> Survey:
    """Change the draft definition or the touchpoint and stage; published versions stay."""
    require(actor, Permission.SURVEYS_WRITE)
    survey = get_survey(db_session=db_session, actor=actor, survey_id=survey_id)
    changes = survey_in.model_dump(exclude_unset=True)
    if "touchpoint_id" in changes or "stage_id" in changes:
        _check_links(db_session, actor, survey_in.touchpoint_id, survey_in.stage_id)
        for name in ("touchpoint_id", "stage_id"):
            if name in changes:
                setattr(survey, name, changes[name])
    if survey_in.definition is not None:
        _set_draft(survey, parse_definition(survey_in.definition))
    db_session.flush()
    return survey


def publish_survey(*, db_session: Session, actor: Principal, survey_id: str) -> SurveyVersion:
    """Freeze the draft as the next version and start collecting answers with it."""
    require(actor, Permission.SURVEYS_WRITE)
    survey = get_survey(db_session=db_session, actor=actor, survey_id=survey_id)
    if survey.draft_definition is None:
        raise Conflict("nothing to publish: the survey has no changes since its last version")
    number = (survey.latest_version or 0) + 1
    version = SurveyVersion(
        workspace_id=survey.workspace_id,
        survey_id=survey.id,
        number=number,
        definition=survey.draft_definition,
        published_at=utcnow(),
    )
    db_session.add(version)
    survey.latest_version = number
    survey.draft_definition = None
    survey.status = SurveyStatus.ACTIVE.value
    db_session.flush()
    return version


def close_survey(*, db_session: Session, actor: Principal, survey_id: str) -> Survey:
    """Stop collecting answers; its links then answer "not found"."""
    require(actor, Permission.SURVEYS_WRITE)
    survey = get_survey(db_session=db_session, actor=actor, survey_id=survey_id)
    if survey.status == SurveyStatus.CLOSED.value:
        raise Conflict("the survey is already closed")
    survey.status = SurveyStatus.CLOSED.value
    db_session.flush()
    return survey


def list_versions(*, db_session: Session, actor: Principal, survey_id: str) -> list[SurveyVersion]:
    """Return the published versions of a survey, oldest first."""
    survey = get_survey(db_session=db_session, actor=actor, survey_id=survey_id)
    statement = select(SurveyVersion).where(SurveyVersion.survey_id == survey.id)
    return list(db_session.scalars(statement.order_by(SurveyVersion.number)))


def get_version(
    *, db_session: Session, actor: Principal, survey_id: str, number: int
) -> SurveyVersion:
    """Return one published version of a survey."""
    survey = get_survey(db_session=db_session, actor=actor, survey_id=survey_id)
    version = db_session.scalar(
        select(SurveyVersion).where(
            SurveyVersion.survey_id == survey.id, SurveyVersion.number == number
        )
    )
    if version is None:
        raise NotFound(f"survey {survey_id} has no version {number}")
    return version


def current_definition(
    *, db_session: Session, actor: Principal, survey_id: str, number: int | None = None
) -> SurveyDefinition:
    """Return a version's definition, or without a number the draft (else the latest version)."""
    survey = get_survey(db_session=db_session, actor=actor, survey_id=survey_id)
    if number is None and survey.draft_definition is not None:
        return SurveyDefinition.model_validate(survey.draft_definition)
    if number is None:
        number = survey.latest_version or 0
    version = get_version(db_session=db_session, actor=actor, survey_id=survey.id, number=number)
    return SurveyDefinition.model_validate(version.definition)


def _set_draft(survey: Survey, definition: SurveyDefinition) -> None:
    survey.name = definition.name
    survey.default_language = definition.default_language
    survey.languages = definition.all_languages()
    survey.draft_definition = definition.model_dump(mode="json", exclude_none=True)


def _check_links(
    db_session: Session, actor: Principal, touchpoint_id: str | None, stage_id: str | None
) -> None:
    if touchpoint_id is not None:
        touchpoint = db_session.get(Touchpoint, touchpoint_id)
        if touchpoint is None or touchpoint.workspace_id != actor.workspace_id:
            raise NotFound(f"touchpoint {touchpoint_id} not found")
    if stage_id is not None:
        stage = db_session.get(JourneyStage, stage_id)
        if stage is None or stage.workspace_id != actor.workspace_id:
            raise NotFound(f"journey stage {stage_id} not found")
