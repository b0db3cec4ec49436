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
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup

from .cache import fingerprint
from .config import Config
from .content import Article, Entity, EntityRef, Site, Thread, article_fingerprint
from .markup import markdown_renderer_name

CODE_DIR = Path(__file__).resolve().parent  # a change to the code may change any page
_PLAIN = (str, int, float, bool, type(None), Markup, dt.datetime, dt.date, dt.timedelta)
_PLAIN_TYPES = frozenset(_PLAIN)  # exact types: one set lookup instead of an isinstance chain
_FIELDS: dict[type, tuple[str, ...]] = {}  # a dataclass's field names, looked up once per type


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
    """Computes page keys; memoises what many pages share (entities, threads) for one build."""

    def __init__(self, stamp: str) -> None:
        self.stamp = stamp
        self._memo: dict[int, object] = {}
        self._keep: list[object] = []  # keeps memoised objects alive so their ids stay theirs

    def key(self, page: PlannedPage) -> str:
        return fingerprint(self.stamp, page.template, self._reduce(page.context))

    def _reduce(self, value) -> object:
        kind = type(value)
        if kind in _PLAIN_TYPES:
            return value
        if kind is EntityRef:  # its three strings say it all (as a tuple: a dataclass's repr is slow)
            return (value.type, value.name, value.slug)
        if kind is Article:
            return value.fingerprint or article_fingerprint(value)
        if kind is list or kind is tuple:
            return tuple([v if type(v) in _PLAIN_TYPES else self._reduce(v) for v in value])
        if kind is dict:
            return tuple([(k, v if type(v) in _PLAIN_TYPES else self._reduce(v)) for k, v in value.items()])
        if kind is Entity or kind is Thread or kind is Site:  # shared by many pages, alive all build
            memo = self._memo.get(id(value))
            if memo is None:
                memo = self._memo[id(value)] = fingerprint(self._reduce_shared(value))
                self._keep.append(value)
            return memo
        if isinstance(value, _PLAIN):
            return value
        if dataclasses.is_dataclass(value):
            names = _FIELDS.get(kind)
            if names is None:
                names = _FIELDS[kind] = tuple(f.name for f in dataclasses.fields(value))
            return (kind.__name__,) + tuple([self._reduce(getattr(value, name)) for name in names])
        if isinstance(value, set | frozenset):
            return tuple(sorted(repr(self._reduce(v)) for v in value))
        return (kind.__name__, os.urandom(8).hex())  # something we cannot see into: render it every time

    def _reduce_shared(self, value: Entity | Thread | Site) -> tuple:
        if type(value) is Entity:
            return ("E", value.type, value.name, value.slug, value.aliases, value.description_html,
                    value.related, value.threads, tuple((a.key, a.date) for a in value.articles))
        if type(value) is Thread:
            return ("T", value.id, value.title, value.summary, value.entities,
                    tuple(self._reduce(a) for a in value.articles))
        return ("S", tuple(self._reduce(a) for a in value.articles), tuple(value.threads),
                tuple(value.entities), value.redirects)


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
