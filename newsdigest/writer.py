"""The only code that writes output/: new files staged beside it, moved in when the build succeeded.

A build writes into `.output.tmp-<pid>/` beside output/. A full build (no output/
yet, or no manifest of it) stages the whole site and `commit()` swaps the folder
in with two renames. An incremental build stages only the files whose inputs
changed (the manifest of the previous build says what each file was made from)
and `commit()` moves them into output/ one rename each, after writing a journal
of the moves; a build killed half-way through those renames is finished by the
next build from the journal. Either way a failed build leaves the previous
output/ as it was. A lock file keeps two builds from interleaving, and a route
claimed twice is refused, so slug collisions surface instead of one page
silently replacing another.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
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

Manifest = dict[str, tuple[str, int, int]]  # rel -> (input key, size, mtime_ns)


def content_key(data: str | bytes) -> str:
    """The key of a file whose inputs are its own bytes (assets, sitemap)."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    return "=" + hashlib.blake2b(payload, digest_size=12).hexdigest()


class OutputWriter:
    """Stages a build beside output/ and moves it in at the end; reuses files whose inputs are unchanged."""

    def __init__(self, output_dir: Path, previous: Manifest | None = None) -> None:
        self.output_dir = output_dir
        self.parent = output_dir.parent
        self.tmp_dir = self.parent / f".{output_dir.name}.tmp-{os.getpid()}"
        self.journal = self.parent / f".{output_dir.name}.journal"
        self._lock_file = None
        self.previous: Manifest = dict(previous or {})
        self.incremental = False
        self.written: dict[str, str] = {}  # rel -> owner, every file of the new site
        self.manifest: Manifest = {}  # rel -> (key, size, mtime_ns), every file of the new site
        self.staged: list[str] = []  # rels written this build
        self.bytes_written = 0  # bytes written this build

    def __enter__(self) -> OutputWriter:
        self.parent.mkdir(parents=True, exist_ok=True)
        self._lock_file = open(self.parent / f".{self.output_dir.name}.lock", "w")  # noqa: SIM115
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            self._lock_file.close()
            raise BuildError("another build is writing this site right now", str(self.output_dir),
                             hint="wait for it to finish, then build again") from exc
        self._finish_journal()
        self._clean_leftovers()
        self.tmp_dir.mkdir()
        self.incremental = bool(self.previous) and self.output_dir.is_dir()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self.tmp_dir.exists():
            shutil.rmtree(self.tmp_dir, ignore_errors=True)
        if self._lock_file:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()

    def _clean_leftovers(self) -> None:
        """Remove folders that killed builds left behind (theirs, not ours: we hold the lock)."""
        olds = sorted(self.parent.glob(f".{self.output_dir.name}.old-*"), key=lambda p: p.stat().st_mtime)
        if olds and not self.output_dir.exists():  # killed between commit's two renames: put the old site back
            os.rename(olds[-1], self.output_dir)
            log.warning("%s: a killed build had moved the site away; the previous site is back", self.output_dir)
        for stale in self.parent.glob(f".{self.output_dir.name}.tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)
        for stale in self.parent.glob(f".{self.output_dir.name}.old-*"):
            shutil.rmtree(stale, ignore_errors=True)

    def claim(self, route: str, key: str, owner: str = "") -> bool:
        """Reserve `route` for this build; True if it must be written (its inputs changed)."""
        rel = urls.output_file(route)
        if rel in self.written:
            raise BuildError(f"two pages want the same URL /{rel}: {self.written[rel]} and {owner or route}",
                             owner or rel, hint="give one of them another slug")
        self.written[rel] = owner or route
        old = self.previous.get(rel)
        if self.incremental and old is not None and old[0] == key and self._unchanged_on_disk(rel, old):
            self.manifest[rel] = old
            return False
        return True

    def _unchanged_on_disk(self, rel: str, old: tuple[str, int, int]) -> bool:
        try:
            st = os.stat(self.output_dir / rel)
        except OSError:
            return False
        return st.st_size == old[1] and st.st_mtime_ns == old[2]

    def write(self, route: str, data: str | bytes, owner: str = "", key: str | None = None) -> None:
        """Write one page or file (unless its key says it is unchanged); a second write to a path is an error."""
        if self.claim(route, key or content_key(data), owner):
            self.adopt([self.write_claimed(route, data, key or content_key(data))])

    def write_claimed(self, route: str, data: str | bytes, key: str) -> tuple[str, str, int, int]:
        """Stage a claimed file (also from a forked worker); returns what `adopt` records."""
        rel = urls.output_file(route)
        path = self.tmp_dir / rel
        payload = data.encode("utf-8") if isinstance(data, str) else data
        try:
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            except FileNotFoundError:
                path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                os.write(fd, payload)
                st = os.fstat(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                raise BuildError("disk full while writing the site; the previous output/ is kept",
                                 str(self.output_dir)) from exc
            raise BuildError(f"cannot write {rel}: {exc.strerror}", str(self.output_dir)) from exc
        return rel, key, st.st_size, st.st_mtime_ns

    def adopt(self, results: list[tuple[str, str, int, int]]) -> None:
        """Record files staged by `write_claimed` (here or in a worker)."""
        for rel, key, size, mtime_ns in results:
            self.manifest[rel] = (key, size, mtime_ns)
            self.staged.append(rel)
            self.bytes_written += size

    @property
    def site_bytes(self) -> int:
        """Size of the whole new site."""
        return sum(size for _, size, _ in self.manifest.values())

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
        """Let a tool (the search indexer) add files to the new site before it is swapped in.

        The tool needs the whole site, so in an incremental build the staged pages are moved
        in first and the tool runs over output/ itself; its files are recorded like ours.
        """
        folder = self.tmp_dir
        if self.incremental:
            self._move_staged()
            folder = self.output_dir
        result = index(folder)
        for path in sorted(folder.rglob("*")):
            rel = path.relative_to(folder).as_posix()
            if path.is_file() and rel not in self.written:
                st = path.stat()
                self.written[rel] = "indexer"
                self.manifest[rel] = (content_key(path.read_bytes()), st.st_size, st.st_mtime_ns)
                self.bytes_written += st.st_size
        return result

    def commit(self) -> None:
        """Put the new site in place: swap the folder (full build) or move the changed files in."""
        if self.incremental:
            self._move_staged()
            return
        old = self.parent / f".{self.output_dir.name}.old-{os.getpid()}"
        if self.output_dir.exists():
            os.rename(self.output_dir, old)
        os.rename(self.tmp_dir, self.output_dir)
        if old.exists():
            shutil.rmtree(old, ignore_errors=True)

    def _move_staged(self) -> None:
        gone = sorted(rel for rel in self.previous if rel not in self.written)
        self.journal.write_text(json.dumps({"staging": self.tmp_dir.name, "moves": self.staged,
                                            "deletes": gone}), encoding="utf-8")
        self._finish_journal()
        self.staged = []
        self.previous = {rel: v for rel, v in self.previous.items() if rel in self.written}

    def _finish_journal(self) -> None:
        """Carry out (or finish, after a killed build) the moves and deletions the journal lists."""
        if not self.journal.exists():
            return
        try:
            plan = json.loads(self.journal.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.journal.unlink(missing_ok=True)
            return
        staging = self.parent / plan["staging"]
        made: set[Path] = set()
        for rel in plan["moves"]:
            source, target = staging / rel, self.output_dir / rel
            if not source.exists():
                continue  # moved before the build was killed
            if target.parent not in made:
                target.parent.mkdir(parents=True, exist_ok=True)
                made.add(target.parent)
            os.replace(source, target)
        for rel in plan["deletes"]:
            target = self.output_dir / rel
            target.unlink(missing_ok=True)
            parent = target.parent
            while parent != self.output_dir and parent.is_dir() and not any(parent.iterdir()):
                parent.rmdir()
                parent = parent.parent
        self.journal.unlink()
