"""Edit a survey as a YAML or JSON document: read it, save it as the draft, add questions."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.orm import Session

from touchpoints.auth.permissions import Permission, Principal, require
from touchpoints.errors import Conflict, InvalidInput
from touchpoints.journeys.models import JourneyStage, Touchpoint
from touchpoints.surveys.definitions import (
    CHOICE_TYPES,
    QuestionType,
    SurveyDefinition,
    dump_document,
    load_document,
    parse_definition,
)
from touchpoints.surveys.models import Survey, SurveyStatus, SurveyVersion
from touchpoints.surveys.schemas import DocumentFormat, SurveyCreate, SurveyUpdate
from touchpoints.surveys.service import (
    create_survey,
    get_survey,
    get_version,
    publish_survey,
    update_survey,
)

STARTER: dict[str, Any] = {
    "name": "New survey",
    "default_language": "en",
    "languages": ["en"],
    "title": {"en": "How did we do?"},
    "thank_you": {"en": "Thank you for your answers."},
    "pages": [
        {
            "questions": [
                {
                    "id": "nps",
                    "type": "nps",
                    "required": True,
                    "text": {"en": "How likely are you to recommend us to a friend?"},
                },
                {
                    "id": "why",
                    "type": "open_text",
                    "text": {"en": "What is the main reason for your score?"},
                },
            ]
        }
    ],
}
_PATH_PART = re.compile(r"^(pages|questions|choices|rows)\.(\d+)")


def starter_document(fmt: DocumentFormat = "yaml") -> str:
    """Return the document a new survey starts from: one NPS and one open question."""
    return dump_document(SurveyDefinition.model_validate(STARTER), fmt)


def read_definition(text: str, fmt: DocumentFormat) -> SurveyDefinition:
    """Read and validate a YAML or JSON document; raise InvalidInput naming what is wrong."""
    if not text.strip():
        raise InvalidInput("definition", "the definition is empty; start from the example")
    document = load_document(text, fmt)
    if not isinstance(document, dict):
        raise InvalidInput("definition", f"the {fmt.upper()} document must be a mapping of fields")
    return parse_definition(document)


def field_label(path: str, document: Any = None) -> str:
    """Describe a definition field for people: `pages.0.questions.1.text` is page 1, question 2.

    With the document as read, a question or option is also named by its id.
    """
    words = []
    rest = path
    node = document
    while match := _PATH_PART.match(rest):
        kind, index = match.group(1), int(match.group(2))
        node = _child(node, kind, index)
        known = node.get("id") if isinstance(node, dict) and kind != "pages" else None
        words.append(f"{kind.rstrip('s')} {index + 1}" + (f" ({known})" if known else ""))
        rest = rest[match.end() :].lstrip(".")
    if rest:
        words.append(rest.replace("_", " ").replace(".", " "))
    return ", ".join(words) or path


def _child(node: Any, kind: str, index: int) -> Any:
    items = node.get(kind) if isinstance(node, dict) else None
    return items[index] if isinstance(items, list) and 0 <= index < len(items) else None


def describe_problem(problem: InvalidInput, text: str, fmt: DocumentFormat) -> str:
    """Write a definition problem for people, naming the page, question and field."""
    try:
        document = load_document(text, fmt)
    except InvalidInput:
        document = None
    if problem.field in ("body", "definition"):
        return problem.reason
    return f"{field_label(problem.field, document)}: {problem.reason}"


def check_places(
    db_session: Session, actor: Principal, touchpoint_id: str | None, stage_id: str | None
) -> None:
    """Refuse a touchpoint or stage that is not in the caller's workspace, naming the field."""
    if touchpoint_id is not None:
        touchpoint = db_session.get(Touchpoint, touchpoint_id)
        if touchpoint is None or touchpoint.workspace_id != actor.workspace_id:
            raise InvalidInput("touchpoint_id", "choose a touchpoint of this workspace")
    if stage_id is not None:
        stage = db_session.get(JourneyStage, stage_id)
        if stage is None or stage.workspace_id != actor.workspace_id:
            raise InvalidInput("stage_id", "choose a journey stage of this workspace")


def save_draft(
    *,
    db_session: Session,
    actor: Principal,
    survey_id: str | None,
    text: str,
    fmt: DocumentFormat,
    touchpoint_id: str | None,
    stage_id: str | None,
) -> Survey:
    """Check everything first, then store the document as a new survey or as a survey's draft."""
    require(actor, Permission.SURVEYS_WRITE)
    definition = read_definition(text, fmt)
    check_places(db_session, actor, touchpoint_id, stage_id)
    document = definition.model_dump(mode="json", exclude_none=True)
    if survey_id is None:
        survey_in = SurveyCreate(
            definition=document, touchpoint_id=touchpoint_id, stage_id=stage_id
        )
        return create_survey(db_session=db_session, actor=actor, survey_in=survey_in)
    update = SurveyUpdate(definition=document, touchpoint_id=touchpoint_id, stage_id=stage_id)
    return update_survey(db_session=db_session, actor=actor, survey_id=survey_id, survey_in=update)


def publish_document(
    *,
    db_session: Session,
    actor: Principal,
    survey_id: str | None,
    text: str,
    fmt: DocumentFormat,
    touchpoint_id: str | None,
    stage_id: str | None,
) -> SurveyVersion:
    """Save the document as the draft and publish it as the next version, in one step.

    A document identical to the latest version of an active survey is refused before anything
    is saved: a new version would change nothing for respondents. A closed survey reopens.
    """
    require(actor, Permission.SURVEYS_WRITE)
    definition = read_definition(text, fmt)
    if survey_id is not None:
        survey = get_survey(db_session=db_session, actor=actor, survey_id=survey_id)
        if survey.latest_version and survey.status == SurveyStatus.ACTIVE.value:
            latest = get_version(
                db_session=db_session,
                actor=actor,
                survey_id=survey.id,
                number=survey.latest_version,
            )
            if latest.definition == definition.model_dump(mode="json", exclude_none=True):
                number = survey.latest_version
                raise Conflict(f"nothing to publish: the document is version {number} unchanged")
    survey = save_draft(
        db_session=db_session,
        actor=actor,
        survey_id=survey_id,
        text=text,
        fmt=fmt,
        touchpoint_id=touchpoint_id,
        stage_id=stage_id,
    )
    return publish_survey(db_session=db_session, actor=actor, survey_id=survey.id)


# Where a problem with a new question is shown on the question form.
QUESTION_FIELDS = {
    "id": "question_id",
    "type": "question_type",
    "text": "question_text",
    "choices": "question_options",
    "rows": "question_options",
    "question": "show_if_question",
    "op": "show_if_question",
    "value": "show_if_value",
}


def question_skeleton(
    *,
    question_type: str,
    question_id: str,
    question_text: str,
    language: str,
    required: bool = False,
    options: list[str] | None = None,
    show_if: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Build a question of any type from a few form fields; options are one label each."""
    try:
        kind = QuestionType(question_type)
    except ValueError:
        raise InvalidInput("question_type", f"unknown question type {question_type!r}") from None
    if not question_text.strip():
        raise InvalidInput("question_text", "write the question")
    question: dict[str, Any] = {"id": question_id.strip(), "type": kind.value}
    question["text"] = {language: question_text.strip()}
    if required:
        question["required"] = True
    if show_if:
        question["show_if"] = show_if
    labels = [label.strip() for label in options or [] if label.strip()]
    if kind in CHOICE_TYPES or kind == QuestionType.MATRIX:
        if not labels:
            raise InvalidInput("question_options", "list the options, one per line")
        key = "rows" if kind == QuestionType.MATRIX else "choices"
        question[key] = [
            {"id": _option_id(label, number), "text": {language: label}}
            for number, label in enumerate(labels, 1)
        ]
    return question


def _option_id(label: str, number: int) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")[:40]
    return slug if slug and slug[0].isalpha() else f"option_{number}"


def add_question(text: str, fmt: DocumentFormat, *, new_page: bool, **question_fields: Any) -> str:
    """Append a question to the document's last page (or a new page); return the new document.

    `question_fields` are question_skeleton's arguments but the language, which is the
    document's default language.
    """
    definition = read_definition(text, fmt)
    question = question_skeleton(language=definition.default_language, **question_fields)
    document = definition.model_dump(mode="json", exclude_none=True)
    if new_page:
        document["pages"].append({"questions": [question]})
    else:
        document["pages"][-1]["questions"].append(question)
    try:
        updated = parse_definition(document)
    except InvalidInput as problem:
        parts = problem.field.split(".")
        field = next((QUESTION_FIELDS[p] for p in reversed(parts) if p in QUESTION_FIELDS), None)
        raise InvalidInput(field or "question_id", problem.reason) from None
    return dump_document(updated, fmt)
