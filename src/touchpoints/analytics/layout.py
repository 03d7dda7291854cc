"""The analytics store's file layout: datasets, their Arrow schemas and where their files live.

The exporter writes these files and every engine (DuckDB, Spark, or any Parquet reader) reads
them. The layout is engine-neutral on purpose: no Hive-style ``key=value`` folders whose types
each engine guesses differently; the partition keys are ordinary columns inside the files and
the folders only make pruning cheap::

    <root>/feedback/<workspace_id>/<YYYY-MM>/part-<n>.parquet
    <root>/events/<workspace_id>/<YYYY-MM>/part-<n>.parquet
    <root>/customers/<workspace_id>/all/part-<n>.parquet
    <root>/touchpoints/<workspace_id>/all/part-<n>.parquet
    <root>/org_units/<workspace_id>/all/part-<n>.parquet

Times are UTC (``timestamp[us, tz=UTC]``); ``month`` is the UTC month of ``occurred_at``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

__all__ = [
    "CUSTOMERS",
    "DATASETS",
    "EVENTS",
    "FEEDBACK",
    "ORG_UNITS",
    "TOUCHPOINTS",
    "UNPARTITIONED",
    "Dataset",
    "dataset_glob",
    "partition_dir",
]

UTC_TIME = pa.timestamp("us", tz="UTC")
UNPARTITIONED = "all"


@dataclass(frozen=True)
class Dataset:
    """One table of the analytics store."""

    name: str
    schema: pa.Schema
    by_month: bool
    key: str


FEEDBACK = Dataset(
    name="feedback",
    by_month=True,
    key="feedback_item_id",
    schema=pa.schema(
        [
            ("feedback_item_id", pa.string()),
            ("workspace_id", pa.string()),
            ("month", pa.string()),
            ("occurred_at", UTC_TIME),
            ("solicited", pa.bool_()),
            ("source", pa.string()),
            ("channel", pa.string()),
            ("touchpoint_id", pa.string()),
            ("stage_id", pa.string()),
            ("journey_id", pa.string()),
            ("org_unit_id", pa.string()),
            ("org_unit_path", pa.string()),
            ("customer_id", pa.string()),
            # The customer's segments when the row was exported: touchpoints.analytics
            # .segment_sets (null without customer or segment).
            ("segment_set", pa.int64()),
            ("survey_id", pa.string()),
            ("language", pa.string()),
            ("nps", pa.int8()),
            ("csat", pa.int8()),
            ("ces", pa.int8()),
            ("rating", pa.float64()),
            ("rating_scale", pa.int8()),
            ("sentiment", pa.string()),
            ("topics", pa.list_(pa.string())),
        ]
    ),
)

EVENTS = Dataset(
    name="events",
    by_month=True,
    key="event_id",
    schema=pa.schema(
        [
            ("event_id", pa.string()),
            ("workspace_id", pa.string()),
            ("month", pa.string()),
            ("occurred_at", UTC_TIME),
            ("type", pa.string()),
            ("name", pa.string()),
            ("customer_id", pa.string()),
            ("touchpoint_id", pa.string()),
            ("org_unit_id", pa.string()),
            ("org_unit_path", pa.string()),
            ("value", pa.float64()),
            ("currency", pa.string()),
            ("duration_seconds", pa.float64()),
        ]
    ),
)

CUSTOMERS = Dataset(
    name="customers",
    by_month=False,
    key="customer_id",
    schema=pa.schema(
        [
            ("customer_id", pa.string()),
            ("workspace_id", pa.string()),
            ("org_unit_id", pa.string()),
            ("org_unit_path", pa.string()),
            ("first_seen_at", UTC_TIME),
            ("created_at", UTC_TIME),
            ("segments", pa.list_(pa.string())),
            # The id of the customer's set of segments, as on its feedback rows.
            ("segment_set", pa.int64()),
            # The customer's attributes as a JSON object (text), e.g. {"tier": "gold"}.
            ("attributes", pa.string()),
        ]
    ),
)

TOUCHPOINTS = Dataset(
    name="touchpoints",
    by_month=False,
    key="touchpoint_id",
    schema=pa.schema(
        [
            ("touchpoint_id", pa.string()),
            ("workspace_id", pa.string()),
            ("name", pa.string()),
            ("channel", pa.string()),
            ("owner_department", pa.string()),
            ("controllable", pa.bool_()),
            ("stage_id", pa.string()),
            ("stage_name", pa.string()),
            ("stage_position", pa.int32()),
            ("journey_id", pa.string()),
            ("journey_name", pa.string()),
        ]
    ),
)

ORG_UNITS = Dataset(
    name="org_units",
    by_month=False,
    key="org_unit_id",
    schema=pa.schema(
        [
            ("org_unit_id", pa.string()),
            ("workspace_id", pa.string()),
            ("parent_id", pa.string()),
            ("code", pa.string()),
            ("name", pa.string()),
            ("kind", pa.string()),
            ("path", pa.string()),
        ]
    ),
)

DATASETS: dict[str, Dataset] = {
    dataset.name: dataset for dataset in (FEEDBACK, EVENTS, CUSTOMERS, TOUCHPOINTS, ORG_UNITS)
}


def partition_dir(root: Path, dataset: Dataset, workspace_id: str, month: str | None) -> Path:
    """The folder holding one partition: a workspace's month, or all of an unpartitioned set."""
    if not dataset.by_month:
        return root / dataset.name / workspace_id / UNPARTITIONED
    if month is None:
        raise ValueError(f"dataset {dataset.name} is partitioned by month; give one")
    return root / dataset.name / workspace_id / month


def dataset_glob(root: Path, dataset: Dataset, workspace_id: str) -> str:
    """A glob of every Parquet file of one workspace's dataset (DuckDB and Spark both read it)."""
    return str(root / dataset.name / workspace_id / "*" / "*.parquet")
