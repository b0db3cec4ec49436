"""Versions of one article: wire markers, near-duplicate detection, and the `versions` history.

Agencies send a story many times (`UPDATE 2-`, `REFILE-`, `CORRECTED-`, a re-send by
another feed). Ingest asks `VersionIndex.find` whether a new wire file is a version of
an article it already wrote: by a `replaces:` header, by the same wire file, by a
version marker with the same headline, or by MinHash similarity of the body's word
shingles. The MinHash LSH bands live in SQLite (.cache/versions.sqlite, derived state
rebuilt from the articles' front matter), so a lookup costs the same on any archive.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
import sqlite3
import unicodedata
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from . import urls
from .config import VersionSettings
from .errors import NewsdigestError
from .frontmatter import BlockMapping, as_datetime, read_front_matter_file

if TYPE_CHECKING:  # wire is ingest's: a build reads only the `versions` history, not wire text
    from .wire import WireStory

log = logging.getLogger(__name__)

_SHINGLE = 3  # words per shingle: long enough to ignore shared phrasing, short enough for small edits
_SCHEME = "affine32"
_VERSION_WORDS = {"UPDATE": "UPDATE", "REFILE": "REFILE", "CORRECTED": "CORRECTED", "CORRECTION": "CORRECTED",
                  "RPT": "RPT", "REPEAT": "RPT", "WRAPUP": "WRAPUP", "WRAP": "WRAPUP"}
_KINDS = {"EXCLUSIVE", "FACTBOX", "ANALYSIS", "INSIGHT", "EXPLAINER", "BREAKINGVIEWS", "COLUMN", "INTERVIEW",
          "TIMELINE", "GRAPHIC", "FOCUS", "PREVIEW", "FEATURE", "SPECIAL REPORT", "SCENARIOS", "QUOTEBOX",
          "FACT CHECK", "POLL", "OPINION"}
# "UPDATE 2-", "UPDATE 2:", "REFILE-", "CORRECTED (OFFICIAL)-", "Exclusive: ", "WRAPUP 1 - "
_MARKER = re.compile(r"(?P<word>[A-Z][A-Za-z]+(?: [A-Z][A-Za-z]+)?)(?:\s?(?P<n>\d{1,2}))?(?:\s?\([A-Z ]+\))?"
                     r"\s?(?:-|:|\u2013|\u2014)\s*")
_CORRECTS = re.compile(r"\bcorrect(?:s|ed|ion)\b", re.I)
_BLOOMBERG = re.compile(r"\s\((?P<n>[1-9]\d?)\)$")  # "Fed holds rates steady (2)"
_NOTE = re.compile(r"\n\n\((?:(?:Adds|Updates|Corrects|Recasts|Repeats|Refiles|Changes|Fixes|Removes|Inserts|"
                   r"Rewrites|Restores|Deletes|Clarifies|Amends|Moves|Writes through|Advances|Tops)\b|"
                   r"This\b[^)\n]{0,60}\b(?:corrects|updates|refiles|repeats)\b)[^\n]*\)[ \t]*(?=\n)")


@dataclass(frozen=True)
class Marker:
    """What a wire file says about its version: slug-line markers, kinds, note, header keys."""

    label: str = ""  # "UPDATE 2", "CORRECTED", "REFILE-UPDATE 1"; "" for a first take
    kinds: tuple[str, ...] = ()  # "EXCLUSIVE", "ANALYSIS", ...: what the story is, not a version
    note: str = ""  # the agency's "(Corrects ... in paragraph 3)" line, without brackets
    replaces: str = ""  # header `replaces:` a slug, article path or wire file

    @property
    def is_version(self) -> bool:
        """True when the wire says it is a later version of a story."""
        return bool(self.label or self.replaces)

    @property
    def is_correction(self) -> bool:
        """True for a CORRECTED version (or a note saying it corrects something)."""
        return is_correction(self.label, self.note)


@dataclass(frozen=True)
class Version:
    """One entry of an article's `versions` history, as its front matter holds it."""

    received: dt.datetime
    headline: str
    marker: str = ""
    wire_file: str = ""
    note: str = ""

    @property
    def is_correction(self) -> bool:
        return is_correction(self.marker, self.note)


@dataclass(frozen=True)
class Match:
    """The article a wire file is a version of, and why."""

    article: str  # path relative to content/articles/
    reason: str
    similarity: float | None = None


def is_correction(marker: str, note: str = "") -> bool:
    """True when a marker or note says the version corrects an error."""
    return "CORRECTED" in marker.upper().split("-") or bool(_CORRECTS.search(note))


def parse_marker(headline: str) -> tuple[str, Marker]:
    """'UPDATE 2-EXCLUSIVE-Putin meets ...' -> ('Putin meets ...', Marker('UPDATE 2', ('EXCLUSIVE',)))."""
    labels: list[str] = []
    kinds: list[str] = []
    rest = headline.strip()
    while m := _MARKER.match(rest):
        word = m["word"].upper()
        if not (m["word"].isupper() or m["word"] == m["word"].title()):
            break
        if word in _VERSION_WORDS:
            labels.append(_VERSION_WORDS[word] + (f" {int(m['n'])}" if m["n"] else ""))
        elif word in _KINDS and not m["n"]:
            kinds.append(word)
        else:
            break
        rest = rest[m.end():]
    if not rest:  # a headline that is only markers keeps its text
        return headline.strip(), Marker()
    if b := _BLOOMBERG.search(rest):
        labels.append(f"UPDATE {b['n']}")
        rest = rest[:b.start()]
    return rest, Marker(label="-".join(labels), kinds=tuple(kinds))


def read_story(text: str, label: str = "<wire>") -> tuple[WireStory, Marker]:
    """Parse wire text with its version information taken out of the headline and body."""
    notes = []
    while len(notes) < 3 and (found := _NOTE.search(text[:4000])):  # "(Adds ...)" and "(Corrects ...)" may both lead
        notes.append(found.group(0).strip()[1:-1].strip())
        text = text[:found.start()] + text[found.end():]
    note = "; ".join(notes)
    from .wire import parse_wire
    story = parse_wire(text, label)
    headline, marker = parse_marker(story.headline)
    given = story.header.get("version")
    if given is not None and str(given).strip():
        marker = dataclasses.replace(marker, label=f"UPDATE {given}" if isinstance(given, int)
                                     else str(given).strip().upper())
    replaces = story.header.get("replaces")
    marker = dataclasses.replace(marker, note=note, replaces=str(replaces).strip() if replaces else "")
    return dataclasses.replace(story, headline=headline), marker


def shingles(text: str, size: int = _SHINGLE) -> set[bytes]:
    """The word shingles of a text: lower-cased words, punctuation and Markdown escapes ignored."""
    words = re.findall(r"\w+", unicodedata.normalize("NFKC", text).lower())
    return {" ".join(words[i:i + size]).encode() for i in range(max(1, len(words) - size + 1))} if words else set()


def make_minhash(text: str, num_perm: int):
    """The MinHash of a text's shingles (datasketch, imported only when ingest needs it)."""
    from datasketch import LeanMinHash, MinHash

    minhash = MinHash(num_perm=num_perm, seed=1, scheme=_SCHEME)
    minhash.update_batch(list(shingles(text)))
    return LeanMinHash(minhash)


def similarity(a: str, b: str, num_perm: int = 128) -> float:
    """The MinHash estimate of the Jaccard similarity of two texts' shingles."""
    return float(make_minhash(a, num_perm).jaccard(make_minhash(b, num_perm)))


def body_text(story: WireStory) -> str:
    """What near-duplicates are compared on: the body, without headline, byline or credits."""
    return "\n".join(b.text for b in story.blocks)


def read_versions(value, tz: dt.tzinfo) -> tuple[Version, ...]:
    """Front matter `versions:` -> Versions, oldest first; a ValueError names the bad entry."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ValueError(f"'versions': expected a list of {{received, headline, marker, wire_file}}, got {value!r}")
    out = []
    for n, item in enumerate(value, 1):
        if not isinstance(item, dict) or "received" not in item or not str(item.get("headline") or "").strip():
            raise ValueError(f"'versions': entry {n} needs 'received' and 'headline', got {item!r}")
        try:
            received = as_datetime(item["received"], tz)
        except ValueError as exc:
            raise ValueError(f"'versions': entry {n} 'received': {exc}") from exc
        out.append(Version(received=received, headline=" ".join(str(item["headline"]).split()),
                           marker=str(item.get("marker") or ""), wire_file=str(item.get("wire_file") or ""),
                           note=str(item.get("note") or "")))
    return tuple(sorted(out, key=lambda v: v.received))


def version_entry(received: dt.datetime, headline: str, marker: Marker, wire_file: str) -> dict:
    """One `versions:` entry for the front matter."""
    entry = BlockMapping(received=received, headline=headline, marker=marker.label, wire_file=wire_file)
    if marker.note:
        entry["note"] = marker.note
    return entry


def merge_versions(old: dict, new: dict, entry: dict) -> tuple[dict, bool]:
    """The front matter of an article with a new version; True when the version is now the latest.

    The article keeps its date, thread and URL; the latest version's text and headline win;
    `versions` lists every version oldest first and `updated` is the latest one's time.
    """
    old_wire = old.get("wire") if isinstance(old.get("wire"), dict) else {}
    history = [BlockMapping(v) for v in old.get("versions") or [] if isinstance(v, dict)] or [
        BlockMapping(received=old["date"], headline=old.get("title", ""), marker=str(old_wire.get("marker") or ""),
                     wire_file=str(old_wire.get("file") or ""))]
    history = [v for v in history if v.get("wire_file") != entry["wire_file"]] + [entry]
    history.sort(key=lambda v: (_when(v["received"]), _rank(str(v.get("marker") or "")), str(v["wire_file"])))
    latest = history[-1] is entry
    base = {k: v for k, v in (new if latest else old).items() if k not in ("versions", "updated", "wire")}
    wire = dict((new if latest else old).get("wire") or {})
    wire.pop("thread", None)
    if old_wire.get("thread"):  # the thread ingest assigned stays re-assignable by `threads --recompute`
        wire["thread"] = old_wire["thread"]
    front: dict = {}
    for key, value in base.items():
        front[key] = old[key] if key in ("date", "thread") and key in old else value
        if key == "date" and len(history) > 1:
            front["updated"] = max(_when(v["received"]) for v in history)
    if "kind" in old and "kind" not in front:  # an EXCLUSIVE stays one when its update drops the tag
        front["kind"] = old["kind"]
    if "thread" in old:
        front["thread"] = old["thread"]
    elif not front.get("thread"):
        front.pop("thread", None)
    if len(history) > 1:
        front["versions"] = history
    front["wire"] = wire
    return front, latest


def sidecar_path(article: Path, number: int) -> Path:
    """Where a version of a hand-edited article waits for the editor: beside it, ignored by the build."""
    return article.with_name(f"{article.stem}.v{number}.md.new")


def _when(value) -> dt.datetime:
    return as_datetime(value, dt.UTC)


def _rank(marker: str) -> float:
    """Order of versions received at the same time: first take, then updates by number, then fixes."""
    numbers = re.findall(r"\d+", marker)
    fix = any(w in marker.upper() for w in ("CORRECTED", "REFILE", "RPT"))
    return (int(numbers[-1]) if numbers else 0) + (0.5 if fix else 0)


_SCHEMA_VERSION = 3
_SCHEMA = """
CREATE TABLE IF NOT EXISTS member (wire_file TEXT PRIMARY KEY, article TEXT NOT NULL, time REAL NOT NULL,
                                   kind TEXT NOT NULL, headline TEXT NOT NULL, sig BLOB, pending INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS member_article ON member (article);
CREATE INDEX IF NOT EXISTS member_pending ON member (pending, time);
CREATE INDEX IF NOT EXISTS member_headline ON member (headline, time);
CREATE TABLE IF NOT EXISTS band (band INTEGER NOT NULL, key BLOB NOT NULL, time REAL NOT NULL,
                                 wire_file TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS band_key ON band (band, key, time);
CREATE INDEX IF NOT EXISTS band_wire ON band (wire_file);
"""


@dataclass(frozen=True)
class VersionDoc:
    """A wire file as the version index sees it."""

    wire_file: str
    when: dt.datetime
    headline: str
    kind: str
    text: str
    replaces: str = ""
    is_version: bool = False
    slug: str = ""  # the slug the wire header names, if any: the document's own identity


class VersionIndex:
    """Wire files and the articles they became, with MinHash LSH bands of their bodies, in SQLite."""

    def __init__(self, db_path: Path, settings: VersionSettings, articles_dir: Path, tz: dt.tzinfo) -> None:
        from datasketch import MinHashLSH

        self.settings = settings
        self._articles_dir = articles_dir
        # LSH bands tuned 0.2 below the threshold find ~99% of pairs at it; the MinHash estimate decides.
        lsh = MinHashLSH(threshold=max(0.05, settings.threshold - 0.2), num_perm=settings.num_perm)
        self._ranges = lsh.hashranges
        self._cache: dict[str, object] = {}
        db_path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(db_path)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        params = f"{_SCHEMA_VERSION}:{settings.num_perm}:{lsh.b}x{lsh.r}:{_SHINGLE}:{_SCHEME}"
        row = self.db.execute("SELECT value FROM meta WHERE key = 'params'").fetchone()
        if row is None or row[0] != params:  # new, or made with other settings: rebuilt from the articles
            self.db.executescript("DROP TABLE IF EXISTS member; DROP TABLE IF EXISTS band;" + _SCHEMA)
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('params', ?)", (params,))
            self._rebuild(articles_dir, tz)

    def __enter__(self) -> VersionIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Commit and close the database."""
        self.db.commit()
        self.db.close()

    def describe(self, wire_file: str, when: dt.datetime, story: WireStory, marker: Marker) -> VersionDoc:
        """The index's view of a parsed wire story."""
        return VersionDoc(wire_file=wire_file, when=when, headline=urls.slugify(story.headline, max_length=200),
                          kind="-".join(marker.kinds), text=body_text(story), replaces=marker.replaces,
                          is_version=marker.is_version,
                          slug=urls.slugify(str(story.header["slug"]), max_length=120, fallback="")
                          if story.header.get("slug") is not None else "")

    def find(self, doc: VersionDoc) -> Match | None:
        """The article `doc` is a version of, or None when it is a new article."""
        if doc.replaces:
            article = self._resolve(doc.replaces)
            if article:
                return Match(article, f"replaces {doc.replaces}")
            log.warning("%s: 'replaces: %s' names no known article or wire file; ingested as a new article",
                        doc.wire_file, doc.replaces)
        own = self.db.execute("SELECT article FROM member WHERE wire_file = ?", (doc.wire_file,)).fetchone()
        if own:  # the wire file changed: a version only if its article has others, else ingest rewrites it
            others = self.db.execute("SELECT 1 FROM member WHERE article = ? AND wire_file != ?",
                                     (own[0], doc.wire_file)).fetchone()
            return Match(own[0], "same wire file") if others else None
        window = dt.timedelta(days=self.settings.window_days)
        if doc.is_version:
            day = min(window, dt.timedelta(days=1)).total_seconds()
            row = self.db.execute(
                "SELECT article FROM member WHERE headline = ? AND kind = ? AND time BETWEEN ? AND ? "
                "ORDER BY time DESC LIMIT 1", (doc.headline, doc.kind, doc.when.timestamp() - day,
                                               doc.when.timestamp() + day)).fetchone()
            if row:
                return Match(row[0], "same headline")
        best = self._nearest(doc, window)
        return best

    def add(self, doc: VersionDoc, article: str) -> None:
        """Record that `doc` is (a version of) the article at `article`."""
        self._insert(doc.wire_file, article, doc.when, doc.kind, doc.headline, doc.text)
        self.db.commit()

    def _nearest(self, doc: VersionDoc, window: dt.timedelta) -> Match | None:
        lo, hi = (doc.when - window).timestamp(), (doc.when + window).timestamp()
        self._hydrate(lo, hi)
        minhash = self._minhash(doc.text)
        seen: set[str] = set()
        best: tuple[float, float, str] | None = None
        for band, key in enumerate(self._bands(minhash)):
            rows = self.db.execute(
                "SELECT m.wire_file, m.article, m.time, m.sig FROM band b JOIN member m USING (wire_file) "
                "WHERE b.band = ? AND b.key = ? AND b.time BETWEEN ? AND ? AND (m.kind = ? OR m.kind = '' OR ? = '')",
                (band, key, lo, hi, doc.kind, doc.kind)).fetchall()
            for wire_file, article, when, sig in rows:
                if wire_file in seen or sig is None or wire_file == doc.wire_file:
                    continue
                if doc.slug and PurePosixPath(article).stem != doc.slug:
                    continue  # the header names another document: only `replaces:` makes it a version
                seen.add(wire_file)
                score = float(minhash.jaccard(self._restore(sig)))
                if score >= self.settings.threshold and (best is None or (score, when) > best[:2]):
                    best = (score, when, article)
        if best is None:
            return None
        log.debug("%s: near-duplicate of %s (similarity %.2f)", doc.wire_file, best[2], best[0])
        return Match(best[2], f"near-duplicate ({best[0]:.2f})", best[0])

    def _resolve(self, name: str) -> str | None:
        """An article path from a wire file label, an article path or key, or a slug."""
        name = name.strip().lstrip("/")
        for wire in (name, f"content/wire/{name}"):
            row = self.db.execute("SELECT article FROM member WHERE wire_file = ?", (wire,)).fetchone()
            if row:
                return row[0]
        rel = name.removeprefix("content/articles/")
        rel = rel if rel.endswith(".md") else rel.rstrip("/") + ".md"
        row = self.db.execute("SELECT article FROM member WHERE article = ? OR article LIKE ? "
                              "ORDER BY time DESC LIMIT 1", (rel, "%/" + rel.rsplit("/", 1)[-1])).fetchone()
        if row:
            return row[0]
        path = self._articles_dir / rel  # an article written by hand, not from the wire
        return rel if ".." not in Path(rel).parts and path.is_file() else None

    def _hydrate(self, lo: float, hi: float) -> None:
        """Sign the rebuilt articles of this time window from their text (a rebuild only reads front matter)."""
        rows = self.db.execute("SELECT wire_file, article, time, kind, headline FROM member "
                               "WHERE pending = 1 AND time BETWEEN ? AND ?", (lo, hi)).fetchall()
        for wire_file, article, when, kind, headline in rows:
            try:
                _, body, _ = read_front_matter_file(self._articles_dir / article)
            except NewsdigestError:
                body = None
            self._insert(wire_file, article, dt.datetime.fromtimestamp(when, dt.UTC), kind, headline, body)

    def _insert(self, wire_file: str, article: str, when: dt.datetime, kind: str, headline: str,
                text: str | None, *, pending: bool = False) -> None:
        self.db.execute("DELETE FROM band WHERE wire_file = ?", (wire_file,))
        sig = None
        if text is not None:
            minhash = self._minhash(text)
            sig = minhash.hashvalues.tobytes()
            self.db.executemany("INSERT INTO band VALUES (?, ?, ?, ?)", [(n, key, when.timestamp(), wire_file)
                                                                    for n, key in enumerate(self._bands(minhash))])
        self.db.execute("INSERT OR REPLACE INTO member VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (wire_file, article, when.timestamp(), kind, headline, sig, int(pending)))

    def _bands(self, minhash) -> list[bytes]:
        return [minhash.hashvalues[start:end].tobytes() for start, end in self._ranges]

    def _minhash(self, text: str):
        if text not in self._cache:
            self._cache = {text: make_minhash(text, self.settings.num_perm)}  # the last text only
        return self._cache[text]

    def _restore(self, sig: bytes):
        import numpy as np
        from datasketch import LeanMinHash

        return LeanMinHash(seed=1, hashvalues=np.frombuffer(sig, dtype=np.uint32), scheme=_SCHEME)

    def _rebuild(self, articles_dir: Path, tz: dt.tzinfo) -> None:
        """Fill the index from every article's front matter; texts are signed when their window is searched."""
        for path in sorted(articles_dir.rglob("*.md")) if articles_dir.is_dir() else []:
            rel = path.relative_to(articles_dir).as_posix()
            try:
                data, _, _ = read_front_matter_file(path, f"content/articles/{rel}")
                history = read_versions(data.get("versions"), tz)
                date = as_datetime(data["date"], tz)
            except (NewsdigestError, KeyError, ValueError):
                continue  # the build reports bad articles
            wire = data.get("wire") if isinstance(data.get("wire"), dict) else {}
            kind = str(data.get("kind") or "").upper()
            headline = urls.slugify(str(data.get("title") or ""), max_length=200)
            latest = str(wire.get("file") or "")
            for version in history:
                if version.wire_file and version.wire_file != latest:
                    self._insert(version.wire_file, rel, version.received, kind,
                                 urls.slugify(version.headline, max_length=200), None)
            if latest:
                when = history[-1].received if history else date
                self._insert(latest, rel, when, kind, headline, None, pending=True)
        self.db.commit()
