"""Routes for metrics: the catalogue, a metric by dimensions and period, and X/O outcomes."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Query
from pydantic import BaseModel, ValidationError

from touchpoints.analytics import service
from touchpoints.analytics.dimensions import ATTRIBUTE_PREFIX
from touchpoints.analytics.engine import analytics_root
from touchpoints.analytics.schemas import (
    MetricCatalogue,
    MetricRequest,
    MetricResultRead,
    OutcomeRequest,
    OutcomeResultRead,
)
from touchpoints.api.deps import ActorDep, SettingsDep
from touchpoints.errors import InvalidInput

router = APIRouter(tags=["metrics"])
Model = TypeVar("Model", bound=BaseModel)

ByQuery = Annotated[
    list[str], Query(description="Group by up to two dimensions, e.g. `by=segment`.")
]
FromQuery = Annotated[date | None, Query(alias="from", description="First day, UTC.")]
ToQuery = Annotated[date | None, Query(alias="to", description="Last day, UTC (inclusive).")]
FilterQuery = Annotated[
    list[str],
    Query(
        alias="filter",
        description="`dimension:value[,value...]`, e.g. `filter=channel:web,email` or "
        "`filter=attribute:tier:gold`; repeat for several dimensions.",
    ),
]
MinimumNQuery = Annotated[
    int, Query(description="Groups with fewer answers are returned suppressed (n only).")
]


def parse_filter_params(params: list[str]) -> dict[str, list[str]]:
    """Turn `dimension:value,value` parameters into a filter mapping."""
    filters: dict[str, list[str]] = {}
    for param in params:
        head, tail = ("", param)
        if param.startswith(ATTRIBUTE_PREFIX):
            head, tail = ATTRIBUTE_PREFIX, param.removeprefix(ATTRIBUTE_PREFIX)
        name, separator, values = tail.partition(":")
        if not separator or not name or not values:
            raise InvalidInput("filter", f"{param!r}: write dimension:value[,value...]")
        filters.setdefault(head + name, []).extend(v for v in values.split(",") if v)
    return filters


def parse_targets(params: list[str]) -> dict[str, float]:
    """Turn `value:share` parameters into target shares."""
    targets = {}
    for param in params:
        value, _, share = param.rpartition(":")
        try:
            targets[value] = float(share)
        except ValueError:
            raise InvalidInput("target", f"{param!r}: write value:share, e.g. web:0.4") from None
    return targets


def _validated(model: type[Model], fields: dict[str, Any]) -> Model:
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"]) or "query"
        raise InvalidInput(field, str(error["msg"])) from None


@router.get("/metrics", response_model=MetricCatalogue, summary="List metrics and dimensions")
def list_metrics(actor: ActorDep) -> MetricCatalogue:
    """Return the metrics, the dimensions to group and filter by, periods and options."""
    return service.catalogue(actor=actor)


@router.get("/metrics/{metric}", response_model=MetricResultRead, summary="Compute a metric")
def read_metric(
    metric: str,
    actor: ActorDep,
    settings: SettingsDep,
    by: ByQuery = [],  # noqa: B006 - FastAPI copies query defaults
    period: Annotated[
        Literal["day", "week", "month", "quarter"] | None,
        Query(description="Also group by UTC period."),
    ] = None,
    date_from: FromQuery = None,
    date_to: ToQuery = None,
    filters: FilterQuery = [],  # noqa: B006
    minimum_n: MinimumNQuery = 30,
    interval: Annotated[
        Literal["trinomial", "adjusted_wald"], Query(description="NPS interval method.")
    ] = "trinomial",
    compare: Annotated[
        Literal["previous", "groups", "both", "none"],
        Query(description="Test changes vs the previous period, groups vs the rest, or both."),
    ] = "previous",
    correction: Annotated[
        Literal["holm", "bh", "none"], Query(description="Multiple-comparison correction.")
    ] = "holm",
    weight_by: Annotated[
        str | None, Query(description="Post-stratify on this dimension (give `target`s).")
    ] = None,
    target: Annotated[
        list[str], Query(description="`value:share` population share of a weight stratum.")
    ] = [],  # noqa: B006
) -> MetricResultRead:
    """Compute a metric by up to two dimensions and a period, with n and 95% intervals.

    Groups under `minimum_n` answers are suppressed (n only); changes are tested for
    significance, Holm-corrected by default. Example:
    `GET /metrics/nps?by=segment&period=month&from=2024-01-01&to=2024-12-31`.
    Members limited to an org unit get their subtree's feedback only. Unknown metrics,
    dimensions or ids, and `from` after `to`, are refused with 422; no matching feedback
    gives `empty: true` and no groups.
    """
    fields: dict[str, Any] = {
        "metric": metric,
        "by": by,
        "period": period,
        "from": date_from,
        "to": date_to,
        "filters": parse_filter_params(filters),
        "minimum_n": minimum_n,
        "interval": interval,
        "compare": compare,
        "correction": correction,
    }
    if weight_by is not None:
        fields["weights"] = {"dimension": weight_by, "targets": parse_targets(target)}
    request = _validated(MetricRequest, fields)
    result = service.metric_values(actor=actor, root=analytics_root(settings), request=request)
    return MetricResultRead.of(result)


@router.post("/metrics/query", response_model=MetricResultRead, summary="Compute any metric")
def query_metric(body: MetricRequest, actor: ActorDep, settings: SettingsDep) -> MetricResultRead:
    """Compute a built-in or user-defined metric described in the body (reads only).

    A user-defined metric is the share of answers whose column takes some values, or the
    mean of a numeric column, with an optional `where` filter and a `scale`, e.g.
    `{"metric": {"key": "negative", "kind": "share", "column": "sentiment",
    "values": ["negative"], "scale": 100}, "by": ["touchpoint"]}`.
    """
    result = service.metric_values(actor=actor, root=analytics_root(settings), request=body)
    return MetricResultRead.of(result)


@router.get("/outcomes", response_model=OutcomeResultRead, summary="NPS with spend and churn")
def read_outcomes(
    actor: ActorDep,
    settings: SettingsDep,
    by: ByQuery = [],  # noqa: B006
    date_from: FromQuery = None,
    date_to: ToQuery = None,
    filters: FilterQuery = [],  # noqa: B006
    currency: Annotated[str | None, Query(description="Count orders in this currency.")] = None,
    minimum_n: MinimumNQuery = 30,
) -> OutcomeResultRead:
    """Join NPS groups to the same customers' spend and churn in the window.

    Gives NPS of all answers and of customers still active at the end (the survivorship
    view), churn rates of detractors and promoters, and revenue at risk: detractors' spend
    times their churn rate in excess of the promoters'.
    """
    fields = {
        "by": by,
        "from": date_from,
        "to": date_to,
        "filters": parse_filter_params(filters),
        "currency": currency,
        "minimum_n": minimum_n,
    }
    request = _validated(OutcomeRequest, fields)
    result = service.outcomes(actor=actor, root=analytics_root(settings), request=request)
    return OutcomeResultRead.of(result)
