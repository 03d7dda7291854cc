"""What the respondent pages show: language choice, interface texts and question views."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fastapi import Request

from touchpoints.surveys.answers import FIELD_PREFIX, is_shown, localized
from touchpoints.surveys.definitions import (
    CHOICE_TYPES,
    Question,
    QuestionType,
    SurveyDefinition,
    Texts,
)
from touchpoints.surveys.responses import Attempt

UI_TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "next": "Next",
        "finish": "Send my answers",
        "save_later": "Save and finish later",
        "progress": "Page {page} of {pages}",
        "required": "required",
        "if_applies": "Answer this only if it applies to your answer above.",
        "fix_errors": "Please check these answers",
        "saved": "Your answers are saved. To finish later, come back to this address:",
        "thanks": "Thank you for your answers.",
        "not_found": "This survey is not available",
        "not_found_detail": "The link may be mistyped, or the survey no longer takes answers.",
        "too_many": "Too many attempts",
        "too_many_detail": "Please wait {seconds} seconds, then send the page again.",
        "form_expired": "Page expired",
        "form_expired_detail": "Open the survey link again and resend your answers.",
        "nps_low": "0 = not at all likely",
        "nps_high": "10 = extremely likely",
        "scale_low": "{low} = lowest",
        "scale_high": "{high} = highest",
    },
    "fr": {
        "next": "Suivant",
        "finish": "Envoyer mes réponses",
        "save_later": "Enregistrer et finir plus tard",
        "progress": "Page {page} sur {pages}",
        "required": "obligatoire",
        "if_applies": "Répondez seulement si cela concerne votre réponse précédente.",
        "fix_errors": "Merci de vérifier ces réponses",
        "saved": "Vos réponses sont enregistrées. Pour finir plus tard, revenez à cette adresse :",
        "thanks": "Merci pour vos réponses.",
        "not_found": "Ce questionnaire n'est pas disponible",
        "not_found_detail": "Le lien est peut-être erroné, ou le questionnaire est clos.",
        "too_many": "Trop de tentatives",
        "too_many_detail": "Patientez {seconds} secondes, puis renvoyez la page.",
        "form_expired": "Page expirée",
        "form_expired_detail": "Rouvrez le lien du questionnaire et renvoyez vos réponses.",
        "nps_low": "0 = pas du tout probable",
        "nps_high": "10 = très probable",
        "scale_low": "{low} = le plus bas",
        "scale_high": "{high} = le plus haut",
    },
}


def ui_texts(language: str) -> dict[str, str]:
    """Return the interface texts in a language (English when not translated)."""
    return UI_TEXTS.get(language.split("-")[0], UI_TEXTS["en"])


def choose_language(request: Request, languages: Sequence[str], saved: str | None) -> str:
    """Pick the survey language: ?lang=, then the saved choice, then Accept-Language."""
    asked = request.query_params.get("lang")
    for candidate in (asked, saved):
        if candidate is not None and candidate in languages:
            return candidate
    for wanted in _accepted(request.headers.get("accept-language", "")):
        for language in languages:
            if language.lower() == wanted or language.split("-")[0].lower() == wanted:
                return language
    return languages[0]


def _accepted(header: str) -> list[str]:
    ranked: list[tuple[float, str]] = []
    for part in header.split(","):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        if tag and tag != "*" and weight > 0:
            ranked.append((weight, tag.lower()))
    ordered = [tag for _, tag in sorted(ranked, key=lambda pair: -pair[0])]
    return [*ordered, *(tag.split("-")[0] for tag in ordered)]


def page_context(
    request: Request,
    attempt: Attempt,
    language: str,
    *,
    values: Mapping[str, Sequence[str]] | None,
    errors: Mapping[str, str],
    saved: bool,
) -> dict[str, Any]:
    """Build the context of a question page; `values` are re-posted fields after an error."""
    definition = attempt.definition
    index = attempt.page
    earlier = attempt.answers
    fields = values if values is not None else _fields_of(earlier)
    on_earlier_pages = {q.id for p, q in definition.questions() if p < index}
    shown = [
        q
        for q in definition.pages[index].questions
        if q.show_if is None or q.show_if.question not in on_earlier_pages or is_shown(q, earlier)
    ]
    ui = ui_texts(language)
    views = [_question_view(definition, q, language, fields, errors, ui) for q in shown]
    text = _texts(definition, language)
    token = attempt.opened.link.token
    response = attempt.response
    action = f"/s/{token}/r/{response.resume_token}" if response else f"/s/{token}"
    return {
        "title": text(definition.title),
        "survey_title": text(definition.title),
        "intro": text(definition.intro) if index == 0 else "",
        "page_title": text(definition.pages[index].title),
        "page_number": index + 1,
        "page_count": len(definition.pages),
        "last": index == len(definition.pages) - 1,
        "questions": views,
        "error_list": _error_list(views, errors),
        "language": language,
        "languages": definition.all_languages(),
        "ui": ui,
        "action": action,
        "saved": saved,
        "resume_url": str(request.url.replace(query="")) if saved else "",
    }


def thanks_context(attempt: Attempt, language: str) -> dict[str, Any]:
    """Build the context of the thank-you page."""
    definition = attempt.definition
    text = _texts(definition, language)
    ui = ui_texts(language)
    message = text(definition.thank_you) or ui["thanks"]
    return {"title": text(definition.title), "message": message, "language": language, "ui": ui}


def _texts(definition: SurveyDefinition, language: str) -> Callable[[Texts | None], str]:
    return lambda texts: localized(texts, language, definition.default_language)


def _fields_of(answers: Mapping[str, Any]) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for question_id, answer in answers.items():
        if isinstance(answer, dict):
            for row, score in answer.items():
                fields[f"{FIELD_PREFIX}{question_id}.{row}"] = [str(score)]
        elif isinstance(answer, list):
            fields[FIELD_PREFIX + question_id] = [str(a) for a in answer]
        else:
            fields[FIELD_PREFIX + question_id] = [str(answer)]
    return fields


def _question_view(
    definition: SurveyDefinition,
    question: Question,
    language: str,
    fields: Mapping[str, Sequence[str]],
    errors: Mapping[str, str],
    ui: Mapping[str, str],
) -> dict[str, Any]:
    text = _texts(definition, language)
    name = FIELD_PREFIX + question.id
    view: dict[str, Any] = {
        "id": question.id,
        "type": question.type.value,
        "name": name,
        "text": text(question.text),
        "help": text(question.help),
        "required": question.required,
        "conditional": question.show_if is not None,
        "error": errors.get(question.id, ""),
        "value": (fields.get(name) or [""])[0],
        "hint": _scale_hint(question, ui),
    }
    if question.type in CHOICE_TYPES:
        chosen = set(fields.get(name, []))
        view["options"] = [
            {"value": o.id, "label": text(o.text), "checked": o.id in chosen}
            for o in question.choices or []
        ]
    elif question.type == QuestionType.MATRIX:
        view["rows"] = [
            {
                "id": row.id,
                "label": text(row.text),
                "name": f"{name}.{row.id}",
                "options": _scale_options(question, fields.get(f"{name}.{row.id}", [])),
            }
            for row in question.rows or []
        ]
    elif question.scale() is not None:
        view["options"] = _scale_options(question, fields.get(name, []))
    return view


def _scale_options(question: Question, chosen: Sequence[str]) -> list[dict[str, Any]]:
    low, high = question.scale() or (0, 0)
    return [
        {"value": str(n), "label": str(n), "checked": str(n) in chosen}
        for n in range(low, high + 1)
    ]


def _scale_hint(question: Question, ui: Mapping[str, str]) -> str:
    if question.type == QuestionType.NPS:
        return f"{ui['nps_low']}, {ui['nps_high']}"
    scale = question.scale()
    if scale is None:
        return ""
    low, high = scale
    return f"{ui['scale_low'].format(low=low)}, {ui['scale_high'].format(high=high)}"


def _error_list(
    views: Sequence[Mapping[str, Any]], errors: Mapping[str, str]
) -> list[dict[str, str]]:
    on_page = {view["id"]: view for view in views}
    listed = [
        {"anchor": f"q-{view['id']}", "label": view["text"], "message": view["error"]}
        for view in views
        if view["error"]
    ]
    listed += [
        {"anchor": "answers", "label": question_id, "message": message}
        for question_id, message in errors.items()
        if question_id not in on_page
    ]
    return listed
