"""The orchestrator: load content, gather the site, plan pages and feeds, render what changed, write output/.

Reads like the pipeline: load (parsed articles come from the build cache when
their files are unchanged), gather, plan every page with the key of its inputs,
render only the pages and feeds whose keys changed since the last build (on
every core, each worker writing its pages straight to the staging folder), then
commit. The cache (`.cache/build.sqlite`) is derived: deleting it means a full build.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from .cache import BuildCache
from .config import Config
from .content import Site, gather_site, load_articles, load_registries
from .digest import group_days
from .errors import NewsdigestError
from .feeds import Entries, Feed, entry_key, feed_key, make_entries, plan_feeds, render_feed, unique_items
from .parallel import map_chunks
from .plan import PageKeys, PlannedPage, PlanningEnvironment, site_stamp
from .render import DEFAULT_TEMPLATES, make_environment, render, render_site
from .render_digest import render_digest_feeds, render_digest_pages
from .search import SearchReport, index_site
from .sitemap import render_sitemap
from .urls import feed_route
from .writer import OutputWriter

log = logging.getLogger(__name__)

DEFAULT_ASSETS = Path(__file__).resolve().parent.parent / "site"


@dataclass
class BuildReport:
    """Counts for the CLI to print, and the problems met on the way."""

    articles: int = 0
    threads: int = 0
    entities: int = 0
    pages: int = 0
    feeds: int = 0
    assets: int = 0
    bytes: int = 0  # size of the whole site
    files: int = 0  # files in the whole site
    rendered: int = 0  # pages and feeds rendered by this build (the rest were unchanged)
    written: int = 0  # bytes written by this build
    seconds: float = 0.0
    search: SearchReport | None = None
    errors: list[NewsdigestError] = field(default_factory=list)


def build_site(site_dir: Path, config: Config, *, output_dir: Path | None = None,
               include_drafts: bool = False, now: dt.datetime | None = None) -> BuildReport:
    """Build the site into output/ (or `output_dir`); bad articles are skipped and reported."""
    started = time.perf_counter()
    report = BuildReport()
    content_dir = site_dir / "content"
    output_dir = output_dir or site_dir / "output"
    cache = BuildCache(site_dir / ".cache" / "build.sqlite")
    try:
        articles, errors = load_articles(content_dir / "articles", config, include_drafts=include_drafts,
                                         now=now or dt.datetime.now(dt.UTC), cache=cache)
        registry, thread_notes, registry_errors = load_registries(content_dir)
        report.errors.extend(errors + registry_errors)
        site = gather_site(articles, config, registry=registry, thread_notes=thread_notes)
        days = group_days(site, config.tz)
        template_dirs = [site_dir / "templates", DEFAULT_TEMPLATES]
        env = make_environment(config, template_dirs)
        keys = PageKeys(site_stamp(config, template_dirs))
        pages = plan_pages(site, days, config)
        feeds = plan_feeds(site, config)
        with OutputWriter(output_dir, previous=cache.manifest(output_dir)) as out:
            page_jobs = [(route, page, key) for route, page in pages
                         if out.claim(route, key := keys.key(page), owner=route)]
            feed_jobs = [feed for feed in feeds if _claim_feed(out, feed, feed_key(feed, config, keys.stamp))]
            entries = _feed_entries(feed_jobs, config, cache)
            report.rendered = render_changed(page_jobs, feed_jobs, entries, env, config, out, keys.stamp)
            for route, xml in render_digest_feeds(site, days, env, config):
                out.write(route, xml, owner=route)
                report.feeds += 1
            for route, text in render_sitemap(site, config, days):
                out.write(route, text, owner=route)
            report.assets = out.copy_assets(list(dict.fromkeys([DEFAULT_ASSETS, site_dir / "site"])),
                                            "assets/")
            out.write(".nojekyll", "")
            if config.search:
                report.search = out.run_indexer(index_site)
            out.commit()
            cache.save_manifest(output_dir, out.manifest)
            report.bytes, report.files, report.written = out.site_bytes, len(out.manifest), out.bytes_written
    finally:
        cache.close()
    report.pages, report.feeds = len(pages), report.feeds + 2 * len(feeds)
    report.articles, report.threads, report.entities = (len(site.articles), len(site.threads),
                                                        len(site.entities))
    report.seconds = time.perf_counter() - started
    return report


def plan_pages(site: Site, days, config: Config) -> list[tuple[str, PlannedPage]]:
    """Every HTML page (and newsletter) of the site, planned but not rendered, in a stable order."""
    planner = PlanningEnvironment()
    return [*render_site(site, planner, config), *render_digest_pages(site, days, planner, config)]


def _claim_feed(out: OutputWriter, feed: Feed, key: str) -> bool:
    rss = out.claim(feed_route(feed.route, "rss"), key, owner=feed_route(feed.route, "rss"))
    atom = out.claim(feed_route(feed.route, "atom"), key, owner=feed_route(feed.route, "atom"))
    return rss or atom


def _feed_entries(feeds: list[Feed], config: Config, cache: BuildCache) -> Entries:
    """Every feed item the feeds to render need: from the cache, the rest serialised on every core."""
    items = unique_items(feeds)
    entries = cache.load_entries([entry_key(a, full) for a, full in items])
    missing = [(a, full) for a, full in items if entry_key(a, full) not in entries]
    new: Entries = {}
    for chunk in map_chunks(lambda chunk: make_entries(chunk, config), missing, chunk_size=250):
        new.update(chunk)
    cache.store_entries((k, rss, atom) for k, (rss, atom) in new.items())
    entries.update(new)
    return entries


def render_changed(page_jobs: list[tuple[str, PlannedPage, str]], feed_jobs: list[Feed], entries: Entries,
                   env, config: Config, out: OutputWriter, stamp: str) -> int:
    """Render the pages and feeds whose inputs changed, on every core; returns how many."""
    jobs = [("page", job) for job in page_jobs] + [("feed", feed) for feed in feed_jobs]

    def render_chunk(chunk) -> list[tuple[str, str, int, int]]:
        written = []
        for kind, job in chunk:
            if kind == "page":
                route, page, key = job
                written.append(out.write_claimed(route, render(env, page.template, **page.context), key))
            else:
                key = feed_key(job, config, stamp)
                for route, xml in render_feed(job, config, entries):
                    written.append(out.write_claimed(route, xml, key))
        return written

    for results in map_chunks(render_chunk, jobs, chunk_size=64):
        out.adopt(results)
    return len(jobs)
