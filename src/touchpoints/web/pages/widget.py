"""The widget's entry: open a survey for a customer the host site's backend signed for."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from touchpoints.api.deps import SessionDep
from touchpoints.api.problems import problem_response
from touchpoints.config import Settings
from touchpoints.distribution.widget import WidgetOpening, open_for_customer
from touchpoints.errors import TouchpointsError
from touchpoints.web.pages.respond import CSRF_COOKIE, CSRF_SALT
from touchpoints.web.sessions import sign, unsign
from touchpoints.web.templating import templates

router = APIRouter()
PAGE_TITLES = {403: "This survey cannot be opened", 404: "Survey not found", 409: "Thank you"}


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def _refusal(request: Request, error: TouchpointsError) -> Response:
    """Answer a refused opening: problem+json to scripts, a short page inside the frame."""
    if _wants_json(request):
        return problem_response(
            error.status_code, PAGE_TITLES.get(error.status_code, "Error"), error.detail
        )
    title = PAGE_TITLES.get(error.status_code, "This survey cannot be opened")
    context = {"language": "en", "title": title, "detail": error.detail}
    page = templates().TemplateResponse(
        request, "respond/invitation_gone.html", context, status_code=error.status_code
    )
    page.headers["Cache-Control"] = "no-store"
    return page


def _allow_form_cookie_in_frame(request: Request, response: Response) -> None:
    """Give the survey's form token a cookie a cross-site frame keeps (SameSite=None).

    Browsers drop SameSite=Lax cookies inside another site's page, so the survey pages' own
    cookie would never come back with the answers; this one is partitioned per host site.
    """
    settings: Settings = request.app.state.settings
    if unsign(settings, request.cookies.get(CSRF_COOKIE), salt=CSRF_SALT) is not None:
        return
    value = sign(settings, secrets.token_urlsafe(32), salt=CSRF_SALT)
    # Starlette writes the Partitioned attribute only on Python 3.14+, hence the raw header.
    response.headers.append(
        "set-cookie",
        f"{CSRF_COOKIE}={value}; Path=/s/; HttpOnly; Secure; SameSite=None; Partitioned",
    )


@router.get("/s/w/{public_token}")
def widget_entry(
    public_token: str,
    request: Request,
    session: SessionDep,
    customer: Annotated[str, Query(max_length=320)] = "",
    source: Annotated[str, Query(max_length=64)] = "",
    expires: Annotated[str, Query(max_length=12)] = "",
    signature: Annotated[str, Query(max_length=128)] = "",
) -> Response:
    """Start (or resume) the signed customer's response and go to the survey page."""
    opening = WidgetOpening(
        link_token=public_token,
        customer=customer,
        source=source,
        expires=expires,
        signature=signature,
    )
    try:
        path = open_for_customer(session, request.app.state.settings, opening)
    except TouchpointsError as error:
        session.rollback()
        return _refusal(request, error)
    response = RedirectResponse(path, status_code=303)
    response.headers["Cache-Control"] = "no-store"
    _allow_form_cookie_in_frame(request, response)
    return response
