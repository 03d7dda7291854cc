"""Reading ahead in a forked child: chunks arrive in order, its errors reach the caller."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from touchpoints.customers.identities import IdentityKind, NormalizedIdentity
from touchpoints.imports.packing import pack_chunk, unpack_chunk
from touchpoints.imports.plan import CheckedRow
from touchpoints.imports.readers import RawRow
from touchpoints.imports.reading import read_ahead, read_ahead_forked


def _numbers(count: int) -> Iterator[list[int]]:
    for first in range(0, count, 10):
        yield list(range(first, min(first + 10, count)))


def _total(batch: list[int]) -> int:
    if 40 in batch:
        raise ValueError("line 40 is broken")
    return sum(batch)


def test_the_forked_reader_yields_what_the_thread_reader_yields() -> None:
    assert list(read_ahead_forked(_numbers(35), sum)) == list(read_ahead(_numbers(35), sum))


def test_an_error_in_the_child_reaches_the_caller_at_its_chunk() -> None:
    seen = []
    with pytest.raises(ValueError, match="line 40 is broken"):
        for batch, _ in read_ahead_forked(_numbers(100), _total):
            seen.append(batch[0])
    assert seen == [0, 10, 20, 30]


def test_stopping_early_ends_the_child() -> None:
    reader = read_ahead_forked(_numbers(10_000), sum)
    next(reader)
    reader.close()
    assert multiprocessing.active_children() == []


def test_a_packed_chunk_unpacks_to_the_same_rows_and_checks() -> None:
    identity = NormalizedIdentity(IdentityKind.EMAIL, "", "ann@example.com")
    values = {"source": "survey", "occurred_at": datetime(2026, 1, 2, tzinfo=UTC), "nps": 9}
    rows = [
        RawRow(2, {"Ref": "r1", "Email": "Ann@Example.com"}),
        RawRow(3, {"Ref": "r2"}, "the row has 3 cells, the header 2"),
        RawRow(4, {"Ref": "r3", "Email": "ann@example.com"}),
    ]
    checked = [
        CheckedRow(2, values, (identity,), "Ann"),
        None,
        CheckedRow(4, {**values, "nps": 3}, (identity,), None),
    ]
    assert unpack_chunk(pack_chunk(rows, checked)) == (rows, checked)
