"""The survey builder: edit the draft as YAML or JSON, add questions, preview, save, publish."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from touchpoints.api.deps import SessionDep
from touchpoints.audit.actions import AuditAction
from touchpoints.auth.permissions import Permission, require
from touchpoints.errors import Conflict, InvalidInput
from touchpoints.surveys import drafts
from touchpoints.surveys.definitions import MAX_DOCUMENT_BYTES, QuestionType, dump_document
from touchpoints.surveys.models import Survey
from touchpoints.surveys.schemas import DocumentFormat
from touchpoints.surveys.service import close_survey, current_definition, get_survey, list_versions
from touchpoints.web.deps import WebCallerDep
from touchpoints.web.pages.surveys_common import (
    audit_survey,
    blank_to_none,
    places,
    problem_field,
    survey_tabs,
)
from touchpoints.web.pages.surveys_preview import preview_context, show_preview
from touchpoints.web.rendering import render
from touchpoints.web.sessions import WebCaller

router = APIRouter()
FORMATS: tuple[DocumentFormat, ...] = ("yaml", "json")
MEDIA_TYPES = {"yaml": "application/yaml", "json": "application/json"}
NOTICES = {
    "saved": "The draft is saved. Publish it to let respondents answer it.",
    "published": "Published: respondents now answer the new version.",
    "closed": "The survey is closed: its links no longer take answers.",
}


@dataclass
class BuilderForm:
    """The builder form as posted: the document, its links, and the add-a-question fields."""

    document: str = ""
    format: str = "yaml"
    touchpoint_id: str = ""
    stage_id: str = ""
    action: str = "save"
    preview_page: str = "1"
    preview_lang: str = ""
    question_type: str = "nps"
    question_id: str = ""
    question_text: str = ""
    question_required: str = ""
    question_options: str = ""
    show_if_question: str = ""
    show_if_op: str = "eq"
    show_if_value: str = ""
    new_page: str = ""

    @property
    def fmt(self) -> DocumentFormat:
        """Return the document format, YAML unless JSON was chosen."""
        return "json" if self.format == "json" else "yaml"

    def show_if(self) -> dict[str, Any] | None:
        """Return the new question's branching condition, if one was given."""
        if not self.show_if_question.strip():
            return None
        raw = [part.strip() for part in self.show_if_value.split(",") if part.strip()]
        values = [int(part) if part.lstrip("-").isdigit() else part for part in raw]
        if self.show_if_op == "in":
            return {"question": self.show_if_question.strip(), "op": "in", "value": values}
        if len(values) != 1:
            raise InvalidInput("show_if_value", "give the one answer the condition compares to")
        return {
            "question": self.show_if_question.strip(),
            "op": self.show_if_op,
            "value": values[0],
        }


async def _builder_form(request: Request) -> BuilderForm:
    form = await request.form()
    names = BuilderForm.__dataclass_fields__
    return BuilderForm(**{k: str(v) for k, v in form.items() if k in names})


BuilderFormDep = Annotated[BuilderForm, Depends(_builder_form)]


def _builder(
    request: Request,
    session: Session,
    caller: WebCaller,
    survey: Survey | None,
    form: BuilderForm,
    *,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    can_write = caller.principal.can(Permission.SURVEYS_WRITE)
    versions = (
        list_versions(db_session=session, actor=caller.principal, survey_id=survey.id)
        if survey
        else []
    )
    return render(
        request,
        session,
        caller,
        "surveys/builder.html",
        title=f"Edit {survey.name}" if survey else "New survey",
        status_code=status_code,
        survey=survey,
        tabs=survey_tabs(survey.id) if survey else [],
        form=form,
        errors=errors or {},
        notice=notice,
        can_write=can_write,
        versions=versions,
        formats=FORMATS,
        question_types=[t.value for t in QuestionType],
        **places(session, caller),
        **preview_context(request, form.document, form.fmt, form.preview_page, form.preview_lang),
    )


def _saved_form(
    session: Session, caller: WebCaller, survey: Survey, fmt: DocumentFormat
) -> BuilderForm:
    definition = current_definition(db_session=session, actor=caller.principal, survey_id=survey.id)
    return BuilderForm(
        document=dump_document(definition, fmt),
        format=fmt,
        touchpoint_id=survey.touchpoint_id or "",
        stage_id=survey.stage_id or "",
    )


@router.get("/surveys/new")
def new_survey(
    request: Request, caller: WebCallerDep, session: SessionDep, format: str = "yaml"
) -> HTMLResponse:
    """Start a survey from an example definition (admins and analysts)."""
    require(caller.principal, Permission.SURVEYS_WRITE)
    fmt: DocumentFormat = "json" if format == "json" else "yaml"
    form = BuilderForm(document=drafts.starter_document(fmt), format=fmt)
    return _builder(request, session, caller, None, form)


@router.get("/surveys/{survey_id}/edit")
def edit_survey(
    request: Request,
    survey_id: str,
    caller: WebCallerDep,
    session: SessionDep,
    format: str = "yaml",
) -> HTMLResponse:
    """Show a survey's draft (or latest version) in the builder; read-only without surveys:write."""
    survey = get_survey(db_session=session, actor=caller.principal, survey_id=survey_id)
    form = _saved_form(session, caller, survey, "json" if format == "json" else "yaml")
    notice = NOTICES.get(request.query_params.get("done", ""))
    return _builder(request, session, caller, survey, form, notice=notice)


@router.post("/surveys/new", response_model=None)
def create_from_builder(
    request: Request, caller: WebCallerDep, session: SessionDep, form: BuilderFormDep
) -> Response:
    """Add the question, refresh the preview, or save (and publish) a new survey."""
    return _act(request, session, caller, None, form)


@router.post("/surveys/{survey_id}/edit", response_model=None)
def save_from_builder(
    request: Request,
    survey_id: str,
    caller: WebCallerDep,
    session: SessionDep,
    form: BuilderFormDep,
) -> Response:
    """Add the question, refresh the preview, or save (and publish) the survey's draft."""
    survey = get_survey(db_session=session, actor=caller.principal, survey_id=survey_id)
    return _act(request, session, caller, survey, form)


def _act(
    request: Request, session: Session, caller: WebCaller, survey: Survey | None, form: BuilderForm
) -> Response:
    require(caller.principal, Permission.SURVEYS_WRITE)
    if form.action == "preview":
        return _builder(request, session, caller, survey, form)
    if form.action == "add_question":
        return _add_question(request, session, caller, survey, form)
    try:
        saved = _save(request, session, caller, survey, form)
    except InvalidInput as problem:
        reason = drafts.describe_problem(problem, form.document, form.fmt)
        errors = {
            problem_field(problem): reason
            if problem_field(problem) == "document"
            else problem.reason
        }
        return _builder(request, session, caller, survey, form, errors=errors, status_code=422)
    except Conflict as problem:
        errors = {"document": problem.detail}
        return _builder(request, session, caller, survey, form, errors=errors, status_code=409)
    done = "published" if form.action == "publish" else "saved"
    return RedirectResponse(f"/surveys/{saved.id}/edit?done={done}", status_code=303)


def _save(
    request: Request, session: Session, caller: WebCaller, survey: Survey | None, form: BuilderForm
) -> Survey:
    arguments: dict[str, Any] = {
        "db_session": session,
        "actor": caller.principal,
        "survey_id": survey.id if survey else None,
        "text": form.document,
        "fmt": form.fmt,
        "touchpoint_id": blank_to_none(form.touchpoint_id),
        "stage_id": blank_to_none(form.stage_id),
    }
    if form.action == "publish":
        version = drafts.publish_document(**arguments)
        saved = get_survey(db_session=session, actor=caller.principal, survey_id=version.survey_id)
        if survey is None:
            audit_survey(session, caller, request, AuditAction.SURVEY_CREATED, saved)
        audit_survey(session, caller, request, AuditAction.SURVEY_PUBLISHED, saved)
        return saved
    saved = drafts.save_draft(**arguments)
    if survey is None:
        audit_survey(session, caller, request, AuditAction.SURVEY_CREATED, saved)
    return saved


def _add_question(
    request: Request, session: Session, caller: WebCaller, survey: Survey | None, form: BuilderForm
) -> HTMLResponse:
    try:
        document = drafts.add_question(
            form.document,
            form.fmt,
            new_page=bool(form.new_page),
            question_type=form.question_type,
            question_id=form.question_id,
            question_text=form.question_text,
            required=bool(form.question_required),
            options=form.question_options.splitlines(),
            show_if=form.show_if(),
        )
    except InvalidInput as problem:
        field = problem_field(problem)
        reason = (
            drafts.describe_problem(problem, form.document, form.fmt)
            if field == "document"
            else problem.reason
        )
        return _builder(
            request, session, caller, survey, form, errors={field: reason}, status_code=422
        )
    added = BuilderForm(
        **(
            asdict(form)
            | {
                "document": document,
                "question_id": "",
                "question_text": "",
                "question_options": "",
                "show_if_question": "",
                "show_if_value": "",
            }
        )
    )
    added_id = form.question_id.strip()
    notice = f"Question '{added_id}' is added to the editor below. Save the draft to keep it."
    return _builder(request, session, caller, survey, added, notice=notice)


@router.post("/surveys/{survey_id}/close", response_model=None)
def close_from_builder(
    request: Request, survey_id: str, caller: WebCallerDep, session: SessionDep
) -> Response:
    """Stop collecting answers (admins and analysts)."""
    try:
        survey = close_survey(db_session=session, actor=caller.principal, survey_id=survey_id)
    except Conflict as problem:
        survey = get_survey(db_session=session, actor=caller.principal, survey_id=survey_id)
        form = _saved_form(session, caller, survey, "yaml")
        return _builder(
            request,
            session,
            caller,
            survey,
            form,
            errors={"close": problem.detail},
            status_code=409,
        )
    audit_survey(session, caller, request, AuditAction.SURVEY_CLOSED, survey)
    return RedirectResponse(f"/surveys/{survey.id}/edit?done=closed", status_code=303)


@router.post("/surveys/load", response_model=None)
def load_file(
    request: Request,
    caller: WebCallerDep,
    session: SessionDep,
    file: Annotated[UploadFile | None, File()] = None,
    survey_id: Annotated[str, Form()] = "",
) -> Response:
    """Put a YAML or JSON file into the builder's editor; nothing is saved until Save."""
    require(caller.principal, Permission.SURVEYS_WRITE)
    survey = (
        get_survey(db_session=session, actor=caller.principal, survey_id=survey_id)
        if survey_id
        else None
    )
    name = (file.filename or "") if file else ""
    fmt: DocumentFormat = "json" if name.lower().endswith(".json") else "yaml"
    content = file.file.read(MAX_DOCUMENT_BYTES + 1) if file else b""
    if survey is not None:
        form = _saved_form(session, caller, survey, fmt)
    else:
        form = BuilderForm(document=drafts.starter_document(fmt), format=fmt)
    text = ""
    try:
        if not content:
            raise InvalidInput("file", "choose a .yaml, .yml or .json file exported from a survey")
        text = content.decode("utf-8")
        drafts.read_definition(text, fmt)
    except UnicodeDecodeError:
        errors = {"file": "the file is not UTF-8 text; export it again as YAML or JSON"}
        return _builder(request, session, caller, survey, form, errors=errors, status_code=422)
    except InvalidInput as problem:
        reason = (
            problem.reason
            if problem.field in ("file", "body")
            else drafts.describe_problem(problem, text, fmt)
        )
        return _builder(
            request, session, caller, survey, form, errors={"file": reason}, status_code=422
        )
    loaded = BuilderForm(**(asdict(form) | {"document": text, "format": fmt}))
    notice = f"{name} is in the editor. Check the preview, then save the draft to keep it."
    return _builder(request, session, caller, survey, loaded, notice=notice)


@router.post("/surveys/preview")
def live_preview(
    request: Request, caller: WebCallerDep, session: SessionDep, form: BuilderFormDep
) -> Response:
    """Render the respondent page of the document being edited (HTMX); nothing is recorded."""
    require(caller.principal, Permission.SURVEYS_READ)
    return show_preview(request, form.document, form.fmt, form.preview_page, form.preview_lang)


@router.get("/surveys/{survey_id}/export")
def export_survey(
    survey_id: str,
    caller: WebCallerDep,
    session: SessionDep,
    format: str = "yaml",
    version: int | None = None,
) -> Response:
    """Download the survey's draft, latest or a given version as a YAML or JSON file."""
    fmt: DocumentFormat = "json" if format == "json" else "yaml"
    survey = get_survey(db_session=session, actor=caller.principal, survey_id=survey_id)
    definition = current_definition(
        db_session=session, actor=caller.principal, survey_id=survey.id, number=version
    )
    suffix = f"-v{version}" if version else ""
    filename = f"survey-{survey.id}{suffix}.{fmt}"
    return Response(
        dump_document(definition, fmt),
        media_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
