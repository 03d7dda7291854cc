"""Engines that run metric plans over the analytics store: DuckDB in-process, or Spark.

Metric code is written once against narwhals lazy frames; an engine only opens the Parquet
files as a lazy frame, runs the few things narwhals leaves to the backend (reading a field of
a JSON column, loading a small Arrow table) and hands the result back as Arrow, normalised so
that both engines return the same types: integer sums as int64, times as UTC.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, cast

import narwhals as nw
import pyarrow as pa

from touchpoints.analytics.layout import Dataset, dataset_glob

if TYPE_CHECKING:
    from touchpoints.config import Settings

__all__ = [
    "ENGINES",
    "DuckDBEngine",
    "Engine",
    "EngineName",
    "SparkEngine",
    "analytics_root",
    "normalise",
    "open_engine",
    "spark_session",
]

EngineName = Literal["duckdb", "spark"]
ENGINES: tuple[EngineName, ...] = ("duckdb", "spark")
LazyFrame = nw.LazyFrame[Any]


def analytics_root(settings: Settings) -> Path:
    """Return the folder of the analytics store (TOUCHPOINTS_ANALYTICS_DIR, else data_dir)."""
    return settings.analytics_root


class Engine(Protocol):
    """What the metric code needs from an engine."""

    name: EngineName

    def scan(self, root: Path, dataset: Dataset, workspace_id: str) -> LazyFrame | None:
        """Open a workspace's dataset as a lazy frame; None when it has no files yet."""
        ...

    def json_field(self, frame: LazyFrame, column: str, key: str, alias: str) -> LazyFrame:
        """Add `alias`: the text of one top-level field of a JSON-object column."""
        ...

    def from_arrow(self, table: pa.Table) -> LazyFrame:
        """Load a small Arrow table (a lookup) as a lazy frame of this engine."""
        ...

    def collect(self, frame: LazyFrame) -> pa.Table:
        """Run a lazy frame and return its rows as a normalised Arrow table."""
        ...

    def close(self) -> None:
        """Release what the engine holds."""
        ...


def _lazy(native: Any) -> LazyFrame:
    """Wrap an engine's native frame (a DuckDB relation, a Spark DataFrame) for narwhals."""
    return cast("LazyFrame", nw.from_native(native))


def _has_files(root: Path, dataset: Dataset, workspace_id: str) -> bool:
    folder = root / dataset.name / workspace_id
    return folder.is_dir() and any(folder.glob("*/*.parquet"))


class DuckDBEngine:
    """Run plans in-process with DuckDB over read_parquet (the default engine)."""

    name: EngineName = "duckdb"

    def __init__(self, threads: int | None = None) -> None:
        import duckdb

        self.connection = duckdb.connect()
        # Calendar functions on timestamptz follow the session zone: the store is UTC.
        self.connection.execute("SET TimeZone = 'UTC'")
        if threads is not None:
            self.connection.execute(f"SET threads = {int(threads)}")

    def scan(self, root: Path, dataset: Dataset, workspace_id: str) -> LazyFrame | None:
        """Open a workspace's dataset as a lazy frame; None when it has no files yet."""
        if not _has_files(root, dataset, workspace_id):
            return None
        relation = self.connection.read_parquet(dataset_glob(root, dataset, workspace_id))
        return nw.from_native(relation)

    def json_field(self, frame: LazyFrame, column: str, key: str, alias: str) -> LazyFrame:
        """Add `alias`: the text of one top-level field of a JSON-object column."""
        import duckdb

        relation = frame.to_native()
        field = duckdb.FunctionExpression(
            "json_extract_string",
            duckdb.ColumnExpression(column),
            duckdb.ConstantExpression(f'$."{key}"'),
        ).alias(alias)
        columns = [duckdb.ColumnExpression(name) for name in frame.columns]
        return _lazy(relation.select(*columns, field))

    def from_arrow(self, table: pa.Table) -> LazyFrame:
        """Load a small Arrow table (a lookup) as a lazy frame of this engine."""
        return _lazy(self.connection.from_arrow(table))

    def collect(self, frame: LazyFrame) -> pa.Table:
        """Run a lazy frame and return its rows as a normalised Arrow table."""
        return normalise(frame.collect("pyarrow").to_arrow())

    def close(self) -> None:
        """Close the DuckDB connection."""
        self.connection.close()


class SparkEngine:
    """Run the same plans on Apache Spark over the same Parquet files."""

    name: EngineName = "spark"

    def __init__(self, session: Any | None = None) -> None:
        self.session = session if session is not None else spark_session()

    def scan(self, root: Path, dataset: Dataset, workspace_id: str) -> LazyFrame | None:
        """Open a workspace's dataset as a lazy frame; None when it has no files yet."""
        if not _has_files(root, dataset, workspace_id):
            return None
        # Spark is given the files themselves: its glob probe logs a warning per query.
        files = sorted(
            str(path) for path in (root / dataset.name / workspace_id).glob("*/*.parquet")
        )
        frame = self.session.read.schema(_spark_schema(dataset)).parquet(*files)
        return _lazy(frame)

    def json_field(self, frame: LazyFrame, column: str, key: str, alias: str) -> LazyFrame:
        """Add `alias`: the text of one top-level field of a JSON-object column."""
        from pyspark.sql import functions

        native = frame.to_native()
        field = functions.get_json_object(functions.col(column), f"$['{key}']").alias(alias)
        return _lazy(native.select(*frame.columns, field))

    def from_arrow(self, table: pa.Table) -> LazyFrame:
        """Load a small Arrow table (a lookup) as a lazy frame of this engine."""
        return _lazy(self.session.createDataFrame(table))

    def collect(self, frame: LazyFrame) -> pa.Table:
        """Run a lazy frame and return its rows as a normalised Arrow table."""
        return normalise(frame.to_native().toArrow())

    def close(self) -> None:
        """Leave the shared Spark session running (it is costly to start)."""


def _spark_schema(dataset: Dataset) -> Any:
    """Return the Spark schema of a dataset, so every file is read with the same types."""
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(dataset.schema)


def spark_session(master: str | None = None) -> Any:
    """Return the local Spark session metrics run on (UTC, no UI, few shuffle partitions)."""
    from pyspark.sql import SparkSession

    master = master or os.environ.get("TOUCHPOINTS_SPARK_MASTER", "local[2]")
    session = (
        SparkSession.builder.master(master)
        .appName("touchpoints-metrics")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


@contextmanager
def open_engine(name: str = "duckdb") -> Iterator[DuckDBEngine | SparkEngine]:
    """Open the named engine for one piece of work and close it afterwards."""
    engine: DuckDBEngine | SparkEngine
    if name == "duckdb":
        engine = DuckDBEngine()
    elif name == "spark":
        engine = SparkEngine()
    else:
        raise ValueError(f"unknown engine {name!r}; use one of {', '.join(ENGINES)}")
    try:
        yield engine
    finally:
        engine.close()


def normalise(table: pa.Table) -> pa.Table:
    """Give both engines' results the same types: int64 counts, float64 sums, UTC times."""
    fields, columns = [], []
    for field, column in zip(table.schema, table.columns, strict=True):
        target = _normal_type(field.type)
        fields.append(pa.field(field.name, target))
        columns.append(column if target == field.type else column.cast(target))
    return pa.Table.from_arrays(columns, schema=pa.schema(fields))


def _normal_type(kind: pa.DataType) -> pa.DataType:
    if pa.types.is_decimal(kind):
        return pa.int64() if kind.scale == 0 else pa.float64()
    if pa.types.is_integer(kind):
        return pa.int64()
    if pa.types.is_floating(kind):
        return pa.float64()
    if pa.types.is_timestamp(kind):
        return pa.timestamp("us", tz="UTC")
    if pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        return pa.string()
    return kind
