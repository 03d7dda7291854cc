"""Personal survey links from invitations, and the unsubscribe page they link to."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from touchpoints.api.deps import SessionDep
from touchpoints.distribution.models import InvitationChannel
from touchpoints.distribution.personal import LinkState, find_link, start_answering, unsubscribe
from touchpoints.errors import NotFound
from touchpoints.web.sessions import sign, tokens_match, unsign
from touchpoints.web.templating import templates

router = APIRouter()
CSRF_COOKIE = "tp_unsubscribe_csrf"
CSRF_SALT = "unsubscribe-csrf"
GONE = {
    LinkState.USED: ("You have already answered", "Thank you: your answers are already with us."),
    LinkState.EXPIRED: ("This link has expired", "This survey invitation is no longer open."),
}


def _page(
    request: Request, template: str, context: dict[str, Any], status_code: int = 200
) -> Response:
    response = templates().TemplateResponse(
        request, template, {"language": "en", **context}, status_code=status_code
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _not_found(request: Request) -> Response:
    context = {"title": "Link not found", "detail": "This invitation link is not valid."}
    return _page(request, "respond/invitation_gone.html", context, status_code=404)


@router.get("/s/i/{token}")
def personal_survey(token: str, request: Request, session: SessionDep) -> Response:
    """Open the survey of a personal invitation link, resuming answers already saved."""
    try:
        link = find_link(session, token)
        if link.state is not LinkState.OPEN:
            title, detail = GONE[link.state]
            context = {"title": title, "detail": detail}
            return _page(request, "respond/invitation_gone.html", context, status_code=410)
        path = start_answering(session, link.invitation)
    except NotFound:
        return _not_found(request)
    return RedirectResponse(path, status_code=303)


@router.get("/unsubscribe/{token}")
def unsubscribe_page(token: str, request: Request, session: SessionDep) -> Response:
    """Ask to confirm that the customer wants no more survey invitations."""
    try:
        link = find_link(session, token)
    except NotFound:
        return _not_found(request)
    settings = request.app.state.settings
    csrf = secrets.token_urlsafe(32)
    context = {
        "title": "Unsubscribe from survey invitations",
        "done": False,
        "csrf_token": csrf,
        "by": _by(link.invitation.channel),
    }
    page = _page(request, "respond/unsubscribe.html", context)
    page.set_cookie(
        CSRF_COOKIE,
        sign(settings, csrf, salt=CSRF_SALT),
        path="/unsubscribe/",
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )
    return page


@router.post("/unsubscribe/{token}")
def confirm_unsubscribe(
    token: str,
    request: Request,
    session: SessionDep,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Stop survey messages on this link's channel, confirmed from the page's own form."""
    expected = unsign(request.app.state.settings, request.cookies.get(CSRF_COOKIE), salt=CSRF_SALT)
    if expected is None or not tokens_match(expected, csrf_token):
        expired = {"title": "Form expired", "detail": "Open the unsubscribe link again."}
        return _page(request, "respond/invitation_gone.html", expired, status_code=403)
    try:
        link = find_link(session, token)
    except NotFound:
        return _not_found(request)
    unsubscribe(session, link.invitation)
    context = {"title": "You are unsubscribed", "done": True, "by": _by(link.invitation.channel)}
    return _page(request, "respond/unsubscribe.html", context)


def _by(channel: str) -> str:
    return "text message" if channel == InvitationChannel.SMS else "email"
