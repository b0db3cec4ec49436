"""content/ -> a `Site`: articles read and validated, gathered into threads and entities.

Reading is forgiving per file (a bad article is reported and skipped) and strict
about shapes (each front matter key is checked, errors name file and line).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import math
import os
import pickle
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence, Set
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache, partial
from itertools import chain, combinations, repeat
from pathlib import Path
from typing import TYPE_CHECKING

from . import urls
from .cache import BuildCache, CacheWriter, article_blob, body_reader, fingerprint, tree_stamps
from .config import Config
from .entity_types import TYPES
from .errors import ContentError, NewsdigestError
from .frontmatter import (
    as_datetime,
    as_names,
    clean_text,
    front_matter_of,
    key_line,
    read_file,
    read_front_matter_file,
    shown,
)
from .markup import Markdown, markdown_renderer_name
from .versions import Version, read_versions

if TYPE_CHECKING:  # the registry and the worker pool are imported where used: quick rebuilds need neither
    from .entity_registry import RegistryEntry
    from .parallel import Aside

log = logging.getLogger(__name__)

TYPE_LABELS = {"person": "People", "organization": "Organizations", "place": "Places"}


class _BodySource:
    """Where bodies of articles loaded without them are read from: the build cache of the running build."""

    def __init__(self) -> None:
        self.read: Callable[[str], bytes] = self._none  # rel -> the body HTML in UTF-8

    @staticmethod
    def _none(rel: str) -> bytes:
        raise LookupError(f"content/articles/{rel}: the body was not loaded")


_bodies = _BodySource()


@dataclass(frozen=True)
class Article:
    """One published article, as its front matter and body say."""

    slug: str
    source: str  # path relative to content/articles/
    title: str
    date: dt.datetime
    body: str | None  # its HTML, or None while the build cache holds it (see `load_articles`)
    summary: str = ""
    byline: tuple[str, ...] = ()
    dateline: str = ""
    source_name: str = ""
    credits: dict[str, tuple[str, ...]] = field(default_factory=dict)
    thread: str | None = None
    entities: dict[str, tuple[str, ...]] = field(default_factory=dict)
    updated: dt.datetime | None = None
    versions: tuple[Version, ...] = ()  # oldest first, the current text last; empty for one version
    draft: bool = False
    # What the article is made from (its file, and the settings it is read with), hashed: the build
    # re-renders a page only when the fingerprints of what it shows change. Set by the loader (an
    # article made otherwise is hashed as it is, `article_fingerprint`); not part of equality.
    fingerprint: str = field(default="", compare=False, repr=False)

    @cached_property  # pages link articles many times each, and formatting the date each time added up
    def route(self) -> str:
        return urls.article_route(self.date, self.slug)

    @property
    def body_html(self) -> str:
        """The body's HTML; an article loaded without its body reads it from the build cache."""
        return self.body if self.body is not None else _bodies.read(self.source).decode("utf-8")

    @property
    def body_utf8(self) -> bytes:
        """The body's HTML in UTF-8, as the build cache keeps it (see `render.page_payload`)."""
        return self.body.encode("utf-8") if self.body is not None else _bodies.read(self.source)

    @cached_property  # asked for ~180,000 times at 10,000 articles (pages compare and link articles by it)
    def key(self) -> str:
        """A unique, stable id: the source path without '.md'."""
        return self.source[:-3]

    @property
    def thread_id(self) -> str:
        """Its thread, or a story of its own for an article that names none."""
        return self.thread or "article-" + urls.slugify(self.key, max_length=200)

    @property
    def last_active(self) -> dt.datetime:
        """When the article last had news: its date, or its latest version's time."""
        return max(self.date, self.updated) if self.updated else self.date

    @property
    def corrections(self) -> tuple[Version, ...]:
        """The versions that corrected an error, for the page's correction note."""
        return tuple(v for v in self.versions if v.is_correction)


@dataclass(frozen=True)
class Thread:
    """A story: its articles oldest to newest."""

    id: str
    title: str
    summary: str
    articles: tuple[Article, ...]
    entities: tuple[tuple[str, str], ...]  # key entities (type, name), most present first

    @cached_property  # linked from every article page of the story and many others
    def route(self) -> str:
        return urls.thread_route(self.id)

    @property
    def latest(self) -> Article:
        return self.articles[-1]

    @property
    def first(self) -> Article:
        return self.articles[0]

    @property
    def last_active(self) -> dt.datetime:
        """The latest news in the story: a new article or a new version of one."""
        return max(a.last_active for a in self.articles)


@dataclass(frozen=True)
class Entity:
    """A person, organisation or place with everything that mentions it."""

    type: str
    name: str
    slug: str
    articles: tuple[Article, ...]  # newest first
    threads: tuple[str, ...]  # thread ids, latest activity first
    related: tuple[tuple[str, str], ...] = ()  # (type, name), strongest first
    description_html: str = ""
    aliases: tuple[str, ...] = ()

    @property
    def key(self) -> tuple[str, str]:
        return (self.type, self.name)

    @property
    def route(self) -> str:
        return urls.entity_route(self.type, self.slug)

    @cached_property  # pages link entities 200,000 times at 10,000 articles
    def ref(self) -> EntityRef:
        return EntityRef(self.type, self.name, self.slug)


@dataclass(frozen=True)
class EntityRef:
    """What a page that links an entity shows of it: name, type and address, not its articles.

    Pages get these instead of `Entity` wherever they only link it, so a new article about
    the entity re-renders its own page and not every page that links it.
    """

    type: str
    name: str
    slug: str

    @cached_property  # each is shared by the pages that link its entity: ~9 links an article page
    def route(self) -> str:
        return urls.entity_route(self.type, self.slug)


@dataclass(frozen=True)
class Redirect:
    """An old route that now points to another (renamed entity, merged thread)."""

    route: str
    target: str


@dataclass(frozen=True)
class Site:
    """Everything the renderer needs, gathered before anything is written."""

    articles: tuple[Article, ...]  # newest first
    threads: dict[str, Thread]
    entities: dict[tuple[str, str], Entity]
    redirects: tuple[Redirect, ...] = ()

    def threads_by_latest(self) -> list[Thread]:
        return sorted(self.threads.values(), key=lambda t: (t.last_active, t.id), reverse=True)


def load_articles(articles_dir: Path, config: Config, *, include_drafts: bool = False,
                  now: dt.datetime | None = None, cache: BuildCache | None = None,
                  meanwhile: Callable[[], None] | None = None,
                  listed: tuple[Sequence[tuple[str, int, int]], Set[str]] | None = None,
                  ) -> tuple[list[Article], list[NewsdigestError]]:
    """Read every content/articles/**/*.md; bad files become errors, the rest articles.

    With a `cache`, files whose path, mtime and size are unchanged are not parsed again;
    the others are parsed on every core; and the articles come without their bodies,
    which stay in the cache until a page shows one (`Article.body_html`). `meanwhile()` is
    other work of this process, done while the other cores start parsing. `listed`: the stamps
    of every file under `articles_dir` and which are symlinks, if the caller has them already.
    """
    files, links = _list_articles(articles_dir, listed)
    parsed: dict[str, Article] = {}
    settings = article_settings(config)
    if cache is not None:
        _bodies.read = body_reader(cache.path)
        if cache.get_meta("article-settings") != settings:
            cache.forget_articles(cache.article_stamps())
            cache.set_meta("article-settings", settings)
        stamps = cache.article_stamps()
        fresh = [rel for rel, stamp in files.items() if stamps.get(rel, ())[:2] == stamp]
        parsed = {rel: article for rel, (_, article) in cache.load_articles(fresh).items()}
        cache.forget_articles([rel for rel in stamps if rel not in files])
    # Paths as strings joined here: a Path each was 3.5 µs, 0.035 s at 10,000 files before parsing could start.
    prefix = os.path.join(articles_dir, "")
    todo = [(prefix + rel, rel, stamp, rel in links) for rel, stamp in files.items() if rel not in parsed]
    errors: list[NewsdigestError] = []
    store = None
    if cache is not None:
        cache.commit()  # the processes parsing the files store them, over connections of their own
        store = CacheWriter(cache.path)
    from .parallel import map_chunks
    try:
        for results in map_chunks(partial(_read_chunk, config, settings, store), todo, first=meanwhile):
            for rel, _stamp, result in results:
                if isinstance(result, NewsdigestError):
                    errors.append(result)
                else:
                    parsed[rel] = result.article if store else replace(result.article, body=result.body.decode("utf-8"))
    finally:
        if store is not None:
            store.close()
            if todo:
                cache.checkpoint_aside()
    articles = []
    owners: dict[str, str] = {}  # route -> the file that has it: a URL is never given twice
    for rel in files:
        article = parsed.get(rel)
        if article is None or (article.draft and not include_drafts):
            continue
        if owners.setdefault(article.route, rel) != rel:
            errors.append(ContentError(f"wants the URL /{article.route} that content/articles/"
                                       f"{owners[article.route]} already has; not published",
                                       f"content/articles/{rel}", hint="rename the file or change its date"))
            continue
        if now is not None and article.date > now and config.future_articles == "skip":
            log.info("content/articles/%s: dated in the future (%s), skipped until then", rel, article.date)
            continue
        articles.append(article)
    errors.sort(key=lambda e: str(e.path))
    articles.sort(key=lambda a: (a.date, a.key), reverse=True)
    return articles, errors


def _list_articles(articles_dir: Path, listed: tuple[Sequence[tuple[str, int, int]], Set[str]] | None = None,
                   ) -> tuple[dict[str, tuple[int, int]], set[str]]:
    """rel path -> (mtime_ns, size) of every article file, in path order; and which of them are symlinks.

    From the stamps of every file under the folder (`cache.tree_stamps`: one stat per file, a
    symlink's stamp its target's), taken here unless the caller has them already (`listed`):
    the loader then needs no second look at a file before reading it.
    """
    if listed is None:
        links: Set[str] = set()
        stamps = tree_stamps(articles_dir, links)
    else:
        stamps, links = listed
    files = {rel: (m, s) for rel, m, s in stamps if rel.endswith(".md")}
    return files, {rel for rel in links if rel in files}


class _Parsed:
    """A parsed article as the build cache stores it: pickled without its body, and the body's HTML
    in UTF-8 (None once the cache has it).

    From a worker only these travel back (the main process unpickles the article once);
    where it was parsed, the article itself is at hand.
    """

    def __init__(self, blob: bytes, body: bytes | None, article: Article | None = None) -> None:
        self.blob, self.body, self._article = blob, body, article

    def __reduce__(self):
        return _Parsed, (self.blob, self.body)

    @property
    def article(self) -> Article:
        """The article without its body."""
        if self._article is None:
            self._article = pickle.loads(self.blob)
        return self._article


def _read_chunk(config: Config, settings: str, store: CacheWriter | None,
                chunk: Sequence[tuple[str, str, tuple[int, int], bool]]) -> list:
    """Parse a chunk of (path, rel, stamp as listed, symlink?) (in a worker): (rel, stamp, `_Parsed` or error).
    `settings`: `article_settings(config)`.

    With `store`, the chunk's articles go to the build cache from here, and their bodies
    stay out of the results. The stamp is the one listed before the file is read: an edit
    in between is stored under the older stamp, so the next build parses the file again.
    """
    md = Markdown()
    renderer = markdown_renderer_name()
    out, rows = [], []
    for path, rel, stamp, link in chunk:
        label = f"content/articles/{rel}"
        try:
            if link:
                _refuse_outside_link(Path(path), rel, label)
            fields, text, raw = _read_fields(path, rel, label, config)
        except NewsdigestError as exc:
            out.append((rel, (0, 0), exc))
        except OSError as exc:
            out.append((rel, (0, 0), ContentError(f"cannot read: {exc.strerror}", label)))
        else:
            body = md.render(text).encode("utf-8")
            article = Article(body=None, fingerprint=file_fingerprint(settings, rel, raw), **fields)
            # Its route worked out here, on every core, and pickled with it: the main process wants
            # each article's route (and would work them out one after another, ~2 µs each).
            _ = article.route
            blob = article_blob(article)
            if store is not None:
                rows.append((rel, *stamp, renderer, article.fingerprint, blob, body))
            out.append((rel, stamp, _Parsed(blob, None if store else body, article)))
    if rows:
        store.articles(rows)
    return out


def read_article(path: Path, rel: str, label: str, config: Config, md: Markdown) -> Article:
    """One article file -> `Article`, or a ContentError naming the file and line."""
    if path.is_symlink():
        _refuse_outside_link(path, rel, label)
    fields, text, raw = _read_fields(path, rel, label, config)
    return Article(body=md.render(text), fingerprint=file_fingerprint(article_settings(config), rel, raw), **fields)


def _refuse_outside_link(path: Path, rel: str, label: str) -> None:
    """A ContentError for a symlinked article that points outside content/."""
    content_dir = path.parents[rel.count("/") + 1]
    if not path.resolve().is_relative_to(content_dir.resolve()):
        raise ContentError("symlink pointing outside content/ is not followed", label,
                           hint="copy the file into content/articles/ instead")


def _read_fields(path: str | Path, rel: str, label: str, config: Config) -> tuple[dict, str, bytes]:
    """An article file's fields for `Article` (all but its body), its Markdown and its bytes, or a ContentError."""
    raw = read_file(path, label)
    data, body, text = front_matter_of(raw, label)

    def fail(key: str, message: str) -> ContentError:
        return ContentError(message, label, key_line(text, key))

    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        raise fail("title", "'title': every article needs a title (a line 'title: ...')")
    if "date" not in data:
        raise ContentError("'date': every article needs a date (ISO 8601, with offset)", label, 1)
    try:
        date = as_datetime(data["date"], config.tz)
        updated = as_datetime(data["updated"], config.tz) if data.get("updated") else None
    except ValueError as exc:
        raise fail("date", f"'date': {exc}") from exc
    try:
        versions = read_versions(data.get("versions"), config.tz)
    except ValueError as exc:
        raise fail("versions", str(exc)) from exc
    thread = data.get("thread")
    if thread is not None:
        if not isinstance(thread, str | int):
            raise fail("thread", f"'thread': expected an id such as 'russia-north-korea', got {shown(thread)}")
        thread = str(thread)
        if not _is_thread_id(thread):
            raise fail("thread", f"'thread': {shown(thread)} is not a valid id "
                       f"(lowercase letters, digits and dashes, e.g. {urls.slugify(thread)!r})")
    try:
        entities = _read_entities(data.get("entities"))
        byline = as_names(data.get("byline"), "byline")
        credits = _read_credits(data.get("credits"))
    except ValueError as exc:
        key = str(exc).split("'")[1] if "'" in str(exc) else "entities"
        raise fail(key.split(".")[0], str(exc)) from exc
    for key in ("summary", "dateline", "source"):
        if data.get(key) is not None and not isinstance(data[key], str):
            raise fail(key, f"'{key}': expected text, got {shown(data[key])}")
    stem = rel.rsplit("/", 1)[-1][:-3]
    fields = dict(
        slug=urls.slugify(stem, max_length=200), source=rel, title=" ".join(clean_text(title).split()), date=date,
        summary=clean_text(data.get("summary") or "").strip(),
        byline=byline, dateline=clean_text(data.get("dateline") or ""),
        source_name=clean_text(data.get("source") or ""),
        credits=credits, thread=thread, entities=entities, updated=updated, versions=versions,
        draft=data.get("draft") is True,
    )
    return fields, body, raw


# Articles of one story share its id: each id is checked once (a slugify round trip costs ~5 µs).
_is_thread_id = lru_cache(maxsize=4096)(urls.is_safe_slug)


def article_settings(config: Config) -> str:
    """What an article as read depends on besides its file: the time zone of its dates, the Markdown
    renderer. The build cache keeps parsed articles for these settings only."""
    return fingerprint(config.timezone, markdown_renderer_name())


def file_fingerprint(settings: str, rel: str, raw: bytes) -> str:
    """An article's fingerprint: a hash of its file (path and bytes) and the `article_settings` it is
    read with, which make all of it. Hashing the bytes is a third of the cost of hashing the parsed
    article's repr and its body's HTML (SHA-256 runs in hardware on most CPUs)."""
    digest = hashlib.sha256(f"{settings}\0{rel}\0".encode())
    digest.update(raw)
    return digest.hexdigest()[:24]


def article_fingerprint(article: Article) -> str:
    """A hash of everything in an article not read from a file (made in code): what it is as parsed."""
    bare = article if article.body is None else replace(article, body=None)
    digest = hashlib.blake2b(repr(bare).encode("utf-8"), digest_size=12)
    digest.update(article.body_html.encode("utf-8"))
    return digest.hexdigest()


def _read_entities(value) -> dict[str, tuple[str, ...]]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"'entities': expected a mapping of type to names "
                         f"(person/organization/place), got {shown(value)}")
    out = {}
    for kind, names in value.items():
        if kind not in TYPES:
            raise ValueError(f"'entities': unknown type {shown(kind)}; use {', '.join(TYPES)}")
        out[kind] = as_names(names, f"entities.{kind}")
    return out


def _read_credits(value) -> dict[str, tuple[str, ...]]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"'credits': expected a mapping of role to names, got {shown(value)}")
    return {str(role): as_names(names, f"credits.{role}") for role, names in value.items()}


@dataclass(frozen=True)
class ThreadNote:
    """What an editor wrote in content/threads/<id>.md."""

    id: str
    title: str = ""
    summary: str = ""
    merge_into: str | None = None
    hide: bool = False


def read_thread_notes(threads_dir: Path) -> tuple[dict[str, ThreadNote], list[NewsdigestError]]:
    """Read the curated thread registry; bad files are reported and skipped."""
    notes, errors = {}, []
    for path in sorted(threads_dir.glob("*.md")) if threads_dir.is_dir() else []:
        label = f"content/threads/{path.name}"
        try:
            data, body, text = read_front_matter_file(path, label)
            merge = data.get("merge_into")
            if merge is not None and not urls.is_safe_slug(str(merge)):
                raise ContentError(f"'merge_into': {merge!r} is not a thread id", label,
                                   key_line(text, "merge_into"))
            notes[path.stem] = ThreadNote(
                id=path.stem, title=str(data.get("title") or "").strip(),
                summary=str(data.get("summary") or body or "").strip(),
                merge_into=str(merge) if merge else None, hide=data.get("hide") is True)
        except NewsdigestError as exc:
            errors.append(exc)
    return notes, errors


def gather_site(articles: Sequence[Article], config: Config, *,
                registry: Sequence[RegistryEntry] = (),
                thread_notes: dict[str, ThreadNote] | None = None) -> Site:
    """Resolve entities across articles and group articles into threads and entity pages."""
    from .entity_registry import resolve_entities
    from .parallel import Aside
    thread_notes = thread_notes or {}
    hidden = {(e.type, e.name) for e in registry if e.hide}
    mapping = resolve_entities({a.key: a.entities for a in articles}, registry)
    canonical = _Canonical(mapping, hidden)
    articles = [_canonical(a, canonical, thread_notes) for a in articles]
    # Ranking entities' company is the longest step and needs only the articles' canonical entities:
    # the other core ranks while this one groups the articles into stories and entities.
    related = Aside(_related_entities, [a.entities for a in articles], config.entities.related, size=len(articles))
    articles.sort(key=lambda a: (a.date, a.key), reverse=True)
    threads = _gather_threads(articles, thread_notes)
    entities = _gather_entities(articles, threads, registry, related)
    redirects = [Redirect(urls.thread_route(n.id), urls.thread_route(_final(n.id, thread_notes)))
                 for n in thread_notes.values() if n.merge_into]
    redirects += _entity_redirects(registry, mapping, entities, {t.route for t in threads.values()})
    return Site(articles=tuple(articles), threads=threads, entities=entities,
                redirects=tuple(sorted(redirects, key=lambda r: r.route)))


class _Canonical:
    """Entities by their canonical names (`mapping`), `hidden` ones left out; each article's at once
    when none of its names changes, and its types are in `TYPES` order, none empty or named twice."""

    def __init__(self, mapping: dict[tuple[str, str], tuple[str, str]], hidden: set[tuple[str, str]]) -> None:
        self.mapping, self.hidden = mapping, hidden
        self.fixed = {key for key, target in mapping.items() if key == target and target not in hidden}

    def __call__(self, entities: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        if tuple(entities) in _TYPE_ORDERS:
            fixed = self.fixed
            for kind, names in entities.items():
                if not names or len(set(names)) != len(names) or any((kind, n) not in fixed for n in names):
                    break
            else:
                return entities  # most articles' (a third of the time of working it out)
        return _canonical_entities(entities, self.mapping, self.hidden)


_TYPE_ORDERS = {tuple(kinds) for r in range(len(TYPES) + 1) for kinds in combinations(TYPES, r)}


def _canonical_entities(entities: dict[str, Sequence[str]], mapping, hidden) -> dict[str, tuple[str, ...]]:
    """An article's entities by their canonical names, hidden ones left out, in `TYPES` order, none empty."""
    ents: dict[str, list[str]] = {t: [] for t in TYPES}
    for kind in TYPES:
        for name in entities.get(kind, ()):
            key = (kind, name)
            target = mapping.get(key, key)
            if target not in hidden and target[1] not in ents[target[0]]:
                ents[target[0]].append(target[1])
    return {k: tuple(v) for k, v in ents.items() if v}


def _final(thread_id: str, notes: dict[str, ThreadNote]) -> str:
    seen = set()
    while thread_id in notes and notes[thread_id].merge_into and thread_id not in seen:
        seen.add(thread_id)
        thread_id = notes[thread_id].merge_into
    return thread_id


def _canonical(article: Article, canonical: _Canonical, notes) -> Article:
    """The article with canonical entity names and its thread after merges."""
    thread = _final(article.thread, notes) if article.thread else None
    entities = canonical(article.entities)
    if thread == article.thread and tuple(entities.items()) == tuple(article.entities.items()):
        return article  # most are already canonical: its fingerprint (of the file as parsed) says all
    return replace(article, entities=entities, thread=thread,
                   fingerprint=fingerprint(article.fingerprint or repr(article), entities, thread))


def _gather_threads(articles: Sequence[Article], notes: dict[str, ThreadNote]) -> dict[str, Thread]:
    """Threads by id, from canonical articles (whose entities are in `TYPES` order, none empty)."""
    members: dict[str, list[Article]] = defaultdict(list)
    for article in articles:
        members[article.thread_id].append(article)
    threads = {}
    for tid in sorted(members):
        note = notes.get(tid, ThreadNote(tid))
        if note.hide:
            continue
        items = tuple(sorted(members[tid], key=lambda a: (a.date, a.key)))
        counts = Counter((kind, name) for a in items for kind, names in a.entities.items() for name in names)
        key_entities = tuple(k for k, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:8])
        threads[tid] = Thread(id=tid, title=note.title or items[0].title,
                              summary=note.summary or items[-1].summary,
                              articles=items, entities=key_entities)
    return threads


def _gather_entities(articles: Sequence[Article], threads: dict[str, Thread], registry: Sequence[RegistryEntry],
                     related: Aside[dict[tuple[str, str], tuple[tuple[str, str], ...]]]) \
        -> dict[tuple[str, str], Entity]:
    """Entities by (type, name), from canonical articles, newest first."""
    by_key: dict[tuple[str, str], list[Article]] = defaultdict(list)
    thread_ids: dict[tuple[str, str], dict[str, None]] = defaultdict(dict)  # the shown threads, as they come
    for article in articles:
        tid = article.thread_id
        shown = tid in threads
        for kind, names in article.entities.items():
            for name in names:
                by_key[(kind, name)].append(article)
                if shown:
                    thread_ids[(kind, name)][tid] = None
    notes = {(e.type, e.name): e for e in registry}
    md = Markdown()
    slugs = _entity_slugs(by_key, notes)
    companies = related.result()
    entities = {}
    for key in sorted(by_key):
        note = notes.get(key)
        entities[key] = Entity(
            type=key[0], name=key[1], slug=slugs[key], articles=tuple(by_key[key]),
            threads=tuple(thread_ids.get(key, ())),
            related=companies.get(key, ()),
            description_html=md.render(note.description) if note and note.description else "",
            aliases=tuple(note.aliases) if note else ())
    return entities


def _entity_slugs(keys: Iterable[tuple[str, str]], notes) -> dict[tuple[str, str], str]:
    """One slug per entity, stable: from the name, or the registry's slug; clashes numbered."""
    slugs, taken = {}, set()
    for key in sorted(keys, key=lambda k: (k[0], k[1].lower(), k[1])):
        note = notes.get(key)
        base = getattr(note, "slug", None) or urls.slugify(key[1], fallback="entity")
        slug, n = base, 2
        while (key[0], slug) in taken:
            slug, n = f"{base}-{n}", n + 1
        taken.add((key[0], slug))
        slugs[key] = slug
    return slugs


def _entity_redirects(registry: Sequence[RegistryEntry], mapping, entities, taken: set[str]) -> list[Redirect]:
    """Old entity URLs that now point to the canonical page.

    A renamed registry entry keeps its old names' URLs; a short form that had a page of
    its own before the full name arrived ('Putin', later 'Vladimir Putin') keeps its URL too.
    A route that a real page owns is never shadowed.
    """
    taken = taken | {e.route for e in entities.values()}
    olds = [((e.type, old), (e.type, e.name)) for e in registry for old in (getattr(e, "old_names", ()) or ())]
    olds += [(source, target) for source, target in mapping.items() if source != target]
    out: dict[str, str] = {}
    for (kind, old), target in sorted(olds):
        entity = entities.get(target)
        if entity is None:
            continue
        route = urls.entity_route(kind, urls.slugify(old, fallback="entity"))
        if route not in taken and route not in out:
            out[route] = entity.route
    return [Redirect(route, target) for route, target in out.items()]


def _related_entities(mentioned: Sequence[dict[str, tuple[str, ...]]],
                      limit: int) -> dict[tuple[str, str], tuple[tuple[str, str], ...]]:
    """Entities mentioned with each entity, ranked by local mutual information (count x PMI), from
    each article's canonical entities."""
    if limit <= 0:
        return {}
    n = len(mentioned) or 1
    mentions = Counter((kind, name) for entities in mentioned for kind, names in entities.items() for name in names)
    # Pairs of entity numbers, made and counted in C: a big archive has millions of pairs.
    keys = sorted(mentions)
    index = {key: i for i, key in enumerate(keys)}
    numbers = [sorted({index[(kind, name)] for kind, names in entities.items() for name in names})
               for entities in mentioned]
    pair_counts = Counter(chain.from_iterable(map(combinations, numbers, repeat(2))))
    scored: dict[tuple[str, str], list] = defaultdict(list)
    min_count = 2 if n >= 20 else 1
    for (i, j), c in pair_counts.items():
        if c < min_count:
            continue
        a, b = keys[i], keys[j]
        score = c * math.log(n * c / (mentions[a] * mentions[b]) + 1e-9)
        if score <= 0 and n >= 20:
            continue
        scored[a].append((-score, -c, b))
        scored[b].append((-score, -c, a))
    return {k: tuple(x[2] for x in sorted(v)[:limit]) for k, v in scored.items()}


def load_registries(content_dir: Path) -> tuple[list[RegistryEntry], dict[str, ThreadNote],
                                                list[NewsdigestError]]:
    """Read content/entities/ and content/threads/, collecting errors."""
    from .entity_registry import read_registry
    registry, errors = read_registry(content_dir / "entities")
    notes, thread_errors = read_thread_notes(content_dir / "threads")
    return list(registry), notes, list(errors) + thread_errors
