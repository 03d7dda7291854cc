"""Shortcuts: the busiest API routes answered without the framework's routing machinery.

FastAPI tries routes one by one and resolves each route's dependencies through several
layers; for a route that does little work per request (a feedback item handed to the group
commit) that overhead costs more than the work itself. A shortcut maps an exact method and
path to a handler that reads the request and answers it directly. The same route stays
declared in FastAPI (its OpenAPI description, and the path taken when the app is served under
a root path); tests/api/test_shortcuts.py proves both give the same answers.

The layer sits inside the app's own ASGI layers (body-size limit, security headers) and
inside the server-error handler, so a shortcut request gets the same limits and headers, and
an unexpected error still becomes a 500.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

Handler = Callable[[Request], Awaitable[Response]]


class RouteShortcuts:
    """Answer exact (method, path) pairs with their handler; pass everything else on."""

    def __init__(self, app: ASGIApp, routes: dict[tuple[str, str], Handler]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the shortcut of this request's method and path, or the app."""
        if scope["type"] == "http" and not scope.get("root_path"):
            handler = self.routes.get((scope["method"], scope["path"]))
            if handler is not None:
                response = await handler(Request(scope, receive))
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
