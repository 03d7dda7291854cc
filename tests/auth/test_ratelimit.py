"""The sliding-window rate limiter shared by sign-in and, later, public survey endpoints."""

from __future__ import annotations

import threading
from types import SimpleNamespace

from touchpoints.auth.ratelimit import SlidingWindowLimiter, shared_limiter


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_refuses_the_attempt_over_the_limit_and_says_how_long_to_wait() -> None:
    clock = Clock()
    limiter = SlidingWindowLimiter(limit=3, window_seconds=60, clock=clock)
    assert [limiter.hit("10.0.0.1").allowed for _ in range(3)] == [True, True, True]
    clock.now += 20
    refused = limiter.hit("10.0.0.1")
    assert not refused.allowed
    assert refused.retry_after_seconds == 40
    assert limiter.hit("10.0.0.2").allowed, "other addresses have their own budget"


def test_the_window_slides_instead_of_resetting_every_minute() -> None:
    clock = Clock()
    limiter = SlidingWindowLimiter(limit=2, window_seconds=60, clock=clock)
    limiter.hit("a")
    clock.now += 30
    limiter.hit("a")
    clock.now += 31  # the first attempt left the window, the second has not
    assert limiter.hit("a").allowed
    assert not limiter.hit("a").allowed


def test_parallel_attempts_never_exceed_the_limit() -> None:
    limiter = SlidingWindowLimiter(limit=50, window_seconds=60)
    allowed: list[bool] = []
    lock = threading.Lock()

    def attack() -> None:
        for _ in range(100):
            decision = limiter.hit("203.0.113.9")
            with lock:
                allowed.append(decision.allowed)

    threads = [threading.Thread(target=attack) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(allowed) == 50


def test_the_shared_limiter_is_rebuilt_when_the_settings_change() -> None:
    state = SimpleNamespace()
    first_settings, second_settings = object(), object()
    first = shared_limiter(state, name="sign_in", limit=5, owner=first_settings)
    assert shared_limiter(state, name="sign_in", limit=5, owner=first_settings) is first
    assert shared_limiter(state, name="sign_in", limit=5, owner=second_settings) is not first
