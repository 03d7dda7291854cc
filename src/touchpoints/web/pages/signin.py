"""Signing in and out, and resetting a forgotten password (pages for signed-out people)."""

from __future__ import annotations

import logging
import secrets
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from touchpoints.api.deps import SessionDep
from touchpoints.auth import login
from touchpoints.auth.passwords import MIN_PASSWORD_LENGTH
from touchpoints.auth.ratelimit import SlidingWindowLimiter, shared_limiter
from touchpoints.config import Settings
from touchpoints.errors import InvalidInput
from touchpoints.mail.base import Mailer, MailNotSent, OutgoingEmail
from touchpoints.mail.smtp import SmtpMailer
from touchpoints.web.deps import WebCallerDep
from touchpoints.web.sessions import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    end_session,
    find_session,
    sign,
    start_session,
    tokens_match,
    unsign,
)
from touchpoints.web.templating import templates

router = APIRouter()
logger = logging.getLogger(__name__)
HOME = "/overview"
CSRF_SALT = "login-csrf"
FormField = Annotated[str, Form()]


class AfterResponseMailer:
    """Send email after the answer has gone out, so its timing says nothing about the address."""

    def __init__(self, tasks: BackgroundTasks, mailer: Mailer) -> None:
        self.tasks = tasks
        self.mailer = mailer

    def send(self, email: OutgoingEmail) -> None:
        """Queue the email; a delivery failure is logged with the server's reason."""
        self.tasks.add_task(self._deliver, email)

    def _deliver(self, email: OutgoingEmail) -> None:
        try:
            self.mailer.send(email)
        except MailNotSent:
            logger.exception("an email to a user was not sent")


def safe_next(next_url: str | None) -> str:
    """Return `next` if it is a path on this site, else the overview (no open redirects)."""
    if not next_url or not next_url.startswith("/") or next_url.startswith(("//", "/\\")):
        return HOME
    parts = urlsplit(next_url)
    if parts.scheme or parts.netloc or any(ord(c) < 32 for c in next_url):
        return HOME
    if parts.path in {"/login", "/logout"}:
        return HOME
    return next_url


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


def _limiter(request: Request) -> SlidingWindowLimiter:
    settings = _settings(request)
    return shared_limiter(
        request.app.state, name="sign_in", limit=settings.login_rate_per_minute, owner=settings
    )


def _page(
    request: Request, template: str, *, title: str, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """Render a signed-out page with a login CSRF token, setting its cookie when new."""
    settings = _settings(request)
    token = unsign(settings, request.cookies.get(LOGIN_CSRF_COOKIE), salt=CSRF_SALT)
    fresh = token is None
    token = token or secrets.token_urlsafe(32)
    response = templates().TemplateResponse(
        request,
        template,
        {"title": title, "csrf_token": token, "min_length": MIN_PASSWORD_LENGTH, **context},
        status_code=status_code,
    )
    response.headers["Cache-Control"] = "no-store"
    if fresh:
        response.set_cookie(
            LOGIN_CSRF_COOKIE,
            sign(settings, token, salt=CSRF_SALT),
            httponly=True,
            samesite="lax",
            secure=settings.secure_cookies,
        )
    return response


def _guard(request: Request, csrf_token: str) -> HTMLResponse | None:
    """Refuse a signed-out form over the rate limit or without the login CSRF cookie."""
    decision = _limiter(request).hit(_client(request) or "unknown")
    if not decision.allowed:
        response = _page(
            request,
            "auth/rate_limited.html",
            title="Too many attempts",
            status_code=429,
            retry_after=decision.retry_after_seconds,
        )
        response.headers["Retry-After"] = str(decision.retry_after_seconds)
        return response
    expected = unsign(_settings(request), request.cookies.get(LOGIN_CSRF_COOKIE), salt=CSRF_SALT)
    if expected is None or not tokens_match(expected, csrf_token):
        return _page(request, "auth/form_expired.html", title="Form expired", status_code=403)
    return None


@router.get("/login")
def login_form(request: Request) -> Response:
    """Show the sign-in form."""
    return _page(
        request,
        "auth/login.html",
        title="Sign in",
        next_url=safe_next(request.query_params.get("next")),
        notice=request.query_params.get("notice"),
    )


@router.post("/login")
def sign_in(
    request: Request,
    session: SessionDep,
    email: FormField = "",
    password: FormField = "",
    csrf_token: FormField = "",
    next_url: Annotated[str, Form(alias="next")] = HOME,
) -> Response:
    """Check the email and password, then start a session and go on to `next`."""
    refused = _guard(request, csrf_token)
    if refused is not None:
        return refused
    try:
        login.authenticate(
            db_session=session,
            settings=_settings(request),
            email=email,
            password=password,
            ip_address=_client(request),
        )
        return finish_sign_in(request, session, email=email, method="password", next_url=next_url)
    except login.SignInRefused as refusal:
        return _page(
            request,
            "auth/login.html",
            title="Sign in",
            status_code=422,
            error=refusal.message,
            email=email,
            next_url=safe_next(next_url),
        )


def finish_sign_in(
    request: Request, session: Session, *, email: str, method: str, next_url: str | None
) -> RedirectResponse:
    """Start a session for a proven identity and set its cookie (password or single sign-on)."""
    settings = _settings(request)
    verified = login.sign_in_verified(
        db_session=session, email=email, ip_address=_client(request), method=method
    )
    previous = find_session(
        db_session=session, settings=settings, cookie=request.cookies.get(SESSION_COOKIE)
    )
    if previous is not None:
        end_session(previous)
    _, cookie = start_session(
        db_session=session,
        settings=settings,
        user=verified.user,
        workspace_id=verified.workspace_id,
        ip_address=_client(request),
        user_agent=request.headers.get("user-agent"),
    )
    response = RedirectResponse(safe_next(next_url), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=settings.session_max_age_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
def sign_out(request: Request, caller: WebCallerDep, session: SessionDep) -> RedirectResponse:
    """End the session: its cookie stops working, even a copy of it."""
    end_session(caller.session)
    login.record_sign_out(
        db_session=session,
        user=caller.user,
        workspace_id=caller.workspace.id,
        ip_address=_client(request),
    )
    response = RedirectResponse("/login?notice=signed-out", status_code=303)
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="lax")
    return response


@router.get("/forgot-password")
def forgot_password_form(request: Request) -> Response:
    """Ask for the email address to send a reset link to."""
    return _page(request, "auth/forgot_password.html", title="Reset your password")


@router.post("/forgot-password")
def forgot_password(
    request: Request,
    session: SessionDep,
    background: BackgroundTasks,
    email: FormField = "",
    csrf_token: FormField = "",
) -> Response:
    """Send a reset link if the address has an account; the answer is the same either way."""
    refused = _guard(request, csrf_token)
    if refused is not None:
        return refused
    settings = _settings(request)
    if email.strip():
        login.request_reset(
            db_session=session,
            settings=settings,
            mailer=AfterResponseMailer(background, SmtpMailer(settings)),
            email=email,
            ip_address=_client(request),
        )
    return _page(
        request,
        "auth/reset_sent.html",
        title="Check your email",
        minutes=settings.password_reset_minutes,
    )


@router.get("/reset-password")
def reset_password_form(request: Request, session: SessionDep, token: str = "") -> Response:
    """Show the new-password form for a valid reset link."""
    if login.find_reset(db_session=session, token=token) is None:
        return _page(request, "auth/reset_invalid.html", title="Link expired", status_code=410)
    return _page(request, "auth/reset_password.html", title="Choose a new password", token=token)


@router.post("/reset-password")
def reset_password(
    request: Request,
    session: SessionDep,
    token: FormField = "",
    password: FormField = "",
    password_again: FormField = "",
    csrf_token: FormField = "",
) -> Response:
    """Set the new password, sign out every browser, and send the user to sign in."""
    refused = _guard(request, csrf_token)
    if refused is not None:
        return refused
    errors: dict[str, str] = {}
    if password != password_again:
        errors["password_again"] = "The two passwords are not the same; type them again."
    else:
        try:
            login.complete_reset(
                db_session=session, token=token, new_password=password, ip_address=_client(request)
            )
            return RedirectResponse("/login?notice=password-changed", status_code=303)
        except InvalidInput as problem:
            if problem.field == "token":
                return _page(
                    request, "auth/reset_invalid.html", title="Link expired", status_code=410
                )
            errors[problem.field] = f"Too short: {problem.reason}."
    return _page(
        request,
        "auth/reset_password.html",
        title="Choose a new password",
        status_code=422,
        token=token,
        errors=errors,
    )
