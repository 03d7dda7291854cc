"""Public respondent pages: answer a survey from a link, page by page, without signing in."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from touchpoints.api.deps import SessionDep
from touchpoints.api.problems import problem_response
from touchpoints.auth.ratelimit import shared_limiter
from touchpoints.config import Settings
from touchpoints.distribution.personal import record_completion
from touchpoints.errors import NotFound
from touchpoints.surveys import responses
from touchpoints.surveys.models import ResponseStatus
from touchpoints.surveys.responses import Attempt
from touchpoints.web.pages.respond_views import (
    choose_language,
    page_context,
    thanks_context,
    ui_texts,
)
from touchpoints.web.sessions import sign, tokens_match, unsign
from touchpoints.web.templating import templates

router = APIRouter()
CSRF_COOKIE = "tp_survey_csrf"
CSRF_SALT = "survey-csrf"
# Answers sent per minute from one address; a person answering never comes close.
POSTS_PER_MINUTE = 30


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def _render(
    request: Request, template: str, context: dict[str, Any], status_code: int = 200
) -> Response:
    """Render a respondent page, keeping the form token cookie set."""
    settings = _settings(request)
    token = unsign(settings, request.cookies.get(CSRF_COOKIE), salt=CSRF_SALT)
    fresh = token is None
    token = token or secrets.token_urlsafe(32)
    response = templates().TemplateResponse(
        request, template, {**context, "csrf_token": token}, status_code=status_code
    )
    response.headers["Cache-Control"] = "no-store"
    if fresh:
        response.set_cookie(
            CSRF_COOKIE,
            sign(settings, token, salt=CSRF_SALT),
            path="/s/",
            httponly=True,
            samesite="lax",
            secure=settings.secure_cookies,
        )
    return response


def _not_found(request: Request) -> Response:
    if _wants_json(request):
        return problem_response(404, "Not found", "this survey does not take answers")
    language = choose_language(request, ["en"], "en")
    context = {"title": "Survey not found", "language": language, "ui": ui_texts(language)}
    return _render(request, "respond/not_found.html", context, status_code=404)


def _refusal(request: Request, csrf_token: str) -> Response | None:
    """Refuse a post over the rate limit or without the form's token."""
    settings = _settings(request)
    limiter = shared_limiter(
        request.app.state, name="survey_answers", limit=POSTS_PER_MINUTE, owner=settings
    )
    decision = limiter.hit(request.client.host if request.client else "unknown")
    ui = ui_texts(choose_language(request, ["en"], "en"))
    if not decision.allowed:
        wait = str(decision.retry_after_seconds)
        if _wants_json(request):
            return problem_response(
                429, "Too many requests", f"try again in {wait} s", headers={"Retry-After": wait}
            )
        context = {"title": ui["too_many"], "ui": ui, "retry_after": wait, "language": "en"}
        page = _render(request, "respond/rate_limited.html", context, status_code=429)
        page.headers["Retry-After"] = wait
        return page
    expected = unsign(settings, request.cookies.get(CSRF_COOKIE), salt=CSRF_SALT)
    if expected is None or not tokens_match(expected, csrf_token):
        if _wants_json(request):
            return problem_response(403, "Forbidden", "the form token is missing or expired")
        context = {"title": ui["form_expired"], "ui": ui, "language": "en"}
        return _render(request, "respond/form_expired.html", context, status_code=403)
    return None


def _show(request: Request, attempt: Attempt, *, saved: bool = False) -> Response:
    if attempt.completed:
        language = attempt.response.language if attempt.response else "en"
        return _render(request, "respond/thanks.html", thanks_context(attempt, language))
    language = choose_language(request, attempt.definition.all_languages(), _saved_lang(attempt))
    context = page_context(request, attempt, language, values=None, errors={}, saved=saved)
    return _render(request, "respond/page.html", context)


def _saved_lang(attempt: Attempt) -> str | None:
    return attempt.response.language if attempt.response else None


@router.get("/s/{public_token}")
def survey_page(public_token: str, request: Request, session: SessionDep) -> Response:
    """Show the first page of an active survey."""
    try:
        attempt = responses.start(session, public_token)
    except NotFound:
        return _not_found(request)
    return _show(request, attempt)


@router.get("/s/{public_token}/r/{resume_token}")
def resumed_page(
    public_token: str, resume_token: str, request: Request, session: SessionDep
) -> Response:
    """Show the next unanswered page of saved answers, or the thank-you page when done."""
    try:
        attempt = responses.resume(session, public_token, resume_token)
    except NotFound:
        return _not_found(request)
    return _show(request, attempt, saved=request.query_params.get("saved") == "1")


async def _form_fields(request: Request) -> dict[str, list[str]]:
    """Read a posted form as lists of values per field name."""
    form = await request.form()
    return {name: [str(v) for v in form.getlist(name)] for name in form}


FormFields = Annotated[dict[str, list[str]], Depends(_form_fields)]


@router.post("/s/{public_token}")
def answer_first_page(
    public_token: str, request: Request, session: SessionDep, fields: FormFields
) -> Response:
    """Save the answers of the first page (starting a response)."""
    return _answer(request, session, fields, public_token, None)


@router.post("/s/{public_token}/r/{resume_token}")
def answer_page(
    public_token: str, resume_token: str, request: Request, session: SessionDep, fields: FormFields
) -> Response:
    """Save the answers of the current page of a started response."""
    return _answer(request, session, fields, public_token, resume_token)


def _answer(
    request: Request,
    session: Session,
    fields: dict[str, list[str]],
    public_token: str,
    resume_token: str | None,
) -> Response:
    refusal = _refusal(request, fields.get("csrf_token", [""])[0])
    if refusal is not None:
        return refusal
    try:
        if resume_token is None:
            attempt = responses.start(session, public_token)
        else:
            attempt = responses.resume(session, public_token, resume_token)
    except NotFound:
        return _not_found(request)
    return _submit(request, session, attempt, fields)


def _submit(
    request: Request, session: Session, attempt: Attempt, fields: dict[str, list[str]]
) -> Response:
    token = attempt.opened.link.token
    if attempt.completed and attempt.response is not None:
        return RedirectResponse(f"/s/{token}/r/{attempt.response.resume_token}", status_code=303)
    languages = attempt.definition.all_languages()
    posted = fields.get("lang", [""])[0]
    language = posted if posted in languages else choose_language(request, languages, None)
    finish_later = fields.get("action", [""])[0] == "save"
    outcome = responses.submit_page(
        session, attempt, form=fields, language=language, finish_later=finish_later
    )
    if outcome.errors:
        return _invalid(request, attempt, language, fields, outcome.errors)
    assert outcome.response is not None
    if outcome.response.status == ResponseStatus.COMPLETED:
        record_completion(session, outcome.response)
    path = f"/s/{token}/r/{outcome.response.resume_token}"
    if _wants_json(request):
        body = {"response_id": outcome.response.id, "status": outcome.response.status}
        return JSONResponse({**body, "resume_path": path}, status_code=200)
    return RedirectResponse(path + ("?saved=1" if finish_later else ""), status_code=303)


def _invalid(
    request: Request,
    attempt: Attempt,
    language: str,
    fields: dict[str, list[str]],
    errors: dict[str, str],
) -> Response:
    if _wants_json(request):
        problems = [{"field": f"answers.{qid}", "reason": reason} for qid, reason in errors.items()]
        detail = "; ".join(f"{p['field']}: {p['reason']}" for p in problems)
        return problem_response(422, "Invalid input", detail, errors=problems)
    context = page_context(request, attempt, language, values=fields, errors=errors, saved=False)
    return _render(request, "respond/page.html", context, status_code=422)
