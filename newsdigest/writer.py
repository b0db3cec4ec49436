"""The only code that writes output/: new files staged beside it, moved in so that output/ is always a whole site.

A build writes into `.output.tmp-<pid>/` beside output/, under a lock file that
keeps two builds (and a deploy) from interleaving; a route claimed twice is
refused, so slug collisions surface instead of one page silently replacing another.

- A full build (no output/ yet, or no manifest of it) stages the whole site and
  `commit()` swaps the two folders with one atomic `renameat2(RENAME_EXCHANGE)`
  (two renames where the filesystem cannot), after one `sync`. With no output/
  yet there is nothing to replace or protect: the staging folder is renamed, unsynced.
- An incremental build stages only the files whose inputs changed (the manifest
  of the previous build says what each file was made from). `commit()` makes the
  staged bytes durable (fsync each file, or one `sync` for many), writes a journal
  of the moves (atomically: written beside, fsynced, renamed), then renames each
  file in, in an order that keeps every internal link working at every instant:
  new files first (nothing links to them yet), then changed assets, then changed
  pages, then the files that link to everything (front page, feeds, sitemaps,
  search index, its entry file last); deletions only after every move. A reader,
  a crawler or a kill at any point meets each file either old or new and no link
  to a missing file. Swapping a hard-linked copy of output/ instead would make the
  whole change one rename, but linking the 27k files of the 10k-article site costs
  about 5 s (and 4 s to remove the old copy): too slow for a one-edit rebuild.
- A patch (the quick rebuild of a text edit) is an incremental build that is given
  only the files it replaces: the rest of output/ stays as it is (the caller has
  checked it is as the manifest says) and nothing is deleted.
- `recover()` finishes what a killed build left: the journal's remaining moves
  and deletions, a site moved away between two renames, staging folders. Builds
  run it first; `check`, `serve` and `deploy` run it before they read output/,
  and deploy holds the lock (`settled`) while it reads, so it never publishes a
  half-moved site.

Files a journal moved in that the previous manifest lacked are remembered in the
settled journal, so a later build whose manifest predates them still deletes them
if they are gone from the site.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, TypeVar

from . import urls
from .errors import BuildError

log = logging.getLogger(__name__)
T = TypeVar("T")

Manifest = dict[str, tuple[str, int, int]]  # rel -> (input key, size, mtime_ns)

PREPARE_MIN = 200  # fewer files than this are made as pages are written: a process costs more
SYNC_EACH_MAX = 64  # up to this many staged files are fsynced one by one; beyond, one sync() is cheaper
PAUSE_ENV = "NEWSDIGEST_TEST_PAUSE_MOVES"  # tests only: the build stops itself (SIGSTOP) before each move
_SEARCH_ENTRY = urls.search_bundle_route() + "pagefind-entry.json"  # names the rest of the search index
_AT_FDCWD, _RENAME_EXCHANGE = -100, 2


def content_key(data: str | bytes) -> str:
    """The key of a file whose inputs are its own bytes (assets, sitemap)."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    return "=" + hashlib.blake2b(payload, digest_size=12).hexdigest()


@contextlib.contextmanager
def settled(output_dir: Path) -> Iterator[bool]:
    """Hold the writer's lock with output/ whole (a killed build's work finished); yields True if there was any."""
    lock = _lock(output_dir)
    try:
        yield _settle(output_dir)
    finally:
        _unlock(lock)


def recover(output_dir: Path) -> bool:
    """Finish what a killed build left half-done, under the writer's lock; True if there was anything."""
    with settled(output_dir) as finished:
        return finished


class OutputWriter:
    """Stages a build beside output/ and moves it in at the end; reuses files whose inputs are unchanged."""

    def __init__(self, output_dir: Path, previous: Manifest | None = None, *, patch: bool = False) -> None:
        """`previous` is the manifest of output/ as it is; with `patch`, the rows of the files to replace only."""
        self.output_dir = output_dir
        self._output_prefix = os.path.join(output_dir, "")
        self.parent = output_dir.parent
        self.tmp_dir = _sibling(output_dir, f"tmp-{os.getpid()}")
        self.journal = _sibling(output_dir, "journal")
        self._lock_file: IO | None = None
        self.previous: Manifest = dict(previous or {})
        self._saved = set(self.previous)  # what the manifest the build started from knows
        self.incremental = False
        self.patch = patch
        self.unrecorded: list[str] = []  # in a patch: files the journal says a build moved in, to look up
        self.written: dict[str, str] = {}  # rel -> owner, every file of the new site
        self.manifest: Manifest = {}  # rel -> (key, size, mtime_ns), every file of the new site
        self.staged: list[str] = []  # rels written this build and not yet moved in
        self.bytes_written = 0  # bytes written this build
        self._makers: list[tuple[subprocess.Popen, threading.Thread]] = []  # see `prepare_files`
        self._prepared: set[str] = set()  # rels made empty by them

    def __enter__(self) -> OutputWriter:
        self._lock_file = _lock(self.output_dir)
        _settle(self.output_dir)
        self.tmp_dir.mkdir()
        self.incremental = bool(self.previous) and self.output_dir.is_dir()
        if self.patch and not self.incremental:
            raise ValueError(f"a patch needs the files it replaces and {self.output_dir}")  # a bug
        added = _read_journal(self.journal).get("added", []) if self.incremental else []
        if self.patch:  # the caller falls back to a build if one is missing from the manifest
            self.unrecorded = [rel for rel in added if rel not in self.previous]
        else:  # moved in by a killed build whose manifest was never saved: rewrite or delete them
            for rel in added:
                self.previous.setdefault(rel, ("", -1, -1))
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self._stop_makers(kill=True)
        if self.tmp_dir.exists():
            shutil.rmtree(self.tmp_dir, ignore_errors=True)
        if self._lock_file:
            _unlock(self._lock_file)
            self._lock_file = None

    def claim(self, route: str, key: str, owner: str = "") -> str | None:
        """Reserve `route` for this build: its file's path if it must be written (its inputs changed),
        None if the previous build's file is kept."""
        rel = self.reserve(route, owner)
        old = self.reusable(rel, key)
        if old is not None:
            self.reuse(rel, old)
            return None
        return rel

    def prepare_files(self, routes: Iterable[str]) -> None:
        """Have another process make these routes' staging files, empty, and their folders (in a full build).

        Creating a file is most of the kernel's cost of writing a page: its inode and directory
        entry (~0.03 ms), and its folder's (`2024/05/slug/index.html`: most pages have a folder
        of their own), up to ten times that on a crowded filesystem. Sent while the site is
        gathered on one core, they are made on the other, which would be idle; a page then only
        opens its file and writes. Nothing waits for them: a page whose file is not made yet
        makes it (and its folder) itself (`write_claimed`), and `commit` removes any made for a
        page that was not written. An incremental build stages few files and makes them as it
        writes. The process is a new small Python, not a fork: a fork would share (and, in the
        memory the process tree reports, count again) the build's whole heap. It runs at the
        lowest priority: the build's own work on the other core (`parallel.Aside`) comes first.
        """
        from .parallel import worker_count
        if self.incremental or worker_count() < 2:
            return
        files = [rel for rel in dict.fromkeys(map(urls.output_file, routes)) if rel not in self._prepared]
        if len(files) < PREPARE_MIN:
            return
        self._prepared.update(files)
        maker = subprocess.Popen([sys.executable, "-I", "-S", "-c", _MAKE_FILES, str(self.tmp_dir)],
                                 stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # Sent from a thread: the pipe holds 64 KB, and this process has the site to gather meanwhile.
        payload = b"\0".join(map(os.fsencode, files))
        sender = threading.Thread(target=_send, args=(maker.stdin, len(payload).to_bytes(8, "big") + payload),
                                  name="newsdigest-files", daemon=True)
        sender.start()
        self._makers.append((maker, sender))

    def _stop_makers(self, kill: bool = False) -> None:
        """Wait for the file processes to end (long done by then), or end them at once (`kill`)."""
        for maker, sender in self._makers:
            if kill:
                maker.kill()
            sender.join()
            maker.wait()
        self._makers = []

    def reserve(self, route: str, owner: str = "") -> str:
        """Reserve `route` for this build (a second claim on it is an error); its file's path."""
        rel = urls.output_file(route)
        if rel in self.written:
            raise BuildError(f"two pages want the same URL /{rel}: {self.written[rel]} and {owner or route}",
                             owner or rel, hint="give one of them another slug")
        self.written[rel] = owner or route
        return rel

    def reusable(self, rel: str, key: str) -> tuple[str, int, int] | None:
        """The previous build's file at `rel` if made from `key` and still as it was left (also in a worker)."""
        old = self.previous.get(rel)
        if self.incremental and old is not None and old[0] == key and self._unchanged_on_disk(rel, old):
            return old
        return None

    def _unchanged_on_disk(self, rel: str, old: tuple[str, int, int]) -> bool:
        try:
            st = os.stat(self._output_prefix + rel)  # a string join: this runs for every file of the site
        except OSError:
            return False
        return st.st_size == old[1] and st.st_mtime_ns == old[2]

    def write(self, route: str, data: str | bytes, owner: str = "", key: str | None = None) -> None:
        """Write one page or file (unless its key says it is unchanged); a second write to a path is an error."""
        key = key or content_key(data)
        rel = self.claim(route, key, owner)
        if rel is not None:
            self.adopt([self.write_claimed(rel, data, key)])

    def write_claimed(self, rel: str, data: str | bytes, key: str) -> tuple[str, str, int, int]:
        """Stage a claimed file at `rel`, as `reserve` gave it (also in a forked worker); what `adopt` records."""
        payload = data.encode("utf-8") if isinstance(data, str) else data
        path = os.path.join(self.tmp_dir, rel)
        try:
            # Not O_TRUNC: staging starts empty, and the file is new or made empty by `prepare_files`;
            # truncating an existing file has ext4 write it out at close (0.03 ms more a file).
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
            except FileNotFoundError:  # its folder is not made yet (by `prepare_files` or a page before)
                _make_folder(os.path.dirname(path))
                fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
            try:
                done = os.write(fd, payload)
                while done < len(payload):  # a short write (a full disk says why on the next)
                    done += os.write(fd, memoryview(payload)[done:])
                st = os.fstat(fd)
                if st.st_size > len(payload):  # longer before: not from this build, but never left so
                    os.ftruncate(fd, len(payload))
                    st = os.fstat(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise _write_error(exc, rel, self.output_dir) from exc
        return rel, key, st.st_size, st.st_mtime_ns

    def adopt(self, results: list[tuple[str, str, int, int]]) -> None:
        """Record files staged by `write_claimed` (here or in a worker)."""
        for rel, key, size, mtime_ns in results:
            self.manifest[rel] = (key, size, mtime_ns)
            self.staged.append(rel)
            self.bytes_written += size

    def reuse(self, rel: str, old: tuple[str, int, int]) -> None:
        """Record a reserved file that `reusable` found unchanged (here or in a worker)."""
        self.manifest[rel] = old

    @property
    def site_bytes(self) -> int:
        """Size of the whole new site (of the replaced files only, in a patch)."""
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

    def run_indexer(self, index: Callable[[Path, Path], T]) -> T:
        """Let a tool (the search indexer) read the new site and write its bundle into staging.

        The tool needs the whole site, so an incremental build moves the staged pages in first
        (keeping the old bundle, so search works meanwhile) and the tool reads output/ itself;
        its bundle is staged and recorded like our files, and `commit()` moves it in.
        """
        prefix = urls.search_bundle_route()
        folder, bundle = self.tmp_dir, self.tmp_dir / prefix
        if self.incremental:
            self._move_staged(keep=prefix)
            folder = self.output_dir
        result = index(folder, bundle)
        for path in sorted(bundle.rglob("*")):
            rel = path.relative_to(self.tmp_dir).as_posix()
            if not path.is_file() or rel in self.written:
                continue
            self.written[rel] = "indexer"
            key, old, st = content_key(path.read_bytes()), self.previous.get(rel), path.stat()
            if self.incremental and old is not None and old[0] == key and self._unchanged_on_disk(rel, old):
                self.manifest[rel] = old
                continue
            self.manifest[rel] = (key, st.st_size, st.st_mtime_ns)
            self.bytes_written += st.st_size
            if self.incremental:
                self.staged.append(rel)
        return result

    def commit(self) -> None:
        """Put the new site in place: swap the folder (full build) or move the changed files in."""
        self._stop_makers()
        if self.incremental:
            self._move_staged()
            return
        self._remove_unwritten()
        _write_journal(self.journal, {"added": self._added()})
        if not self.output_dir.exists():  # a first build replaces nothing: the kernel writes it back in its time
            os.rename(self.tmp_dir, self.output_dir)
            return
        os.sync()  # the new site's bytes on disk before the rename that replaces the published one
        if _exchange(self.tmp_dir, self.output_dir):
            shutil.rmtree(self.tmp_dir, ignore_errors=True)  # the previous site, now
            return
        old = _sibling(self.output_dir, f"old-{os.getpid()}")
        os.rename(self.output_dir, old)
        os.rename(self.tmp_dir, self.output_dir)
        shutil.rmtree(old, ignore_errors=True)

    def _remove_unwritten(self) -> None:
        """Remove the files `prepare_files` made for pages that were not written (none, as the build plans)."""
        for rel in self._prepared:
            if rel not in self.manifest:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.tmp_dir / rel)
                with contextlib.suppress(OSError):
                    os.removedirs((self.tmp_dir / rel).parent)  # its folders, if nothing else is in them
        self._prepared = set()

    def _added(self) -> list[str]:
        """Files of the new site the manifest this build started from lacks (all of them if there was none)."""
        return sorted(rel for rel in self.written if rel not in self._saved) if self._saved else []

    def _move_staged(self, keep: str | None = None) -> None:
        """Journal the staged files' moves (in link-safe order) and the deletions, then carry them out."""
        gone = [] if self.patch else sorted(rel for rel in self.previous
                                            if rel not in self.written and not (keep and rel.startswith(keep)))
        if not self.staged and not gone:
            return
        moves = sorted(self.staged, key=lambda rel: _move_rank(rel, rel in self.previous))
        try:
            _sync_files([self.tmp_dir / rel for rel in self.staged])
            _write_journal(self.journal, {"staging": self.tmp_dir.name, "moves": moves, "deletes": gone,
                                          "added": self._added()})
            _finish_journal(self.output_dir)
        except OSError as exc:
            raise BuildError(f"cannot move the new files into output/: {exc.strerror}", str(self.output_dir),
                             hint="every link in output/ still works; the next build (or check, deploy) "
                                  "finishes the move") from exc
        self.staged = []
        self.previous = {rel: v for rel, v in self.previous.items() if rel not in gone}


# The file process's program (`prepare_files`): on its standard input, the size of what follows
# (8 bytes) and the files, NUL-separated; each made empty (if not there yet), with its folders,
# under the folder it is given. It reads that many bytes, not to the end: workers forked
# meanwhile may hold the pipe open. It stops at the first file it cannot make, quietly: the
# build's own write of that page says why.
_MAKE_FILES = """
import os, sys
os.nice(19)  # after the build's own processes (see `OutputWriter.prepare_files`)
root = os.fsencode(sys.argv[1])
size = int.from_bytes(sys.stdin.buffer.read(8), "big")
made = {root}
try:
    for rel in sys.stdin.buffer.read(size).split(b"\\0"):
        path = os.path.join(root, rel)
        folder = os.path.dirname(path)
        if folder not in made:
            try:
                os.mkdir(folder)  # most folders' parent is made already: one call, not makedirs' two
            except FileNotFoundError:
                os.makedirs(folder, exist_ok=True)
            except FileExistsError:
                pass
            made.add(folder)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o644))
except OSError:
    sys.exit(1)
"""


def _make_folder(folder: str) -> None:
    """Make `folder` and any missing parents; most pages' parent folder is there already (one call,
    not the two of `os.makedirs`)."""
    try:
        os.mkdir(folder)
    except FileNotFoundError:
        os.makedirs(folder, exist_ok=True)
    except FileExistsError:
        pass


def _send(pipe: IO[bytes], payload: bytes) -> None:
    """Write `payload` to a file process and close its input (if it has stopped, nothing to do)."""
    with contextlib.suppress(OSError):
        pipe.write(payload)
    with contextlib.suppress(OSError):
        pipe.close()


def _move_rank(rel: str, existed: bool) -> tuple[int, str]:
    """Where a staged file goes in the order of moves: nothing may link to a file not yet there."""
    if not existed:
        return 0, rel  # new: only files moved in after it link to it
    if rel == _SEARCH_ENTRY:
        return 4, rel  # names the index chunks, all in place by then
    if rel == "index.html" or rel.startswith(("page/", urls.search_bundle_route())) or rel.endswith(".xml"):
        return 3, rel  # front page, feeds, sitemaps, search index: they link to everything
    return (2 if rel.endswith(".html") else 1), rel  # assets before the pages that use them


def _sibling(output_dir: Path, what: str) -> Path:
    """`.output.<what>` beside output/: the lock, the journal, staging and moved-away folders."""
    return output_dir.parent / f".{output_dir.name}.{what}"


def _lock(output_dir: Path) -> IO:
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    lock = open(_sibling(output_dir, "lock"), "w")  # noqa: SIM115 - held until _unlock
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        lock.close()
        raise BuildError("another build is writing this site right now", str(output_dir),
                         hint="wait for it to finish, then run the command again") from exc
    return lock


def _unlock(lock: IO) -> None:
    fcntl.flock(lock, fcntl.LOCK_UN)
    lock.close()


def _settle(output_dir: Path) -> bool:
    """Finish a pending journal, put back a site a kill left moved away, remove stale folders (lock held)."""
    finished = _finish_journal(output_dir)
    olds = sorted(output_dir.parent.glob(f".{output_dir.name}.old-*"), key=lambda p: p.stat().st_mtime)
    if olds and not output_dir.exists():  # killed between a full build's two renames: the old site back
        os.rename(olds[-1], output_dir)
        log.warning("%s: a killed build had moved the site away; the previous site is back", output_dir)
        finished = True
    for pattern in ("tmp-*", "old-*"):
        for stale in output_dir.parent.glob(f".{output_dir.name}.{pattern}"):
            shutil.rmtree(stale, ignore_errors=True)
    return finished


def _read_journal(journal: Path) -> dict:
    try:
        plan = json.loads(journal.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):  # a journal is renamed into place whole, so this one is not ours
        journal.unlink(missing_ok=True)
        return {}
    return plan if isinstance(plan, dict) else {}


def _write_journal(journal: Path, plan: dict, durable: bool = True) -> None:
    """Replace the journal whole: written beside it, on disk before the rename when `durable`."""
    new = journal.with_name(journal.name + ".new")
    with open(new, "w", encoding="utf-8") as f:
        json.dump(plan, f)
        if durable:
            f.flush()
            os.fsync(f.fileno())
    os.replace(new, journal)
    if durable:
        _sync_files([journal.parent])


def _finish_journal(output_dir: Path) -> bool:
    """Carry out (or finish, after a killed build) the moves and deletions the journal lists."""
    journal = _sibling(output_dir, "journal")
    plan = _read_journal(journal)
    if "moves" not in plan:
        return False
    staging = output_dir.parent / plan["staging"]
    pause = (lambda: os.kill(os.getpid(), signal.SIGSTOP)) if os.environ.get(PAUSE_ENV) else (lambda: None)
    made: set[Path] = set()
    for rel in plan["moves"]:
        source, target = staging / rel, output_dir / rel
        if not os.path.lexists(source):
            continue  # moved before the build was killed
        pause()
        if target.parent not in made:
            target.parent.mkdir(parents=True, exist_ok=True)
            made.add(target.parent)
        os.replace(source, target)
    for rel in plan["deletes"]:
        target = output_dir / rel
        if not os.path.lexists(target):
            continue
        pause()
        target.unlink()
        parent = target.parent
        while parent != output_dir and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent
    _write_journal(journal, {"added": plan.get("added", [])}, durable=False)
    return True


def _sync_files(paths: list[Path]) -> None:
    """Make these files' (or folders') bytes durable: fsync each, or one sync() when there are many."""
    if len(paths) > SYNC_EACH_MAX:
        os.sync()
        return
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _exchange(new: Path, current: Path) -> bool:
    """Swap two folders in one atomic rename (Linux renameat2); False where that is not available."""
    import ctypes  # here, not at the top: only a full build swaps folders
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is None:
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(new), _AT_FDCWD, os.fsencode(current), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(current))


def _write_error(exc: OSError, rel: str, output_dir: Path) -> BuildError:
    if exc.errno == errno.ENOSPC:
        return BuildError("disk full while writing the site; the previous output/ is kept", str(output_dir))
    return BuildError(f"cannot write {rel}: {exc.strerror}", str(output_dir))
