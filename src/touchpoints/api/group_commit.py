"""Group commit: many concurrent requests' writes stored together, one transaction a batch.

A request hands its write to a `GroupCommit` and awaits the outcome. While a batch is being
stored (in a worker thread, so the event loop keeps accepting requests), the writes that
arrive queue up; when the batch is done they form the next one. Under light load a batch
holds one write and costs what a plain request costs; under heavy load one transaction, one
commit and one round of lookups serve dozens of requests. No request waits on a timer.

The answer goes out only after the batch committed, so an accepted write is never lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from anyio import to_thread

Submission = TypeVar("Submission")
Outcome = TypeVar("Outcome")

logger = logging.getLogger(__name__)

DEFAULT_MAX_BATCH = 256


class GroupCommit(Generic[Submission, Outcome]):
    """Batch submissions from concurrent requests into calls of `store` (one per batch)."""

    def __init__(
        self,
        store: Callable[[Sequence[Submission]], list[Outcome]],
        *,
        max_batch: int = DEFAULT_MAX_BATCH,
    ) -> None:
        self.store = store
        self.max_batch = max_batch
        self.batches = 0
        self.submissions = 0
        self._queue: list[tuple[Submission, asyncio.Future[Outcome]]] = []
        self._draining = False
        # Held so the running drain task is not garbage-collected mid-batch.
        self._drainer: asyncio.Task[None] | None = None

    async def submit(self, submission: Submission) -> Outcome:
        """Queue a submission with the next batch and return its outcome once committed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Outcome] = loop.create_future()
        self._queue.append((submission, future))
        if not self._draining:
            self._draining = True
            self._drainer = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch = self._queue[: self.max_batch]
                del self._queue[: self.max_batch]
                await self._store(batch)
        finally:
            self._draining = False

    async def _store(self, batch: list[tuple[Submission, asyncio.Future[Outcome]]]) -> None:
        submissions = [submission for submission, _ in batch]
        try:
            outcomes = await to_thread.run_sync(self.store, submissions)
        except BaseException as exc:
            logger.exception("group commit: a batch of %d failed", len(batch))
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        self.batches += 1
        self.submissions += len(batch)
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if not future.done():  # the client may have gone; the write stands
                future.set_result(outcome)
