"""Routes for surveys: CRUD of drafts, publishing, closing, import/export and public links."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from touchpoints.api.deps import ActorDep, ListParamsDep, SessionDep, client_address
from touchpoints.api.listing import Page
from touchpoints.api.writes import WriteRequestDep, respond
from touchpoints.audit.actions import AuditAction
from touchpoints.audit.service import record_change
from touchpoints.auth.permissions import Principal
from touchpoints.surveys import links, service
from touchpoints.surveys.definitions import dump_document, load_document
from touchpoints.surveys.models import Survey
from touchpoints.surveys.schemas import (
    DocumentFormat,
    SurveyCreate,
    SurveyLinkCreate,
    SurveyLinkRead,
    SurveyRead,
    SurveyUpdate,
    SurveyVersionRead,
)

router = APIRouter(prefix="/surveys", tags=["surveys"])
MEDIA_TYPES = {"yaml": "application/yaml", "json": "application/json"}
FormatQuery = Annotated[DocumentFormat, Query(description="Document format: yaml or json.")]


async def _raw_body(request: Request) -> bytes:
    return await request.body()


def _audit(
    session: Session, actor: Principal, request: Request, action: AuditAction, survey: Survey
) -> None:
    record_change(
        db_session=session,
        actor=actor,
        action=action,
        object_type="survey",
        object_id=survey.id,
        details={"name": survey.name, "version": survey.latest_version},
        ip_address=client_address(request),
    )


@router.get("", response_model=Page[SurveyRead], summary="List surveys")
def list_surveys(session: SessionDep, actor: ActorDep, params: ListParamsDep) -> Page[SurveyRead]:
    """List surveys; filterable and sortable by name, status, touchpoint_id, stage_id, dates."""
    items, total = service.list_surveys(db_session=session, actor=actor, params=params)
    return Page(
        items=[SurveyRead.model_validate(i) for i in items],
        total=total,
        limit=params.limit,
        offset=params.offset,
    )


@router.post("", response_model=SurveyRead, status_code=201, summary="Create a survey")
def create_survey(
    body: SurveyCreate,
    session: SessionDep,
    actor: ActorDep,
    write: WriteRequestDep,
    request: Request,
) -> JSONResponse:
    """Add a draft survey from a definition (admins and analysts); publish it to collect answers."""

    def create() -> SurveyRead:
        survey = service.create_survey(db_session=session, actor=actor, survey_in=body)
        _audit(session, actor, request, AuditAction.SURVEY_CREATED, survey)
        return SurveyRead.model_validate(survey)

    return respond(write, db_session=session, actor=actor, status_code=201, write=create)


@router.post(
    "/import",
    response_model=SurveyRead,
    status_code=201,
    summary="Import a survey from YAML or JSON",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {media: {"schema": {"type": "string"}} for media in MEDIA_TYPES.values()},
        }
    },
)
def import_survey(
    session: SessionDep,
    actor: ActorDep,
    write: WriteRequestDep,
    request: Request,
    document: Annotated[bytes, Depends(_raw_body)],
    format: FormatQuery = "yaml",
) -> JSONResponse:
    """Create a draft survey from a definition document, as exported by the export route."""

    def create() -> SurveyRead:
        survey_in = SurveyCreate(definition=load_document(document, format))
        survey = service.create_survey(db_session=session, actor=actor, survey_in=survey_in)
        _audit(session, actor, request, AuditAction.SURVEY_CREATED, survey)
        return SurveyRead.model_validate(survey)

    return respond(write, db_session=session, actor=actor, status_code=201, write=create)


@router.get("/{survey_id}", response_model=SurveyRead, summary="Read a survey")
def read_survey(survey_id: str, session: SessionDep, actor: ActorDep) -> SurveyRead:
    """Return one survey with its draft (if any) and latest version number."""
    survey = service.get_survey(db_session=session, actor=actor, survey_id=survey_id)
    return SurveyRead.model_validate(survey)


@router.patch("/{survey_id}", response_model=SurveyRead, summary="Edit a survey")
def update_survey(
    survey_id: str, body: SurveyUpdate, session: SessionDep, actor: ActorDep
) -> SurveyRead:
    """Change the draft (the next version), touchpoint or stage; versions stay as they are."""
    survey = service.update_survey(
        db_session=session, actor=actor, survey_id=survey_id, survey_in=body
    )
    return SurveyRead.model_validate(survey)


@router.post(
    "/{survey_id}/publish",
    response_model=SurveyVersionRead,
    status_code=201,
    summary="Publish the draft as a new version",
)
def publish_survey(
    survey_id: str, session: SessionDep, actor: ActorDep, write: WriteRequestDep, request: Request
) -> JSONResponse:
    """Freeze the draft as the next version and make the survey active."""

    def publish() -> SurveyVersionRead:
        version = service.publish_survey(db_session=session, actor=actor, survey_id=survey_id)
        survey = service.get_survey(db_session=session, actor=actor, survey_id=survey_id)
        _audit(session, actor, request, AuditAction.SURVEY_PUBLISHED, survey)
        return SurveyVersionRead.model_validate(version)

    return respond(write, db_session=session, actor=actor, status_code=201, write=publish)


@router.post("/{survey_id}/close", response_model=SurveyRead, summary="Close a survey")
def close_survey(
    survey_id: str, session: SessionDep, actor: ActorDep, write: WriteRequestDep, request: Request
) -> JSONResponse:
    """Stop collecting answers; its public links then answer "not found"."""

    def close() -> SurveyRead:
        survey = service.close_survey(db_session=session, actor=actor, survey_id=survey_id)
        _audit(session, actor, request, AuditAction.SURVEY_CLOSED, survey)
        return SurveyRead.model_validate(survey)

    return respond(write, db_session=session, actor=actor, status_code=200, write=close)


@router.get(
    "/{survey_id}/versions",
    response_model=list[SurveyVersionRead],
    summary="List a survey's versions",
)
def list_versions(survey_id: str, session: SessionDep, actor: ActorDep) -> list[SurveyVersionRead]:
    """Return every published version, oldest first."""
    versions = service.list_versions(db_session=session, actor=actor, survey_id=survey_id)
    return [SurveyVersionRead.model_validate(v) for v in versions]


@router.get(
    "/{survey_id}/versions/{number}",
    response_model=SurveyVersionRead,
    summary="Read one version of a survey",
)
def read_version(
    survey_id: str, number: int, session: SessionDep, actor: ActorDep
) -> SurveyVersionRead:
    """Return a published version's definition as respondents saw it."""
    version = service.get_version(
        db_session=session, actor=actor, survey_id=survey_id, number=number
    )
    return SurveyVersionRead.model_validate(version)


@router.get(
    "/{survey_id}/export",
    summary="Export a survey as YAML or JSON",
    response_class=Response,
    responses={200: {"content": {m: {} for m in MEDIA_TYPES.values()}}},
)
def export_survey(
    survey_id: str,
    session: SessionDep,
    actor: ActorDep,
    format: FormatQuery = "yaml",
    version: Annotated[
        int | None, Query(description="A published version; leave out for the draft or latest.")
    ] = None,
) -> Response:
    """Return the definition document, ready for POST /surveys/import."""
    definition = service.current_definition(
        db_session=session, actor=actor, survey_id=survey_id, number=version
    )
    return Response(dump_document(definition, format), media_type=MEDIA_TYPES[format])


@router.post(
    "/{survey_id}/links",
    response_model=SurveyLinkRead,
    status_code=201,
    summary="Create a public link",
)
def create_link(
    survey_id: str,
    body: SurveyLinkCreate,
    session: SessionDep,
    actor: ActorDep,
    write: WriteRequestDep,
) -> JSONResponse:
    """Add an anonymous link respondents open at /s/{token}, tagged with its channel."""

    def create() -> SurveyLinkRead:
        link = links.create_link(db_session=session, actor=actor, survey_id=survey_id, link_in=body)
        return links.link_read(link)

    return respond(write, db_session=session, actor=actor, status_code=201, write=create)


@router.get("/{survey_id}/links", response_model=list[SurveyLinkRead], summary="List public links")
def list_links(survey_id: str, session: SessionDep, actor: ActorDep) -> list[SurveyLinkRead]:
    """Return a survey's public links."""
    found = links.list_links(db_session=session, actor=actor, survey_id=survey_id)
    return [links.link_read(link) for link in found]
