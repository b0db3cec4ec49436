"""Work spread over processes comes back whole and in order, with errors intact."""

from __future__ import annotations

import os

import pytest

from newsdigest.parallel import map_chunks


def test_chunks_come_back_in_order_from_this_process_and_its_workers():
    items = list(range(1000))
    results = list(map_chunks(lambda chunk: [(x, os.getpid()) for x in chunk], items, workers=2, chunk_size=50))
    assert [x for chunk in results for x, _ in chunk] == items
    pids = {pid for chunk in results for _, pid in chunk}
    assert os.getpid() in pids and len(pids) == 2  # one worker forked; this process did its share


def test_an_error_in_a_chunk_reaches_the_caller():
    def job(chunk):
        if 700 in chunk:
            raise ValueError("bad item 700")
        return len(chunk)

    with pytest.raises(ValueError, match="bad item 700"):
        list(map_chunks(job, list(range(1000)), workers=2, chunk_size=100))
