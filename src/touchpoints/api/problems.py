"""Problem details (RFC 9457) for every error the API returns."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException

from touchpoints.errors import InvalidInput, TouchpointsError

PROBLEM_MEDIA_TYPE = "application/problem+json"
logger = logging.getLogger(__name__)


def problem_response(
    status: int,
    title: str,
    detail: str,
    *,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """Build a problem+json answer; `errors` lists each offending field with its reason."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _field_name(location: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(part) for part in location]
    if parts and parts[0] in {"body", "query", "path", "header"}:
        parts = parts[1:] or parts
    return ".".join(parts) or "body"


async def validation_error(_request: Request, exc: Exception) -> JSONResponse:
    """Answer a request whose parameters or body failed validation, naming each field."""
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": _field_name(err.get("loc", ())), "reason": str(err.get("msg", "invalid"))}
        for err in exc.errors()
    ]
    detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors)
    return problem_response(422, "Invalid input", detail, errors=errors)


async def domain_error(_request: Request, exc: Exception) -> JSONResponse:
    """Answer a platform error as problem+json."""
    assert isinstance(exc, TouchpointsError)
    errors = None
    if isinstance(exc, InvalidInput):
        errors = [{"field": exc.field, "reason": exc.reason}]
    headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
    return problem_response(exc.status_code, exc.title, exc.detail, errors=errors, headers=headers)


async def http_error(_request: Request, exc: Exception) -> JSONResponse:
    """Answer an HTTP error (unknown route, wrong method) as problem+json."""
    assert isinstance(exc, HTTPException)
    return problem_response(
        exc.status_code,
        _title(exc.status_code),
        str(exc.detail),
        headers=dict(exc.headers) if exc.headers else None,
    )


async def _integrity_error(_request: Request, exc: Exception) -> JSONResponse:
    logger.info("integrity error: %s", exc)
    return problem_response(409, "Conflict", CLASH)


CLASH = "the write clashes with data already stored (a duplicate or a reference)"


def _title(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def install_problem_handlers(app: FastAPI) -> None:
    """Make every error the API can raise answer as problem+json."""
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(TouchpointsError, domain_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(IntegrityError, _integrity_error)
