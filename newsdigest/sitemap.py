"""sitemap.xml (an index of several past 50,000 URLs), the Google News sitemap and robots.txt.

Pure and deterministic: "the last two days" for Google News are counted back
from the newest article, never from the clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from html import escape as _html_escape

from . import urls
from .config import Config
from .content import Site
from .digest import Day

MAX_URLS = 50_000  # the sitemaps.org limit per file
NEWS_MAX_URLS = 1_000  # Google News' limit
NEWS_WINDOW = dt.timedelta(days=2)
_URLSET = '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
_NEWS_URLSET = ('<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
                'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">')
_XML = '<?xml version="1.0" encoding="UTF-8"?>'


def escape(text: str) -> str:
    """&, < and > escaped for XML text (xml.sax.saxutils does the same, but imports urllib.request)."""
    return _html_escape(text, quote=False)


def sitemap_rows(site: Site, days: Sequence[Day] = ()) -> list[tuple[str, dt.datetime | None]]:
    """(route, last change) for every page a search engine should know."""
    rows: list[tuple[str, dt.datetime | None]] = [("", site.articles[0].date if site.articles else None)]
    rows += [(a.route, a.updated or a.date) for a in site.articles]
    rows += [(t.route, t.latest.date) for t in sorted(site.threads.values(), key=lambda t: t.id)]
    rows += [(e.route, e.articles[0].date) for _, e in sorted(site.entities.items())]
    rows += [(d.route, d.last_change) for d in days]
    return rows


def render_sitemap(site: Site, config: Config, days: Sequence[Day] = (), *,
                   max_urls: int = MAX_URLS) -> Iterator[tuple[str, str]]:
    """sitemap.xml (or an index and sitemap-N.xml), news-sitemap.xml and robots.txt."""
    link = urls.Urls(config.base_url, config.base_path)
    rows = sitemap_rows(site, days)
    if len(rows) <= max_urls:
        yield "sitemap.xml", _urlset(rows, link)
    else:
        parts = [rows[i:i + max_urls] for i in range(0, len(rows), max_urls)]
        lines = [_XML, '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
        for n, part in enumerate(parts, 1):
            route = f"sitemap-{n}.xml"
            yield route, _urlset(part, link)
            newest = max((when for _, when in part if when), default=None)
            lastmod = f"<lastmod>{newest.isoformat()}</lastmod>" if newest else ""
            lines.append(f"<sitemap><loc>{escape(link.absolute(route))}</loc>{lastmod}</sitemap>")
        lines.append("</sitemapindex>")
        yield "sitemap.xml", "\n".join(lines) + "\n"
    yield "news-sitemap.xml", render_news_sitemap(site, config)
    yield "robots.txt", (f"User-agent: *\nAllow: /\n\nSitemap: {link.absolute('sitemap.xml')}\n"
                         f"Sitemap: {link.absolute('news-sitemap.xml')}\n")


def _urlset(rows: Sequence[tuple[str, dt.datetime | None]], link: urls.Urls) -> str:
    lines = [_XML, _URLSET]
    for route, when in rows:
        lastmod = f"<lastmod>{when.isoformat()}</lastmod>" if when else ""
        lines.append(f"<url><loc>{escape(link.absolute(route))}</loc>{lastmod}</url>")
    lines.append("</urlset>")
    return "\n".join(lines) + "\n"


def render_news_sitemap(site: Site, config: Config) -> str:
    """Articles of the two days before the newest article, newest first, as Google News wants them."""
    link = urls.Urls(config.base_url, config.base_path)
    lines = [_XML, _NEWS_URLSET]
    if site.articles:
        since = site.articles[0].date - NEWS_WINDOW
        name = escape(config.author or config.title)
        for article in [a for a in site.articles if a.date >= since][:NEWS_MAX_URLS]:
            lines.append(
                f"<url><loc>{escape(link.absolute(article.route))}</loc><news:news><news:publication>"
                f"<news:name>{name}</news:name><news:language>{escape(config.language)}</news:language>"
                f"</news:publication><news:publication_date>{article.date.isoformat()}</news:publication_date>"
                f"<news:title>{escape(article.title)}</news:title></news:news></url>")
    lines.append("</urlset>")
    return "\n".join(lines) + "\n"
