"""Survey definitions: the question model, its validation, and YAML/JSON import and export."""

from __future__ import annotations

import json
from collections.abc import Iterator
from enum import StrEnum
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from touchpoints.errors import InvalidInput

Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")]
Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
# A text per language, e.g. {"en": "How was it?", "fr": "Comment était-ce ?"}.
Texts = dict[Language, Text]
MAX_DOCUMENT_BYTES = 512 * 1024


class QuestionType(StrEnum):
    """The kinds of question a survey can ask."""

    NPS = "nps"
    CSAT = "csat"
    CES = "ces"
    RATING = "rating"
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    MATRIX = "matrix"
    OPEN_TEXT = "open_text"


FIXED_SCALES = {QuestionType.NPS: (0, 10), QuestionType.CSAT: (1, 5), QuestionType.CES: (1, 7)}
CHOICE_TYPES = {QuestionType.SINGLE_CHOICE, QuestionType.MULTIPLE_CHOICE}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Condition(_Strict):
    """Show a question only when an earlier answer compares so to a value."""

    question: Identifier
    op: Literal["eq", "ne", "lte", "gte", "in"]
    value: int | float | str | list[int | str]


class Option(_Strict):
    """A choice of a choice question, or a row of a matrix."""

    id: Identifier
    text: Texts


class Question(_Strict):
    """One question with its texts, scale or options, and optional branching condition."""

    id: Identifier
    type: QuestionType
    text: Texts
    help: Texts | None = None
    required: bool = False
    show_if: Condition | None = None
    choices: list[Option] | None = None
    rows: list[Option] | None = None
    scale_max: int | None = Field(default=None, ge=2, le=10)

    def scale(self) -> tuple[int, int] | None:
        """Return the lowest and highest allowed score, or None for a non-scale question."""
        if self.type in FIXED_SCALES:
            return FIXED_SCALES[self.type]
        if self.type in (QuestionType.RATING, QuestionType.MATRIX):
            return (1, self.scale_max or 5)
        return None


class SurveyPage(_Strict):
    """A group of questions shown together."""

    title: Texts | None = None
    questions: list[Question] = Field(min_length=1)


class SurveyDefinition(_Strict):
    """The whole questionnaire: name, languages, texts and pages of questions."""

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    default_language: Language = "en"
    languages: list[Language] = Field(default_factory=list)
    title: Texts
    intro: Texts | None = None
    thank_you: Texts | None = None
    pages: list[SurveyPage] = Field(min_length=1, max_length=50)

    def questions(self) -> Iterator[tuple[int, Question]]:
        """Yield every question with the index of its page, in order."""
        for index, page in enumerate(self.pages):
            for question in page.questions:
                yield index, question

    def question(self, question_id: str) -> Question | None:
        """Return the question with this id, if any."""
        return next((q for _, q in self.questions() if q.id == question_id), None)

    def all_languages(self) -> list[str]:
        """Return the default language first, then the others."""
        return [self.default_language, *(x for x in self.languages if x != self.default_language)]


def parse_definition(document: Any) -> SurveyDefinition:
    """Validate a definition document; raise InvalidInput naming the first wrong field."""
    if isinstance(document, dict) and "questions" in document and "pages" not in document:
        document = {**document, "pages": [{"questions": document["questions"]}]}
        del document["questions"]
    try:
        definition = SurveyDefinition.model_validate(document)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"]) or "definition"
        raise InvalidInput(field, error["msg"]) from None
    _check_languages(definition)
    _check_questions(definition)
    return definition


def _texts_of(definition: SurveyDefinition) -> Iterator[tuple[str, Texts | None]]:
    yield "title", definition.title
    yield "intro", definition.intro
    yield "thank_you", definition.thank_you
    for p, page in enumerate(definition.pages):
        yield f"pages.{p}.title", page.title
        for q, question in enumerate(page.questions):
            at = f"pages.{p}.questions.{q}"
            yield f"{at}.text", question.text
            yield f"{at}.help", question.help
            for kind in ("choices", "rows"):
                for o, option in enumerate(getattr(question, kind) or []):
                    yield f"{at}.{kind}.{o}.text", option.text


def _check_languages(definition: SurveyDefinition) -> None:
    known = set(definition.all_languages())
    for field, texts in _texts_of(definition):
        if texts is None:
            continue
        if definition.default_language not in texts:
            reason = f"needs a text in the default language '{definition.default_language}'"
            raise InvalidInput(field, reason)
        extra = sorted(set(texts) - known)
        if extra:
            raise InvalidInput(field, f"language {extra[0]} is not listed in `languages`")


def _check_questions(definition: SurveyDefinition) -> None:
    seen: dict[str, Question] = {}
    for p, page in enumerate(definition.pages):
        for q, question in enumerate(page.questions):
            at = f"pages.{p}.questions.{q}"
            if question.id in seen:
                raise InvalidInput(f"{at}.id", f"question id '{question.id}' is used twice")
            _check_options(question, at)
            if question.show_if is not None:
                _check_condition(question.show_if, seen, f"{at}.show_if")
            seen[question.id] = question


def _check_options(question: Question, at: str) -> None:
    wants = {
        "choices": question.type in CHOICE_TYPES,
        "rows": question.type == QuestionType.MATRIX,
    }
    for kind, wanted in wants.items():
        options = getattr(question, kind)
        if wanted and not options:
            raise InvalidInput(f"{at}.{kind}", f"a {question.type.value} question needs {kind}")
        if not wanted and options is not None:
            raise InvalidInput(f"{at}.{kind}", f"a {question.type.value} question has no {kind}")
        ids = [option.id for option in options or []]
        if len(ids) != len(set(ids)):
            raise InvalidInput(f"{at}.{kind}", "every option needs its own id")
    if question.scale_max is not None and question.type not in (
        QuestionType.RATING,
        QuestionType.MATRIX,
    ):
        raise InvalidInput(f"{at}.scale_max", "only rating and matrix questions set scale_max")


def _check_condition(condition: Condition, earlier: dict[str, Question], at: str) -> None:
    if condition.question not in earlier:
        reason = f"refers to '{condition.question}', which is not an earlier question"
        raise InvalidInput(f"{at}.question", reason)
    if condition.op == "in" and not isinstance(condition.value, list):
        raise InvalidInput(f"{at}.value", "the `in` operator needs a list of values")
    if condition.op in ("lte", "gte") and not isinstance(condition.value, int | float):
        raise InvalidInput(f"{at}.value", f"the `{condition.op}` operator needs a number")


def load_document(text: bytes | str, fmt: str) -> Any:
    """Read a YAML or JSON survey document; raise InvalidInput when it cannot be read."""
    if len(text) > MAX_DOCUMENT_BYTES:
        raise InvalidInput("body", f"the document is larger than {MAX_DOCUMENT_BYTES} bytes")
    try:
        if fmt == "json":
            return json.loads(text)
        return yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise InvalidInput("body", f"not valid {fmt.upper()}: {exc}") from None


def dump_document(definition: SurveyDefinition, fmt: str) -> str:
    """Write a definition as YAML or JSON, leaving out fields that keep their defaults."""
    document = definition.model_dump(mode="json", exclude_none=True)
    if fmt == "json":
        return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    dumped: str = yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
    return dumped
