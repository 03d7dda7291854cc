"""Write, swap and remove the Parquet files of analytics partitions, crash-safely.

A partition is one file, `part-0.parquet`, with row groups of at most `ROW_GROUP_ROWS` rows.
It is written under a hidden temporary name in its own folder (which no reader's
`*.parquet` glob matches, and which Spark skips as a dot-file), flushed to disk, then moved
over the old file with one atomic rename, and the folder is flushed. Whatever the moment of a
crash, a reader sees the old file or the new one, never both and never half of one.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from touchpoints.analytics.layout import UNPARTITIONED, Dataset, partition_dir

PART_NAME = "part-0.parquet"
TEMP_GLOB = ".part-*.tmp"
ROW_GROUP_ROWS = 131_072
# Rows buffered across all open partitions before the largest buffers are written out.
MAX_PENDING_ROWS = 1_000_000
COMPRESSION = "zstd"
# Ids that are (nearly) unique per row: a dictionary only costs time there.
HIGH_CARDINALITY = frozenset({"feedback_item_id", "event_id", "customer_id"})


def dictionary_columns(schema: pa.Schema) -> list[str]:
    """Return the columns worth dictionary-encoding: repeated text, lists and small numbers."""
    return [
        field.name
        for field in schema
        if field.name not in HIGH_CARDINALITY and not pa.types.is_timestamp(field.type)
    ]


Partition = tuple[str, str]  # (workspace id, month or 'all')


def sync_folder(folder: Path) -> None:
    """Flush a folder's entries (a rename or removal in it) to disk."""
    with contextlib.suppress(OSError):  # some file systems cannot open folders
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def remove_temporaries(folder: Path) -> None:
    """Delete the temporary files a crashed export left in a partition folder."""
    for stale in folder.glob(TEMP_GLOB):
        stale.unlink(missing_ok=True)


class PartitionFile:
    """One partition's new file, streamed into a temporary name until published."""

    def __init__(self, folder: Path, schema: pa.Schema) -> None:
        self.folder = folder
        self.schema = schema
        self.temporary = folder / f".part-{secrets.token_hex(6)}.tmp"
        self.rows = 0
        self.pending_rows = 0
        self._pending: list[pa.RecordBatch] = []
        self._writer: pq.ParquetWriter | None = None

    def add(self, batch: pa.RecordBatch) -> None:
        """Buffer rows; a full row group is written out."""
        self._pending.append(batch)
        self.pending_rows += batch.num_rows
        self.rows += batch.num_rows
        if self.pending_rows >= ROW_GROUP_ROWS:
            self.flush()

    def flush(self) -> None:
        """Write the buffered rows as row groups."""
        if not self._pending:
            return
        if self._writer is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._writer = pq.ParquetWriter(
                self.temporary,
                self.schema,
                compression=COMPRESSION,
                use_dictionary=dictionary_columns(self.schema),
            )
        table = pa.Table.from_batches(self._pending, schema=self.schema)
        self._writer.write_table(table, row_group_size=ROW_GROUP_ROWS)
        self._pending.clear()
        self.pending_rows = 0

    def finish(self) -> None:
        """Write what is left, close the file and flush it to disk."""
        self.flush()
        if self._writer is None:
            return
        self._writer.close()
        self._writer = None
        with open(self.temporary, "rb") as handle:
            os.fsync(handle.fileno())

    def publish(self) -> None:
        """Atomically replace the partition's file with this one."""
        os.replace(self.temporary, self.folder / PART_NAME)
        sync_folder(self.folder)
        remove_temporaries(self.folder)

    def discard(self) -> None:
        """Drop the unpublished file."""
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer.close()
            self._writer = None
        self.temporary.unlink(missing_ok=True)


def remove_partition(folder: Path) -> bool:
    """Delete a partition that has no rows any more; True when a file was removed."""
    target = folder / PART_NAME
    existed = target.exists()
    target.unlink(missing_ok=True)
    if folder.is_dir():
        remove_temporaries(folder)
        sync_folder(folder)
        for empty in (folder, folder.parent):
            with contextlib.suppress(OSError):  # not empty (or gone): keep it
                empty.rmdir()
    return existed


def partitions_on_disk(root: Path, dataset: Dataset, workspace_id: str | None) -> set[Partition]:
    """Return the partitions of a dataset (one workspace's, or all) that have a file."""
    base = root / dataset.name
    workspaces = [base / workspace_id] if workspace_id else sorted(base.glob("*"))
    found = set()
    for workspace in workspaces:
        for folder in workspace.glob("*"):
            if (folder / PART_NAME).is_file() or any(folder.glob(TEMP_GLOB)):
                found.add((workspace.name, folder.name))
    return found


def partition_folder(root: Path, dataset: Dataset, partition: Partition) -> Path:
    """Return the folder of a (workspace, month or 'all') partition."""
    workspace_id, month = partition
    return partition_dir(root, dataset, workspace_id, month if dataset.by_month else None)


def _partition(dataset: Dataset, key: str) -> Partition:
    if not dataset.by_month:
        return key, UNPARTITIONED
    workspace_id, _, month = key.partition("/")
    return workspace_id, month


def split_by_partition(
    batch: pa.RecordBatch, dataset: Dataset
) -> Iterator[tuple[Partition, pa.RecordBatch]]:
    """Split a batch of the layout into the rows of each (workspace, month) partition."""
    workspaces = batch.column("workspace_id")
    if dataset.by_month:
        keys = pc.binary_join_element_wise(workspaces, batch.column("month"), "/")
    else:
        keys = workspaces
    encoded = pc.dictionary_encode(keys)
    names = encoded.dictionary.to_pylist()
    if len(names) == 1:
        yield _partition(dataset, names[0]), batch
        return
    order = pc.sort_indices(encoded.indices)
    ordered = batch.take(order)
    codes = encoded.indices.take(order)
    counts = pc.value_counts(codes)
    # value_counts lists codes in order of first appearance: sorted codes appear ascending.
    offset = 0
    for entry in counts:
        code, count = entry["values"].as_py(), entry["counts"].as_py()
        yield _partition(dataset, names[code]), ordered.slice(offset, count)
        offset += count


class PartitionRouter:
    """Send each row of a stream of batches to its partition's new file."""

    def __init__(self, root: Path, dataset: Dataset) -> None:
        self.root = root
        self.dataset = dataset
        self.files: dict[Partition, PartitionFile] = {}

    def route(self, batch: pa.RecordBatch) -> None:
        """Split a batch by (workspace, month) and add each part to its file."""
        if batch.num_rows == 0:
            return
        for partition, part in split_by_partition(batch, self.dataset):
            self._file(partition).add(part)
        pending = sum(file.pending_rows for file in self.files.values())
        if pending > MAX_PENDING_ROWS:
            for file in sorted(self.files.values(), key=lambda f: -f.pending_rows)[:4]:
                file.flush()

    def _file(self, partition: Partition) -> PartitionFile:
        file = self.files.get(partition)
        if file is None:
            folder = partition_folder(self.root, self.dataset, partition)
            file = self.files[partition] = PartitionFile(folder, self.dataset.schema)
        return file

    def finish(self) -> None:
        """Complete every new file (still unpublished)."""
        for file in self.files.values():
            file.finish()

    def discard(self) -> None:
        """Drop every unpublished file."""
        for file in self.files.values():
            file.discard()
