"""Seeded randomness, identifiers and the calendar of the demo (window, seasons, incident)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np
from numpy.typing import NDArray

DAY = 86_400
HOUR = 3_600
Seconds = NDArray[np.int64]
Floats = NDArray[np.float64]
Ints = NDArray[np.int64]


def _stable_number(text: str) -> int:
    # Python's hash() changes between runs; SHA-256 does not.
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def content_rng(seed: int, stream: str) -> np.random.Generator:
    """Return the generator for one part of the data; the same seed gives the same values."""
    return np.random.default_rng([seed, _stable_number(stream)])


class IdFactory:
    """Draw 32-hex-character ids from the seed and the workspace slug.

    The slug takes part so that two demo workspaces built with the same seed hold the same
    content under different ids; rebuilding one slug with one seed repeats its ids exactly.
    """

    def __init__(self, seed: int, slug: str) -> None:
        self._seed = seed
        self._slug = _stable_number(f"slug:{slug}")

    def ids(self, stream: str, count: int) -> list[str]:
        """Return `count` ids for one table (unique with overwhelming probability)."""
        rng = np.random.default_rng([self._seed, self._slug, _stable_number(stream)])
        text = rng.bytes(16 * count).hex()
        return [text[start : start + 32] for start in range(0, 32 * count, 32)]


def month_start(day: date, months_back: int) -> date:
    """Return the first day of the month `months_back` months before `day`'s month."""
    index = day.year * 12 + day.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


def epoch(day: date) -> int:
    """Return midnight UTC of a date as seconds since the Unix epoch."""
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def to_datetime(seconds: int) -> datetime:
    """Return a timezone-aware UTC datetime for seconds since the epoch."""
    return datetime.fromtimestamp(seconds, UTC)


@dataclass(frozen=True)
class Timeline:
    """The demo's window of months, its seasons and the month of the IT outage."""

    start: int
    end: int
    incident_start: int
    incident_end: int
    month_starts: tuple[int, ...]

    @classmethod
    def ending(cls, end: date, months: int) -> Timeline:
        """Build the window of `months` whole months ending just before `end`'s month."""
        firsts = [month_start(end, back) for back in range(months, -1, -1)]
        # The outage sits seven months before the end, or mid-window in a short demo.
        incident = months - 7 if months >= 10 else months // 2
        return cls(
            start=epoch(firsts[0]),
            end=epoch(firsts[-1]),
            incident_start=epoch(firsts[incident]),
            incident_end=epoch(firsts[incident + 1]),
            month_starts=tuple(epoch(first) for first in firsts),
        )

    @property
    def days(self) -> int:
        """Return the number of days in the window."""
        return (self.end - self.start) // DAY

    def day_starts(self) -> Seconds:
        """Return the start of every day in the window, plus the window's end."""
        return self.start + DAY * np.arange(self.days + 1, dtype=np.int64)

    def curve(self, *, season: float = 0.0, incident: float = 1.0, after: float = 1.0) -> Floats:
        """Return a daily weight: summer peak `season`, incident-month and next-month factors."""
        days = self.day_starts()[:-1]
        day_of_year = (days // DAY) % 365.25
        weight = 1.0 + season * np.sin(2 * np.pi * (day_of_year - 100) / 365.25)
        weight[(days >= self.incident_start) & (days < self.incident_end)] *= incident
        following = (days >= self.incident_end) & (days < self.incident_end + 30 * DAY)
        weight[following] *= after
        return np.asarray(weight, dtype=np.float64)

    def sample(
        self, rng: np.random.Generator, low: Seconds, high: Seconds, curve: Floats
    ) -> Seconds:
        """Draw one time in [low, high) per pair, more often on days the curve weighs more."""
        edges = self.day_starts().astype(np.float64)
        cumulative = np.concatenate(([0.0], np.cumsum(curve)))
        low_mass = np.interp(low.astype(np.float64), edges, cumulative)
        high_mass = np.interp(high.astype(np.float64), edges, cumulative)
        mass = low_mass + rng.random(low.shape[0]) * (high_mass - low_mass)
        times = np.interp(mass, cumulative, edges).astype(np.int64)
        return np.clip(times, low, np.maximum(low, high - 1))

    def in_incident(self, times: Seconds) -> NDArray[np.bool_]:
        """Tell which times fall in the incident month."""
        return (times >= self.incident_start) & (times < self.incident_end)

    def month_effect(self, times: Seconds) -> Floats:
        """Return the shift in satisfaction each time gets from the outage and its aftermath."""
        effect = np.zeros(times.shape[0])
        effect[self.in_incident(times)] = -0.6
        after = (times >= self.incident_end) & (times < self.incident_end + 30 * DAY)
        effect[after] = -0.2
        return effect


def split_counts(total: int, shares: dict[str, float]) -> dict[str, int]:
    """Split a total into whole counts proportional to shares (largest remainders)."""
    weight = sum(shares.values())
    exact = {name: total * share / weight for name, share in shares.items()}
    counts = {name: int(value) for name, value in exact.items()}
    leftover = total - sum(counts.values())
    by_remainder = sorted(exact, key=lambda name: (counts[name] - exact[name], name))
    for name in by_remainder[:leftover]:
        counts[name] += 1
    return counts


def pick(rng: np.random.Generator, count: int, weights: tuple[float, ...]) -> Ints:
    """Draw `count` indexes into `weights` with those (unnormalized) probabilities."""
    probabilities = np.asarray(weights, dtype=np.float64)
    return rng.choice(len(weights), size=count, p=probabilities / probabilities.sum())
