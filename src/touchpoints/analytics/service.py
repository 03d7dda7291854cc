"""The metric service: a caller's typed request in, typed rows out, within their scope.

The REST API, the CLI and web pages call these; the caller's workspace and org-unit scope
are applied here, so no view can forget them.
"""

from __future__ import annotations

from pathlib import Path

from touchpoints.analytics.definitions import METRICS
from touchpoints.analytics.dimensions import ATTRIBUTE_PREFIX, DIMENSIONS, PERIODS
from touchpoints.analytics.engine import Engine
from touchpoints.analytics.query import COMPARES
from touchpoints.analytics.results import MetricResult
from touchpoints.analytics.schemas import (
    DimensionInfo,
    MetricCatalogue,
    MetricInfo,
    MetricRequest,
    OutcomeRequest,
)
from touchpoints.analytics.xo import OutcomeResult
from touchpoints.auth.permissions import Permission, Principal, require
from touchpoints.metrics.statistics import CORRECTIONS, MINIMUM_N, NPS_INTERVALS

__all__ = ["catalogue", "metric_values", "outcomes"]


def catalogue(*, actor: Principal) -> MetricCatalogue:
    """Return the metrics, dimensions and options a metric request may use."""
    require(actor, Permission.FEEDBACK_READ)
    dimensions = [DimensionInfo(key=d.key, label=d.label, description=d.description)
                  for d in DIMENSIONS.values()]  # fmt: skip
    dimensions.append(
        DimensionInfo(
            key=f"{ATTRIBUTE_PREFIX}<name>",
            label="Customer attribute",
            description="A field of the customers' attributes, e.g. attribute:tier.",
        )
    )
    return MetricCatalogue(
        metrics=[MetricInfo(**metric.describe()) for metric in METRICS.values()],
        dimensions=dimensions,
        periods=list(PERIODS),
        intervals=list(NPS_INTERVALS),
        corrections=list(CORRECTIONS),
        compares=list(COMPARES),
        minimum_n=MINIMUM_N,
        notes=[
            "Response rate is not a grouped metric: invitations are not in the analytics "
            "store; see GET /surveys/{survey_id}/response-rates.",
            "User-defined metrics: POST /metrics/query with a metric specification.",
        ],
    )


def metric_values(
    *,
    actor: Principal,
    root: Path,
    request: MetricRequest,
    engine: str | Engine = "duckdb",
) -> MetricResult:
    """Compute a metric for the caller's workspace, limited to their org-unit scope."""
    require(actor, Permission.FEEDBACK_READ)
    query = request.to_query(scope=actor.org_unit_path)
    return query.run(root=root, workspace_id=actor.workspace_id, engine=engine)


def outcomes(
    *,
    actor: Principal,
    root: Path,
    request: OutcomeRequest,
    engine: str | Engine = "duckdb",
) -> OutcomeResult:
    """Join NPS groups to their customers' spend and churn, in the caller's scope."""
    require(actor, Permission.FEEDBACK_READ)
    require(actor, Permission.EVENTS_READ)
    query = request.to_query(scope=actor.org_unit_path)
    return query.run(root=root, workspace_id=actor.workspace_id, engine=engine)
