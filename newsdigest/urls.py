"""Every URL and output path of the site, in one place.

A page is named by its *route*: a site-relative path such as `threads/x/` or
`feed.xml` (no leading slash). `link()` turns a route into a root-relative link
under the base path (works under a GitHub Pages project path), `absolute()` into
the full URL for feeds and metadata, and `output_file()` into the file to write.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from posixpath import normpath
from urllib.parse import quote

_PLAIN_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_SLUG_DROP = re.compile(r"[^\w\s-]", re.U)
_SLUG_SPACE = re.compile(r"[\s_-]+", re.U)
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)),
                     *(f"lpt{i}" for i in range(1, 10))}


def slugify(text: str, max_length: int = 60, fallback: str = "untitled") -> str:
    """A readable, stable, filesystem- and URL-safe slug; letters of any script are kept."""
    if type(text) is str and len(text) <= max_length and _PLAIN_SLUG.fullmatch(text) and text not in _WINDOWS_RESERVED:
        return text  # a slug already, as most file names are: what the steps below would give (~4 µs less)
    text = unicodedata.normalize("NFKC", str(text)).replace("\u2019", "").replace("'", "")
    text = _SLUG_DROP.sub(" ", text.lower())
    slug = _SLUG_SPACE.sub("-", text).strip("-")
    if len(slug) > max_length:
        slug = slug[:max_length].rsplit("-", 1)[0] or slug[:max_length]
    if slug in _WINDOWS_RESERVED:  # no file or folder may be named 'con', 'nul', 'com1'... on Windows
        slug += "-1"
    return slug.strip("-") or fallback


def is_safe_slug(slug: str) -> bool:
    """True if `slug` is one path segment that cannot escape its folder."""
    return bool(slug) and slug == slugify(slug, max_length=200, fallback="") and slug not in ("", ".", "..")


def article_route(date: dt.datetime, slug: str) -> str:
    return f"{date:%Y/%m/%d}/{slug}/"


def article_source(date: dt.date | dt.datetime, slug: str) -> str:
    """Where ingest writes an article, relative to content/articles/."""
    return f"{date:%Y/%m/%d}/{slug}.md"


def thread_route(thread_id: str) -> str:
    return f"threads/{thread_id}/"


def entity_route(kind: str, slug: str) -> str:
    return f"entities/{kind}/{slug}/"


def entity_index_route(kind: str | None = None) -> str:
    return f"entities/{kind}/" if kind else "entities/"


def threads_index_route() -> str:
    return "threads/"


def archive_route(year: int | None = None, month: int | None = None) -> str:
    if year is None:
        return "archive/"
    return f"archive/{year:04d}/{month:02d}/"


def digest_route(date: dt.date | None = None) -> str:
    """A day's digest page, or the folder of the digest feeds for None."""
    return f"digest/{date:%Y/%m/%d}/" if date else "digest/"


def newsletter_route(date: dt.date, kind: str = "html") -> str:
    """The day's digest as an e-mail: 'html' (inline CSS) or 'txt'."""
    return f"{digest_route(date)}email.{kind}"


def search_route() -> str:
    return "search/"


def search_bundle_route() -> str:
    """Where Pagefind writes its index and UI files."""
    return "pagefind/"


def page_route(route: str, page: int) -> str:
    """Route of page `page` (1-based) of a paginated listing at `route`."""
    return route if page <= 1 else f"{route}page/{page}/"


def feed_route(route: str, kind: str = "rss") -> str:
    """The RSS or Atom feed that belongs to a page (or the site for '')."""
    return f"{route}{'feed.xml' if kind == 'rss' else 'atom.xml'}"


def asset_route(name: str) -> str:
    return f"assets/{name}"


class Urls:
    """Turns routes into links and absolute URLs for one base_url."""

    def __init__(self, base_url: str, base_path: str) -> None:
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.base_path = base_path

    def link(self, target: object) -> str:
        """Root-relative link to a route, or to anything with a `route`: '/REPO/threads/x/' (the
        templates' `url` filter, ~30 times a page)."""
        return self.base_path + (target if isinstance(target, str) else target.route)

    def absolute(self, target: object) -> str:
        """Absolute URL of a route, or of anything with a `route`, for feeds, sitemaps and canonical
        links (the templates' `absolute` filter); non-ASCII slugs percent-encoded."""
        route = target if isinstance(target, str) else target.route
        return self.base_url + quote(route, safe="/:@!$&'()*+,;=~%")


def output_file(route: str) -> str:
    """The file (relative to output/) that serves `route`; refuses routes leaving output/."""
    path = route + "index.html" if route == "" or route.endswith("/") else route
    # `normpath` leaves a path alone that has no empty, '.' or '..' part: most routes (a third of the time).
    clean = path if "//" not in path and "/." not in path and path[:1] != "." and path[-1:] != "/" else normpath(path)
    if clean.startswith(("../", "/")) or clean == ".." or "\\" in clean or ":" in clean.split("/")[0]:
        raise ValueError(f"route escapes the output folder: {route!r}")
    return clean
