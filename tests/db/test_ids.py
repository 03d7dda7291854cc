"""Identifiers: UUID version 7, time-ordered, unique."""

from __future__ import annotations

import time
import uuid

from touchpoints.db.base import new_id


def test_ids_are_uuid7_hex() -> None:
    value = new_id()
    parsed = uuid.UUID(hex=value)
    assert len(value) == 32 and value == parsed.hex
    assert parsed.version == 7
    assert parsed.variant == uuid.RFC_4122
    assert abs((parsed.int >> 80) - time.time_ns() // 1_000_000) < 5_000


def test_later_ids_sort_later_and_none_repeat() -> None:
    first = [new_id() for _ in range(5_000)]
    time.sleep(0.002)
    later = [new_id() for _ in range(5_000)]
    assert max(first) < min(later)
    assert len(set(first + later)) == 10_000
