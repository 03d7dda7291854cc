"""Jinja2 templates and the filters that format numbers, dates and intervals for people."""

from __future__ import annotations

import json
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

TEMPLATES = Path(__file__).with_name("templates")
MISSING = "\u2013"  # an en dash stands for "no value"


def format_number(value: float | int | None, decimals: int = 0) -> str:
    """Write a number with thousands separators: 12345.6 -> '12,346'."""
    if value is None:
        return MISSING
    return f"{value:,.{decimals}f}"


def format_signed(value: float | int | None, decimals: int = 0) -> str:
    """Write a change with its sign and a true minus sign: +3, \u22122.5."""
    if value is None:
        return MISSING
    text = f"{value:+,.{decimals}f}"
    return text.replace("-", "\u2212")


def format_percent(value: float | None, decimals: int = 0) -> str:
    """Write a share (0.42) as a percentage ('42%')."""
    if value is None:
        return MISSING
    return f"{value * 100:,.{decimals}f}%"


def format_interval(low: float | None, high: float | None, decimals: int = 0) -> str:
    """Write a confidence interval as ± its half-width around the middle."""
    if low is None or high is None:
        return ""
    half = (high - low) / 2
    return f"±{half:,.{decimals}f}"


def format_time(value: datetime | date | None, style: str = "datetime") -> Markup:
    """Render a <time> element; the browser shows it in the viewer's locale and timezone."""
    if value is None:
        return Markup(MISSING)
    iso = value.isoformat()
    fallback = value.strftime("%Y-%m-%d %H:%M UTC" if isinstance(value, datetime) else "%Y-%m-%d")
    return Markup(
        f'<time datetime="{escape(iso)}" data-style="{escape(style)}">{escape(fallback)}</time>'
    )


def to_json(value: Any) -> Markup:
    """Embed data as JSON inside a <script type="application/json"> block safely."""
    text = json.dumps(value, default=str).replace("</", "<\\/")
    return Markup(text)


@cache
def templates() -> Jinja2Templates:
    """Return the template environment (built on first use, not at import)."""
    environment = Jinja2Templates(directory=str(TEMPLATES))
    environment.env.filters.update(
        number=format_number,
        signed=format_signed,
        percent=format_percent,
        time=format_time,
        tojson_script=to_json,
    )
    environment.env.globals["interval"] = format_interval
    return environment
