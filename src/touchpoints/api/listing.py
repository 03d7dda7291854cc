"""One filter, sort and paginate helper shared by every list endpoint."""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from touchpoints.errors import InvalidInput

ItemT = TypeVar("ItemT")
COMPARISONS: dict[str, Callable[[Any, Any], Any]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "lte": operator.le,
    "gt": operator.gt,
    "gte": operator.ge,
}
OPERATORS = (*COMPARISONS, "in", "contains", "isnull")


class Page(BaseModel, Generic[ItemT]):
    """One page of a list: the items and how many match in all."""

    items: list[ItemT]
    total: int = Field(description="How many items match the filters, across all pages.")
    limit: int
    offset: int


@dataclass(frozen=True)
class ListParams:
    """Filters, sort and page asked for by the caller."""

    limit: int = 50
    offset: int = 0
    sort: str | None = None
    filters: Sequence[str] = field(default_factory=tuple)


def list_params(
    limit: Annotated[int, Query(ge=1, le=500, description="Items per page (1-500).")] = 50,
    offset: Annotated[int, Query(ge=0, description="Items to skip.")] = 0,
    sort: Annotated[
        str | None,
        Query(
            description="Comma-separated fields; a leading '-' sorts descending: `-occurred_at`."
        ),
    ] = None,
    filter_: Annotated[
        list[str] | None,
        Query(
            alias="filter",
            description=(
                "Repeatable `field:op:value` with op one of eq, ne, lt, lte, gt, gte, in "
                "(values split by '|'), contains, isnull (true/false). "
                "Example: `filter=channel:eq:web&filter=nps:lte:6`."
            ),
        ),
    ] = None,
) -> ListParams:
    """Read the shared list parameters from the query string."""
    return ListParams(limit=limit, offset=offset, sort=sort, filters=tuple(filter_ or ()))


Column = InstrumentedAttribute[Any] | ColumnElement[Any]


def _coerce(column: Column, raw: str, field_name: str) -> Any:
    column_type = getattr(column.type, "impl", column.type)  # see through TypeDecorators
    try:
        python_type = column_type.python_type
    except NotImplementedError:
        return raw
    try:
        if python_type is bool:
            if raw.lower() not in {"true", "false", "1", "0"}:
                raise ValueError(raw)
            return raw.lower() in {"true", "1"}
        if python_type is datetime:
            parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
            if parsed.tzinfo is None:
                raise InvalidInput("filter", f"{field_name}: timestamps need a timezone")
            return parsed
        return python_type(raw)
    except (ValueError, TypeError) as exc:
        raise InvalidInput(
            "filter", f"{field_name}: {raw!r} is not a valid {python_type.__name__}"
        ) from exc


def _condition(column: Column, op: str, raw: str, name: str) -> ColumnElement[bool]:
    if op == "isnull":
        wanted = _coerce_bool(raw, name)
        return column.is_(None) if wanted else column.is_not(None)
    if op == "in":
        return column.in_([_coerce(column, part, name) for part in raw.split("|")])
    if op == "contains":
        return column.contains(raw, autoescape=True)
    comparison: ColumnElement[bool] = COMPARISONS[op](column, _coerce(column, raw, name))
    return comparison


def _coerce_bool(raw: str, name: str) -> bool:
    if raw.lower() not in {"true", "false"}:
        raise InvalidInput("filter", f"{name}: isnull takes true or false, not {raw!r}")
    return raw.lower() == "true"


def apply_filters(
    statement: Select[Any], filters: Sequence[str], fields: Mapping[str, Column]
) -> Select[Any]:
    """Add the caller's `field:op:value` filters, refusing unknown fields and operators."""
    for expression in filters:
        name, sep, rest = expression.partition(":")
        op, sep2, raw = rest.partition(":")
        if not sep or not sep2:
            raise InvalidInput("filter", f"{expression!r} is not field:op:value")
        if name not in fields:
            raise InvalidInput(
                "filter", f"unknown field {name!r}; filterable: {', '.join(sorted(fields))}"
            )
        if op not in OPERATORS:
            raise InvalidInput(
                "filter", f"unknown operator {op!r}; use one of {', '.join(OPERATORS)}"
            )
        statement = statement.where(_condition(fields[name], op, raw, name))
    return statement


def apply_sort(
    statement: Select[Any], sort: str | None, fields: Mapping[str, Column], default: str
) -> Select[Any]:
    """Order by the caller's fields (`-` for descending), then by id for a stable order."""
    order = []
    for part in (sort or default).split(","):
        name = part.strip()
        descending = name.startswith("-")
        name = name.lstrip("-+")
        if name not in fields:
            raise InvalidInput(
                "sort", f"unknown field {name!r}; sortable: {', '.join(sorted(fields))}"
            )
        # NULLS LAST both ways: SQLite and PostgreSQL disagree on the default.
        column = fields[name]
        order.append((column.desc() if descending else column.asc()).nulls_last())
    if "id" in fields:
        order.append(fields["id"].asc())
    return statement.order_by(*order)


def paginate(
    session: Session,
    statement: Select[Any],
    *,
    params: ListParams,
    fields: Mapping[str, Column],
    default_sort: str,
) -> tuple[list[Any], int]:
    """Filter, count, sort and slice a select of ORM rows; return (items, total)."""
    statement = apply_filters(statement, params.filters, fields)
    total = session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    statement = apply_sort(statement, params.sort, fields, default_sort)
    items = list(session.scalars(statement.limit(params.limit).offset(params.offset)))
    return items, int(total or 0)
