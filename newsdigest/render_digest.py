"""Digest pages: the front page, one page per day, its newsletter (HTML and text), the digest
feeds, and the search page. Pure: data in, (route, text) out; templates via render.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence

import jinja2

from . import urls
from .config import Config
from .content import EntityRef, Site
from .digest import Day, DayThread, active_threads
from .feeds import make_channel
from .render import render
from .seo import site_meta

DIGEST_FEEDS = urls.digest_route()


def render_digest_pages(site: Site, days: Sequence[Day], env: jinja2.Environment,
                        config: Config) -> Iterator[tuple[str, str]]:
    """The front page (latest day plus active stories) and every day's page and newsletter."""
    latest = days[0] if days else None
    feeds = [("", config.title), (DIGEST_FEEDS, f"Daily digest \u2014 {config.title}")]
    yield "", render(env, "index.html", page_title=None, day=latest,
                     items=_items(site, latest, key_entities=True) if latest else [], canonical="", feeds=feeds,
                     active=active_threads(site, latest, config.tz, days=config.digest.active_days,
                                           limit=config.digest.active_threads),
                     page_meta=site_meta(config))
    editions = newsletter_days(days, config.digest.email_days)
    for day in days:
        items = _items(site, day)
        edition = day.date in editions
        yield day.route, render(env, "digest.html", page_title=f"Digest, {day.date.strftime(config.date_format)}",
                                day=day, items=items, canonical=day.route, feeds=feeds,
                                email_route=urls.newsletter_route(day.date) if edition else None,
                                text_route=urls.newsletter_route(day.date, "txt") if edition else None)
        if edition:
            yield urls.newsletter_route(day.date), render(env, "email.html", day=day, items=items)
            yield urls.newsletter_route(day.date, "txt"), render(env, "email.txt", day=day, items=items)
    if config.search.enabled:
        yield urls.search_route(), render(env, "search.html", page_title="Search", canonical=urls.search_route(),
                                          bundle=urls.search_bundle_route(), feeds=[("", config.title)])


def newsletter_days(days: Sequence[Day], keep: int) -> set[dt.date]:
    """The days that get an e-mail edition: those within `keep` days of the newest (0: all).

    Counted from the content, never the clock, so a rebuild gives the same files; an edition
    is for sending a day's digest, and older days keep their page and their digest feed item."""
    if not days:
        return set()
    newest = max(d.date for d in days)
    return {d.date for d in days if not keep or (newest - d.date).days < keep}


def _items(site: Site, day: Day, key_entities: bool = False) -> list[dict]:
    """A day's stories for the templates; the front page also names each story's key entities
    (a day's page, one of thousands, names those new that day: the story's page has the rest)."""
    return [{"day_thread": d, "entities": _key_entities(site, d) if key_entities else [],
             "new": [n for _, n in d.new_entities[:5]]} for d in day.threads]


def _key_entities(site: Site, day_thread: DayThread, limit: int = 6) -> list[EntityRef]:
    return [site.entities[k].ref for k in day_thread.thread.entities[:limit] if k in site.entities]


def render_digest_feeds(site: Site, days: Sequence[Day], env: jinja2.Environment,
                        config: Config) -> Iterator[tuple[str, bytes]]:
    """digest/feed.xml and digest/atom.xml: one item per day, the newsletter as its content."""
    link = urls.Urls(config.base_url, config.base_path)
    chosen = list(days)[: config.feed.items]
    bodies = [render(env, "_email_body.html", day=d, items=_items(site, d)) for d in chosen]
    for kind in ("rss", "atom"):
        fg = make_channel(config, DIGEST_FEEDS, f"Daily digest \u2014 {config.title}",
                          f"{config.description} One item a day.", link, kind, page="")
        fg.updated(chosen[0].last_change if chosen else "1970-01-01T00:00:00+00:00")
        for day, body in zip(chosen, bodies, strict=True):
            url = link.absolute(day.route)
            entry = fg.add_entry(order="append")
            entry.id(url)
            entry.guid(url, permalink=True)
            entry.title(f"{config.title}: {day.date.strftime(config.date_format)}")
            entry.link(href=url)
            entry.published(day.last_news)
            entry.updated(day.last_change)
            entry.summary("; ".join(t.latest.title for t in day.threads))
            entry.content(body, type="html")
        xml = fg.rss_str(pretty=True) if kind == "rss" else fg.atom_str(pretty=True)
        yield urls.feed_route(DIGEST_FEEDS, kind), xml
