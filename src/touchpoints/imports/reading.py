"""Read and check the next chunks of a file while the current one is stored.

Reading and checking needs no database. `read_ahead` does it in a second thread, which helps
where the other thread waits on the database but not for Python work (one interpreter lock);
`read_ahead_forked` does it in a forked child process, on another core, and sends each chunk
back pickled. Forking is only safe where the process runs no other thread (a child would get
copies of their locks in whatever state they were), so `can_fork` says when to use it: the
command line, not the web server or a worker with threads.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

Batch = TypeVar("Batch")
Prepared = TypeVar("Prepared")
# Chunks the child may have ready before the parent takes them.
FORKED_AHEAD = 2


def can_fork() -> bool:
    """Tell whether a child process can read ahead: fork exists and no other thread runs."""
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def read_ahead(
    batches: Iterator[Batch], prepare: Callable[[Batch], Prepared]
) -> Iterator[tuple[Batch, Prepared]]:
    """Yield each chunk with its preparation, reading and preparing the next one meanwhile.

    A second thread does it while the caller stores the chunk before (the database drivers
    let go of Python's lock while the database works). Exceptions of the reader reach the
    caller at the chunk they stopped.
    """

    def produce() -> tuple[Batch, Prepared] | None:
        batch = next(batches, None)
        return None if batch is None else (batch, prepare(batch))

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-reader") as pool:
        upcoming = pool.submit(produce)
        while (ready := upcoming.result()) is not None:
            upcoming = pool.submit(produce)
            yield ready


def read_ahead_forked(
    batches: Iterator[Batch],
    prepare: Callable[[Batch], Prepared],
    pack: Callable[[Batch, Prepared], Any] = lambda batch, prepared: (batch, prepared),
    unpack: Callable[[Any], tuple[Batch, Prepared]] = tuple,
) -> Iterator[tuple[Batch, Prepared]]:
    """Yield what `read_ahead` yields, read and prepared by a forked child process.

    The child gets the iterator and the checks as they are (a fork copies them) and sends
    back each chunk with its preparation (`pack`ed there, `unpack`ed here), or the exception
    that stopped it, which is raised here at that chunk. A caller that stops early ends the
    child.
    """
    context = multiprocessing.get_context("fork")
    channel: Any = context.Queue(maxsize=FORKED_AHEAD)
    child = context.Process(
        target=_produce,
        args=(batches, prepare, pack, channel),
        name="import-reader",
        daemon=True,
    )
    child.start()
    try:
        while True:
            kind, payload = pickle.loads(channel.get())
            if kind == "done":
                break
            if kind == "error":
                raise payload
            yield unpack(payload)
        child.join()
    finally:
        if child.is_alive():
            child.terminate()
            child.join()
        channel.close()


def _produce(
    batches: Iterator[Any],
    prepare: Callable[[Any], Any],
    pack: Callable[[Any, Any], Any],
    channel: Any,
) -> None:
    """The child: send ("chunk", packed) for each chunk, then ("done", None)."""
    status = 0
    try:
        for batch in batches:
            channel.put(_dumped("chunk", pack(batch, prepare(batch))))
        channel.put(_dumped("done", None))
    except BaseException as exc:  # everything goes to the parent
        status = 1
        try:
            channel.put(_dumped("error", exc))
        except Exception:  # an exception that cannot be pickled
            channel.put(_dumped("error", RuntimeError(f"{type(exc).__name__}: {exc}")))
    finally:
        channel.close()
        channel.join_thread()
        # Skip the interpreter's exit: the parent's database connections, copied by the fork,
        # must not be closed (or rolled back) from here.
        os._exit(status)


def _dumped(kind: str, payload: Any) -> bytes:
    return pickle.dumps((kind, payload), protocol=pickle.HIGHEST_PROTOCOL)
