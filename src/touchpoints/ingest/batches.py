"""Run a batch item by item: each item is stored whole in its own savepoint, or not at all."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from touchpoints.errors import InvalidInput, TouchpointsError
from touchpoints.ingest.schemas import BatchResult, ItemError, ItemResult, ItemStatus

ModelT = TypeVar("ModelT", bound=BaseModel)


@dataclass(frozen=True)
class Outcome:
    """What a handler did with an item it accepted."""

    status: ItemStatus
    id: str
    customer_id: str | None = None


class ItemRejected(Exception):
    """An item cannot be stored; carries every reason found."""

    def __init__(self, errors: list[ItemError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.reason}" for e in errors))
        self.errors = errors

    @classmethod
    def one(cls, field: str, reason: str) -> ItemRejected:
        """Reject for a single reason."""
        return cls([ItemError(field=field, reason=reason)])


Handler = Callable[[dict[str, Any]], Outcome]


def run_batch(db_session: Session, items: list[Any], handle: Handler) -> BatchResult:
    """Hand every item to `handle`; collect what was stored and why the rest was not."""
    return BatchResult.of(
        [_run_item(db_session, index, raw, handle) for index, raw in enumerate(items)]
    )


def _run_item(db_session: Session, index: int, raw: Any, handle: Handler) -> ItemResult:
    if not isinstance(raw, dict):
        return _rejected(index, [ItemError(field="", reason="each item must be a JSON object")])
    try:
        with db_session.begin_nested():
            outcome = handle(raw)
    except ItemRejected as exc:
        return _rejected(index, exc.errors)
    except TouchpointsError as exc:
        return _rejected(index, [error_of(exc)])
    except IntegrityError:
        reason = "clashes with data already stored (a duplicate or a missing reference)"
        return _rejected(index, [ItemError(field="", reason=reason)])
    return ItemResult(
        index=index, status=outcome.status, id=outcome.id, customer_id=outcome.customer_id
    )


def _rejected(index: int, errors: list[ItemError]) -> ItemResult:
    return ItemResult(index=index, status=ItemStatus.REJECTED, errors=errors)


def error_of(exc: TouchpointsError, *, prefix: str = "") -> ItemError:
    """Turn a service error into an item error; `prefix` places its field inside the item."""
    if isinstance(exc, InvalidInput):
        return ItemError(field=_join(prefix, exc.field), reason=exc.reason)
    return ItemError(field=prefix, reason=exc.detail)


def validation_errors(exc: ValidationError, *, prefix: str = "") -> list[ItemError]:
    """Turn pydantic errors into item errors named by their path inside the item."""
    errors = []
    for error in exc.errors(include_url=False):
        path = ".".join(str(part) for part in error.get("loc", ()))
        reason = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        errors.append(ItemError(field=_join(prefix, path), reason=reason))
    return errors


def parse(
    model: type[ModelT], values: Any, errors: list[ItemError], *, prefix: str = ""
) -> ModelT | None:
    """Validate `values` as `model`; on failure add the reasons to `errors` and return None."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        errors.extend(validation_errors(exc, prefix=prefix))
        return None


def _join(prefix: str, field: str) -> str:
    return ".".join(part for part in (prefix, field) if part)
