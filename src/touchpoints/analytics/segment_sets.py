"""Segment sets: one 64-bit id per combination of segments, written on every feedback row.

A feedback row's `segment_set` is the set of segments its customer was in when the row was
exported; the customers file carries the same id next to the customer's segment names. So an
engine groups answers by segment without joining them to the customers: it groups by the
set id, then joins the few (set id, segment name) pairs (touchpoints.analytics.segment_groups).

The id is the first 8 bytes of BLAKE2b over the segment ids, sorted and joined with the unit
separator (U+001F), read as a signed big-endian integer: the same wherever it is computed
(exporter, benchmarks, tests), and it names ids, not names, so renaming a segment changes
no feedback row. No customer, or a customer in no segment, has no set: `segment_set` is null.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from touchpoints.analytics.sources import CUSTOMER_SEPARATOR, NAME_SEPARATOR, PAIR_SEPARATOR

__all__ = ["CustomerSegmentSets", "segment_set_column", "segment_set_id"]

SET_TYPE = pa.int64()


def segment_set_id(segment_ids: Iterable[str]) -> int | None:
    """Return the id of a set of segment ids (None for no segment).

    >>> segment_set_id(["b", "a"]) == segment_set_id(["a", "b"])
    True
    >>> segment_set_id([]) is None
    True
    """
    ordered = sorted(segment_ids)
    if not ordered:
        return None
    digest = hashlib.blake2b(NAME_SEPARATOR.join(ordered).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def segment_set_column(texts: pa.Array) -> pa.Array:
    """Return the set id of each text of segment ids joined with the separator (any order).

    Null and empty texts have no set. Each distinct text is hashed once.
    """
    if texts.null_count == len(texts):  # a full read of feedback: looked up afterwards
        return pa.nulls(len(texts), type=SET_TYPE)
    encoded = pc.dictionary_encode(texts)
    ids = [
        segment_set_id(text.split(NAME_SEPARATOR)) if text else None
        for text in encoded.dictionary.to_pylist()
    ]
    return pa.array(ids, type=SET_TYPE).take(encoded.indices)


class CustomerSegmentSets:
    """The set id of every customer in a segment, looked up for many customer ids at once.

    Arrow builds a hash table of the value set on every `index_in` call: for the 500,000
    customers of a big workspace that costs more than the rest of a batch's conversion. Here
    the table is built once: each customer id is read as a few 64-bit words (zero padded to
    the longest id) folded into one fingerprint, the fingerprints are indexed by pandas, and
    every match is checked against the id itself.
    """

    def __init__(self, customer_ids: pa.Array, texts: pa.Array) -> None:
        self.customer_ids = customer_ids
        self.sets = segment_set_column(texts)
        longest = pc.max(pc.binary_length(customer_ids)).as_py() or 0
        self._width = max(8, -(-longest // 8) * 8)
        self._index: Any = None
        if len(customer_ids):
            import pandas as pd

            rows, fingerprints = self._fingerprints(customer_ids)
            index = pd.Index(fingerprints)
            # Two customers with one fingerprint: fall back to Arrow's exact look-up.
            exact = len(rows) == len(customer_ids) and index.is_unique
            self._index = index if exact else None

    @classmethod
    def from_packed(cls, packed: pa.Array | pa.ChunkedArray) -> CustomerSegmentSets:
        """Build from packed texts: customers apart with U+001D, id and segment ids U+001E."""
        texts = pa.chunked_array([packed]) if isinstance(packed, pa.Array) else packed
        texts = texts.combine_chunks().cast(pa.string()).drop_null()
        customers = pc.list_flatten(pc.split_pattern(texts, CUSTOMER_SEPARATOR))
        pairs = pc.split_pattern(customers, PAIR_SEPARATOR)
        return cls(pc.list_element(pairs, 0), pc.list_element(pairs, 1))

    def _fingerprints(self, ids: pa.Array) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        """Return the rows whose id may be known (not null, not too long) and their prints."""
        if isinstance(ids, pa.ChunkedArray):
            ids = ids.combine_chunks()
        ids = ids if ids.type == pa.string() else ids.cast(pa.string())
        fits = pc.fill_null(pc.less_equal(pc.binary_length(ids), self._width), False)
        rows = np.flatnonzero(fits.to_numpy(zero_copy_only=False))
        compact = ids.filter(fits)
        width, count = self._width, len(compact)
        if count == 0:
            return rows, np.zeros(0, dtype=np.uint64)
        _, offsets_buffer, data_buffer = compact.buffers()
        offsets = np.frombuffer(offsets_buffer, np.int32, count + 1, compact.offset * 4)
        data = np.frombuffer(data_buffer or b"", np.uint8)[offsets[0] : offsets[-1]]
        lengths = np.diff(offsets)
        if (lengths == width).all():  # ids of one length (ours are 32 hex digits): no copy
            matrix = data.reshape(count, width)
        else:
            matrix = np.zeros((count, width), dtype=np.uint8)
            matrix[np.arange(width) < lengths[:, None]] = data
        words = matrix.view(np.uint64)
        prints = lengths.astype(np.uint64) * _MIX[0]
        for column in range(words.shape[1]):
            prints ^= words[:, column] * _MIX[1 + column % (len(_MIX) - 1)]
            prints = (prints << np.uint64(23)) | (prints >> np.uint64(41))
        return rows, prints

    def of(self, customer_ids: pa.Array) -> pa.Array:
        """Return the set id of each customer (null without customer or segment)."""
        if len(customer_ids) == 0 or len(self.customer_ids) == 0:
            return pa.nulls(len(customer_ids), type=SET_TYPE)
        if self._index is None:
            return self.sets.take(pc.index_in(customer_ids, value_set=self.customer_ids))
        rows, prints = self._fingerprints(customer_ids)
        found = np.full(len(customer_ids), -1, dtype=np.int64)
        found[rows] = self._index.get_indexer(prints)
        positions = pa.array(found, mask=found < 0)
        same = pc.equal(self.customer_ids.take(positions), customer_ids)
        sets = pc.if_else(same, self.sets.take(positions), pa.scalar(None, SET_TYPE))
        clashes = pc.invert(pc.fill_null(same, True))
        if pc.any(clashes).as_py():  # a fingerprint shared with another id: look those up
            exact = self.sets.take(pc.index_in(customer_ids, value_set=self.customer_ids))
            sets = pc.if_else(clashes, exact, sets)
        return sets


# Odd 64-bit constants (from splitmix64 and xxhash) that spread each word over the print.
_MIX = np.array(
    [
        0x9E3779B97F4A7C15,
        0xBF58476D1CE4E5B9,
        0x94D049BB133111EB,
        0xC2B2AE3D27D4EB4F,
        0x165667B19E3779F9,
    ],
    dtype=np.uint64,
)
