"""Turn raw record batches from the store into the layout's batches, column by column in Arrow.

Times become `timestamp[us, UTC]`, JSON lists become `list<string>` (a regular expression
finds the plain `["a", "b"]` texts that need no JSON parser; anything else, escapes
included, goes through `json.loads`), segment ids become their set's id, and the derived
columns are filled: the UTC month, the stage, journey and org-unit path looked up by id in
small tables, and a feedback row's segment set looked up by its customer in a full read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from touchpoints.analytics.layout import Dataset
from touchpoints.analytics.segment_sets import CustomerSegmentSets, segment_set_column
from touchpoints.analytics.sources import DERIVED, NAME_SEPARATOR

TEXT_LIST = pa.list_(pa.string())
EMPTY_LIST = pa.scalar([], type=TEXT_LIST)
# JSON arrays of strings without escapes, exactly as both stores write them.
PLAIN_JSON_LIST = r'^\[("[^"\\]*"(, "[^"\\]*")*)?\]$'
JSON_LISTS = frozenset({"topics"})


@dataclass(frozen=True)
class Lookup:
    """A small table indexed by id (org units, touchpoints), read in the export's snapshot."""

    table: pa.Table

    def get(self, column: str, ids: pa.Array) -> pa.Array:
        """Return `column` of the row of each id (null for a null or unknown id)."""
        positions = pc.index_in(ids, value_set=self.table.column("id"))
        return self.table.column(column).combine_chunks().take(positions)


def _json_list(value: str | None) -> list[str] | None:
    try:
        parsed: Any = json.loads(value) if value is not None else None
    except ValueError:
        return None
    if not isinstance(parsed, list):
        return None
    return [str(item) for item in parsed if item is not None]


def json_text_lists(column: pa.Array) -> pa.Array:
    """Parse JSON arrays of strings held as text; anything else but an array becomes null."""
    plain = pc.fill_null(pc.match_substring_regex(column, PLAIN_JSON_LIST), True)
    if not pc.all(plain).as_py():
        return pa.array([_json_list(value) for value in column.to_pylist()], type=TEXT_LIST)
    parts = pc.split_pattern(pc.utf8_slice_codeunits(column, 2, -2), '", "')
    return pc.if_else(pc.equal(column, "[]"), EMPTY_LIST, parts)


def separated_lists(column: pa.Array) -> pa.Array:
    """Split names joined with the separator; the empty string is the empty list."""
    parts = pc.split_pattern(column, NAME_SEPARATOR)
    return pc.if_else(pc.equal(column, ""), EMPTY_LIST, parts)


def utc_months(times: pa.Array) -> pa.Array:
    """Return the 'YYYY-MM' of UTC times (a few distinct months: formatted once each)."""
    codes = pc.dictionary_encode(pc.add(pc.multiply(pc.year(times), 100), pc.month(times)))
    names = [f"{code // 100:04d}-{code % 100:02d}" for code in codes.dictionary.to_pylist()]
    return pa.array(names, type=pa.string()).take(codes.indices)


def _convert(name: str, column: pa.Array, target: pa.DataType) -> pa.Array:
    if name == "segment_set":
        return segment_set_column(column.cast(pa.string()))
    if pa.types.is_list(target):
        return json_text_lists(column) if name in JSON_LISTS else separated_lists(column)
    if pa.types.is_timestamp(target) and pa.types.is_string(column.type):
        column = column.cast(pa.timestamp(target.unit))
    return column if column.type == target else column.cast(target)


def to_layout(
    raw: pa.RecordBatch,
    dataset: Dataset,
    lookups: dict[str, Lookup],
    segment_sets: CustomerSegmentSets | None = None,
) -> pa.RecordBatch:
    """Convert a raw batch to the dataset's layout, filling its derived columns.

    With `segment_sets`, rows that came without segment ids (a full read) get their
    customer's set from it.
    """
    columns: dict[str, pa.Array] = {
        name: _convert(name, raw.column(name), dataset.schema.field(name).type)
        for name in raw.schema.names
    }
    if segment_sets is not None and "segment_set" in columns:
        looked_up = segment_sets.of(columns["customer_id"])
        columns["segment_set"] = pc.coalesce(columns["segment_set"], looked_up)
    derived = DERIVED.get(dataset.name, ())
    if "month" in derived:
        columns["month"] = utc_months(columns["occurred_at"])
    if "stage_id" in derived:
        touchpoints = lookups["touchpoints"]
        columns["stage_id"] = touchpoints.get("stage_id", columns["touchpoint_id"])
        columns["journey_id"] = touchpoints.get("journey_id", columns["touchpoint_id"])
    if "org_unit_path" in derived:
        columns["org_unit_path"] = lookups["org_units"].get("path", columns["org_unit_id"])
    arrays = [columns[field.name].cast(field.type) for field in dataset.schema]
    return pa.RecordBatch.from_arrays(arrays, schema=dataset.schema)
