"""The application factory: nothing is built until `create_app` is called."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request, Response
from sqlalchemy.orm import Session, sessionmaker

from touchpoints import __version__
from touchpoints.api.problems import install_problem_handlers, problem_response
from touchpoints.config import Settings, get_settings
from touchpoints.db.engine import engine_from_settings, make_session_factory

API_PREFIX = "/api/v1"
# Each domain exposes `router` in its api module; adding a domain is one line here.
ROUTER_MODULES = (
    "touchpoints.orgs.api",
    "touchpoints.auth.api",
    "touchpoints.customers.api",
    "touchpoints.journeys.api",
    "touchpoints.feedback.api",
    "touchpoints.operations.api",
    "touchpoints.jobs.api",
    "touchpoints.imports.api",
    "touchpoints.ingest.api",
    "touchpoints.surveys.api",
    "touchpoints.distribution.api",
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


def create_app(
    settings: Settings | None = None,
    *,
    session_factory: sessionmaker[Session] | None = None,
    run_worker: bool = False,
    with_web: bool = True,
) -> FastAPI:
    """Build the ASGI app; tests pass their own settings and session factory."""
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
            {"name": "system", "description": "Health and version."},
        ],
    )
    app.state.settings = settings
    app.state.session_factory = session_factory
    install_problem_handlers(app)
    _limit_body_size(app, settings.api_max_body_bytes)
    api = APIRouter(prefix=API_PREFIX)
    for module_name in ROUTER_MODULES:
        api.include_router(importlib.import_module(module_name).router)
    app.include_router(api)
    app.include_router(_system_router())
    if with_web:
        from touchpoints.web.app import install_web

        install_web(app)
    return app


def _limit_body_size(app: FastAPI, max_bytes: int) -> None:
    @app.middleware("http")
    async def refuse_oversized(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > max_bytes:
            return problem_response(
                413, "Content too large", f"request bodies are limited to {max_bytes} bytes"
            )
        return await call_next(request)


def _system_router() -> APIRouter:
    router = APIRouter(tags=["system"])

    @router.get("/healthz", summary="Liveness and store check")
    def healthz(request: Request) -> dict[str, str]:
        """Answer ok when the operational store answers a trivial query."""
        from sqlalchemy import text

        with request.app.state.session_factory() as session:
            session.execute(text("SELECT 1"))
        return {"status": "ok", "version": __version__}

    return router
