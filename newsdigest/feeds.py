"""Feeds with feedgen: RSS 2.0 and Atom for the site, each thread and each entity.

Pure: articles in, XML text out. Every URL is absolute, ids are the articles'
permanent URLs, dates carry their zone, and nothing depends on the clock, so
the same content gives the same bytes.

Thousands of entity and thread feeds repeat the same articles, so each article's
item is made once (`make_entries`) and each feed is its channel with those items
spliced in where feedgen would put them: the bytes are the same as feedgen writing
the whole feed (a test checks this). Channels and items are feedgen's own text:
feedgen writes a channel once per kind, and an item once per shape (full content or
not, summary or not, how many authors), with markers where a feed's or an article's
own values go (`feedtext.template`), which each feed and item fills in escaped as lxml
escapes them (`feedtext.fill`); anything it cannot be sure of is written by feedgen.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import urljoin

from feedgen.feed import FeedGenerator

from . import feedtext, urls
from .cache import fingerprint
from .config import Config
from .content import Article, Site

_LINK_ATTR = re.compile(r'(\s(?:href|src)=")([^"]*)(")')
_RSS_ITEM, _RSS_END = "\n    <item>", "\n  </channel>"
_ATOM_ENTRY, _ATOM_END = "\n  <entry>", "\n</feed>"
_END = {"rss": _RSS_END, "atom": _ATOM_END}
# Values no real feed has, where `feedtext.template` finds the slots in what feedgen writes.
_MARKS = {"title": "ndMarkTitle9q", "description": "ndMarkDescription9q", "id": "ndMarkId9q",
          "page": "ndMarkPage9q", "self": "ndMarkSelf9q", "summary": "ndMarkSummary9q", "body": "ndMarkBody9q"}
_MARK_DATE = dt.datetime(2001, 2, 3, 4, 5, 6, tzinfo=dt.UTC)
_MARK_UPDATED = dt.datetime(2002, 3, 4, 5, 6, 7, tzinfo=dt.UTC)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)  # a feed without items, as `_set_updated` dates it

Entries = dict[str, tuple[str, str]]  # entry key -> (RSS item, Atom entry), as feedgen writes them
_entry_keys: dict[tuple, str] = {}  # `entry_key`'s answers
_ENTRY_KEYS_KEPT = 1 << 17


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
        yield from render_feed(feed, config, entries, item_keys(feed, config))


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
    if not article.fingerprint:
        return fingerprint(repr(article), full_content, config.base_url, config.base_path)
    # Asked for about five times per feed item in a build: hashed once. base_path follows from
    # base_url (urlsplit each time); True and 1 are equal but write apart, hence the type.
    memo = (article.fingerprint, full_content, type(full_content), config.base_url)
    key = _entry_keys.get(memo)
    if key is None:
        if len(_entry_keys) >= _ENTRY_KEYS_KEPT:  # the preview server builds again and again
            _entry_keys.clear()
        key = _entry_keys[memo] = fingerprint(article.fingerprint, full_content, config.base_url,
                                              config.base_path)
    return key


def item_keys(feed: Feed, config: Config) -> list[str]:
    """The `entry_key` of each of the feed's items: worked out once per feed, for its key, its items and its text."""
    return [entry_key(article, feed.full_content, config) for article in feed.items]


def feed_key(feed: Feed, keys: list[str], config: Config, stamp: str = "") -> str:
    """What a feed pair is made from: its header and its items (`keys`, as `item_keys` gives them), and
    `stamp`, what every file depends on."""
    return fingerprint(stamp, feed.route, feed.title, feed.description, feed.full_content, config.base_url,
                       config.language, config.author, keys)


def make_entries(items: Sequence[tuple[Article, bool]], config: Config) -> Entries:
    """Each article's RSS item and Atom entry, as feedgen writes them (`_fill_item`, else feedgen)."""
    link = urls.Urls(config.base_url, config.base_path)
    made = [_fill_item(article, link, full) for article, full in items]
    unsure = [item for item, pair in zip(items, made, strict=True) if pair is None]
    if unsure:  # feedgen writes these, in one feed, in their order (or says what it refuses)
        written = iter(_feedgen_entries(make_channel(config, "", "entries", "entries", link), unsure, link))
        made = [next(written) if pair is None else pair for pair in made]
    return {entry_key(article, full, config): pair for (article, full), pair in zip(items, made, strict=True)}


def _feedgen_entries(fg: FeedGenerator, items: Sequence[tuple[Article, bool]],
                     link: urls.Urls) -> list[tuple[str, str]]:
    """(RSS item, Atom entry) of each (article, full content), written by feedgen into channel `fg`."""
    for article, full in items:
        _add_entry(fg, article, link, full)
    rss = fg.rss_str(pretty=True).decode("utf-8")
    atom = fg.atom_str(pretty=True).decode("utf-8")
    rss_items = rss[:rss.rindex(_RSS_END)].split(_RSS_ITEM)[1:]
    atom_entries = atom[:atom.rindex(_ATOM_END)].split(_ATOM_ENTRY)[1:]
    return [(_RSS_ITEM + item, _ATOM_ENTRY + entry) for item, entry in zip(rss_items, atom_entries, strict=True)]


def _fill_item(article: Article, link: urls.Urls, full: bool) -> tuple[str, str] | None:
    """An article's (RSS item, Atom entry) from `_item_templates`, or None when only feedgen
    can say: a date feedgen would refuse, or what `feedtext.fill` is unsure of."""
    updated = article.updated or article.date
    for date in (article.date, updated):
        if not isinstance(date, dt.datetime) or date.tzinfo is None:
            return None
    templates = _item_templates(bool(full), bool(article.summary), len(article.byline))
    if templates is None:
        return None
    rss, atom, fields = templates
    values = feedtext.fill(_item_values(article, link, full), fields)
    return None if values is None else (rss.fill(values), atom.fill(values))


def _item_values(article: Article, link: urls.Urls, full: bool) -> dict[str, str]:
    """Every value of an article that its item shows, by slot, as `_add_entry` gives them to feedgen."""
    url = link.absolute(article.route)
    values = {"title": article.title, "id": url, "published_rss": feedtext.format_date("rss", article.date),
              "published_atom": feedtext.format_date("atom", article.date),
              "updated_atom": feedtext.format_date("atom", article.updated or article.date)}
    if article.summary:
        values["summary"] = article.summary
    if full:
        values["body"] = absolute_links(article.body_html, url)
    values.update((f"author{i}", name) for i, name in enumerate(article.byline))
    return values


@functools.lru_cache(maxsize=64)
def _item_templates(full: bool, summary: bool,
                    authors: int) -> tuple[feedtext.Template, feedtext.Template, tuple] | None:
    """(RSS item, Atom entry, every (field, slot, escape) of either) of one shape of item, written
    by `_add_entry` with marks for an article's values; None if feedgen wrote a value of its own.
    Shapes differ in the parts `_add_entry` gives or not; both dates are always written."""
    article = Article(slug="mark", source="mark.md", title=_MARKS["title"], date=_MARK_DATE,
                      updated=_MARK_UPDATED, body=_MARKS["body"], summary=_MARKS["summary"] if summary else "",
                      byline=tuple(f"ndMarkAuthor{i}n9q" for i in range(authors)))
    link = urls.Urls(_MARKS["id"] + "/", "")
    marks = {mark: slot for slot, mark in _item_values(article, link, full).items()}
    fg = _new_channel("en", "a", "i", "s", "p", "t", "d", "rss")  # no part of an item
    (rss, atom), = _feedgen_entries(fg, [(article, full)], link)
    rss_template, atom_template = feedtext.template(rss, marks), feedtext.template(atom, marks)
    if rss_template is None or atom_template is None:
        return None
    fields = {field[0]: field for field in rss_template.fields + atom_template.fields}
    # Every value the item shows is one `_item_values` gives: no mark nor date left in the rest.
    static = rss_template.text + atom_template.text
    if ({slot for _, slot, _ in fields.values()} != set(marks.values())
            or re.search(f"ndMark|{_MARK_DATE.year}|{_MARK_UPDATED.year}", static)):
        return None
    return rss_template, atom_template, tuple(fields.values())


def render_feed(feed: Feed, config: Config, entries: Entries, keys: list[str]) -> Iterator[tuple[str, bytes]]:
    """The RSS and Atom feeds of one page, its items taken from `entries` by their `keys` (`item_keys`)."""
    link = urls.Urls(config.base_url, config.base_path)
    channels = _fill_channels(feed, config, link)
    for kind, part in (("rss", 0), ("atom", 1)):
        head, tail = channels[kind] if channels else _feedgen_channel(feed, config, link, kind)
        # Encoded piece by piece: joined first, one non-ASCII item would widen the whole text.
        items = [entries[k][part].encode("utf-8") for k in keys]
        yield urls.feed_route(feed.route, kind), b"".join([head.encode("utf-8"), *items, tail.encode("utf-8")])


def _feedgen_channel(feed: Feed, config: Config, link: urls.Urls, kind: str) -> tuple[str, str]:
    """The channel of `feed` written by feedgen: the text before and after its items."""
    fg = make_channel(config, feed.route, feed.title, feed.description, link, kind)
    _set_updated(fg, feed.items)
    xml = (fg.rss_str if kind == "rss" else fg.atom_str)(pretty=True).decode("utf-8")
    at = xml.rindex(_END[kind])
    return xml[:at], xml[at:]


def _fill_channels(feed: Feed, config: Config, link: urls.Urls) -> dict[str, tuple[str, str]] | None:
    """Both channels of `feed` (before and after the items) from `_channel_template`, or None
    when only feedgen can say: a date feedgen would refuse, or what `feedtext.fill` is unsure of."""
    templates = _channel_templates(config.language, config.author or config.title)
    updated = max(a.updated or a.date for a in feed.items) if feed.items else _EPOCH
    if templates is None or not isinstance(updated, dt.datetime) or updated.tzinfo is None:
        return None
    page = link.absolute(feed.route)
    by_kind, fields = templates
    values = feedtext.fill({"title": feed.title, "description": feed.description, "id": page, "page": page,
                            "self_rss": link.absolute(urls.feed_route(feed.route, "rss")),
                            "self_atom": link.absolute(urls.feed_route(feed.route, "atom")),
                            "updated_rss": feedtext.format_date("rss", updated),
                            "updated_atom": feedtext.format_date("atom", updated)}, fields)
    if values is None:
        return None
    return {kind: (head.fill(values), tail) for kind, (head, tail) in by_kind.items()}


@functools.lru_cache(maxsize=16)
def _channel_templates(language: str, author: str) -> tuple[dict[str, tuple[feedtext.Template, str]], tuple] | None:
    """({kind: (head, tail)}, every (field, slot, escape) of either head) for a site's feeds, or None."""
    try:
        templates = {kind: _channel_template(kind, language, author) for kind in _END}
    except ValueError:  # a language or author lxml refuses: feedgen says so, feed by feed
        return None
    if None in templates.values():
        return None
    fields = {field[0]: field for head, _ in templates.values() for field in head.fields}
    return templates, tuple(fields.values())


def _channel_template(kind: str, language: str, author: str) -> tuple[feedtext.Template, str] | None:
    """feedgen's channel of `kind`, written with `_MARKS` for a feed's own values: (head, tail),
    the head a `feedtext.Template`, the items going between head and tail. None if a mark could be
    mistaken for the rest (then: feedgen)."""
    marks = {_MARKS[slot]: slot for slot in ("title", "description", "id", "page")}
    marks.update({_MARKS["self"]: f"self_{kind}", feedtext.format_date(kind, _MARK_DATE): f"updated_{kind}"})
    if any(mark in language or mark in author for mark in marks):
        return None
    fg = _new_channel(language, author, _MARKS["id"], _MARKS["self"], _MARKS["page"], _MARKS["title"],
                      _MARKS["description"], kind)
    fg.updated(_MARK_DATE)
    xml = (fg.rss_str if kind == "rss" else fg.atom_str)(pretty=True).decode("utf-8")
    at = xml.rindex(_END[kind])
    head, tail = xml[:at], xml[at:]
    template = feedtext.template(head, marks)
    if template is None or any(mark in tail for mark in marks):
        return None
    return template, tail


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
    return _new_channel(config.language, config.author or config.title, link.absolute(route),
                        link.absolute(urls.feed_route(route, kind)), link.absolute(route if page is None else page),
                        title, description, kind)


def _new_channel(language: str, author: str, id_url: str, self_url: str, page_url: str, title: str,
                 description: str, kind: str) -> FeedGenerator:
    fg = FeedGenerator()
    fg.id(id_url)
    fg.title(title)
    fg.description(description)
    # feedgen takes RSS's channel <link> from the last link given: the page, not the feed itself.
    fg.link(href=self_url, rel="self", type="application/rss+xml" if kind == "rss" else "application/atom+xml")
    fg.link(href=page_url, rel="alternate")
    fg.language(language)
    fg.generator("newsdigest", uri=None)
    fg.author({"name": author})
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
