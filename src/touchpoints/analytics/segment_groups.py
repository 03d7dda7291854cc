"""Group metrics by segment without joining feedback to customers: through segment sets.

Every feedback row carries its customer's segment set (touchpoints.analytics.segment_sets).
When the only customer-side keys and filters of a plan are segments, the engine groups the
answers by (segment set, the other keys) into sufficient statistics, joins those few rows to
the (segment set, segment name) pairs read from the customers file, keeps the sets holding a
filtered segment, and adds the statistics up by the real keys. That gives exactly what
joining every answer to its customer's exploded segments gives: an answer without a set (no
customer, or a customer in no segment) has no segment, and one in a set of k segments counts
once in each, but the join is over hundreds of rows instead of millions. Sums of counts and
sums are exact on every engine; a metric whose statistics were not sums would keep the join.
"""

from __future__ import annotations

import glob
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import narwhals as nw
import pyarrow as pa

from touchpoints.analytics.definitions import MetricDefinition
from touchpoints.analytics.dimensions import Dimension, DimensionFilter
from touchpoints.analytics.engine import Engine
from touchpoints.analytics.layout import CUSTOMERS, dataset_glob

__all__ = ["SET_COLUMN", "SetGrouping", "segment_names", "set_grouping"]

LazyFrame = nw.LazyFrame[Any]
SET_COLUMN = "segment_set"
SEGMENT = "segment"
# (root, workspace, customers files) -> the (set, segment) pairs, for the latest few stores.
NAMES_KEPT = 32
_NAMES: OrderedDict[tuple[Any, ...], pa.Table | None] = OrderedDict()
_NAMES_LOCK = threading.Lock()
_MISSING: Any = object()


@dataclass(frozen=True)
class SetGrouping:
    """How a plan's segment keys and filters are met through segment sets."""

    # The group-key column (k0, ks ...) of each segment dimension.
    keys: dict[str, Dimension]
    filters: list[DimensionFilter]
    # All the plan's group-key columns.
    key_columns: list[str]

    @property
    def partial_keys(self) -> list[str]:
        """Return the keys of the first grouping: the plan's other keys and the set."""
        return [name for name in self.key_columns if name not in self.keys] + [SET_COLUMN]

    def regroup(self, partial: LazyFrame, names: LazyFrame, statistics: list[str]) -> LazyFrame:
        """Turn statistics by (keys, set) into statistics by the plan's keys."""
        for condition in self.filters:
            matching = names.filter(nw.col(SEGMENT).is_in(list(condition.values)))
            partial = partial.join(matching.select(SET_COLUMN).unique(), on=SET_COLUMN)
        for name in self.keys:
            # A set left out (no segment) keeps its rows with a null key, as a left join does.
            pairs = names.select(SET_COLUMN, nw.col(SEGMENT).alias(name))
            partial = partial.join(pairs, on=SET_COLUMN, how="left")
        sums = {name: nw.col(name).sum() for name in statistics}
        if self.key_columns:
            return partial.group_by(*self.key_columns).agg(**sums)
        return partial.select(**sums)


def set_grouping(
    dimensions: list[tuple[str, Dimension]],
    filters: tuple[DimensionFilter, ...],
    key_columns: list[str],
    metric: MetricDefinition,
) -> SetGrouping | None:
    """Return how to group through segment sets, or None when the plan needs the join.

    `dimensions` names the group-key column of each dimension (and of the stratum).
    """
    customer_keys = [d for _, d in dimensions if d.source in ("segment", "attribute")]
    customer_filters = [f for f in filters if f.dimension.source in ("segment", "attribute")]
    if not (customer_keys or customer_filters) or not metric.additive:
        return None
    if any(d.source != "segment" for d in customer_keys) or any(
        f.dimension.source != "segment" for f in customer_filters
    ):
        return None  # an attribute is only on the customers: join them
    keys = {name: d for name, d in dimensions if d.source == "segment"}
    return SetGrouping(keys, customer_filters, key_columns)


def segment_names(engine: Engine, root: Path, workspace_id: str) -> LazyFrame | None:
    """Return the distinct (segment set, segment name) pairs of the customers file.

    None when there is no customers file, or it predates segment sets. The pairs are read once
    per version of the customers files (they change only when an export rewrites them) and
    kept as a small Arrow table: every segment query of a dashboard reuses them.
    """
    signature = _files_signature(root, workspace_id)
    if not signature:
        return None
    key = (str(root), workspace_id, signature)
    with _NAMES_LOCK:
        cached = _NAMES.get(key, _MISSING)
        if cached is not _MISSING:
            _NAMES.move_to_end(key)
    if cached is _MISSING:
        frame = _names_frame(engine, root, workspace_id)
        cached = None if frame is None else engine.collect(frame)
        with _NAMES_LOCK:
            _NAMES[key] = cached
            while len(_NAMES) > NAMES_KEPT:
                _NAMES.popitem(last=False)
    return None if cached is None else engine.from_arrow(cast(pa.Table, cached))


def _files_signature(root: Path, workspace_id: str) -> tuple[tuple[str, int, int, int], ...]:
    """Name each customers file with its inode, size and change time.

    A rewrite (a new file renamed into place, or one written over) gives a new key.
    """
    files = sorted(glob.glob(dataset_glob(root, CUSTOMERS, workspace_id)))
    signature = []
    for name in files:
        try:
            status = os.stat(name)
        except FileNotFoundError:  # replaced while listed: the next look sees the new one
            continue
        signature.append((name, status.st_ino, status.st_size, status.st_mtime_ns))
    return tuple(signature)


def _names_frame(engine: Engine, root: Path, workspace_id: str) -> LazyFrame | None:
    customers = engine.scan(root, CUSTOMERS, workspace_id)
    if customers is None or SET_COLUMN not in customers.columns:
        return None
    pairs = customers.filter(~nw.col(SET_COLUMN).is_null()).select(
        SET_COLUMN, nw.col("segments").alias(SEGMENT)
    )
    # Distinct pairs by grouping: narwhals' unique() numbers every row, which costs more.
    pairs = pairs.explode(SEGMENT).filter(~nw.col(SEGMENT).is_null())
    return pairs.group_by(SET_COLUMN, SEGMENT).agg(nw.len()).select(SET_COLUMN, SEGMENT)
