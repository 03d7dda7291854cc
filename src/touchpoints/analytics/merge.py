"""Merge a partition from its current file and the rows changed since (copy on write).

When every mark of a month partition is a row mark (touchpoints.analytics.marks) and its
file exists, the exporter need not ask the store for the whole month again: it reads the
partition's current file, drops the rows whose ids are marked, takes the marked rows from the
store by id (the same SELECT as a full export, in the same snapshot, converted by the same
code), keeps those that belong to this partition now, and writes the file anew under a
temporary name, swapped in like any other (touchpoints.analytics.files). A merged partition
holds exactly the rows a rewrite would: the same schema, column order and types.

Merging is idempotent, which keeps crash safety as it was: after a crash the marks are still
there, and merging the same marks again into either the old or the new file gives the same
rows. A row moved to another month is marked in both; it leaves one partition and enters the
other. A partition whose changed rows are a large share of its file is rewritten instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from touchpoints.analytics.files import (
    PART_NAME,
    Partition,
    PartitionFile,
    partition_folder,
    split_by_partition,
)
from touchpoints.analytics.layout import Dataset
from touchpoints.analytics.reading import Snapshot
from touchpoints.analytics.rows import Lookup, to_layout
from touchpoints.analytics.sources import Dialect, raw_schema, rows_query

# From this share of a file's rows on, the partition is rewritten instead. PostgreSQL sends a
# row looked up by id at about twice the cost of a row of a range scan (21 vs 9 us measured
# at 1 M items), and a row read back from Parquet costs under 1 us: merging stops paying off
# around 40%; a quarter keeps a margin.
MERGE_MAX_SHARE = 0.25
# Ids per query: PostgreSQL plans a small query without JIT compilation, which would cost
# more than the look-ups themselves.
IDS_PER_QUERY = 2_000


def file_rows(root: Path, dataset: Dataset, partition: Partition) -> int | None:
    """Return the rows of a partition's file, or None when it cannot be merged into.

    A missing or unreadable file, or one written in another layout, is rewritten instead.
    """
    path = partition_folder(root, dataset, partition) / PART_NAME
    try:
        parquet = pq.ParquetFile(path)
    except (OSError, pa.ArrowException):
        return None
    with parquet:
        if not parquet.schema_arrow.equals(dataset.schema):
            return None
        return int(parquet.metadata.num_rows)


def worth_merging(changed: int, rows: int | None) -> bool:
    """Tell whether merging `changed` rows into a file of `rows` beats rewriting it."""
    return rows is not None and changed < MERGE_MAX_SHARE * rows


@dataclass
class PartitionMerge:
    """Build the new files of partitions merged from their files and their changed rows."""

    root: Path
    dataset: Dataset
    # The ids each partition's row marks name.
    marked: Mapping[Partition, Sequence[str]]
    files: dict[Partition, PartitionFile] = field(default_factory=dict)
    # Merged partitions left without rows: their files go.
    emptied: set[Partition] = field(default_factory=set)
    rows_from_store: int = 0
    rows_written: int = 0
    _fresh: dict[Partition, list[pa.RecordBatch]] = field(default_factory=dict)

    def read(self, reading: Snapshot, dialect: Dialect, lookups: dict[str, Lookup]) -> None:
        """Take the marked rows that still exist from the store, in the export's snapshot."""
        ids = sorted({row_id for ids in self.marked.values() for row_id in ids})
        for start in range(0, len(ids), IDS_PER_QUERY):
            sql, params = rows_query(self.dataset, dialect, ids[start : start + IDS_PER_QUERY])
            for raw in reading.batches(sql, params, raw_schema(self.dataset)):
                self._take(raw, lookups)

    def _take(self, raw: pa.RecordBatch, lookups: dict[str, Lookup]) -> None:
        """Keep the rows of a raw batch that belong to a partition being merged."""
        self.rows_from_store += raw.num_rows
        if raw.num_rows == 0:
            return
        batch = to_layout(raw, self.dataset, lookups)
        for partition, part in split_by_partition(batch, self.dataset):
            # A row that moved to a partition being rewritten is that rewrite's.
            if partition in self.marked:
                self._fresh.setdefault(partition, []).append(part)

    def write(self) -> None:
        """Write each merged partition's new file under its temporary name (unpublished)."""
        for partition in self.marked:
            self._write(partition)

    def _write(self, partition: Partition) -> None:
        key = self.dataset.key
        folder = partition_folder(self.root, self.dataset, partition)
        current = pq.read_table(folder / PART_NAME)
        if not current.schema.equals(self.dataset.schema):
            raise RuntimeError(f"{folder / PART_NAME} changed its layout during the export")
        fresh = pa.Table.from_batches(self._fresh.get(partition, []), schema=self.dataset.schema)
        # Drop the marked rows, and any row taken from the store (never two copies of one id).
        dropped = pa.concat_arrays(
            [pa.array(self.marked[partition], type=pa.string()), *fresh.column(key).chunks]
        )
        stale = pc.is_in(current.column(key), value_set=dropped)
        # New rows (the common case) replace nothing: the file's rows stay as they are.
        kept = current.filter(pc.invert(stale)) if pc.any(stale).as_py() else current
        if kept.num_rows + fresh.num_rows == 0:
            self.emptied.add(partition)
            return
        file = self.files[partition] = PartitionFile(folder, self.dataset.schema)
        for batch in (*kept.to_batches(), *fresh.to_batches()):
            file.add(batch)
        file.finish()
        self.rows_written += file.rows

    def discard(self) -> None:
        """Drop every unpublished file."""
        for file in self.files.values():
            file.discard()
