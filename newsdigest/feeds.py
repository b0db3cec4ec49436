"""Feeds with feedgen: RSS 2.0 and Atom for the site, each thread and each entity.

Pure: articles in, XML text out. Every URL is absolute, ids are the articles'
permanent URLs, dates carry their zone, and nothing depends on the clock, so
the same content gives the same bytes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from urllib.parse import urljoin

from feedgen.feed import FeedGenerator

from . import urls
from .config import Config
from .content import Article, Site

_LINK_ATTR = re.compile(r'(\s(?:href|src)=")([^"]*)(")')


def render_feeds(site: Site, config: Config) -> Iterator[tuple[str, bytes]]:
    """(route, XML) for the site feed and every thread and entity feed, RSS and Atom."""
    yield from make_feed(config, "", config.title, config.description, site.articles)
    for thread in sorted(site.threads.values(), key=lambda t: t.id):
        yield from make_feed(config, thread.route, f"{thread.title} \u2014 {config.title}",
                             f"Every article in the story: {thread.title}",
                             list(reversed(thread.articles)))
    for key in sorted(site.entities):
        entity = site.entities[key]
        yield from make_feed(config, entity.route, f"{entity.name} \u2014 {config.title}",
                             f"Articles that mention {entity.name}", entity.articles)


def make_feed(config: Config, route: str, title: str, description: str,
              articles: Sequence[Article]) -> Iterator[tuple[str, bytes]]:
    """The RSS and Atom feeds of one page: the newest `feed.items` articles."""
    link = urls.Urls(config.base_url, config.base_path)
    items = list(articles)[: config.feed.items]
    for kind in ("rss", "atom"):
        fg = FeedGenerator()
        fg.id(link.absolute(route))
        fg.title(title)
        fg.description(description)
        fg.link(href=link.absolute(route), rel="alternate")
        fg.link(href=link.absolute(urls.feed_route(route, kind)), rel="self",
                type="application/rss+xml" if kind == "rss" else "application/atom+xml")
        fg.language(config.language)
        fg.generator("newsdigest", uri=None)
        fg.author({"name": config.author or config.title})
        if items:
            fg.updated(max(a.updated or a.date for a in items))
        else:
            fg.updated("1970-01-01T00:00:00+00:00")
        for article in items:
            _add_entry(fg, article, link, config)
        xml = fg.rss_str(pretty=True) if kind == "rss" else fg.atom_str(pretty=True)
        yield urls.feed_route(route, kind), xml


def _add_entry(fg: FeedGenerator, article: Article, link: urls.Urls, config: Config) -> None:
    url = link.absolute(article.route)
    entry = fg.add_entry(order="append")
    entry.id(url)
    entry.guid(url, permalink=True)
    entry.title(article.title)
    entry.link(href=url)
    entry.published(article.date)
    entry.updated(article.updated or article.date)
    for name in article.byline:
        entry.author({"name": name})
    if article.summary:
        entry.summary(article.summary)
    if config.feed.full_content:
        entry.content(absolute_links(article.body_html, url), type="html")
    elif not article.summary:
        entry.summary(article.title)


def absolute_links(html: str, base: str) -> str:
    """Rewrite relative href/src values against `base`: feed readers have no page URL."""
    return _LINK_ATTR.sub(lambda m: m.group(1) + urljoin(base, m.group(2)) + m.group(3), html)
