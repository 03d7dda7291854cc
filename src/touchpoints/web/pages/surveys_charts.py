"""The response-rate chart: a Vega-Lite bar per channel with its 95% Wilson interval."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from touchpoints.distribution.tracking import ChannelFunnel

VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"


def funnel_spec(funnels: Sequence[ChannelFunnel]) -> dict[str, Any] | None:
    """Return a bar chart of the response rate per channel with interval rules, or None."""
    rows = [
        {
            "channel": funnel.channel,
            "rate": round(funnel.rate.value * 100, 1),
            "low": round((funnel.rate.low or 0.0) * 100, 1),
            "high": round((funnel.rate.high or 0.0) * 100, 1),
            "sent": funnel.sent,
            "completed": funnel.completed,
        }
        for funnel in funnels
        if funnel.rate.value is not None
    ]
    if not rows:
        return None
    y = {"field": "channel", "type": "nominal", "title": None}
    return {
        "$schema": VEGA_LITE_SCHEMA,
        "width": "container",
        "height": max(60, 32 * len(rows)),
        "data": {"values": rows},
        "layer": [
            {
                "mark": {"type": "bar", "color": "#4c78a8"},
                "encoding": {
                    "y": y,
                    "x": {
                        "field": "rate",
                        "type": "quantitative",
                        "title": "Response rate (% of sent)",
                        "scale": {"domain": [0, 100]},
                    },
                    "tooltip": [
                        {"field": "channel"},
                        {"field": "rate", "title": "rate %"},
                        {"field": "low", "title": "95% low %"},
                        {"field": "high", "title": "95% high %"},
                        {"field": "completed"},
                        {"field": "sent"},
                    ],
                },
            },
            {
                "mark": {"type": "rule", "color": "#1f2933", "strokeWidth": 2},
                "encoding": {
                    "y": y,
                    "x": {"field": "low", "type": "quantitative"},
                    "x2": {"field": "high"},
                },
            },
        ],
    }
