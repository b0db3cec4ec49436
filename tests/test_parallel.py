"""Work spread over processes comes back whole and in order, with errors intact."""

from __future__ import annotations

import os
import time

import pytest

from newsdigest.parallel import MIN_PARALLEL, Aside, map_chunks, worker_count


def _slow_pids(chunk: list[int]) -> list[tuple[int, int]]:
    time.sleep(0.02)  # long enough that the forked worker starts before this process has taken every chunk
    return [(x, os.getpid()) for x in chunk]


def test_chunks_come_back_in_order_from_this_process_and_its_workers():
    items = list(range(1000))
    results = list(map_chunks(_slow_pids, items, workers=2, chunk_size=25))
    assert [x for chunk in results for x, _ in chunk] == items
    pids = {pid for chunk in results for _, pid in chunk}
    assert os.getpid() in pids and len(pids) == 2  # one worker forked; this process took chunks too


def test_a_busy_caller_leaves_the_chunks_to_the_worker():
    """Chunks go to whichever process is free: a caller slow to handle results takes fewer."""
    items = list(range(1000))
    mine = 0
    for chunk in map_chunks(_slow_pids, items, workers=2, chunk_size=25):
        mine += chunk[0][1] == os.getpid()
        time.sleep(0.02)  # handling each result takes as long as making one
    assert mine < 40 / 3  # a fixed half would be 20 of the 40 chunks


def test_an_error_in_a_chunk_reaches_the_caller():
    def job(chunk):
        if 700 in chunk:
            raise ValueError("bad item 700")
        return len(chunk)

    with pytest.raises(ValueError, match="bad item 700"):
        list(map_chunks(job, list(range(1000)), workers=2, chunk_size=100))


def _big(chunk: list[int]) -> list[bytes]:
    return [bytes([x % 256]) * 50_000 for x in chunk]  # 200 KB a chunk: more than a pipe holds by default


def test_results_larger_than_a_pipe_come_back_whole_and_in_order():
    items = list(range(400))
    results = [r for chunk in map_chunks(_big, items, workers=2, chunk_size=4) for r in chunk]
    assert results == [bytes([x % 256]) * 50_000 for x in items]


def _pid_and(value: str) -> tuple[int, str]:
    return os.getpid(), value


@pytest.mark.skipif(worker_count() < 2, reason="one core: aside work is done here")
def test_aside_work_is_done_by_another_process_while_this_one_goes_on():
    aside = Aside(_pid_and, "done", size=MIN_PARALLEL)
    pid, value = aside.result()
    assert value == "done" and pid != os.getpid()
    assert Aside(_pid_and, "small", size=MIN_PARALLEL - 1).result() == (os.getpid(), "small")  # not worth a fork


def test_an_error_in_aside_work_reaches_the_caller():
    def fail(message: str) -> None:
        raise ValueError(message)

    aside = Aside(fail, "bad input", size=MIN_PARALLEL)
    with pytest.raises(ValueError, match="bad input"):
        aside.result()


@pytest.mark.parametrize("items", [list(range(1000)), list(range(10)), []])
def test_this_process_does_its_own_work_first_and_then_takes_chunks(items):
    """`first()` runs here, once, whether the chunks go to workers, run here, or there are none."""
    done: list[int] = []

    def first() -> None:
        done.append(os.getpid())

    results = list(map_chunks(_slow_pids, items, workers=2, chunk_size=25, first=first))
    assert done == [os.getpid()]
    assert [x for chunk in results for x, _ in chunk] == items


def test_aside_work_never_asked_for_leaves_no_process_behind():
    """A build that fails before it asks for the result (the preview server goes on) ends the fork."""
    aside = Aside(time.sleep, 30, size=MIN_PARALLEL)
    pid = aside._pid
    del aside
    if pid is not None:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # reaped already: no such child
