"""Send a checked chunk between processes compactly: tuples instead of objects.

Pickling 10,000 rows as `RawRow`s and `CheckedRow`s (a dict, a dataclass and identities each)
costs the receiving process about 19 µs a row, as much as checking them. As tuples of plain
values, with each distinct column layout, value layout and identity sent once per chunk, it
costs a fraction of that to load and rebuild.
"""

from __future__ import annotations

from typing import Any

from touchpoints.customers.identities import NormalizedIdentity
from touchpoints.imports.plan import CheckedRow
from touchpoints.imports.readers import RawRow

Packed = tuple[list[Any], list[Any], list[Any], list[Any]]


class _Table:
    """Distinct objects of a chunk, each sent once and referred to by position."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self.positions: dict[Any, int] = {}

    def position(self, item: Any) -> int:
        found = self.positions.get(item)
        if found is None:
            found = self.positions[item] = len(self.items)
            self.items.append(item)
        return found


def pack_chunk(rows: list[RawRow], checked: list[CheckedRow | None]) -> Packed:
    """Return a chunk and its checks as lists of tuples (see `unpack_chunk`)."""
    layouts, identities = _Table(), _Table()
    packed_rows = [
        (row.line, layouts.position(tuple(row.values)), tuple(row.values.values()), row.problem)
        for row in rows
    ]
    packed_checks = [
        None
        if good is None
        else (
            layouts.position(tuple(good.values)),
            tuple(good.values.values()),
            tuple(identities.position(identity) for identity in good.identities),
            good.display_name,
        )
        for good in checked
    ]
    plain_identities = [(i.kind, i.source, i.value) for i in identities.items]
    return layouts.items, plain_identities, packed_rows, packed_checks


def unpack_chunk(packed: Packed) -> tuple[list[RawRow], list[CheckedRow | None]]:
    """Rebuild the rows and checks `pack_chunk` packed."""
    layouts, plain_identities, packed_rows, packed_checks = packed
    identities = [NormalizedIdentity(*identity) for identity in plain_identities]
    rows = [
        RawRow(line, dict(zip(layouts[layout], values, strict=True)), problem)
        for line, layout, values, problem in packed_rows
    ]
    checked: list[CheckedRow | None] = [
        None
        if check is None
        else CheckedRow(
            rows[index].line,
            dict(zip(layouts[check[0]], check[1], strict=True)),
            tuple(identities[position] for position in check[2]),
            check[3],
        )
        for index, check in enumerate(packed_checks)
    ]
    return rows, checked
