"""A set of operational events of one kind held as columns, and its table rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from touchpoints.demo.bulk import Batch, Links, Row
from touchpoints.demo.timeline import Floats, IdFactory, Ints, Seconds, to_datetime
from touchpoints.operations.models import EventType

RECEIVE_DELAY = 90  # seconds between an event and its arrival in Touchpoints


@dataclass
class EventSet:
    """Events of one kind sorted by time; index i of every column is event i."""

    kind: str
    type: EventType
    source: str
    prefix: str
    time: Seconds
    customer: Ints
    station: Ints
    touchpoint: Ints
    names: NDArray[Any]
    value: Floats | None = None
    duration: Floats | None = None
    details: dict[str, NDArray[Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        order = np.argsort(self.time, kind="stable")
        for name in ("time", "customer", "station", "touchpoint", "names", "value", "duration"):
            column = getattr(self, name)
            if column is not None:
                setattr(self, name, column[order])
        self.details = {key: column[order] for key, column in self.details.items()}

    @property
    def count(self) -> int:
        """Return how many events there are."""
        return int(self.time.shape[0])

    def ref(self, index: int) -> str:
        """Return the source system's reference of event `index`."""
        return f"{self.prefix}{index + 1:08d}"

    def batch(self, ids: IdFactory, links: Links) -> Batch:
        """Return the rows of these events for the operational_events table."""
        event_ids = ids.ids(f"events:{self.kind}", self.count)
        currency = "EUR" if self.value is not None else None

        def build(low: int, high: int) -> list[Row]:
            """Return the rows of events low..high."""
            times = self.time[low:high].tolist()
            details = {key: column[low:high].tolist() for key, column in self.details.items()}
            values = _column(self.value, low, high)
            durations = _column(self.duration, low, high)
            customers = self.customer[low:high].tolist()
            stations = self.station[low:high].tolist()
            touchpoints = self.touchpoint[low:high].tolist()
            names = self.names[low:high].tolist()
            rows: list[Row] = []
            for offset, seconds in enumerate(times):
                index = low + offset
                rows.append(
                    {
                        "id": event_ids[index],
                        "workspace_id": links.workspace_id,
                        "type": self.type.value,
                        "name": names[offset],
                        "source": self.source,
                        "source_ref": self.ref(index),
                        "occurred_at": to_datetime(seconds),
                        "received_at": to_datetime(seconds + RECEIVE_DELAY),
                        "customer_id": links.customer(customers[offset]),
                        "touchpoint_id": links.touchpoint(touchpoints[offset]),
                        "org_unit_id": links.station_ids[stations[offset]],
                        "value": values[offset],
                        "currency": currency,
                        "duration_seconds": durations[offset],
                        "metadata": {key: column[offset] for key, column in details.items()},
                    }
                )
            return rows

        return Batch("operational_events", self.count, build)


def _column(values: Floats | None, low: int, high: int) -> list[float | None]:
    if values is None:
        return [None] * (high - low)
    return [round(value, 2) for value in values[low:high].tolist()]


def fill(count: int, value: Any) -> NDArray[Any]:
    """Return an object column repeating one value."""
    column = np.empty(count, dtype=object)
    column[:] = value
    return column


def iso_dates(times: Seconds) -> NDArray[Any]:
    """Return ISO 8601 UTC timestamps (to the minute) for seconds since the epoch."""
    stamps = np.datetime_as_string(times.astype("datetime64[s]"), unit="m", timezone="UTC")
    return stamps.astype(object)
