"""Keep the analytics store's Parquet files in step with the operational store.

An incremental export claims the change marks the triggers left (touchpoints.analytics
.changes), reads the rows of exactly those partitions in one query per dataset, writes each
partition's new file beside the old one, swaps them atomically (touchpoints.analytics.files)
and only then deletes the marks it claimed. A crash at any step leaves complete old or new
files and the claimed marks, so the next run redoes the same partitions: no row is lost or
doubled. A rebuild rewrites every partition and removes the files of partitions that no
longer exist; the first export into an empty folder is a rebuild.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlalchemy import Engine, delete, select, update

from touchpoints.analytics.changes import AnalyticsChange
from touchpoints.analytics.files import (
    Partition,
    PartitionRouter,
    partitions_on_disk,
    remove_partition,
    remove_temporaries,
)
from touchpoints.analytics.layout import DATASETS, UNPARTITIONED, Dataset, partition_dir
from touchpoints.analytics.locking import export_lock
from touchpoints.analytics.reading import Snapshot, snapshot
from touchpoints.analytics.rows import Lookup, to_layout
from touchpoints.analytics.sources import (
    DERIVED,
    LOOKUPS,
    Dialect,
    Scope,
    dataset_query,
    lookup_query,
    month_bounds,
    raw_schema,
)
from touchpoints.analytics.triggers import EVERY_MONTH
from touchpoints.db.base import utcnow

MARKER_NAME = "_touchpoints_analytics.json"
FORMAT_VERSION = 1

# checkpoint(step, dataset): called after "written" (new files complete, not yet swapped) and
# "published" (swapped, marks not yet cleared); tests raise there to simulate a crash.
Checkpoint = Callable[[str, str], None]
# progress(dataset, rows read so far)
Progress = Callable[[str, int], None]

logger = logging.getLogger(__name__)


@dataclass
class DatasetExport:
    """What one dataset's export did."""

    dataset: str
    rows: int = 0
    partitions_written: int = 0
    partitions_removed: int = 0
    seconds: float = 0.0


@dataclass
class ExportSummary:
    """What an export run did."""

    mode: str
    root: str
    datasets: list[DatasetExport] = field(default_factory=list)
    # Partitions that writes had marked stale (distinct marks) when the run began.
    stale_partitions: int = 0
    seconds: float = 0.0
    skipped: bool = False

    @property
    def rows(self) -> int:
        """Return the rows written, all datasets together."""
        return sum(dataset.rows for dataset in self.datasets)

    def as_dict(self) -> dict[str, Any]:
        """Return the summary as JSON-ready data."""
        return asdict(self) | {"rows": self.rows}


def _no_checkpoint(step: str, dataset: str) -> None:
    return None


def _no_progress(dataset: str, rows: int) -> None:
    return None


class AnalyticsExporter:
    """Export the operational store into the analytics store under `root`."""

    def __init__(
        self,
        engine: Engine,
        root: Path,
        *,
        checkpoint: Checkpoint = _no_checkpoint,
        progress: Progress = _no_progress,
    ) -> None:
        self.engine = engine
        self.root = root
        self.dialect = Dialect(engine.dialect.name)
        self.checkpoint = checkpoint
        self.progress = progress

    @property
    def marker(self) -> Path:
        """Return the file that says a full export into `root` completed."""
        return self.root / MARKER_NAME

    def export(self, *, wait: bool = True) -> ExportSummary:
        """Export the partitions changed since the last run (everything, the first time).

        With `wait=False` a run that finds another export in progress does nothing and says
        so (`skipped`); the marks stay for the next run.
        """
        with export_lock(self.root, self.engine, wait=wait) as held:
            if not held:
                return ExportSummary(mode="incremental", root=str(self.root), skipped=True)
            if not self.marker.exists():
                return self._rebuild()
            return self._incremental()

    def rebuild(self) -> ExportSummary:
        """Rewrite every partition from scratch and remove the files of vanished ones."""
        with export_lock(self.root, self.engine, wait=True):
            return self._rebuild()

    def _incremental(self) -> ExportSummary:
        started = time.perf_counter()
        summary = ExportSummary(mode="incremental", root=str(self.root))
        self._claim()
        plan, summary.stale_partitions = self._plan()
        if plan:
            logger.info("analytics export: %d stale partitions", summary.stale_partitions)
        for name, scope in plan.items():
            dataset = DATASETS.get(name)
            if dataset is not None:
                summary.datasets.append(self._export_dataset(dataset, scope))
            self._clear(name)
        summary.seconds = round(time.perf_counter() - started, 3)
        return summary

    def _rebuild(self) -> ExportSummary:
        started = time.perf_counter()
        summary = ExportSummary(mode="rebuild", root=str(self.root))
        self._claim()
        _, summary.stale_partitions = self._plan()
        self.marker.unlink(missing_ok=True)
        for dataset in DATASETS.values():
            summary.datasets.append(self._export_dataset(dataset, None))
        with self.engine.begin() as connection:
            connection.execute(delete(AnalyticsChange).where(AnalyticsChange.claimed.is_(True)))
        self._write_marker()
        summary.seconds = round(time.perf_counter() - started, 3)
        return summary

    # --- change marks ---------------------------------------------------------------------

    def _claim(self) -> None:
        """Claim every unclaimed mark: what this run will export and then clear."""
        statement = (
            update(AnalyticsChange)
            .where(AnalyticsChange.claimed.is_(False))
            .values(claimed=True)
            .execution_options(synchronize_session=False)
        )
        with self.engine.begin() as connection:
            connection.execute(statement)

    def _plan(self) -> tuple[dict[str, dict[str, frozenset[str] | None]], int]:
        """Return the claimed partitions per dataset and workspace (None: every month)."""
        statement = (
            select(AnalyticsChange.dataset, AnalyticsChange.workspace_id, AnalyticsChange.month)
            .where(AnalyticsChange.claimed.is_(True))
            .distinct()
        )
        with self.engine.connect() as connection:
            rows = connection.execute(statement).all()
        months: dict[str, dict[str, set[str] | None]] = {}
        for name, workspace_id, month in rows:
            workspaces = months.setdefault(name, {})
            current = workspaces.get(workspace_id, set())
            if current is None or month in (EVERY_MONTH, UNPARTITIONED) or not _is_month(month):
                workspaces[workspace_id] = None
            else:
                workspaces[workspace_id] = current | {month}
        plan = {
            name: {ws: None if m is None else frozenset(m) for ws, m in workspaces.items()}
            for name, workspaces in months.items()
        }
        return plan, len(rows)

    def _clear(self, dataset: str) -> None:
        statement = delete(AnalyticsChange).where(
            AnalyticsChange.claimed.is_(True), AnalyticsChange.dataset == dataset
        )
        with self.engine.begin() as connection:
            connection.execute(statement)

    # --- one dataset ----------------------------------------------------------------------

    def _export_dataset(self, dataset: Dataset, scope: Scope) -> DatasetExport:
        started = time.perf_counter()
        result = DatasetExport(dataset=dataset.name)
        router = PartitionRouter(self.root, dataset)
        sql, params = dataset_query(dataset, self.dialect, scope)
        try:
            with snapshot(self.engine) as reading:
                lookups = self._lookups(reading, dataset, scope)
                for raw in reading.batches(sql, params, raw_schema(dataset)):
                    router.route(to_layout(raw, dataset, lookups))
                    result.rows += raw.num_rows
                    self.progress(dataset.name, result.rows)
            router.finish()
            self.checkpoint("written", dataset.name)
            for file in router.files.values():
                file.publish()
        finally:
            router.discard()  # what was published is gone from its temporary name already
        result.partitions_written = len(router.files)
        for workspace_id, month in self._emptied(dataset, scope, set(router.files)):
            folder = partition_dir(self.root, dataset, workspace_id, _month_arg(dataset, month))
            result.partitions_removed += remove_partition(folder)
        self.checkpoint("published", dataset.name)
        result.seconds = round(time.perf_counter() - started, 3)
        return result

    def _lookups(self, reading: Snapshot, dataset: Dataset, scope: Scope) -> dict[str, Lookup]:
        """Read the small tables a dataset's derived columns come from, in its snapshot."""
        wanted = {"org_units"} if "org_unit_path" in DERIVED.get(dataset.name, ()) else set()
        if "stage_id" in DERIVED.get(dataset.name, ()):
            wanted.add("touchpoints")
        lookups = {}
        for name in sorted(wanted):
            columns = LOOKUPS[name][0]
            schema = pa.schema([(column, pa.string()) for column in columns])
            sql, params = lookup_query(name, self.dialect, scope)
            lookups[name] = Lookup(reading.table(sql, params, schema))
        return lookups

    def _emptied(self, dataset: Dataset, scope: Scope, written: set[Partition]) -> set[Partition]:
        """Return the partitions in scope that got no rows (their files must go)."""
        if scope is None:
            return partitions_on_disk(self.root, dataset, None) - written
        emptied: set[Partition] = set()
        for workspace_id, months in scope.items():
            if months is None or not dataset.by_month:
                on_disk = partitions_on_disk(self.root, dataset, workspace_id)
                if not dataset.by_month:
                    on_disk.add((workspace_id, UNPARTITIONED))
                emptied |= on_disk
            else:
                emptied |= {(workspace_id, month) for month in months}
        return emptied - written

    def _write_marker(self) -> None:
        content = {"format": FORMAT_VERSION, "rebuilt_at": utcnow().isoformat()}
        temporary = self.root / f".{MARKER_NAME}.tmp"
        temporary.write_text(json.dumps(content) + "\n", encoding="utf-8")
        temporary.replace(self.marker)
        for dataset in DATASETS.values():
            for workspace in (self.root / dataset.name).glob("*"):
                for folder in workspace.glob("*"):
                    remove_temporaries(folder)


def _is_month(value: str) -> bool:
    try:
        month_bounds(value)
    except ValueError:
        return False
    return True


def _month_arg(dataset: Dataset, month: str) -> str | None:
    return month if dataset.by_month else None


def last_rebuild(root: Path) -> datetime | None:
    """Return when the analytics store under `root` was last rebuilt, if ever."""
    try:
        content = json.loads((root / MARKER_NAME).read_text(encoding="utf-8"))
        return datetime.fromisoformat(content["rebuilt_at"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
