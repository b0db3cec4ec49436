"""Progress for long work: a bar on a terminal, a line every tenth of the way elsewhere."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator

log = logging.getLogger(__name__)

_LABELS = {"read": "reading wire files", "threads": "finding entities, threading and writing articles",
           "render": "rendering pages"}
_MIN_ITEMS = 200  # smaller jobs finish before a bar is worth showing


@contextlib.contextmanager
def progress_reporter(quiet: bool = False) -> Iterator:
    """Yield a `progress(stage, done, total)` callback; shows nothing for small jobs."""
    if quiet:
        yield None
        return
    if sys.stderr.isatty():
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
        bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                       TimeRemainingColumn(), transient=True)
        tasks: dict[str, int] = {}

        def update(stage: str, done: int, total: int) -> None:
            if total < _MIN_ITEMS:
                return
            if stage not in tasks:
                tasks[stage] = bar.add_task(_LABELS.get(stage, stage), total=total)
            bar.update(tasks[stage], completed=done)

        with bar:
            yield update
        return
    last: dict[str, int] = {}

    def log_line(stage: str, done: int, total: int) -> None:
        if total < _MIN_ITEMS:
            return
        tenth = done * 10 // total
        if last.get(stage) != tenth:
            last[stage] = tenth
            log.info("%s: %d/%d", _LABELS.get(stage, stage), done, total)

    yield log_line
