"""Dependencies of web pages: the signed-in caller and CSRF checks on every form."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from touchpoints.api.deps import SessionDep
from touchpoints.config import Settings
from touchpoints.web.sessions import (
    SESSION_COOKIE,
    WebCaller,
    find_session,
    tokens_match,
    web_caller,
)

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class SignInRequired(Exception):
    """The page needs a signed-in user; the app answers with a redirect to /login."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


class CsrfRejected(Exception):
    """A form came without the session's CSRF token (or with another one)."""


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _submitted_csrf(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


async def current_caller(request: Request, session: SessionDep) -> WebCaller:
    """Return the signed-in caller; check CSRF on every unsafe request."""
    caller = _resolve(request, session)
    if request.method in UNSAFE_METHODS:
        submitted = await _submitted_csrf(request)
        if not tokens_match(caller.session.csrf_token, submitted):
            raise CsrfRejected()
    return caller


def _resolve(request: Request, session: Session) -> WebCaller:
    web_session = find_session(
        db_session=session,
        settings=_settings(request),
        cookie=request.cookies.get(SESSION_COOKIE),
    )
    caller = web_caller(db_session=session, web_session=web_session) if web_session else None
    if caller is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(target)
    return caller


WebCallerDep = Annotated[WebCaller, Depends(current_caller)]
