"""The builder's live preview: the real respondent page of the document, in a phone frame."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from touchpoints.errors import InvalidInput
from touchpoints.surveys import drafts
from touchpoints.surveys.definitions import SurveyDefinition
from touchpoints.surveys.preview import preview_attempt
from touchpoints.surveys.schemas import DocumentFormat
from touchpoints.web.pages.respond_views import page_context
from touchpoints.web.templating import templates


def respondent_html(
    request: Request, definition: SurveyDefinition, page: int, language: str
) -> str:
    """Render the respondent page of one page of a definition, with a form that posts nowhere."""
    attempt = preview_attempt(definition, page)
    context = page_context(request, attempt, language, values=None, errors={}, saved=False)
    # No address and no token: the frame is sandboxed without forms, and nothing may be sent.
    context |= {"action": "", "csrf_token": "", "request": request}
    return templates().get_template("respond/page.html").render(context)


def _hidden_questions(definition: SurveyDefinition, page: int) -> list[dict[str, Any]]:
    """Return the page's questions that wait for answers on earlier pages (hidden here)."""
    earlier = {q.id for p, q in definition.questions() if p < page}
    return [
        {"id": q.id, "condition": q.show_if}
        for q in definition.pages[page].questions
        if q.show_if is not None and q.show_if.question in earlier
    ]


def preview_context(
    request: Request, text: str, fmt: DocumentFormat, page_field: str, language: str
) -> dict[str, Any]:
    """Return what the preview shows for a document: the page, or why it cannot be shown."""
    try:
        definition = drafts.read_definition(text, fmt)
    except InvalidInput as problem:
        reason = drafts.describe_problem(problem, text, fmt)
        return {"preview_html": None, "preview_error": reason, "preview_pages": 0}
    page_count = len(definition.pages)
    page = int(page_field) - 1 if page_field.isdigit() else 0
    page = max(0, min(page, page_count - 1))
    languages = definition.all_languages()
    chosen = language if language in languages else definition.default_language
    return {
        "preview_html": respondent_html(request, definition, page, chosen),
        "preview_error": None,
        "preview_pages": page_count,
        "preview_page": page + 1,
        "preview_languages": languages,
        "preview_lang": chosen,
        "hidden_questions": _hidden_questions(definition, page),
    }


def show_preview(
    request: Request, text: str, fmt: DocumentFormat, page_field: str, language: str
) -> HTMLResponse:
    """Answer the live preview's HTMX request with the new frame, or with only the problem.

    While the document is being typed it is often invalid for a moment: the last good
    preview then stays, and only the status line above it says what is wrong.
    """
    context = preview_context(request, text, fmt, page_field, language)
    template = "surveys/preview.html" if context["preview_html"] else "surveys/preview_status.html"
    response = templates().TemplateResponse(request, template, context)
    if not context["preview_html"]:
        response.headers["HX-Reswap"] = "none"
    response.headers["Cache-Control"] = "no-store"
    return response
