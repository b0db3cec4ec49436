"""The only code that writes output/: a fresh folder, swapped in when the build succeeded.

A build writes into `.output.tmp-<pid>/` beside output/; `commit()` renames the
old site away and the new one into place, so a failed or killed build leaves the
previous output/ complete. A lock file keeps two builds from interleaving, and a
route written twice is refused, so slug collisions surface instead of one page
silently replacing another.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from . import urls
from .errors import BuildError

log = logging.getLogger(__name__)
T = TypeVar("T")


class OutputWriter:
    """Collects a whole build in a temporary folder and swaps it in at the end."""

    def __init__(self, output_dir: Path) -> None:
        self.output_dir = output_dir
        self.parent = output_dir.parent
        self.tmp_dir = self.parent / f".{output_dir.name}.tmp-{os.getpid()}"
        self._lock_file = None
        self.written: dict[str, str] = {}
        self.bytes_written = 0

    def __enter__(self) -> OutputWriter:
        self.parent.mkdir(parents=True, exist_ok=True)
        self._lock_file = open(self.parent / f".{self.output_dir.name}.lock", "w")  # noqa: SIM115
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            self._lock_file.close()
            raise BuildError("another build is writing this site right now", str(self.output_dir),
                             hint="wait for it to finish, then build again") from exc
        self._clean_leftovers()
        self.tmp_dir.mkdir()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self.tmp_dir.exists():
            shutil.rmtree(self.tmp_dir, ignore_errors=True)
        if self._lock_file:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()

    def _clean_leftovers(self) -> None:
        """Remove folders that killed builds left behind (theirs, not ours: we hold the lock)."""
        for stale in self.parent.glob(f".{self.output_dir.name}.tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)
        for stale in self.parent.glob(f".{self.output_dir.name}.old-*"):
            shutil.rmtree(stale, ignore_errors=True)

    def write(self, route: str, data: str | bytes, owner: str = "") -> None:
        """Write one page or file; a second write to the same path is an error."""
        rel = urls.output_file(route)
        if rel in self.written:
            raise BuildError(f"two pages want the same URL /{rel}: {self.written[rel]} and {owner}",
                             owner or rel, hint="give one of them another slug")
        self.written[rel] = owner or route
        path = self.tmp_dir / rel
        payload = data.encode("utf-8") if isinstance(data, str) else data
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(payload)
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                raise BuildError("disk full while writing the site; the previous output/ is kept",
                                 str(self.output_dir)) from exc
            raise BuildError(f"cannot write {rel}: {exc.strerror}", str(self.output_dir)) from exc
        self.bytes_written += len(payload)

    def copy_assets(self, sources: list[Path], route_prefix: str) -> int:
        """Copy static files (regular files only, no symlinks); a later folder overrides an earlier."""
        chosen: dict[str, Path] = {}
        for source in sources:
            if not source.is_dir():
                continue
            for path in sorted(source.rglob("*")):
                if path.is_symlink() or not path.is_file() or path.name.startswith("."):
                    continue
                chosen[path.relative_to(source).as_posix()] = path
        for rel, path in sorted(chosen.items()):
            self.write(route_prefix + rel, path.read_bytes(), owner=str(path))
        return len(chosen)

    def run_indexer(self, index: Callable[[Path], T]) -> T:
        """Let a tool (the search indexer) add files to the new site before it is swapped in."""
        result = index(self.tmp_dir)
        for path in sorted(self.tmp_dir.rglob("*")):
            rel = path.relative_to(self.tmp_dir).as_posix()
            if path.is_file() and rel not in self.written:
                self.written[rel] = "indexer"
                self.bytes_written += path.stat().st_size
        return result

    def commit(self) -> None:
        """Swap the new site in: two renames, the old site removed afterwards."""
        old = self.parent / f".{self.output_dir.name}.old-{os.getpid()}"
        if self.output_dir.exists():
            os.rename(self.output_dir, old)
        os.rename(self.tmp_dir, self.output_dir)
        if old.exists():
            shutil.rmtree(old, ignore_errors=True)
