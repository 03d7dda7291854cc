"""The explorer's Vega-Lite chart: a line with an interval band per group over periods, or
bars with interval rules when there is no period."""

from __future__ import annotations

from typing import Any

from touchpoints.analytics.explorer import Exploration

VEGA_LITE = "https://vega.github.io/schema/vega-lite/v5.json"


def explorer_chart(exploration: Exploration) -> dict[str, Any] | None:
    """Return the chart spec of what is shown, or None when no group has a value to draw."""
    rows = exploration.chart_rows
    if not rows:
        return None
    unit = "%" if exploration.percent else ""
    title = f"{exploration.result.metric.label}{' (' + unit + ')' if unit else ''}"
    if exploration.result.period:
        return _trend(rows, title)
    return _bars(rows, title)


def _trend(rows: list[dict[str, Any]], title: str) -> dict[str, Any]:
    color = {"field": "group", "type": "nominal", "title": "Group"}
    x = {"field": "period", "type": "temporal", "title": "Period"}
    return {
        "$schema": VEGA_LITE,
        "width": "container",
        "height": 260,
        "data": {"values": rows},
        "layer": [
            {
                "mark": {"type": "area", "opacity": 0.15},
                "encoding": {
                    "x": x,
                    "y": {"field": "low", "type": "quantitative", "title": title},
                    "y2": {"field": "high"},
                    "color": color,
                },
            },
            {
                "mark": {"type": "line", "point": True},
                "encoding": {
                    "x": x,
                    "y": {"field": "value", "type": "quantitative", "title": title},
                    "color": color,
                    "tooltip": _tooltip(),
                },
            },
        ],
    }


def _bars(rows: list[dict[str, Any]], title: str) -> dict[str, Any]:
    y = {"field": "group", "type": "nominal", "title": None, "sort": None}
    return {
        "$schema": VEGA_LITE,
        "width": "container",
        "height": {"step": 24},
        "data": {"values": rows},
        "layer": [
            {
                "mark": {"type": "bar", "opacity": 0.8},
                "encoding": {
                    "y": y,
                    "x": {"field": "value", "type": "quantitative", "title": title},
                    "tooltip": _tooltip(),
                },
            },
            {
                "mark": {"type": "rule", "strokeWidth": 2},
                "encoding": {"y": y, "x": {"field": "low"}, "x2": {"field": "high"}},
            },
        ],
    }


def _tooltip() -> list[dict[str, str]]:
    return [
        {"field": "group", "type": "nominal", "title": "Group"},
        {"field": "value", "type": "quantitative", "title": "Value"},
        {"field": "low", "type": "quantitative", "title": "95% low"},
        {"field": "high", "type": "quantitative", "title": "95% high"},
        {"field": "n", "type": "quantitative", "title": "n"},
    ]
