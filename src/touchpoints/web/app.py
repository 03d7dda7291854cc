"""Mount the web app (pages, static files, sign-in redirects) onto the API app."""

from __future__ import annotations

import importlib
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from touchpoints.api.problems import domain_error, http_error
from touchpoints.errors import TouchpointsError
from touchpoints.web.deps import CsrfRejected, SignInRequired
from touchpoints.web.templating import templates

STATIC = Path(__file__).with_name("static")
# Each module exposes `router`; a later capability adds its pages with one line here.
PAGE_MODULES = (
    "touchpoints.web.pages.shell",
    "touchpoints.web.pages.signin",
    "touchpoints.web.pages.settings",
    "touchpoints.web.pages.overview",
    "touchpoints.web.pages.explore",
    "touchpoints.web.pages.inbox",
    "touchpoints.web.pages.customers",
    "touchpoints.web.pages.journeys",
    "touchpoints.web.pages.respond",
    "touchpoints.web.pages.invitations",
    "touchpoints.web.pages.surveys",
    "touchpoints.web.pages.imports",
    "touchpoints.web.pages.widget",
)
# Survey pages and the widget entry may be framed by the TOUCHPOINTS_WIDGET_FRAME_ANCESTORS.
FRAMEABLE_PREFIX = "/s/"
SECURITY_HEADERS = {
    # Vega compiles chart expressions with `new Function`, hence 'unsafe-eval'; no inline script.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def install_web(app: FastAPI) -> None:
    """Add the pages, the vendored static files and the redirect to sign-in."""
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module_name in PAGE_MODULES:
        app.include_router(importlib.import_module(module_name).router, include_in_schema=False)
    app.add_exception_handler(SignInRequired, _to_sign_in)
    app.add_exception_handler(CsrfRejected, _csrf_rejected)
    app.add_exception_handler(TouchpointsError, _page_or_problem)
    app.add_exception_handler(StarletteHTTPException, _http_page_or_problem)

    app.add_middleware(SecurityHeaders)


class SecurityHeaders:
    """Add the pages' security headers (CSP, framing, sniffing) as a plain ASGI layer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass API, docs and non-HTTP traffic through; add the headers to every page."""
        path: str = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(("/api/", "/docs", "/openapi.json")):
            await self.app(scope, receive, send)
            return
        wanted = SECURITY_HEADERS
        if path.startswith(FRAMEABLE_PREFIX):
            wanted = frameable_headers(scope["app"].state.settings.widget_frame_ancestors)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in wanted.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, with_headers)


def frameable_headers(frame_ancestors: str) -> dict[str, str]:
    """Return the headers of survey pages: framed by the same origin and the configured sites."""
    headers = dict(SECURITY_HEADERS)
    headers["Content-Security-Policy"] = headers["Content-Security-Policy"].replace(
        "frame-ancestors 'none'", f"frame-ancestors 'self' {frame_ancestors}".rstrip()
    )
    # X-Frame-Options cannot name other sites; browsers honouring CSP ignore it anyway.
    if frame_ancestors:
        del headers["X-Frame-Options"]
    else:
        headers["X-Frame-Options"] = "SAMEORIGIN"
    return headers


async def _to_sign_in(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequired)
    target = f"/login?next={quote(exc.next_url, safe='')}"
    if request.headers.get("HX-Request"):
        return Response(status_code=401, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


PAGE_ERROR_HEADINGS = {403: "Not allowed", 404: "Not found", 409: "Conflict", 422: "Not valid"}


async def _page_or_problem(request: Request, exc: Exception) -> Response:
    """Answer API callers with problem+json and people with an HTML page."""
    assert isinstance(exc, TouchpointsError)
    if request.url.path.startswith("/api/"):
        return await domain_error(request, exc)
    return _error_page(request, exc.status_code, _page_detail(exc))


async def _http_page_or_problem(request: Request, exc: Exception) -> Response:
    """Show people an HTML page for unknown addresses; API clients keep problem+json."""
    assert isinstance(exc, StarletteHTTPException)
    path = request.url.path
    wants_html = "text/html" in request.headers.get("accept", "")
    if path.startswith(("/api/", "/static/")) or not wants_html or exc.status_code != 404:
        return await http_error(request, exc)
    return _error_page(request, 404, "There is no page at this address.")


def _error_page(request: Request, status_code: int, detail: str) -> Response:
    heading = PAGE_ERROR_HEADINGS.get(status_code, "Error")
    return templates().TemplateResponse(
        request,
        "error.html",
        {"title": heading, "heading": heading, "detail": detail},
        status_code=status_code,
    )


def _page_detail(exc: TouchpointsError) -> str:
    if exc.status_code == 404:
        return "This page does not exist, or it shows data outside what you may see."
    if exc.status_code == 403:
        return "Your role does not allow this. Ask an admin of your workspace if you need it."
    return exc.detail


async def _csrf_rejected(_request: Request, _exc: Exception) -> Response:
    return HTMLResponse(
        "<h1>Form expired</h1><p>This form was not sent from this session. "
        'Go back, reload the page and try again, or <a href="/login">sign in</a>.</p>',
        status_code=403,
    )
