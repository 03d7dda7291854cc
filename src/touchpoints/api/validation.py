"""Read a JSON request body into a schema the way FastAPI reads a route's body parameter.

For handlers that run outside FastAPI's dependency injection (touchpoints.api.shortcuts): the
same content-type rule (JSON only for `application/json` and `application/*+json`), and the
same validation errors (locations under `body`), so the problem+json answers are identical.
"""

from __future__ import annotations

import email.message
import functools
import json
from typing import Any, TypeVar

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

Schema = TypeVar("Schema", bound=BaseModel)


def parse_body(schema: type[Schema], raw: bytes, content_type: str | None) -> Schema:
    """Return the validated body, or raise RequestValidationError naming each field."""
    if raw and _is_json(content_type):
        try:  # the common case in one pass: pydantic parses and validates the JSON itself
            return schema.model_validate_json(raw)
        except ValidationError:
            pass  # the errors are worded as FastAPI words them, below
    if not raw:
        missing = {"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}
        raise RequestValidationError([missing])
    document: Any = raw
    if _is_json(content_type):
        try:
            document = json.loads(raw)
        except json.JSONDecodeError as exc:
            error = {
                "type": "json_invalid",
                "loc": ("body", exc.pos),
                "msg": "JSON decode error",
                "input": {},
                "ctx": {"error": exc.msg},
            }
            raise RequestValidationError([error]) from exc
    try:
        return schema.model_validate(document, from_attributes=True)
    except ValidationError as exc:
        errors = [{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]
        raise RequestValidationError(errors) from exc


@functools.lru_cache(maxsize=64)
def _is_json(content_type: str | None) -> bool:
    # Cached: parsing the header with `email` costs more than the rest of a small request.
    if not content_type:
        return False
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )
