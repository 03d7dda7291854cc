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
Waiting = tuple[Submission, "asyncio.Future[Outcome]"]


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
        # Per event loop (an app may be driven by more than one, as test clients do): the
        # waiting submissions, and the task draining them (held so it is not collected).
        self._queues: dict[asyncio.AbstractEventLoop, list[Waiting[Submission, Outcome]]] = {}
        self._drainers: dict[asyncio.AbstractEventLoop, asyncio.Task[None]] = {}

    async def submit(self, submission: Submission) -> Outcome:
        """Queue a submission with the next batch and return its outcome once committed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Outcome] = loop.create_future()
        self._queues.setdefault(loop, []).append((submission, future))
        if loop not in self._drainers:
            self._drainers[loop] = loop.create_task(self._drain(loop))
        return await future

    async def _drain(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            while queue := self._queues.get(loop):
                batch = queue[: self.max_batch]
                del queue[: self.max_batch]
                await self._store(batch)
        finally:
            self._queues.pop(loop, None)
            del self._drainers[loop]

    async def _store(self, batch: list[Waiting[Submission, Outcome]]) -> None:
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
