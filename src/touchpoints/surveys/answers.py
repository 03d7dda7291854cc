"""Reading a respondent's answers: branching, scale checks and localized texts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from touchpoints.surveys.definitions import (
    CHOICE_TYPES,
    Condition,
    Question,
    QuestionType,
    SurveyDefinition,
    Texts,
)

Answer = int | str | list[str] | dict[str, int]
FIELD_PREFIX = "q."
MAX_OPEN_TEXT = 5000


def localized(texts: Texts | None, language: str, default_language: str) -> str:
    """Return the text in the language, falling back to the default language."""
    if not texts:
        return ""
    return texts.get(language) or texts.get(default_language) or next(iter(texts.values()))


def condition_holds(condition: Condition, answers: Mapping[str, Any]) -> bool:
    """Tell whether an earlier answer satisfies a show_if condition (unanswered: no)."""
    answer = answers.get(condition.question)
    if answer is None:
        return False
    given = answer if isinstance(answer, list) else [answer]
    wanted = condition.value if isinstance(condition.value, list) else [condition.value]
    if condition.op == "eq":
        return any(a == condition.value for a in given)
    if condition.op == "ne":
        return all(a != condition.value for a in given)
    if condition.op == "in":
        return any(a in wanted for a in given)
    numbers = [a for a in given if isinstance(a, int | float)]
    bound = float(condition.value)  # type: ignore[arg-type]  # checked when the survey was saved
    if condition.op == "lte":
        return any(a <= bound for a in numbers)
    return any(a >= bound for a in numbers)


def is_shown(question: Question, answers: Mapping[str, Any]) -> bool:
    """Tell whether a question applies given the answers so far."""
    return question.show_if is None or condition_holds(question.show_if, answers)


def page_is_shown(definition: SurveyDefinition, index: int, answers: Mapping[str, Any]) -> bool:
    """Tell whether any question of a page may apply, judging by answers of earlier pages."""
    earlier = {q.id for p, q in definition.questions() if p < index}
    for question in definition.pages[index].questions:
        condition = question.show_if
        if condition is None or condition.question not in earlier:
            return True
        if condition_holds(condition, answers):
            return True
    return False


def next_page(definition: SurveyDefinition, after: int, answers: Mapping[str, Any]) -> int | None:
    """Return the index of the next page that applies after `after`, or None at the end."""
    for index in range(after + 1, len(definition.pages)):
        if page_is_shown(definition, index, answers):
            return index
    return None


def read_page(
    definition: SurveyDefinition,
    index: int,
    form: Mapping[str, Sequence[str]],
    earlier: Mapping[str, Any],
    *,
    require: bool,
) -> tuple[dict[str, Answer], dict[str, str]]:
    """Read one page's answers from form fields; return the answers and errors by question id."""
    page = definition.pages[index]
    errors = _unknown_fields(page.questions, form)
    answers: dict[str, Answer] = {}
    for question in page.questions:
        try:
            answer = _read_answer(question, form)
        except ValueError as exc:
            errors[question.id] = str(exc)
            continue
        if answer is not None:
            answers[question.id] = answer
    for question in page.questions:
        if not is_shown(question, {**earlier, **answers}):
            answers.pop(question.id, None)
            errors.pop(question.id, None)
        elif question.id in errors:
            continue
        elif require and question.required and question.id not in answers:
            errors[question.id] = "This question needs an answer."
    return answers, errors


def _unknown_fields(
    questions: Sequence[Question], form: Mapping[str, Sequence[str]]
) -> dict[str, str]:
    known = {q.id for q in questions}
    unknown = sorted(
        name[len(FIELD_PREFIX) :].split(".")[0]
        for name in form
        if name.startswith(FIELD_PREFIX) and name[len(FIELD_PREFIX) :].split(".")[0] not in known
    )
    return {name: f"There is no question '{name}' on this page." for name in unknown}


def _read_answer(question: Question, form: Mapping[str, Sequence[str]]) -> Answer | None:
    name = FIELD_PREFIX + question.id
    values = [v.strip() for v in form.get(name, []) if v.strip()]
    if question.type == QuestionType.MATRIX:
        return _read_matrix(question, form)
    if question.type == QuestionType.MULTIPLE_CHOICE:
        return _read_choices(question, values) or None
    if len(values) > 1:
        raise ValueError("Give one answer only.")
    if not values:
        return None
    if question.type in CHOICE_TYPES:
        return _read_choices(question, values)[0]
    if question.type == QuestionType.OPEN_TEXT:
        if len(values[0]) > MAX_OPEN_TEXT:
            raise ValueError(f"Keep the answer under {MAX_OPEN_TEXT:,} characters.")
        return values[0]
    return _read_score(question, values[0])


def _read_score(question: Question, value: str) -> int:
    low, high = question.scale() or (0, 0)
    message = f"Choose a whole number from {low} to {high}."
    try:
        score = int(value)
    except ValueError:
        raise ValueError(message) from None
    if not low <= score <= high:
        raise ValueError(message)
    return score


def _read_choices(question: Question, values: Sequence[str]) -> list[str]:
    allowed = {option.id for option in question.choices or []}
    if any(value not in allowed for value in values):
        raise ValueError("Choose one of the options shown.")
    return list(dict.fromkeys(values))


def _read_matrix(question: Question, form: Mapping[str, Sequence[str]]) -> dict[str, int] | None:
    scores: dict[str, int] = {}
    rows = {row.id for row in question.rows or []}
    prefix = f"{FIELD_PREFIX}{question.id}."
    for name in form:
        if name.startswith(prefix) and name[len(prefix) :] not in rows:
            raise ValueError("Answer only the rows shown.")
    for row in question.rows or []:
        values = [v.strip() for v in form.get(prefix + row.id, []) if v.strip()]
        if len(values) > 1:
            raise ValueError("Give one answer per row.")
        if values:
            scores[row.id] = _read_score(question, values[0])
    return scores or None
