"""The ingest stage: wire files -> content/articles/YYYY/MM/DD/<slug>.md, in date order.

Parse every new wire file, extract entities for the batch at once (spaCy is
loaded only when there is something to ingest), assign story threads day by day,
and write one Markdown file per article. Wire files are never modified; a file
an editor changed since ingest wrote it is never overwritten without `force`.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import logging
import os
import re
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from . import urls
from .config import Config
from .errors import ContentError, NewsdigestError, WireError
from .frontmatter import (
    as_datetime,
    as_names,
    dump_front_matter,
    key_line,
    read_front_matter_file,
    shown,
    split_front_matter,
)
from .threads import ThreadDoc, ThreadIndex
from .versions import Marker, Match, VersionIndex, merge_versions, read_story, sidecar_path, version_entry
from .wire import WireStory, decode_wire, markdown_body

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
_MAX_WIRE_BYTES = 20_000_000
_SUMMARY_MAX = 300
# Header keys that are ours to interpret; any other header key is carried into front matter.
_HEADER_KEYS = {"title", "date", "slug", "byline", "dateline", "source", "credits", "summary",
                "thread", "entities", "draft", "version", "replaces"}


@dataclass
class IngestReport:
    """What one ingest run did, for the CLI to print."""

    written: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    kept_edits: list[str] = field(default_factory=list)
    versions: list[str] = field(default_factory=list)  # articles that received a new version
    errors: list[NewsdigestError] = field(default_factory=list)


@dataclass
class _Pending:
    wire_label: str
    sha256: str
    story: WireStory
    date: dt.datetime
    slug: str
    marker: Marker = field(default_factory=Marker)


def list_wire_files(site_dir: Path, paths: Sequence[Path] = ()) -> list[Path]:
    """The wire files to consider: the given paths (files or folders) or all of content/wire/."""
    roots = list(paths) or [site_dir / "content" / "wire"]
    files = []
    for root in roots:
        if root.is_dir():
            files.extend(p for p in sorted(root.rglob("*")) if p.is_file() or p.is_symlink())
        elif root.exists() or root.is_symlink():
            files.append(root)
        else:
            raise WireError("no such file or folder", str(root))
    return [p for p in files if not any(part.startswith(".") for part in p.parts[-1:])]


def ingest(site_dir: Path, config: Config, paths: Sequence[Path] = (), *,
           date: dt.date | None = None, force: bool = False, nlp_loader=None,
           progress: Progress | None = None) -> IngestReport:
    """Ingest new or changed wire files into content/articles/; returns what happened."""
    report = IngestReport()
    articles_dir = site_dir / "content" / "articles"
    cache_dir = site_dir / ".cache"
    lock = _lock_ingest(cache_dir)  # released when closed, in the finally below (or if this process dies)
    state = _IngestState(cache_dir / "ingest.sqlite", articles_dir)
    try:
        pending = _read_new_wire(site_dir, config, paths, date, state, report, progress)
        if not pending:
            return report
        pending.sort(key=lambda p: (p.date, p.wire_label))
        entities = _extract(pending, config, nlp_loader)
        with (ThreadIndex(cache_dir / "threads.sqlite", config.threads) as index,
              VersionIndex(cache_dir / "versions.sqlite", config.versions, articles_dir, config.tz) as versions):
            if index.is_empty():
                index.rebuild(read_thread_docs(articles_dir, config))
            for n, (item, ents) in enumerate(zip(pending, entities, strict=True), 1):
                doc = versions.describe(item.wire_label, item.date, item.story, item.marker)
                match = versions.find(doc)
                try:
                    if match and (articles_dir / match.article).exists():
                        if _write_version(item, ents, match, articles_dir, state, force, report):
                            index.refresh(_thread_doc(item, ents, match.article))
                        versions.add(doc, match.article)
                    else:
                        versions.add(doc, _write_article(item, ents, index, articles_dir, state, force, report))
                except NewsdigestError as exc:  # disk full, say: this file is not ingested, the next may be
                    report.errors.append(exc)
                if progress:
                    progress("threads", n, len(pending))
    finally:
        state.close()
        lock.close()
    return report


def _lock_ingest(cache_dir: Path):
    """Hold .cache/ingest.lock: a second ingest of the same site refuses instead of racing on the indexes."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    lock = open(cache_dir / "ingest.lock", "w")  # noqa: SIM115 - held for the whole ingest
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        lock.close()
        raise WireError("another ingest is running on this site right now", str(cache_dir.parent),
                        hint="wait for it to finish, then ingest again") from exc
    return lock


def _read_new_wire(site_dir, config, paths, date, state, report, progress) -> list[_Pending]:
    pending: list[_Pending] = []
    files = list_wire_files(site_dir, paths)
    content_root = (site_dir / "content").resolve()
    for n, path in enumerate(files, 1):
        if progress:
            progress("read", n, len(files))
        label = _label(path, site_dir)
        try:
            if path.is_symlink() and not path.resolve().is_relative_to(content_root):
                raise WireError("symlink pointing outside content/ is not followed", label,
                                hint="copy the file into content/wire/ instead")
            if path.stat().st_size > _MAX_WIRE_BYTES:
                raise WireError(f"file is {path.stat().st_size // 1_000_000} MB, larger than "
                                f"{_MAX_WIRE_BYTES // 1_000_000} MB: not wire copy", label)
            data = path.read_bytes()
            sha = hashlib.sha256(data).hexdigest()
            if state.known(sha):
                report.unchanged += 1
                continue
            text = decode_wire(data, label)
            story, marker = read_story(text, label)
            _check_header(story.header, text, label)
            try:
                when, slug = _story_date(story, config, date, label), _story_slug(story, label)
            except WireError as exc:  # point at the header line of the key ('date', 'slug')
                if exc.message.startswith("'"):
                    exc.line = key_line(text, exc.message.split("'")[1]) or exc.line
                raise
            if not story.blocks:
                log.warning("%s: a headline and no body text; published as it is (add the story's text "
                            "to the wire file, or edit the article)", label)
            pending.append(_Pending(label, sha, story, when, slug, marker))
        except NewsdigestError as exc:
            report.errors.append(exc)
        except OSError as exc:
            report.errors.append(WireError(f"cannot read: {exc.strerror}", label))
    return pending


def _label(path: Path, site_dir: Path) -> str:
    try:
        return path.absolute().relative_to(site_dir.absolute()).as_posix()
    except ValueError:
        return str(path)


def _story_date(story: WireStory, config: Config, date: dt.date | None, label: str) -> dt.datetime:
    value = story.header.get("date") or story.printed_date or date
    if value is None:
        raise WireError("no date: the wire file has no 'date:' header and no printed date", label,
                        hint="add a header '---\\ndate: 2024-01-16\\n---' or pass --date YYYY-MM-DD")
    try:
        return as_datetime(value, config.tz)
    except ValueError as exc:
        raise WireError(f"'date': {exc}", label, 2) from exc


def _story_slug(story: WireStory, label: str) -> str:
    given = story.header.get("slug")
    if given is not None:
        slug = urls.slugify(str(given), max_length=120, fallback="")
        if not slug:
            raise WireError(f"'slug': {given!r} gives an empty slug", label, 2)
        return slug
    return urls.slugify(story.headline, fallback="article")


def _extract(pending: list[_Pending], config: Config, nlp_loader) -> Iterator[dict]:
    """Entities for each pending story, in order; a header's `entities:` replaces extraction.

    An iterator: with worker processes, the caller threads and writes the first stories
    while the workers are still parsing the later ones.
    """
    todo = [p.story for p in pending if not isinstance(p.story.header.get("entities"), dict)]
    found = iter(())
    if todo:
        from .entities import extract_entities, load_pipeline
        nlp = (nlp_loader or load_pipeline)(config.entities.model)
        processes = config.entities.processes or min(2, os.cpu_count() or 1)
        if len(todo) < 40:
            processes = 1  # starting workers costs more than it saves on a small batch
        found = extract_entities(todo, nlp, batch_size=config.entities.batch_size, processes=processes)
    for p in pending:
        header_ents = p.story.header.get("entities")
        yield header_ents if isinstance(header_ents, dict) else next(found)


def _summary(story: WireStory) -> str:
    lede = story.header.get("summary") or story.lede
    lede = " ".join(str(lede).split())
    if len(lede) <= _SUMMARY_MAX:
        return lede
    cut = lede[:_SUMMARY_MAX]
    sentence_end = max(cut.rfind(". "), cut.rfind(".\u201d "))
    return cut[:sentence_end + 1] if sentence_end > 80 else cut.rsplit(" ", 1)[0] + "\u2026"


def _write_article(item: _Pending, entities: dict, index: ThreadIndex, articles_dir: Path,
                   state: _IngestState, force: bool, report: IngestReport) -> str:
    story = item.story
    rel = _free_path(item, articles_dir, state)
    doc = _thread_doc(item, entities, rel)
    thread = index.assign(doc)
    front = _front(item, entities, thread)
    if not doc.thread:  # assigned by ingest, not pinned by the editor: `threads --recompute` may move it
        front["wire"]["thread"] = thread
    text = dump_front_matter(front, markdown_body(story))
    target = articles_dir / rel
    existed = target.exists()
    if existed and not force and state.edited_since_ingest(rel, target):
        report.kept_edits.append(f"content/articles/{rel}")
        log.warning("content/articles/%s: edited by hand since ingest; the new wire text of %s "
                    "was not written (use --force to replace it)", rel, item.wire_label)
        return rel
    _atomic_write(target, text)
    state.record(item.sha256, item.wire_label, rel, text)
    (report.updated if existed else report.written).append(f"content/articles/{rel}")
    return rel


def _thread_doc(item: _Pending, entities: dict, rel: str) -> ThreadDoc:
    """What the thread index records of a story written to content/articles/<rel>."""
    story, pinned = item.story, item.story.header.get("thread")
    return ThreadDoc(slug=rel[:-3], date=item.date, title=story.headline, lede=story.lede,
                     text="\n".join(story.paragraphs), entities=entities,
                     thread=urls.slugify(str(pinned)) if pinned else None)


def _front(item: _Pending, entities: dict, thread: str | None) -> dict:
    """The front matter ingest writes for a wire story."""
    story = item.story
    front = {
        "title": story.headline,
        "date": item.date,
        "byline": list(story.header.get("byline") or story.byline),
        "dateline": story.header.get("dateline") or _dateline_case(story.dateline),
        "source": story.header.get("source") or story.agency or "",
        "credits": story.header.get("credits") or {k: list(v) for k, v in story.credits.items()},
        "summary": _summary(story),
        "thread": thread,
        "entities": {k: list(entities.get(k, [])) for k in ("person", "organization", "place")},
    }
    front = {k: v for k, v in front.items() if v not in (None, "", [], {})} | {"thread": thread}
    for key, value in story.header.items():
        if key not in _HEADER_KEYS and key not in front:
            front[key] = value
    if item.marker.kinds and "kind" not in front:
        front["kind"] = "-".join(item.marker.kinds).lower()
    front["wire"] = {"file": item.wire_label, "sha256": item.sha256}
    if item.marker.label:
        front["wire"]["marker"] = item.marker.label
    return front


def _write_version(item: _Pending, entities: dict, match: Match, articles_dir: Path,
                   state: _IngestState, force: bool, report: IngestReport) -> bool:
    """Make `item` a version of the article it matched: latest text, same path, URL and thread.

    True when the article now holds this version's text (it is the latest one), so the
    thread index should compare later stories with it.
    """
    rel, target = match.article, articles_dir / match.article
    label = f"content/articles/{rel}"
    try:
        old, old_body, _ = read_front_matter_file(target, label)
        entry = version_entry(item.date, item.story.headline, item.marker, item.wire_label)
        front, latest = merge_versions(old, _front(item, entities, old.get("thread")), entry)
        text = dump_front_matter(front, markdown_body(item.story) if latest else old_body)
    except (NewsdigestError, KeyError) as exc:
        report.errors.append(ContentError(f"cannot add {item.wire_label} as a new version: {exc}", label))
        return False
    if not force and state.edited_since_ingest(rel, target):
        number = next((n for n, v in enumerate(front.get("versions", ()), 1) if v["wire_file"] == item.wire_label), 2)
        beside = sidecar_path(target, number)
        _atomic_write(beside, text)
        report.kept_edits.append(label)
        log.warning("%s: edited by hand since ingest; %s is a new version of it (%s), written beside it as "
                    "%s for you to merge (or ingest with --force to replace the article)", label,
                    item.wire_label, match.reason, _label(beside, articles_dir.parent.parent))
        return False
    log.info("%s: %s is a new version of it (%s)", label, item.wire_label, match.reason)
    if target.read_text(encoding="utf-8") != text:
        _atomic_write(target, text)
        report.updated.append(label)
        report.versions.append(label)
    state.record(item.sha256, item.wire_label, rel, text)
    return latest


def _free_path(item: _Pending, articles_dir: Path, state: _IngestState) -> str:
    """The article path for this wire file: its own earlier article, or a free slug."""
    base = urls.article_source(item.date, item.slug)
    rel, n = base, 2
    while (articles_dir / rel).exists():
        if state.wire_of(rel, articles_dir) == item.wire_label:
            return rel
        rel, n = f"{base[:-3]}-{n}.md", n + 1
    return rel


def _dateline_case(dateline: str | None) -> str:
    """'MOSCOW' -> 'Moscow', 'LA CORUNA, Spain' -> 'La Coruna, Spain' (as shown on pages)."""
    if not dateline:
        return ""
    return re.sub(r"[A-Z][A-Z'\u2019.\-]+", lambda m: m.group(0).capitalize()
                  if len(m.group(0)) > 2 or m.group(0) in ("LA",) else m.group(0), dateline)


def _check_header(header: dict, text: str, label: str) -> None:
    """The wire header's keys have the shapes front matter needs; errors name the key's line."""
    def fail(key: str, message: str) -> WireError:
        return WireError(f"'{key}': {message}", label, key_line(text, key))

    for key in ("title", "slug", "thread", "summary", "dateline", "source"):
        if header.get(key) is not None and not isinstance(header[key], str | int | float):
            raise fail(key, f"expected text, got {shown(header[key])}")
    entities = header.get("entities")
    if entities is not None and not isinstance(entities, dict):
        raise fail("entities", f"expected a mapping of type to names such as "
                               f"'{{person: [Vladimir Putin], place: [Moscow]}}', got {shown(entities)}")
    try:
        for kind, names in (entities or {}).items():
            if kind not in ("person", "organization", "place"):
                raise ValueError(f"'entities': unknown type {shown(kind)}; use person, organization, place")
            as_names(names, f"entities.{kind}")
        as_names(header.get("byline"), "byline")
    except ValueError as exc:
        key = "byline" if "'byline'" in str(exc) else "entities"
        raise WireError(str(exc), label, key_line(text, key)) from exc
    if header.get("credits") is not None and not isinstance(header["credits"], dict):
        raise fail("credits", f"expected a mapping of role to names, got {shown(header['credits'])}")


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:  # disk full, read-only: nothing half-written is left behind
        tmp.unlink(missing_ok=True)
        where = path.as_posix()
        raise ContentError(f"cannot write: {exc.strerror}", where[where.find("content/articles/"):]
                           if "content/articles/" in where else where, hint="free some space and ingest again") from exc


def assigned_thread(front: dict) -> str | None:
    """The thread ingest assigned (None when the editor pinned one in the wire header)."""
    wire = front.get("wire")
    return str(wire["thread"]) if isinstance(wire, dict) and wire.get("thread") else None


def read_thread_docs(articles_dir: Path, config: Config, *, pinned_only: bool = False) -> list[ThreadDoc]:
    """Thread index input from every article's front matter.

    With `pinned_only`, a doc carries its thread only when the editor chose it (a
    thread differing from what ingest assigned), which is what re-threading keeps.
    """
    docs = []
    for path in sorted(articles_dir.rglob("*.md")) if articles_dir.is_dir() else []:
        rel = path.relative_to(articles_dir).as_posix()
        try:
            data, body, _ = read_front_matter_file(path, f"content/articles/{rel}")
            date = as_datetime(data["date"], config.tz)
        except (NewsdigestError, KeyError, ValueError):
            continue  # the build reports bad articles; the index just leaves them out
        paras = [p for p in body.split("\n\n") if p.strip() and not p.startswith("#")]
        ents = data.get("entities") if isinstance(data.get("entities"), dict) else {}
        thread = str(data["thread"]) if data.get("thread") else None
        if pinned_only and thread and thread == assigned_thread(data):
            thread = None
        docs.append(ThreadDoc(slug=rel[:-3], date=date, title=str(data.get("title", "")),
                              lede=paras[0] if paras else "", text="\n".join(paras),
                              entities={k: [str(n) for n in v or []] for k, v in ents.items()},
                              thread=thread))
    docs.sort(key=lambda d: (d.date, d.slug))
    return docs


class _IngestState:
    """Which wire files were ingested and what ingest wrote: derived, rebuilt when missing."""

    def __init__(self, db_path: Path, articles_dir: Path) -> None:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        fresh = not db_path.exists()
        self.db = sqlite3.connect(db_path)
        # A commit per article: in WAL mode without a sync each, as the thread and version indexes.
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(
            "CREATE TABLE IF NOT EXISTS wire (sha256 TEXT PRIMARY KEY, file TEXT, article TEXT);"
            "CREATE TABLE IF NOT EXISTS written (article TEXT PRIMARY KEY, sha256 TEXT, file TEXT);")
        if fresh:
            self._rebuild(articles_dir)

    def _rebuild(self, articles_dir: Path) -> None:
        for path in sorted(articles_dir.rglob("*.md")) if articles_dir.is_dir() else []:
            try:
                data, _, _ = split_front_matter(path.read_text(encoding="utf-8"), str(path))
            except (ContentError, OSError, UnicodeDecodeError):
                continue
            wire = data.get("wire")
            if isinstance(wire, dict) and wire.get("sha256"):
                rel = path.relative_to(articles_dir).as_posix()
                self.db.execute("INSERT OR REPLACE INTO wire VALUES (?, ?, ?)",
                                (str(wire["sha256"]), str(wire.get("file", "")), rel))
        self.db.commit()

    def known(self, sha256: str) -> bool:
        return self.db.execute("SELECT 1 FROM wire WHERE sha256 = ?", (sha256,)).fetchone() is not None

    def wire_of(self, rel: str, articles_dir: Path) -> str | None:
        """Which wire file produced the article at `rel` (from the state, else its front matter)."""
        row = self.db.execute("SELECT file FROM written WHERE article = ?", (rel,)).fetchone()
        if row:
            return row[0]
        try:
            data, _, _ = read_front_matter_file(articles_dir / rel)
        except NewsdigestError:
            return None
        wire = data.get("wire")
        return str(wire.get("file")) if isinstance(wire, dict) else None

    def edited_since_ingest(self, rel: str, path: Path) -> bool:
        """True unless the file is byte for byte what ingest last wrote there."""
        row = self.db.execute("SELECT sha256 FROM written WHERE article = ?", (rel,)).fetchone()
        current = hashlib.sha256(path.read_bytes()).hexdigest()
        return row is None or row[0] != current

    def record(self, wire_sha: str, wire_file: str, rel: str, text: str) -> None:
        written = hashlib.sha256(text.encode("utf-8")).hexdigest()
        self.db.execute("INSERT OR REPLACE INTO wire VALUES (?, ?, ?)", (wire_sha, wire_file, rel))
        self.db.execute("INSERT OR REPLACE INTO written VALUES (?, ?, ?)", (rel, written, wire_file))
        self.db.commit()

    def close(self) -> None:
        self.db.close()
