"""Which code runs a job of a given kind: the handler registry."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

# Each module exposes `register_handlers(registry)`; adding a domain's jobs is one line here.
HANDLER_MODULES = (
    "touchpoints.jobs.handlers",
    "touchpoints.distribution.flows",
    "touchpoints.analytics.flows",
)


@dataclass(frozen=True)
class JobContext:
    """What a handler gets: the job's identity and payload, and a way to open sessions."""

    job_id: str
    kind: str
    workspace_id: str | None
    payload: dict[str, Any]
    # 1 on the first run, 2 on the first retry, ...
    attempt: int
    max_attempts: int
    # Handlers open and commit their own sessions, like flows; the worker commits the job.
    session_factory: sessionmaker[Session] = field(repr=False)


Handler = Callable[[JobContext], None]


class PermanentJobError(Exception):
    """Raise from a handler when retrying cannot help; the job goes dead at once."""


class JobRegistry:
    """Map job kinds to handlers; a handler must be safe to run twice (idempotent)."""

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}

    def register(self, kind: str) -> Callable[[Handler], Handler]:
        """Return a decorator that registers the decorated function as the handler of `kind`."""

        def decorator(handler: Handler) -> Handler:
            self.add(kind, handler)
            return handler

        return decorator

    def add(self, kind: str, handler: Handler) -> None:
        """Register `handler` for `kind`; a kind has exactly one handler."""
        if not kind or len(kind) > 80:
            raise ValueError("a job kind is 1 to 80 characters, like 'feedback.enrich'")
        if kind in self._handlers:
            raise ValueError(f"a handler for job kind {kind!r} is already registered")
        self._handlers[kind] = handler

    def get(self, kind: str) -> Handler | None:
        """Return the handler of `kind`, or None when no handler is registered."""
        return self._handlers.get(kind)

    def kinds(self) -> list[str]:
        """Return the registered kinds, sorted."""
        return sorted(self._handlers)

    def __contains__(self, kind: object) -> bool:
        return kind in self._handlers

    def __iter__(self) -> Iterator[str]:
        return iter(self.kinds())

    def __len__(self) -> int:
        return len(self._handlers)


@cache
def default_registry() -> JobRegistry:
    """Return the registry of every built-in handler, built on first use."""
    registry = JobRegistry()
    for module_name in HANDLER_MODULES:
        importlib.import_module(module_name).register_handlers(registry)
    return registry
