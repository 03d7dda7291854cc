"""Vega-Lite chart specs (built with Altair) for metric trends and group comparisons.

Altair takes tens of milliseconds to write a spec, so each chart's spec is built once
without data and a page only fills in its rows.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from functools import cache
from typing import Any

from touchpoints.metrics.service import GroupScore, MonthPoint, Overview
from touchpoints.metrics.statistics import MINIMUM_N, MetricValue, is_reportable

# How each metric is drawn: its axis title, the factor to its display unit and the domain.
SCALES: dict[str, tuple[str, float, tuple[float, float]]] = {
    "nps": ("NPS (points)", 1.0, (-100.0, 100.0)),
    "csat": ("CSAT (% satisfied)", 100.0, (0.0, 100.0)),
    "ces": ("CES (mean, 1\u20137)", 1.0, (1.0, 7.0)),
}
WIDTH = "container"
HEIGHT = 220


def _record(label: str, metric: MetricValue, factor: float) -> dict[str, Any]:
    assert metric.value is not None
    low = metric.low if metric.low is not None else metric.value
    high = metric.high if metric.high is not None else metric.value
    return {
        "label": label,
        "value": round(metric.value * factor, 2),
        "low": round(low * factor, 2),
        "high": round(high * factor, 2),
        "n": metric.n,
    }


def trend_spec(
    points: Sequence[MonthPoint], metric_key: str, minimum_n: int = MINIMUM_N
) -> dict[str, Any]:
    """Return a line chart of a metric by month with its 95% interval as a band."""
    factor = SCALES[metric_key][1]
    records = []
    for point in points:
        metric: MetricValue = getattr(point, metric_key)
        if is_reportable(metric, minimum_n):
            records.append(_record(point.month.isoformat(), metric, factor))
    return _with_rows(_trend_template(metric_key), records)


def groups_spec(
    groups: Sequence[GroupScore], title: str, metric_key: str, minimum_n: int = MINIMUM_N
) -> dict[str, Any] | None:
    """Return a bar chart of a metric by group with interval rules, or None if none is shown."""
    factor = SCALES[metric_key][1]
    records = []
    for group in groups:
        metric: MetricValue = getattr(group, metric_key)
        if is_reportable(metric, minimum_n):
            records.append(_record(group.name, metric, factor))
    if not records:
        return None
    spec = _with_rows(_groups_template(title, metric_key), records)
    spec["height"] = max(60, 24 * len(records))
    return spec


def overview_charts(summary: Overview) -> dict[str, dict[str, Any] | None]:
    """Return the overview charts by name: trend_nps, stages_csat, touchpoints_ces..."""
    minimum = summary.minimum_n
    charts: dict[str, dict[str, Any] | None] = {}
    for key in SCALES:
        charts[f"trend_{key}"] = trend_spec(summary.trend, key, minimum)
        charts[f"stages_{key}"] = groups_spec(summary.by_stage, "Journey stage", key, minimum)
        charts[f"touchpoints_{key}"] = groups_spec(
            summary.by_touchpoint, "Touchpoint", key, minimum
        )
    return charts


def _with_rows(template: dict[str, Any], records: list[dict[str, Any]]) -> dict[str, Any]:
    spec = copy.deepcopy(template)
    # Altair gives each layer of a data-less chart a placeholder dataset; the rows go on top.
    spec.pop("datasets", None)
    for layer in spec.get("layer", []):
        layer.pop("data", None)
    spec["data"] = {"values": records}
    return spec


@cache
def _trend_template(metric_key: str) -> dict[str, Any]:
    import altair as alt  # imported on first use: it takes seconds to load

    title, _, domain = SCALES[metric_key]
    base = alt.Chart().encode(
        x=alt.X("label:T", title="Month", timeUnit="utcyearmonth", axis=alt.Axis(format="%b %Y"))
    )
    band = base.mark_area(opacity=0.25).encode(
        y=alt.Y("low:Q", title=title, scale=alt.Scale(domain=list(domain))), y2="high:Q"
    )
    line = base.mark_line(point=True).encode(
        y="value:Q",
        tooltip=[
            alt.Tooltip("label:T", title="Month", timeUnit="utcyearmonth"),
            alt.Tooltip("value:Q", title=title),
            alt.Tooltip("low:Q", title="95% low"),
            alt.Tooltip("high:Q", title="95% high"),
            alt.Tooltip("n:Q", title="n", format=","),
        ],
    )
    spec: dict[str, Any] = (band + line).properties(width=WIDTH, height=HEIGHT).to_dict()
    return spec


@cache
def _groups_template(title: str, metric_key: str) -> dict[str, Any]:
    import altair as alt

    axis, _, domain = SCALES[metric_key]
    base = alt.Chart().encode(y=alt.Y("label:N", title=title, sort=None))
    bars = base.mark_bar(opacity=0.7).encode(
        x=alt.X("value:Q", title=axis, scale=alt.Scale(domain=list(domain), clamp=True)),
        tooltip=[
            alt.Tooltip("label:N", title=title),
            alt.Tooltip("value:Q", title=axis),
            alt.Tooltip("n:Q", title="n", format=","),
        ],
    )
    rules = base.mark_rule().encode(x="low:Q", x2="high:Q")
    spec: dict[str, Any] = (bars + rules).properties(width=WIDTH, height=60).to_dict()
    return spec
