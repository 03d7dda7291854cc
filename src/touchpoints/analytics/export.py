"""Keep the analytics store's Parquet files in step with the operational store.

An incremental export claims the change marks the triggers left (touchpoints.analytics
.changes) and plans each stale partition. A partition with a partition mark, without a file,
or whose changed rows are a large share of its file is rewritten: the rows of all such
partitions come from one query per dataset. A partition with only row marks is merged from
its current file and the marked rows, read by id in the same snapshot
(touchpoints.analytics.merge). Every new file is written beside the old one and swapped in
atomically (touchpoints.analytics.files); only then are the marks it claimed and read deleted.
A crash at any step leaves complete old or new files and those marks, so the next run redoes
the same partitions: no row is lost or doubled. A rebuild rewrites every partition and removes
the files of partitions that no longer exist; the first export into an empty folder is a
rebuild, and so is the first export into a folder written in an older layout (the marker
file names the layout's version).
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
from sqlalchemy import Engine

from touchpoints.analytics.changes import (
    DatasetWork,
    RowMarks,
    claim_marks,
    claimed_partitions,
    clear_marks,
    read_row_marks,
)
from touchpoints.analytics.files import (
    Partition,
    PartitionRouter,
    partition_folder,
    partitions_on_disk,
    remove_partition,
    remove_temporaries,
)
from touchpoints.analytics.layout import DATASETS, UNPARTITIONED, Dataset
from touchpoints.analytics.locking import export_lock
from touchpoints.analytics.merge import PartitionMerge, file_rows, worth_merging
from touchpoints.analytics.reading import Snapshot, snapshot
from touchpoints.analytics.rows import Lookup, to_layout
from touchpoints.analytics.segment_sets import CustomerSegmentSets
from touchpoints.analytics.sources import (
    DERIVED,
    LOOKUPS,
    SETS_LOOKED_UP,
    Dialect,
    Scope,
    dataset_query,
    lookup_query,
    raw_schema,
    segment_ids_query,
)
from touchpoints.db.base import utcnow

MARKER_NAME = "_touchpoints_analytics.json"
# 2: feedback and customers carry `segment_set` (touchpoints.analytics.segment_sets).
FORMAT_VERSION = 2

# checkpoint(step, dataset): called after "written" (new files complete, not yet swapped) and
# "published" (swapped, marks not yet cleared); tests raise there to simulate a crash.
Checkpoint = Callable[[str, str], None]
# progress(dataset, rows read from the store so far)
Progress = Callable[[str, int], None]

logger = logging.getLogger(__name__)


@dataclass
class DatasetExport:
    """What one dataset's export did."""

    dataset: str
    # Rows in the files written (rewritten or merged partitions).
    rows: int = 0
    # Rows read from the operational store: a merge reads only the changed ones.
    rows_from_store: int = 0
    partitions_written: int = 0
    # Of the partitions written, those merged from their file plus the changed rows.
    partitions_merged: int = 0
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
            if store_format(self.root) != FORMAT_VERSION:
                return self._rebuild()
            return self._incremental()

    def rebuild(self) -> ExportSummary:
        """Rewrite every partition from scratch and remove the files of vanished ones."""
        with export_lock(self.root, self.engine, wait=True):
            return self._rebuild()

    def _incremental(self) -> ExportSummary:
        started = time.perf_counter()
        summary = ExportSummary(mode="incremental", root=str(self.root))
        claim_marks(self.engine)
        row_marks = read_row_marks(self.engine)
        plan, summary.stale_partitions = self._plan(row_marks)
        if plan:
            logger.info("analytics export: %d stale partitions", summary.stale_partitions)
        for name, work in plan.items():
            dataset = DATASETS.get(name)
            if dataset is not None:
                summary.datasets.append(self._export_dataset(dataset, work.scope, work.merges))
            clear_marks(self.engine, name, row_marks.mark_ids.get(name, []))
        summary.seconds = round(time.perf_counter() - started, 3)
        return summary

    def _rebuild(self) -> ExportSummary:
        started = time.perf_counter()
        summary = ExportSummary(mode="rebuild", root=str(self.root))
        claim_marks(self.engine)
        row_marks = read_row_marks(self.engine)
        summary.stale_partitions = len({*claimed_partitions(self.engine), *row_marks.partitions()})
        self.marker.unlink(missing_ok=True)
        for dataset in DATASETS.values():
            summary.datasets.append(self._export_dataset(dataset, None, {}))
        clear_marks(self.engine, None, [i for ids in row_marks.mark_ids.values() for i in ids])
        self._write_marker()
        summary.seconds = round(time.perf_counter() - started, 3)
        return summary

    def _plan(self, row_marks: RowMarks) -> tuple[dict[str, DatasetWork], int]:
        """Return what to rewrite and what to merge per dataset, and the stale partitions."""
        plan: dict[str, DatasetWork] = {}
        stale = set()
        for name, workspace_id, month in claimed_partitions(self.engine):
            plan.setdefault(name, DatasetWork()).rewrite(workspace_id, month)
            stale.add((name, workspace_id, month))
        for name, partitions in row_marks.changed.items():
            work = plan.setdefault(name, DatasetWork())
            dataset = DATASETS.get(name)
            for partition, changed in partitions.items():
                stale.add((name, *partition))
                if dataset is None or work.covers(partition):
                    continue
                if worth_merging(len(changed), file_rows(self.root, dataset, partition)):
                    work.merges[partition] = sorted(changed)
                else:
                    work.rewrite(*partition)
        return plan, len(stale)

    # --- one dataset ----------------------------------------------------------------------

    def _export_dataset(
        self, dataset: Dataset, scope: Scope, merges: dict[Partition, list[str]]
    ) -> DatasetExport:
        started = time.perf_counter()
        result = DatasetExport(dataset=dataset.name)
        router = PartitionRouter(self.root, dataset)
        merge = PartitionMerge(self.root, dataset, merges)
        try:
            with snapshot(self.engine) as reading:
                lookups = self._lookups(reading, dataset, _lookup_scope(scope, merges))
                if scope is None or scope:
                    sets = self._segment_sets(reading, dataset, scope)
                    sql, params = dataset_query(dataset, self.dialect, scope)
                    for raw in reading.batches(sql, params, raw_schema(dataset)):
                        router.route(to_layout(raw, dataset, lookups, sets))
                        result.rows_from_store += raw.num_rows
                        self.progress(dataset.name, result.rows_from_store)
                merge.read(reading, self.dialect, lookups)
            router.finish()
            merge.write()
            self.checkpoint("written", dataset.name)
            for file in (*router.files.values(), *merge.files.values()):
                file.publish()
        finally:  # what was published is gone from its temporary name already
            router.discard()
            merge.discard()
        result.rows_from_store += merge.rows_from_store
        result.rows = sum(file.rows for file in router.files.values()) + merge.rows_written
        result.partitions_written = len(router.files) + len(merge.files)
        result.partitions_merged = len(merge.files)
        emptied = self._emptied(dataset, scope, set(router.files)) | merge.emptied
        for partition in emptied:
            result.partitions_removed += remove_partition(
                partition_folder(self.root, dataset, partition)
            )
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

    def _segment_sets(
        self, reading: Snapshot, dataset: Dataset, scope: Scope
    ) -> CustomerSegmentSets | None:
        """Read every customer's segment ids, for a full read that leaves them out."""
        if dataset.name not in SETS_LOOKED_UP:
            return None
        sql, params = segment_ids_query(self.dialect, scope)
        packed = reading.table(sql, params, pa.schema([("packed", pa.string())]))
        return CustomerSegmentSets.from_packed(packed.column(0))

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


def _lookup_scope(scope: Scope, merges: dict[Partition, list[str]]) -> Scope:
    """Return the workspaces whose lookup tables the rewritten and merged rows need."""
    if scope is None:
        return None
    return dict.fromkeys({*scope, *(ws for ws, _ in merges)})


def _marker(root: Path) -> dict[str, Any]:
    try:
        content = json.loads((root / MARKER_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return content if isinstance(content, dict) else {}


def store_format(root: Path) -> int | None:
    """Return the layout version of the analytics store under `root` (None: never built)."""
    version = _marker(root).get("format")
    return version if isinstance(version, int) else None


def last_rebuild(root: Path) -> datetime | None:
    """Return when the analytics store under `root` was last rebuilt, if ever."""
    try:
        return datetime.fromisoformat(_marker(root)["rebuilt_at"])
    except (KeyError, TypeError, ValueError):
        return None
