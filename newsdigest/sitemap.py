"""sitemap.xml and robots.txt: what search engines read first."""

from __future__ import annotations

from collections.abc import Iterator
from xml.sax.saxutils import escape

from . import urls
from .config import Config
from .content import Site


def render_sitemap(site: Site, config: Config) -> Iterator[tuple[str, str]]:
    """sitemap.xml listing every article, thread and entity page with its last change."""
    link = urls.Urls(config.base_url, config.base_path)
    rows = [(urls.page_route("", 1), site.articles[0].date if site.articles else None)]
    rows += [(a.route, a.updated or a.date) for a in site.articles]
    rows += [(t.route, t.latest.date) for t in sorted(site.threads.values(), key=lambda t: t.id)]
    rows += [(e.route, e.articles[0].date) for _, e in sorted(site.entities.items())]
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    for route, when in rows:
        lastmod = f"<lastmod>{when.isoformat()}</lastmod>" if when else ""
        lines.append(f"<url><loc>{escape(link.absolute(route))}</loc>{lastmod}</url>")
    lines.append("</urlset>")
    yield "sitemap.xml", "\n".join(lines) + "\n"
    yield "robots.txt", f"User-agent: *\nAllow: /\n\nSitemap: {link.absolute('sitemap.xml')}\n"
