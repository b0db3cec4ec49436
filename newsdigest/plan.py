"""What each page is made from: pages planned before they are rendered, each with an input key.

The page generators in render.py and render_digest.py call `render(env, template,
**context)`. Given a `PlanningEnvironment` instead of the Jinja environment, that
call returns a `PlannedPage` (the template and its context) instead of HTML, so
the build can hash each page's inputs, skip pages whose inputs are unchanged since
the last build, and render the rest on every core.

A page's key hashes the site-wide inputs (settings, templates, code) and its
context. Articles are reduced to their fingerprints (everything in their file);
threads to their articles' fingerprints; entities to what pages show of them
(names, slug, notes, related entities, threads, and which articles on which dates
mention them), so an edit to one article's text re-renders only the pages that
show that article, not every page that links one of its entities.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import marshal
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup

from .config import Config
from .content import Article, Entity, EntityRef, Site, Thread, article_fingerprint
from .digest import Day, DayThread
from .markup import markdown_renderer_name

CODE_DIR = Path(__file__).resolve().parent  # a change to the code may change any page
_PLAIN = (str, int, float, bool, type(None), Markup, dt.datetime, dt.date, dt.timedelta)
_MARSHAL_TYPES = frozenset((str, int, float, bool, type(None)))  # exact types: one set lookup
_FIELDS: dict[type, tuple[str, ...]] = {}  # a dataclass's field names, looked up once per type
_SHARED = frozenset((Entity, Thread, Site, Day, DayThread))


@dataclass(frozen=True)
class PlannedPage:
    """A page not rendered yet: its template and the context it will get."""

    template: str
    context: dict


@dataclass(frozen=True)
class DeferredPage:
    """A page whose planning waits until a worker renders it: `make()` gives its `PlannedPage`."""

    make: Callable[[], PlannedPage]


class _PlannedTemplate:
    def __init__(self, name: str) -> None:
        self.name = name

    def render(self, **context) -> PlannedPage:
        return PlannedPage(self.name, context)


class PlanningEnvironment:
    """Stands in for the Jinja environment while pages are planned: `render` returns plans."""

    def get_template(self, name: str) -> _PlannedTemplate:
        return _PlannedTemplate(name)


class PageKeys:
    """Computes page keys; memoises what many pages share (entities, threads, days) for one build.

    A page's context is reduced to nested tuples of plain values and hashed as `marshal` (format 2,
    which writes every value in full, never as a back-reference to an equal one) gives it: a third
    of the cost of its repr. Values marshal cannot write (Markup, dates) are reduced to a
    tuple led by a bytes tag: no other value reduces to bytes, so they cannot meet a lookalike.
    """

    def __init__(self, stamp: str) -> None:
        self.stamp = stamp
        self._memo: dict[int, object] = {}
        self._mentions: dict[int, tuple[str, str]] = {}
        self._keep: list[object] = []  # keeps memoised objects alive so their ids stay theirs

    def key(self, page: PlannedPage) -> str:
        return _digest((self.stamp, page.template, self._reduce(page.context)))

    def shared_digests(self, values: Iterable[object]) -> dict[int, str]:
        """The memoised digest of each of these shared values (entities, stories), by id.

        Worked out once for the build, aside (`parallel.Aside`), and taken in with `adopt`
        before the workers fork: each of them would otherwise work out every entity's and
        story's digest again (a few tenths of a second at 10,000 articles).
        """
        return {id(value): self._reduce(value) for value in values}

    def adopt(self, digests: dict[int, str], values: Iterable[object]) -> None:
        """Take in `shared_digests` of these values worked out in a fork of this process (same ids)."""
        for value in values:
            digest = digests.get(id(value))
            if digest is not None and id(value) not in self._memo:
                self._memo[id(value)] = digest
                self._keep.append(value)

    def _reduce(self, value) -> object:
        kind = type(value)
        if kind in _MARSHAL_TYPES:
            return value
        if kind is EntityRef:  # its three strings say it all (as a tuple: a dataclass's repr is slow)
            return (value.type, value.name, value.slug)
        if kind is Article:
            return value.fingerprint or article_fingerprint(value)
        if kind is list or kind is tuple:
            return tuple([v if type(v) in _MARSHAL_TYPES else self._reduce(v) for v in value])
        if kind is dict:
            return tuple([(k if type(k) in _MARSHAL_TYPES else self._reduce(k),
                           v if type(v) in _MARSHAL_TYPES else self._reduce(v)) for k, v in value.items()])
        if kind is Markup:
            return (b"markup", str(value))
        if kind in _SHARED:  # shared by many pages, alive all build
            memo = self._memo.get(id(value))
            if memo is None:
                memo = self._memo[id(value)] = _digest(self._reduce_shared(value))
                self._keep.append(value)
            return memo
        if isinstance(value, _PLAIN):  # dates, and subclasses of plain types
            return (b"repr", kind.__name__, repr(value))
        return self._reduce_object(value)

    def _reduce_object(self, value) -> object:
        kind = type(value)
        if dataclasses.is_dataclass(value):
            names = _FIELDS.get(kind)
            if names is None:
                names = _FIELDS[kind] = tuple(f.name for f in dataclasses.fields(value))
            return (kind.__name__,) + tuple([self._reduce(getattr(value, name)) for name in names])
        if isinstance(value, set | frozenset):
            return (b"set",) + tuple(sorted(_digest(self._reduce(v)) for v in value))
        return (kind.__name__, os.urandom(8).hex())  # something we cannot see into: render it every time

    def _reduce_shared(self, value) -> object:
        if type(value) is Entity:
            return (self._reduce(("E", value.type, value.name, value.slug, value.aliases, value.description_html,
                                  value.related, value.threads)), tuple([self._mention(a) for a in value.articles]))
        if type(value) is Thread:
            return self._reduce(("T", value.id, value.title, value.summary, value.entities, value.articles))
        if type(value) is Site:
            return self._reduce(("S", value.articles, list(value.threads), list(value.entities), value.redirects))
        if type(value) is DayThread:  # a day of a story, shown by the day's page, the index and e-mails
            # The story's articles before that day are the first of its articles (the story is in the key
            # whole): how many says which, and a long story's days then cost little each.
            n = len(value.earlier)
            earlier = n if value.earlier == value.thread.articles[:n] else value.earlier
            # Its new entities are (type, name) pairs of strings, as marshal writes them: taken as they are.
            new = value.new_entities
            if not all(type(kind) is str and type(name) is str for kind, name in new):
                new = self._reduce(new)
            return (self._reduce(("DT", value.thread, value.articles, earlier, value.updates, value.last_news)), new)
        return self._reduce_object(value)  # a day: its date, neighbours and stories

    def _mention(self, article: Article) -> tuple[str, str]:
        """What an entity shows of an article that mentions it (its key and date), once per article:
        the articles of an entity's page are in the key on their own."""
        mention = self._mentions.get(id(article))
        if mention is None:
            mention = self._mentions[id(article)] = (article.key, repr(article.date))
            self._keep.append(article)
        return mention


def _digest(reduced: object) -> str:
    """The hash of a reduced value (see `PageKeys`)."""
    return hashlib.blake2b(marshal.dumps(reduced, 2), digest_size=12).hexdigest()


def site_stamp(config: Config, template_dirs: Sequence[Path], extra: Iterable[object] = ()) -> str:
    """What every page depends on: settings, templates, this code and the Markdown renderer."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(repr(config).encode())
    digest.update(markdown_renderer_name().encode())
    for item in extra:
        digest.update(repr(item).encode())
    for folder in [CODE_DIR, *template_dirs]:
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.suffix in (".py", ".html", ".xml", ".txt", ".j2", ".svg", ".css", ".js"):
                digest.update(path.relative_to(folder).as_posix().encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()
