"""Work spread over processes comes back whole and in order, with errors intact."""

from __future__ import annotations

import os
import time

import pytest

from newsdigest.parallel import Background, map_chunks


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


def test_a_background_job_runs_in_another_process_and_is_waited_for(tmp_path, monkeypatch):
    monkeypatch.setenv("NEWSDIGEST_WORKERS", "2")
    mark = tmp_path / "pid"

    def job():
        time.sleep(0.2)
        mark.write_text(str(os.getpid()))

    assert Background(job, size=1000).wait() is True
    assert int(mark.read_text()) != os.getpid()


def test_a_failing_background_job_says_so_without_a_traceback(capfd, monkeypatch):
    monkeypatch.setenv("NEWSDIGEST_WORKERS", "2")

    def job():
        raise ValueError("broken")

    assert Background(job, size=1000).wait() is False
    assert Background(job, size=1).wait() is False  # run here: the same answer
    assert "Traceback" not in capfd.readouterr().err


def test_where_a_fork_does_not_pay_a_background_job_runs_here_and_now(tmp_path, monkeypatch):
    mark = tmp_path / "pid"
    for workers, size in (("1", 1000), ("2", 10)):
        monkeypatch.setenv("NEWSDIGEST_WORKERS", workers)
        job = Background(lambda: mark.write_text(str(os.getpid())), size=size)
        assert int(mark.read_text()) == os.getpid()  # already done
        assert job.wait() is True
        mark.unlink()


def test_a_stopped_background_job_ends(monkeypatch):
    monkeypatch.setenv("NEWSDIGEST_WORKERS", "2")
    job = Background(lambda: time.sleep(60), size=1000)
    started = time.monotonic()
    job.stop()
    assert time.monotonic() - started < 10
    assert job.wait() is False
