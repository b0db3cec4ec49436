"""Both cores: run a function over chunks of work in forked worker processes.

Workers are forked, so they start with the parent's data (the gathered site, the
compiled templates) without pickling it; only each chunk's results travel back.
The calling process works too. Chunks are claimed from a shared counter by
whichever process is free (this one also collects and handles the results, so a
fixed share would leave the workers idle at the end); results come back in order.
Small jobs, and platforms without fork, run in this process.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import signal
from collections.abc import Callable, Iterator, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

RESULTS_PIPE_SIZE = 1 << 20  # Linux's limit for a pipe an unprivileged process grows
MIN_PARALLEL = 200  # below this many items, starting workers costs more than it saves

# The job a forked worker runs, the items it works on, their chunks and the counter of the next
# chunk to claim: set just before the pool forks, so workers inherit them (closures over the site
# cannot be pickled, and need not be when the worker is a fork); only results travel back.
_job: Callable | None = None
_items: Sequence = ()
_bounds: list[tuple[int, int]] = []
_next = None


def worker_count() -> int:
    """Cores this process may use (NEWSDIGEST_WORKERS overrides, e.g. 1 to profile in one process)."""
    if os.environ.get("NEWSDIGEST_WORKERS", "").isdigit():
        return max(1, int(os.environ["NEWSDIGEST_WORKERS"]))
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _claim() -> int | None:
    """The next chunk nobody has taken yet (in any process), or None when all are taken."""
    assert _next is not None
    with _next.get_lock():
        n = _next.value
        if n >= len(_bounds):
            return None
        _next.value = n + 1
    return n


def _run(n: int):
    assert _job is not None
    start, end = _bounds[n]
    return _job(_items[start:end])


def _run_claimed(_task: int) -> tuple[int | None, object]:
    """A worker's task: claim a chunk and run it (nothing, once every chunk is taken)."""
    n = _claim()
    return (None, None) if n is None else (n, _run(n))


def map_chunks(job: Callable[[Sequence[T]], R], items: Sequence[T], *, workers: int | None = None,
               chunk_size: int | None = None, first: Callable[[], None] | None = None) -> Iterator[R]:
    """`job(chunk)` for consecutive chunks of `items`, in parallel when it pays; results in order.

    `first()` is this process's own work, done once the workers have started on the chunks
    (work that needs nothing they make, and that they need not see): then it takes chunks too.
    """
    global _job, _items, _bounds, _next
    workers = worker_count() if workers is None else workers
    if workers <= 1 or len(items) < MIN_PARALLEL or "fork" not in multiprocessing.get_all_start_methods():
        if first is not None:
            first()
        if items:
            yield job(items)
        return
    size = chunk_size or max(16, min(500, len(items) // (workers * 32) + 1))  # small chunks: an even finish
    context = multiprocessing.get_context("fork")
    _job, _items = job, items
    _bounds = [(i, min(i + size, len(items))) for i in range(0, len(items), size)]
    _next = context.Value("q", 0)
    done: dict[int, object] = {}
    try:
        # This process works too and forks one worker fewer: a fork's resident size counts the
        # parent's whole heap again, so each worker spared is a copy spared.
        with context.Pool(workers - 1) as pool:
            _widen_results_pipe(pool)
            theirs = pool.imap_unordered(_run_claimed, range(len(_bounds)))
            if first is not None:
                first()
            for wanted in range(len(_bounds)):
                while wanted not in done:
                    n = _claim()
                    if n is None:  # every chunk is taken: wait for the workers'
                        n, result = theirs.next()
                    else:
                        result = _run(n)
                    if n is not None:
                        done[n] = result
                    _collect(theirs, done)
                yield done.pop(wanted)
    finally:
        _job, _items, _bounds, _next = None, (), [], None


def _widen_results_pipe(pool) -> None:
    """Let a worker's results wait in the pipe (1 MB, not 64 KB), not in the worker: this process
    takes them in between chunks of its own, and a worker sending more than the pipe holds (a
    chunk of parsed articles is ~150 KB) waited till then. Where the pipe cannot grow, as before."""
    try:
        import fcntl
        fcntl.fcntl(pool._outqueue._writer.fileno(), fcntl.F_SETPIPE_SZ, RESULTS_PIPE_SIZE)
    except (ImportError, AttributeError, OSError):  # not Linux, or the pool is built otherwise
        pass


class Aside(Generic[R]):
    """`fn(*args)` worked out in a forked process while this one goes on; `result()` waits for it.

    For the work of one core that would otherwise wait: while the site is gathered, the
    other core is idle. The fork shares what the work reads, and its result comes back
    pickled over a pipe. For small work, where fork is missing, with one core, or should the fork fail,
    `result()` works it out here instead (raising its errors here, too).
    """

    def __init__(self, fn: Callable[..., R], *args, size: int) -> None:
        """`size`: how many items the work has; below `MIN_PARALLEL`, a fork costs more than it saves."""
        self._fn, self._args = fn, args
        self._pid: int | None = None
        if size < MIN_PARALLEL or worker_count() < 2 or not hasattr(os, "fork"):
            return
        read, write = os.pipe()
        try:
            pid = os.fork()
        except OSError:  # no memory or processes left for it: `result()` works it out here
            os.close(read)
            os.close(write)
            return
        if pid == 0:  # the fork: work, send the result, and end without running this process's exit handlers
            status = 1
            try:
                os.close(read)
                with open(write, "wb") as pipe:
                    pipe.write(pickle.dumps(fn(*args), pickle.HIGHEST_PROTOCOL))
                status = 0
            finally:
                os._exit(status)
        os.close(write)
        self._pid, self._read = pid, read

    def __del__(self) -> None:
        """Never asked for (an error came first): end the fork, so that none is left behind (`serve`)."""
        if getattr(self, "_pid", None) is not None:
            pid, self._pid = self._pid, None
            os.close(self._read)
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)

    def result(self) -> R:
        if self._pid is None:
            return self._fn(*self._args)
        pid, self._pid = self._pid, None
        with open(self._read, "rb") as pipe:
            data = pipe.read()
        _, status = os.waitpid(pid, 0)
        if status != 0:  # it failed: here, its error (if it is one) reaches the caller
            return self._fn(*self._args)
        return pickle.loads(data)


def _collect(theirs, done: dict[int, object]) -> None:
    """Take the results the workers have finished, without waiting."""
    while True:
        try:
            n, result = theirs.next(timeout=0)
        except (multiprocessing.TimeoutError, StopIteration):
            return
        if n is not None:
            done[n] = result
