"""An in-memory sliding-window rate limiter per client address (sign-in, public endpoints)."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

SWEEP_EVERY = 1_000
_registry_lock = threading.Lock()


@dataclass(frozen=True)
class RateDecision:
    """Whether an attempt may go ahead, and if not, how long to wait."""

    allowed: bool
    retry_after_seconds: int = 0


class SlidingWindowLimiter:
    """Allow at most `limit` attempts per key within the last `window_seconds` (thread-safe)."""

    def __init__(
        self,
        *,
        limit: int,
        window_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit < 1 or window_seconds <= 0:
            raise ValueError("a rate limit needs limit >= 1 and a positive window")
        self.limit = limit
        self.window_seconds = window_seconds
        self._clock = clock
        self._attempts: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._since_sweep = 0

    def hit(self, key: str) -> RateDecision:
        """Count one attempt for the key if it is within the limit; refused ones are not counted."""
        now = self._clock()
        with self._lock:
            self._maybe_sweep(now)
            attempts = self._attempts.setdefault(key, deque())
            self._drop_old(attempts, now)
            if len(attempts) >= self.limit:
                wait = attempts[0] + self.window_seconds - now
                return RateDecision(allowed=False, retry_after_seconds=max(1, math.ceil(wait)))
            attempts.append(now)
            return RateDecision(allowed=True)

    def reset(self, key: str) -> None:
        """Forget the attempts of one key."""
        with self._lock:
            self._attempts.pop(key, None)

    def _drop_old(self, attempts: deque[float], now: float) -> None:
        while attempts and attempts[0] <= now - self.window_seconds:
            attempts.popleft()

    def _maybe_sweep(self, now: float) -> None:
        # Forget quiet addresses now and then so memory stays bounded by recent clients.
        self._since_sweep += 1
        if self._since_sweep < SWEEP_EVERY:
            return
        self._since_sweep = 0
        for key in list(self._attempts):
            attempts = self._attempts[key]
            self._drop_old(attempts, now)
            if not attempts:
                del self._attempts[key]


def shared_limiter(state: Any, *, name: str, limit: int, owner: object) -> SlidingWindowLimiter:
    """Return the app's limiter called `name`, built anew when `owner` (the settings) changes."""
    attribute = f"rate_limiter_{name}"
    with _registry_lock:
        current = getattr(state, attribute, None)
        if current is None or current[0] is not owner or current[1].limit != limit:
            current = (owner, SlidingWindowLimiter(limit=limit))
            setattr(state, attribute, current)
        limiter: SlidingWindowLimiter = current[1]
        return limiter
