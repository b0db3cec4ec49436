"""Both cores: run a function over chunks of work in forked worker processes.

Workers are forked, so they start with the parent's data (the gathered site, the
compiled templates) without pickling it; only each chunk's results travel back.
The calling process works too, on its share of the chunks.
Small jobs, and platforms without fork, run in this process.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

MIN_PARALLEL = 200  # below this many items, starting workers costs more than it saves

# The job a forked worker runs and the items it works on: set just before the pool forks, so
# workers inherit them (closures over the site cannot be pickled, and need not be when the
# worker is a fork); only (start, end) ranges travel to the workers.
_job: Callable | None = None
_items: Sequence = ()


def worker_count() -> int:
    """Cores this process may use (NEWSDIGEST_WORKERS overrides, e.g. 1 to profile in one process)."""
    if os.environ.get("NEWSDIGEST_WORKERS", "").isdigit():
        return max(1, int(os.environ["NEWSDIGEST_WORKERS"]))
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _run_chunk(bounds: tuple[int, int]):
    assert _job is not None
    return _job(_items[bounds[0]:bounds[1]])


def map_chunks(job: Callable[[Sequence[T]], R], items: Sequence[T], *, workers: int | None = None,
               chunk_size: int | None = None) -> Iterator[R]:
    """`job(chunk)` for consecutive chunks of `items`, in parallel when it pays; results in order."""
    global _job, _items
    workers = worker_count() if workers is None else workers
    if workers <= 1 or len(items) < MIN_PARALLEL or "fork" not in multiprocessing.get_all_start_methods():
        if items:
            yield job(items)
        return
    size = chunk_size or max(16, min(500, len(items) // (workers * 8) + 1))
    bounds = [(i, min(i + size, len(items))) for i in range(0, len(items), size)]
    _job, _items = job, items
    try:
        # This process takes every `workers`-th chunk itself and forks one worker fewer: a fork's
        # resident size counts the parent's whole heap again, so each worker spared is a copy spared.
        with multiprocessing.get_context("fork").Pool(workers - 1) as pool:
            theirs = pool.imap(_run_chunk, [b for n, b in enumerate(bounds) if n % workers])
            for n, (start, end) in enumerate(bounds):
                yield job(items[start:end]) if n % workers == 0 else next(theirs)
    finally:
        _job, _items = None, ()
