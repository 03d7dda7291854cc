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

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import narwhals as nw

from touchpoints.analytics.definitions import MetricDefinition
from touchpoints.analytics.dimensions import Dimension, DimensionFilter
from touchpoints.analytics.engine import Engine
from touchpoints.analytics.layout import CUSTOMERS

__all__ = ["SET_COLUMN", "SetGrouping", "segment_names", "set_grouping"]

LazyFrame = nw.LazyFrame[Any]
SET_COLUMN = "segment_set"
SEGMENT = "segment"


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

    None when there is no customers file, or it predates segment sets.
    """
    customers = engine.scan(root, CUSTOMERS, workspace_id)
    if customers is None or SET_COLUMN not in customers.columns:
        return None
    pairs = customers.filter(~nw.col(SET_COLUMN).is_null()).select(
        SET_COLUMN, nw.col("segments").alias(SEGMENT)
    )
    # Distinct pairs by grouping: narwhals' unique() numbers every row, which costs more.
    pairs = pairs.explode(SEGMENT).filter(~nw.col(SEGMENT).is_null())
    return pairs.group_by(SET_COLUMN, SEGMENT).agg(nw.len()).select(SET_COLUMN, SEGMENT)
