"""Derived build state in `.cache/build.sqlite`: parsed articles, feed entries, the output manifest.

Everything here can be deleted at any time: a missing or unreadable cache means a
full build that fills it again. Parsed articles are keyed by path, mtime and size
(and the Markdown renderer); the manifest records, for each file of output/, the
fingerprint of the inputs it was rendered from, so the next build renders only
pages whose inputs changed.

An article's body (HTML, as UTF-8 bytes) is kept in its own column and is not loaded with the article:
the build holds articles without bodies (50,000 bodies are 265 MB, and a
forked worker's resident size counts them again), and pages read a body from
here when they show it (`body_reader`, one connection per process).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import logging
import marshal
import multiprocessing
import os
import pickle
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")

SCHEMA_VERSION = "10"  # raise when the tables or the pickled Article change: an old cache is then dropped
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS articles (rel TEXT PRIMARY KEY, mtime_ns INTEGER, size INTEGER,
                                     renderer TEXT, digest TEXT, blob BLOB, body BLOB);
CREATE TABLE IF NOT EXISTS replaced (rel TEXT PRIMARY KEY, mtime_ns INTEGER, size INTEGER, blob BLOB, body BLOB);
CREATE TABLE IF NOT EXISTS entries (fp TEXT PRIMARY KEY, rss TEXT, atom TEXT);
CREATE TABLE IF NOT EXISTS built (output TEXT PRIMARY KEY, listing BLOB);
CREATE TABLE IF NOT EXISTS manifests (output TEXT PRIMARY KEY, files BLOB);
"""
# What an output folder was built from and what it holds are each one marshalled value, written whole
# at the end of a full build: 0.01 s each at 10k articles, where a row per file took 0.02 s and 0.07 s.
_STORE_ARTICLE = "INSERT OR REPLACE INTO articles VALUES (?, ?, ?, ?, ?, ?, ?)"


def fingerprint(*parts: object) -> str:
    """A short stable hash of the repr of `parts` (reprs of our data are deterministic)."""
    return hashlib.blake2b(repr(parts).encode("utf-8"), digest_size=12).hexdigest()


def tree_stamps(folder: Path, links: set[str] | None = None) -> list[tuple[str, int, int]]:
    """(relative path, mtime_ns, size) of every file under `folder`, sorted: a cheap change detector.

    A symlinked file's stamp is its target's; `links`, if given, gets their paths.
    """
    out: list[tuple[str, int, int]] = []

    def scan(path: str, prefix: str) -> None:
        try:
            entries = list(os.scandir(path))
        except OSError:
            return
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    scan(entry.path, prefix + entry.name + "/")
                elif not entry.is_dir():  # a symlinked folder is not entered, as os.walk does not
                    st = entry.stat()
                    out.append((prefix + entry.name, st.st_mtime_ns, st.st_size))
                    if links is not None and entry.is_symlink():
                        links.add(prefix + entry.name)
            except OSError:
                continue

    if folder.is_dir():
        scan(str(folder), "")
    return sorted(out)


def article_blob(article) -> bytes:
    """How the cache stores an article: pickled without its body (the body has a column of its own)."""
    bare = article if article.body is None else dataclasses.replace(article, body=None)
    return pickle.dumps(bare, pickle.HIGHEST_PROTOCOL)


class BuildCache:
    """The build's SQLite cache at `path` (created if missing)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = self._open(path)
        self._checkpointer: subprocess.Popen | None = None
        self._manifests: dict[str, dict[str, tuple[str, int, int]]] = {}  # output -> its manifest, as read

    def _open(self, path: Path) -> sqlite3.Connection:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            db = self._init(sqlite3.connect(path))
            if self._meta(db, "schema") != SCHEMA_VERSION:
                db.close()
                raise sqlite3.DatabaseError("old schema")
            return db
        except sqlite3.DatabaseError as exc:  # corrupt or from another version: it is only a cache
            log.debug("%s: %s; starting a fresh cache", path, exc)
            path.unlink(missing_ok=True)
            db = self._init(sqlite3.connect(path))
            return db

    @staticmethod
    def _init(db: sqlite3.Connection) -> sqlite3.Connection:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(_SCHEMA)
        if BuildCache._meta(db, "schema") is None:
            db.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
            db.commit()
        return db

    @staticmethod
    def _meta(db: sqlite3.Connection, key: str) -> str | None:
        row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def get_meta(self, key: str) -> str | None:
        return self._meta(self.db, key)

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def commit(self) -> None:
        """Make what this connection wrote visible to other processes, and free the write lock for them."""
        self.db.commit()

    def close(self) -> None:
        self.db.commit()
        self.db.close()
        if self._checkpointer is not None:  # long done by the end of a build
            self._checkpointer.wait()
            self._checkpointer = None

    def checkpoint_aside(self) -> None:
        """Copy the write-ahead log into the database file in another process, while this one goes on.

        `CacheWriter` leaves what the processes of a full build store (the articles parsed,
        the feed items made) in the log: copied at each commit (SQLite's default), under the
        writers' lock, the copying and its waits for the disk took half the time of storing the
        articles (~0.15 s of two cores at 10,000), and copied at the build's last commit, 0.03 s
        at its end. Another connection copies them meanwhile; until it is done, readers find
        them in the log. This connection's own commits then leave the copying to it, too.
        """
        if self._checkpointer is not None and self._checkpointer.poll() is None:
            return
        try:
            self._checkpointer = subprocess.Popen([sys.executable, "-I", "-S", "-c", _CHECKPOINT, str(self.path)],
                                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                                  stderr=subprocess.DEVNULL)
        except OSError:  # no process to spare: this connection's next commits copy the log, as by default
            self._checkpointer = None
            return
        self.db.execute("PRAGMA wal_autocheckpoint=0")  # for this connection, until it closes

    # Parsed articles -------------------------------------------------------------------------

    def article_stamps(self) -> dict[str, tuple[int, int, str]]:
        """rel -> (mtime_ns, size, renderer) of every cached article."""
        return {rel: (m, s, r) for rel, m, s, r in
                self.db.execute("SELECT rel, mtime_ns, size, renderer FROM articles")}

    def load_articles(self, rels: Iterable[str]) -> dict[str, tuple[str, object]]:
        """rel -> (digest, article without its body) for the given cached articles."""
        wanted = set(rels)
        out = {}
        for rel, digest, blob in self.db.execute("SELECT rel, digest, blob FROM articles"):
            if rel in wanted:
                out[rel] = (digest, pickle.loads(blob))
        return out

    def load_articles_as_built(self, stamps: dict[str, tuple[int, int]]) -> dict[str, object]:
        """rel -> the article (with its body) as parsed from the file with that (mtime_ns, size), current or replaced.

        The preview builds into two folders in turn, so the one it builds next shows
        the version of an edited article from before the other folder's build.
        """
        out = {}
        for rel, (mtime_ns, size) in stamps.items():
            for table in ("articles", "replaced"):
                row = self.db.execute(f"SELECT blob, body FROM {table} WHERE rel = ? AND mtime_ns = ? AND size = ?",
                                      (rel, mtime_ns, size)).fetchone()
                if row:
                    out[rel] = dataclasses.replace(pickle.loads(row[0]), body=row[1].decode("utf-8"))
                    break
        return out

    def store_articles(self, rows: Iterable[tuple[str, int, int, str, str, object]], *,
                       keep_replaced: bool = False) -> None:
        """Store (rel, mtime_ns, size, renderer, digest, article) rows (keeping the rows they replace)."""
        rows = [(r, m, s, rd, d, article_blob(a), a.body.encode("utf-8")) for r, m, s, rd, d, a in rows]
        if keep_replaced:
            self.db.executemany("INSERT OR REPLACE INTO replaced SELECT rel, mtime_ns, size, blob, body "
                                "FROM articles WHERE rel = ?", [(r[0],) for r in rows])
        self.db.executemany(_STORE_ARTICLE, rows)
        self.db.commit()  # readers in other processes (`body_reader`) see committed rows only

    def forget_articles(self, rels: Iterable[str]) -> None:
        rels = [(r,) for r in rels]
        self.db.executemany("DELETE FROM articles WHERE rel = ?", rels)
        self.db.executemany("DELETE FROM replaced WHERE rel = ?", rels)

    # Feed entries ----------------------------------------------------------------------------

    def prune_entries(self, keep: set[str]) -> set[str]:
        """Drop feed entries not in `keep` (of articles gone or changed); the fps of those kept."""
        kept = set()
        stale = []
        for (fp,) in self.db.execute("SELECT fp FROM entries"):
            (kept.add if fp in keep else stale.append)(fp)
        self.db.executemany("DELETE FROM entries WHERE fp = ?", [(fp,) for fp in stale])
        self.db.commit()
        return kept

    # What each output folder was built from ----------------------------------------------------

    def built_stamps(self, output: Path) -> list[tuple[str, int, int]]:
        """(rel, mtime_ns, size) of each article file the last build of `output` read, sorted by rel."""
        return self._built(output)[0]

    def feeds_listing(self, output: Path, rels: Iterable[str]) -> dict[str, list[str]]:
        """rel -> routes of the full-content feeds that list the article in the last build of `output`."""
        feeds = self._built(output)[1]
        return {rel: feeds.get(rel, []) for rel in rels}

    def record_built(self, output: Path, stamps: dict[str, tuple[int, int]],
                     feeds: dict[str, list[str]] | None) -> None:
        """With `feeds` (a full build): every article's stamp and full-content feeds; without: these stamps only."""
        if feeds is None:
            listed, feeds = self._built(output)
            listed = [(row[0], *stamps[row[0]]) if row[0] in stamps else row for row in listed]
        else:
            listed = sorted((rel, mtime_ns, size) for rel, (mtime_ns, size) in stamps.items())
            feeds = {rel: routes for rel, routes in feeds.items() if routes}
        self.db.execute("INSERT OR REPLACE INTO built VALUES (?, ?)",
                        (str(output.resolve()), marshal.dumps((listed, feeds))))

    def _built(self, output: Path) -> tuple[list[tuple[str, int, int]], dict[str, list[str]]]:
        """(stamps sorted by rel, rel -> full-content feeds) of the last build of `output`."""
        row = self.db.execute("SELECT listing FROM built WHERE output = ?", (str(output.resolve()),)).fetchone()
        return _unmarshal(row[0] if row else None, ([], {}))

    # Output manifest -------------------------------------------------------------------------

    def manifest(self, output: Path) -> dict[str, tuple[str, int, int]]:
        """rel -> (key, size, mtime_ns) of every file the last build wrote to `output` (read once per connection:
        the quick rebuilds ask three times)."""
        name = str(output.resolve())
        files = self._manifests.get(name)
        if files is None:
            row = self.db.execute("SELECT files FROM manifests WHERE output = ?", (name,)).fetchone()
            files = self._manifests[name] = _unmarshal(row[0] if row else None, {})
        return files

    def manifest_stamps(self, output: Path) -> Iterator[tuple[str, int, int]]:
        """(rel, size, mtime_ns) of every file the last build wrote to `output`."""
        return ((rel, size, mtime_ns) for rel, (_, size, mtime_ns) in self.manifest(output).items())

    def manifest_rows(self, output: Path, rels: Iterable[str]) -> dict[str, tuple[str, int, int]]:
        """rel -> (key, size, mtime_ns) of these files of `output` (those the manifest has)."""
        files = self.manifest(output)
        return {rel: files[rel] for rel in rels if rel in files}

    def save_manifest(self, output: Path, files: dict[str, tuple[str, int, int]],
                      previous: dict[str, tuple[str, int, int]] | None = None) -> None:
        """Record output/'s files (with `previous`, what the manifest held of the files replaced: those
        of `files` take their place, the rest stay); forget folders that are gone (the preview
        server's old builds).

        A manifest is kept as one value, marshalled: a full build of 27k files stores it in
        0.01 s, where a row per file took 0.07 s at the build's end.
        """
        name = str(output.resolve())
        gone = [(o,) for (o,) in self.db.execute("SELECT output FROM manifests") if not Path(o).is_dir()]
        self.db.executemany("DELETE FROM manifests WHERE output = ?", gone)
        self.db.executemany("DELETE FROM built WHERE output = ?", gone)
        self.db.executemany("DELETE FROM meta WHERE key = 'last-build:' || ?", gone)
        if previous is not None:
            whole = dict(self.manifest(output))
            for rel in previous:
                whole.pop(rel, None)
            whole.update(files)
            files = whole
        self.db.execute("INSERT OR REPLACE INTO manifests VALUES (?, ?)", (name, marshal.dumps(files)))
        self.db.commit()
        self._manifests[name] = files


def _unmarshal(data: bytes | None, missing: T) -> T:
    """A value `marshal` stored, or `missing` for none or one that cannot be read (damaged, or from
    another Python): then the build works it out again, as with no cache."""
    if data is None:
        return missing
    try:
        return marshal.loads(data)
    except (ValueError, EOFError, TypeError):
        return missing


# The checkpoint `BuildCache.checkpoint_aside` runs: passive, so it never waits for the build's
# own connections (what it cannot copy yet, a later checkpoint does).
_CHECKPOINT = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=60)
db.execute("PRAGMA wal_checkpoint(PASSIVE)")
db.close()
"""


def _connection(path: Path) -> Callable[[], sqlite3.Connection]:
    """This process's read-only connection to the cache at `path`, opened when first wanted.

    Forked workers inherit the function, not a connection: SQLite connections must not
    cross a fork, so each process opens its own.
    """
    connections: dict[int, sqlite3.Connection] = {}

    def connection() -> sqlite3.Connection:
        db = connections.get(os.getpid())
        if db is None:
            db = connections[os.getpid()] = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        return db

    return connection


def body_reader(path: Path) -> Callable[[str], bytes]:
    """rel -> the body HTML (UTF-8) of the article as this build loaded it, read from the cache at `path`."""
    connection = _connection(path)

    def read(rel: str) -> bytes:
        row = connection().execute("SELECT body FROM articles WHERE rel = ?", (rel,)).fetchone()
        if row is None:
            raise LookupError(f"{path}: no body for content/articles/{rel}; delete .cache/ and build again")
        return row[0]

    return read


class CacheWriter:
    """Stores what the processes of a full build make (parsed articles, feed entries) from whichever
    process made it, each over a connection of its own: otherwise it would travel to the main
    process first, through a pipe that process drains only between its own work (the bodies are
    265 MB at 50,000 articles; a worker sending feed entries waited a third of a second at 10,000).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._connections: dict[int, sqlite3.Connection] = {}
        # Writers take turns on this lock, not on SQLite's, whose busy handler sleeps up to 100 ms
        # at a time. Made before the workers fork, so they share it.
        forks = "fork" in multiprocessing.get_all_start_methods()
        self._turn = multiprocessing.get_context("fork").Lock() if forks else contextlib.nullcontext()

    def articles(self, rows: list[tuple[str, int, int, str, str, bytes, bytes]]) -> None:
        """Store (rel, mtime_ns, size, renderer, digest, `article_blob`, body in UTF-8) rows, committed."""
        self._store(_STORE_ARTICLE, rows)  # the body in UTF-8, as pages splice it in (`render.page_payload`)

    def entries(self, rows: list[tuple[str, str, str]]) -> None:
        """Store (fp, RSS item XML, Atom entry XML) rows, committed: other processes' feeds read them
        (`entries_reader`)."""
        self._store("INSERT OR REPLACE INTO entries VALUES (?, ?, ?)", rows)

    def _store(self, statement: str, rows: list[tuple]) -> None:
        db = self._connections.get(os.getpid())
        if db is None:  # SQLite waits (up to a minute) should another connection hold its write lock
            db = self._connections[os.getpid()] = sqlite3.connect(self.path, timeout=60)
            # Appended to the log and left there (`BuildCache.checkpoint_aside`), not synced at each commit:
            # the cache is derived, and a commit lost in a crash is a file parsed or an entry made again.
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA wal_autocheckpoint=0")
        with self._turn:
            db.executemany(statement, rows)
            db.commit()

    def close(self) -> None:
        """Close this process's connection (workers' end with them)."""
        db = self._connections.pop(os.getpid(), None)
        if db is not None:
            db.close()


def entries_reader(path: Path) -> Callable[[Iterable[str]], dict[str, tuple[str, str]]]:
    """fps -> {fp: (RSS item XML, Atom entry XML)} for those of them cached at `path` (in any process)."""
    connection = _connection(path)

    def read(fps: Iterable[str]) -> dict[str, tuple[str, str]]:
        out, fps = {}, list(fps)
        for i in range(0, len(fps), 500):
            chunk = fps[i:i + 500]
            marks = ",".join("?" * len(chunk))
            for fp, rss, atom in connection().execute(f"SELECT fp, rss, atom FROM entries WHERE fp IN ({marks})",
                                                      chunk):
                out[fp] = (rss, atom)
        return out

    return read
