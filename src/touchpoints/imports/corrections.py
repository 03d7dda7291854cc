"""Corrections of quarantined rows typed into a form: each cell back to the type it was read as."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def cell_text(value: Any) -> str:
    """Write a cell of a quarantined row for a text field: text as is, other values as JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def corrected_raw(original: Mapping[str, Any], edited: Mapping[str, str]) -> dict[str, Any]:
    """Return the row with the edited cells; a cell keeps the kind of value the file gave it.

    Text stays text (CSV cells are all text); an empty cell that was null stays null; a
    number, list, object or null (JSON Lines, Parquet) is read back from its JSON text,
    falling back to the text typed when it is not JSON. Columns the row lacks are ignored.
    """
    corrected = dict(original)
    for column, value in original.items():
        if column not in edited:
            continue
        typed = edited[column]
        if isinstance(value, str):
            corrected[column] = typed
        elif value is None and typed == "":
            corrected[column] = None
        else:
            corrected[column] = _json_or_text(typed)
    return corrected


def _json_or_text(typed: str) -> Any:
    try:
        return json.loads(typed)
    except ValueError:
        return typed
