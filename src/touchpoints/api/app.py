"""The application factory: nothing is built until `create_app` is called."""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from touchpoints import __version__
from touchpoints.api.problems import install_problem_handlers, problem_response
from touchpoints.api.shortcuts import Handler, RouteShortcuts
from touchpoints.config import Settings, get_settings
from touchpoints.db.engine import engine_from_settings, make_session_factory, store_answers

API_PREFIX = "/api/v1"
# Each domain exposes `router` in its api module; adding a domain is one line here.
ROUTER_MODULES = (
    "touchpoints.feedback.api",
    "touchpoints.orgs.api",
    "touchpoints.auth.api",
    "touchpoints.customers.api",
    "touchpoints.journeys.api",
    "touchpoints.operations.api",
    "touchpoints.jobs.api",
    "touchpoints.imports.api",
    "touchpoints.ingest.api",
    "touchpoints.surveys.api",
    "touchpoints.distribution.api",
    "touchpoints.analytics.api",
    "touchpoints.distribution.channels_api",
)

DESCRIPTION = """
Touchpoints REST API: customers, journeys, touchpoints, feedback (X-data) and operational
events (O-data) of one workspace.

* **Authentication**: `Authorization: Bearer <token>`; create a token with
  `touchpoints tokens create`. A token acts as its user, with that user's role and org-unit scope.
* **Lists** return `items` and `total` and share `limit`, `offset`, `sort` and `filter` parameters.
* **Errors** are `application/problem+json` (RFC 9457); validation errors list each field
  with its reason under `errors`.
* **Writes** accept an `Idempotency-Key` header: a retried request returns the first answer.
"""


def create_app_from_environment() -> FastAPI:
    """Build the app from TOUCHPOINTS_* variables (each process of `serve --processes N`)."""
    settings = get_settings()
    return create_app(settings, run_worker=settings.embedded_worker)


def create_app(
    settings: Settings | None = None,
    *,
    session_factory: sessionmaker[Session] | None = None,
    run_worker: bool = False,
    with_web: bool = True,
    shortcuts: bool = True,
) -> FastAPI:
    """Build the ASGI app; tests pass their own settings and session factory.

    `shortcuts=False` answers every route through FastAPI's routing (tests compare the two).
    """
    settings = settings or get_settings()
    if session_factory is None:
        session_factory = make_session_factory(engine_from_settings(settings))

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        worker = None
        if run_worker:
            from touchpoints.jobs.worker import BackgroundWorker

            worker = BackgroundWorker(session_factory=session_factory, settings=settings)
            worker.start()
        try:
            yield
        finally:
            if worker is not None:
                worker.stop()

    app = FastAPI(
        title="Touchpoints",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_tags=[
            {"name": "workspace", "description": "The caller's workspace and its org units."},
            {"name": "users", "description": "Members, roles and API tokens."},
            {"name": "customers", "description": "Customers, identities, consent, segments."},
            {"name": "journeys", "description": "Journeys, stages and touchpoints."},
            {"name": "feedback", "description": "Feedback items (X-data)."},
            {"name": "events", "description": "Operational events (O-data)."},
            {"name": "jobs", "description": "Background jobs and their dead letters."},
            {"name": "metrics", "description": "NPS, CSAT, CES and more with intervals."},
            {"name": "system", "description": "Health and version."},
        ],
    )
    app.state.settings = settings
    app.state.session_factory = session_factory
    install_problem_handlers(app)
    # Added first, so it runs inside the layers added after it (body-size limit, headers).
    app.add_middleware(RouteShortcuts, routes=_shortcuts() if shortcuts else {})
    _limit_body_size(app, settings.api_max_body_bytes)
    # Routes are matched in order, and each one tried costs time on every request: the
    # health check and the ingestion routes (the busiest) come first.
    app.include_router(_system_router())
    api = APIRouter(prefix=API_PREFIX)
    for module_name in ROUTER_MODULES:
        api.include_router(importlib.import_module(module_name).router)
    app.include_router(api)
    if with_web:
        from touchpoints.web.app import install_web

        install_web(app)
    return app


def _shortcuts() -> dict[tuple[str, str], Handler]:
    from touchpoints.feedback.api import receive_feedback

    return {("POST", f"{API_PREFIX}/feedback"): receive_feedback}


def _limit_body_size(app: FastAPI, max_bytes: int) -> None:
    app.add_middleware(BodySizeLimit, max_bytes=max_bytes)


class BodySizeLimit:
    """Refuse bodies over the limit with 413 (a plain ASGI layer, cheap on every request)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer 413 for a declared oversized body, or once a streamed body passes the limit."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            if declared.isdigit() and int(declared) > self.max_bytes:
                await self._too_large(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        await self._counted(scope, receive, send)

    async def _counted(self, scope: Scope, receive: Receive, send: Send) -> None:
        received = 0
        refused = False

        async def counting_receive() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # Answer 413 now; the app sees the client go away and stops reading.
                    refused = True
                    await self._too_large(scope, receive, send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not refused:
                await send(message)

        with contextlib.suppress(ClientDisconnect):
            await self.app(scope, counting_receive, guarded_send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(
            413, "Content too large", f"request bodies are limited to {self.max_bytes} bytes"
        )
        await response(scope, receive, send)


def _system_router() -> APIRouter:
    router = APIRouter(tags=["system"])

    @router.get("/livez", summary="Liveness: the process answers")
    async def livez() -> dict[str, str]:
        """Answer ok when this server process can answer at all; touches no store.

        For orchestrators' liveness probes (restart a process that stopped answering); use
        /healthz to ask whether the operational store answers too.
        """
        return {"status": "ok", "version": __version__}

    @router.get("/healthz", summary="Liveness and store check")
    def healthz(request: Request) -> dict[str, str]:
        """Answer ok when the operational store answers a trivial query.

        The query runs outside any transaction: on SQLite it does not wait for the write lock.
        """
        store_answers(request.app.state.session_factory.kw["bind"])
        return {"status": "ok", "version": __version__}

    return router
