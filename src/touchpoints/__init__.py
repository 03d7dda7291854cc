"""Touchpoints: open-source customer experience management.

The analyst-facing functions load on first use, so `import touchpoints` stays cheap:

>>> import touchpoints
>>> touchpoints.nps_score([10, 9, 8, 3]).value
25.0
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from touchpoints.analytics.definitions import MetricSpec
    from touchpoints.analytics.query import MetricQuery, PostStratification, metric_table
    from touchpoints.analytics.results import MetricResult
    from touchpoints.analytics.xo import OutcomeQuery
    from touchpoints.metrics.statistics import (
        MetricValue,
        ces_agree_score,
        ces_score,
        csat_score,
        nps_score,
        rating_score,
        response_rate_score,
    )

# Public name -> the module that defines it.
_LAZY = {
    "MetricValue": "touchpoints.metrics.statistics",
    "nps_score": "touchpoints.metrics.statistics",
    "csat_score": "touchpoints.metrics.statistics",
    "ces_score": "touchpoints.metrics.statistics",
    "ces_agree_score": "touchpoints.metrics.statistics",
    "rating_score": "touchpoints.metrics.statistics",
    "response_rate_score": "touchpoints.metrics.statistics",
    "MetricQuery": "touchpoints.analytics.query",
    "PostStratification": "touchpoints.analytics.query",
    "metric_table": "touchpoints.analytics.query",
    "MetricResult": "touchpoints.analytics.results",
    "MetricSpec": "touchpoints.analytics.definitions",
    "OutcomeQuery": "touchpoints.analytics.xo",
}

__all__ = [
    "MetricQuery",
    "MetricResult",
    "MetricSpec",
    "MetricValue",
    "OutcomeQuery",
    "PostStratification",
    "__version__",
    "ces_agree_score",
    "ces_score",
    "csat_score",
    "metric_table",
    "nps_score",
    "rating_score",
    "response_rate_score",
]


def __getattr__(name: str) -> Any:
    """Load an analyst-facing name from its module on first use."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'touchpoints' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """List the public names, the lazy ones included."""
    return sorted(set(globals()) | set(_LAZY))
