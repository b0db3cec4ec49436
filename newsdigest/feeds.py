"""Feeds with feedgen: RSS 2.0 and Atom for the site, each thread and each entity.

Pure: articles in, XML text out. Every URL is absolute, ids are the articles'
permanent URLs, dates carry their zone, and nothing depends on the clock, so
the same content gives the same bytes.

Thousands of entity and thread feeds repeat the same articles, so each article's
item is serialised by feedgen once (`make_entries`, in bulk) and each feed is
feedgen's channel with those items spliced in where feedgen would put them: the
bytes are the same as feedgen writing the whole feed (a test checks this).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import urljoin

from feedgen.feed import FeedGenerator

from . import urls
from .cache import fingerprint
from .config import Config
from .content import Article, Site

_LINK_ATTR = re.compile(r'(\s(?:href|src)=")([^"]*)(")')
_RSS_ITEM, _RSS_END = "\n    <item>", "\n  </channel>"
_ATOM_ENTRY, _ATOM_END = "\n  <entry>", "\n</feed>"

Entries = dict[str, tuple[str, str]]  # entry key -> (RSS item, Atom entry), as feedgen writes them


@dataclass(frozen=True)
class Feed:
    """One page's pair of feeds: what they are about and their newest items."""

    route: str
    title: str
    description: str
    items: tuple[Article, ...]
    full_content: bool


def plan_feeds(site: Site, config: Config) -> list[Feed]:
    """The site feed and every thread and entity feed, in a stable order."""
    n = config.feed.topic_items
    feeds = [Feed("", config.title, config.description, tuple(site.articles[:config.feed.items]),
                  is_full_content("", config))]
    for thread in sorted(site.threads.values(), key=lambda t: t.id):
        feeds.append(Feed(thread.route, f"{thread.title} \u2014 {config.title}",
                          f"Every article in the story: {thread.title}",
                          tuple(reversed(thread.articles[-n:])), is_full_content(thread.route, config)))
    for key in sorted(site.entities):
        entity = site.entities[key]
        feeds.append(Feed(entity.route, f"{entity.name} \u2014 {config.title}",
                          f"Articles that mention {entity.name}", tuple(entity.articles[:n]),
                          is_full_content(entity.route, config)))
    return feeds


def is_full_content(route: str, config: Config) -> bool:
    """Whether the feed of the page at `route` carries whole articles: the site feed by
    `feed.full_content`; story and entity feeds (each article is in a dozen of them) only
    with `feed.full_content_topics` as well."""
    return config.feed.full_content and (route == "" or config.feed.full_content_topics)


def render_feeds(site: Site, config: Config) -> Iterator[tuple[str, bytes]]:
    """(route, XML) for the site feed and every thread and entity feed, RSS and Atom."""
    feeds = plan_feeds(site, config)
    entries = make_entries(list(unique_items(feeds, config).values()), config)
    for feed in feeds:
        yield from render_feed(feed, config, entries)


def unique_items(feeds: Sequence[Feed], config: Config) -> dict[str, tuple[Article, bool]]:
    """Each (article, full content) that some feed lists, once, by its `entry_key`."""
    seen: dict[str, tuple[Article, bool]] = {}
    for feed in feeds:
        for article in feed.items:
            seen.setdefault(entry_key(article, feed.full_content, config), (article, feed.full_content))
    return seen


def entry_key(article: Article, full_content: bool, config: Config) -> str:
    """What an article's feed item is made from: the article, the content setting, and the site's
    address (its links are absolute: the preview server's items are not the published site's)."""
    return fingerprint(article.fingerprint or repr(article), full_content, config.base_url, config.base_path)


def feed_key(feed: Feed, config: Config, stamp: str = "") -> str:
    """What a feed pair is made from: its header and its items (and `stamp`, what every file depends on)."""
    return fingerprint(stamp, feed.route, feed.title, feed.description, feed.full_content, config.base_url,
                       config.language, config.author, [entry_key(a, feed.full_content, config) for a in feed.items])


def make_entries(items: Sequence[tuple[Article, bool]], config: Config) -> Entries:
    """Each article's RSS item and Atom entry, serialised by feedgen in one feed per batch."""
    out: Entries = {}
    if not items:
        return out
    link = urls.Urls(config.base_url, config.base_path)
    fg = make_channel(config, "", "entries", "entries", link)
    for article, full in items:
        _add_entry(fg, article, link, full)
    rss = fg.rss_str(pretty=True).decode("utf-8")
    atom = fg.atom_str(pretty=True).decode("utf-8")
    rss_items = rss[:rss.rindex(_RSS_END)].split(_RSS_ITEM)[1:]
    atom_entries = atom[:atom.rindex(_ATOM_END)].split(_ATOM_ENTRY)[1:]
    for (article, full), item, entry in zip(items, rss_items, atom_entries, strict=True):
        out[entry_key(article, full, config)] = (_RSS_ITEM + item, _ATOM_ENTRY + entry)
    return out


def render_feed(feed: Feed, config: Config, entries: Entries) -> Iterator[tuple[str, bytes]]:
    """The RSS and Atom feeds of one page, its items taken from `entries`."""
    link = urls.Urls(config.base_url, config.base_path)
    keys = [entry_key(a, feed.full_content, config) for a in feed.items]
    for kind, end, part in (("rss", _RSS_END, 0), ("atom", _ATOM_END, 1)):
        fg = make_channel(config, feed.route, feed.title, feed.description, link, kind)
        _set_updated(fg, feed.items)
        xml = (fg.rss_str if kind == "rss" else fg.atom_str)(pretty=True).decode("utf-8")
        at = xml.rindex(end)
        yield urls.feed_route(feed.route, kind), (xml[:at] + "".join(entries[k][part] for k in keys)
                                                  + xml[at:]).encode("utf-8")


def make_feed(config: Config, route: str, title: str, description: str,
              articles: Sequence[Article]) -> Iterator[tuple[str, bytes]]:
    """The RSS and Atom feeds of one page, all by feedgen (the reference `render_feed` matches)."""
    link = urls.Urls(config.base_url, config.base_path)
    items = list(articles)[: config.feed.items]
    for kind in ("rss", "atom"):
        fg = make_channel(config, route, title, description, link, kind)
        _set_updated(fg, items)
        for article in items:
            _add_entry(fg, article, link, is_full_content(route, config))
        yield urls.feed_route(route, kind), fg.rss_str(pretty=True) if kind == "rss" else fg.atom_str(pretty=True)


def _set_updated(fg: FeedGenerator, items: Sequence[Article]) -> None:
    if items:
        fg.updated(max(a.updated or a.date for a in items))
    else:
        fg.updated("1970-01-01T00:00:00+00:00")


def make_channel(config: Config, route: str, title: str, description: str, link: urls.Urls,
                 kind: str = "rss", page: str | None = None) -> FeedGenerator:
    """A feed's channel: id, title, self link and the page it belongs to (`route` unless `page`)."""
    fg = FeedGenerator()
    fg.id(link.absolute(route))
    fg.title(title)
    fg.description(description)
    # feedgen takes RSS's channel <link> from the last link given: the page, not the feed itself.
    fg.link(href=link.absolute(urls.feed_route(route, kind)), rel="self",
            type="application/rss+xml" if kind == "rss" else "application/atom+xml")
    fg.link(href=link.absolute(route if page is None else page), rel="alternate")
    fg.language(config.language)
    fg.generator("newsdigest", uri=None)
    fg.author({"name": config.author or config.title})
    return fg


def _add_entry(fg: FeedGenerator, article: Article, link: urls.Urls, full_content: bool) -> None:
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
    if full_content:
        entry.content(absolute_links(article.body_html, url), type="html")
    elif not article.summary:
        entry.summary(article.title)


def absolute_links(html: str, base: str) -> str:
    """Rewrite relative href/src values against `base`: feed readers have no page URL."""
    return _LINK_ATTR.sub(lambda m: m.group(1) + urljoin(base, m.group(2)) + m.group(3), html)
