"""Rows generated in slices and inserted in chunks with SQLAlchemy Core (no per-row ORM)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from touchpoints.db.registry import load_metadata

Row = dict[str, Any]
Progress = Callable[[str, int, int], None]
CHUNK_ROWS = 5_000


@dataclass(frozen=True)
class Links:
    """Ids of the rows that generated rows point at, by their index in the company model."""

    workspace_id: str
    station_ids: tuple[str, ...]
    touchpoint_ids: tuple[str, ...]
    segment_ids: dict[str, str]
    customer_ids: list[str]

    def customer(self, index: int) -> str | None:
        """Return the id of customer `index`, or None for an anonymous row (-1)."""
        return self.customer_ids[index] if index >= 0 else None

    def touchpoint(self, index: int) -> str | None:
        """Return the id of touchpoint `index`, or None when the row has none (-1)."""
        return self.touchpoint_ids[index] if index >= 0 else None


@dataclass(frozen=True)
class Batch:
    """`count` rows of one table, built a slice at a time so memory stays flat."""

    table: str
    count: int
    build: Callable[[int, int], list[Row]]


def table(name: str) -> Table:
    """Return the Core table of a registered model."""
    return load_metadata().tables[name]


def insert_batches(
    session: Session, stage: str, batches: list[Batch], progress: Progress | None
) -> int:
    """Insert every batch in chunks, reporting progress per chunk; return the rows inserted."""
    total = sum(batch.count for batch in batches)
    done = 0
    if progress is not None:
        progress(stage, done, total)
    for batch in batches:
        target = table(batch.table)
        for low in range(0, batch.count, CHUNK_ROWS):
            rows = batch.build(low, min(low + CHUNK_ROWS, batch.count))
            session.execute(insert(target), rows)
            done += len(rows)
            if progress is not None:
                progress(stage, done, total)
    return done
