"""The orchestrator: load content, gather the site, plan pages and feeds, render what changed, write output/.

Reads like the pipeline: load (parsed articles come from the build cache when
their files are unchanged), gather, plan every page with the key of its inputs,
render only the pages and feeds whose keys changed since the last build (on
every core, each worker writing its pages straight to the staging folder), then
commit. The cache (`.cache/build.sqlite`) is derived: deleting it means a full build.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .cache import BuildCache, CacheWriter, entries_reader
from .config import Config
from .errors import NewsdigestError
from .quick import quick_build, read_inputs, remember_build
from .urls import feed_route
from .writer import OutputWriter, recover

if TYPE_CHECKING:
    import jinja2

    from .content import Article, Site
    from .digest import Day
    from .feeds import Feed
    from .plan import DeferredPage, PageKeys, PlannedPage
    from .search import SearchReport

log = logging.getLogger(__name__)

DEFAULT_ASSETS = Path(__file__).resolve().parent.parent / "site"
DEFAULT_TEMPLATES = DEFAULT_ASSETS.parent / "templates"
YOUNG_GC_THRESHOLD = 10_000  # while pages render: see `build_site`


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
               include_drafts: bool = False, now: dt.datetime | None = None, keep: list | None = None) -> BuildReport:
    """Build the site into output/ (or `output_dir`); bad articles are skipped and reported.

    `keep`: where a process about to end puts what the build made, rather than free it on return.
    """
    started = time.perf_counter()
    report = BuildReport()
    content_dir = site_dir / "content"
    output_dir = output_dir or site_dir / "output"
    recover(output_dir)  # a killed build's moves finished first: the quick paths below read output/
    cache = BuildCache(site_dir / ".cache" / "build.sqlite")
    template_dirs = [site_dir / "templates", DEFAULT_TEMPLATES]
    asset_dirs = list(dict.fromkeys([DEFAULT_ASSETS, site_dir / "site"]))
    inputs = read_inputs(site_dir, config, template_dirs, asset_dirs, include_drafts, now)
    collecting, thresholds = gc.isenabled(), gc.get_threshold()
    try:
        quick = quick_build(cache, config, site_dir, output_dir, inputs)
        if quick is not None:  # nothing changed, or text edits patched in
            counts, files, written = quick
            return BuildReport(**counts, rendered=files, written=written, seconds=time.perf_counter() - started)
        # Imported here, not at the top: Jinja, feedgen and the page generators would be most of
        # the time of the quick rebuilds above; the later stages' code while articles are parsed.
        from .content import gather_site, load_articles, load_registries
        # Loading and gathering make the site: a million objects that live all build, which the
        # cyclic GC would walk again and again for nothing (0.4 s at 10k, in the main process
        # alone). It is paused while they are made and then leaves them out (`freeze`), so
        # forked workers need not touch their pages either. Rendering then makes millions of
        # short-lived objects and few cycles: the youngest generation is collected every 10,000
        # allocations rather than 700 (a tenth of the collections; 0.1-0.3 s less at 10k, each
        # process). Restored below.
        manifest = cache.manifest(output_dir)
        with OutputWriter(output_dir, previous=manifest) as out:
            gc.disable()
            listed = (inputs.articles, inputs.article_links) if inputs is not None else None  # listed once
            environments: list[jinja2.Environment] = []
            articles, errors = load_articles(content_dir / "articles", config, include_drafts=include_drafts,
                                             now=now or dt.datetime.now(dt.UTC), cache=cache, listed=listed,
                                             meanwhile=lambda: environments.append(_prepare_rendering(config,
                                                                                                      template_dirs)))
            from .digest import group_days
            from .feeds import plan_feeds, unique_items
            from .parallel import Aside
            from .plan import PageKeys, site_stamp
            from .render_digest import render_digest_feeds
            from .search import index_site
            from .sitemap import render_sitemap
            # The pages' files are made (empty) by another process while this one gathers and plans the site.
            out.prepare_files(article.route for article in articles)
            registry, thread_notes, registry_errors = load_registries(content_dir)
            report.errors.extend(errors + registry_errors)
            site = gather_site(articles, config, registry=registry, thread_notes=thread_notes)
            keys = PageKeys(site_stamp(config, template_dirs))
            shared = [*site.threads.values(), *site.entities.values(), site]
            digests = Aside(keys.shared_digests, shared, size=len(shared))  # the other core is idle till the pool forks
            feeds = plan_feeds(site, config)
            out.prepare_files([*(t.route for t in site.threads.values()), *(e.route for e in site.entities.values()),
                               *(feed_route(f.route, kind) for f in feeds for kind in ("rss", "atom"))])
            gc.freeze()
            gc.set_threshold(max(thresholds[0], YOUNG_GC_THRESHOLD), *thresholds[1:])
            if collecting:
                gc.enable()
            env = environments[0]
            items = unique_items(feeds, config)
            cached = cache.prune_entries(set(items))  # drops the items of articles changed, gone or in no feed now
            renderer = _Renderer(env, config, out, keys, cache)
            for route, page in plan_pages(site, config):
                report.pages += 1
                renderer.page(out.reserve(route, owner=route), page)
            for feed in feeds:
                renderer.feed(feed, [out.reserve(route, owner=route)
                                     for route in (feed_route(feed.route, "rss"), feed_route(feed.route, "atom"))])
            keys.adopt(digests.result(), shared)
            days: list[Day] = []

            def own_share() -> None:
                """What this process makes once the workers have started on the rest: the days, their
                pages and feeds, the sitemaps (planned, rendered and written here)."""
                days.extend(group_days(site, config.tz))
                for route, page in plan_day_pages(site, days, config):
                    report.pages += 1
                    renderer.render_here(out.reserve(route, owner=route), page)
                for route, xml in render_digest_feeds(site, days, env, config):
                    out.write(route, xml, owner=route)
                    report.feeds += 1
                for route, text in render_sitemap(site, config, days):
                    out.write(route, text, owner=route)

            renderer.render([item for key, item in items.items() if key not in cached], first=own_share)
            cache.checkpoint_aside()  # the feed items stored, while the site is put in place
            report.rendered = renderer.count
            report.assets = out.copy_assets(asset_dirs, "assets/")
            out.write(".nojekyll", "")
            if config.search.enabled:
                report.search = out.run_indexer(index_site)
            out.commit()
            cache.save_manifest(output_dir, out.manifest)
            report.bytes, report.files, report.written = out.site_bytes, len(out.manifest), out.bytes_written
        report.feeds += 2 * len(feeds)
        report.articles, report.threads, report.entities = (len(site.articles), len(site.threads),
                                                            len(site.entities))
        members: dict[str, list[str]] = {}
        for feed in feeds:
            for article in feed.items if feed.full_content else ():  # the feeds that show its body
                members.setdefault(article.source, []).append(feed.route)
        clean = not report.errors and report.search is None
        remember_build(cache, output_dir, inputs, _counts(report) if clean else None, members)
        if keep is not None:
            keep.append(locals())  # the site, its pages' plans, the manifest: alive until the process ends
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
        if collecting:
            gc.enable()
        cache.close()
    report.seconds = time.perf_counter() - started
    return report


def _prepare_rendering(config: Config, template_dirs: list[Path]) -> jinja2.Environment:
    """The Jinja environment with every template compiled, and the code of the stages after loading
    imported (Jinja, feedgen, the page generators): in this process while the others start parsing
    articles (`load_articles(meanwhile=...)`). Compiled before the workers fork, each template is
    compiled once, not in each process that renders with it (~0.1 s for the default templates)."""
    from . import digest, entity_registry, feeds, plan, render_digest, search, sitemap  # noqa: F401
    from .render import compile_templates, make_environment
    env = make_environment(config, template_dirs)
    compile_templates(env)
    return env


def _counts(report: BuildReport) -> dict:
    return {f.name: getattr(report, f.name) for f in dataclasses.fields(report)
            if f.name not in ("errors", "search", "seconds", "rendered", "written")}


def plan_pages(site: Site, config: Config) -> Iterator[tuple[str, PlannedPage | DeferredPage]]:
    """Every HTML page of the site but the days' (`plan_day_pages`), planned (most deferred), in a stable order."""
    from .plan import PlanningEnvironment
    from .render import render_site
    yield from render_site(site, PlanningEnvironment(), config)


def plan_day_pages(site: Site, days: Sequence[Day], config: Config) -> Iterator[tuple[str, PlannedPage]]:
    """The pages of the days: the archive, the front page, each day's digest and newsletter, in a stable order."""
    from .plan import PlanningEnvironment
    from .render import render_archive
    from .render_digest import render_digest_pages
    planner = PlanningEnvironment()
    yield from render_archive(site, planner, config, days)
    yield from render_digest_pages(site, days, planner, config)


class _Renderer:
    """Collects pages and feeds to render and renders them on every core, in one fork.

    Most pages come deferred (a page's planning is made where it is rendered), so holding
    them all is cheap. Feeds splice in their articles' items, each serialised once
    (`feeds.make_entries`) and kept in the build cache: the items the cache lacks are made
    first, by the first chunks, and stored by the process that made them; the feeds come
    last, and each chunk of them reads its items from the cache (making any not stored yet
    itself), so no process holds them all. Workers compute each page's and feed's key, and render
    and write straight to staging only those whose key changed.
    """

    def __init__(self, env, config: Config, out: OutputWriter, keys: PageKeys, cache: BuildCache) -> None:
        self.env, self.config, self.out, self.keys = env, config, out, keys
        self.read_entries = entries_reader(cache.path)
        self.writer = CacheWriter(cache.path)  # made here, before the workers fork: they share its lock
        self.pages: list[tuple[str, object]] = []
        self.feeds: list[tuple[str, object]] = []
        self.count = 0

    def page(self, rel: str, page: PlannedPage | DeferredPage) -> None:
        """A page to render unless unchanged, with the file reserved for it."""
        self.pages.append(("page", (rel, page)))

    def render_here(self, rel: str, page: PlannedPage | DeferredPage) -> None:
        """Render a page in this process, now (the workers never see it)."""
        written, reused, rendered = self._render_chunk([("page", (rel, page))])
        self._record(written, reused)
        self.count += rendered

    def feed(self, feed: Feed, rels: list[str]) -> None:
        """A feed pair to render unless unchanged, with the files reserved for its RSS and Atom."""
        self.feeds.append(("feed", (feed, rels)))

    def render(self, missing_items: list[tuple[Article, bool]], first: Callable[[], None] | None = None) -> None:
        """Render the pages and feeds collected, making first the feed items (article, full content) the cache
        lacks; `first()` is this process's own work, done while the workers start (`parallel.map_chunks`)."""
        from .parallel import map_chunks
        jobs = [("entry", item) for item in missing_items] + self.pages + self.feeds
        try:
            for written, reused, rendered in map_chunks(self._render_chunk, jobs, chunk_size=64, first=first):
                self._record(written, reused)
                self.count += rendered
        finally:
            self.writer.close()
        self.pages, self.feeds = [], []

    def _record(self, written: list[tuple[str, str, int, int]], reused: list[tuple[str, tuple]]) -> None:
        """Put what `_render_chunk` wrote and found unchanged (here or in a worker) into the manifest."""
        self.out.adopt(written)
        for rel, old in reused:
            self.out.reuse(rel, old)

    def _render_chunk(self, chunk) -> tuple[list[tuple[str, str, int, int]], list[tuple[str, tuple]], int]:
        """(files written, (rel, manifest row) of files found unchanged, pages and feed pairs rendered) for a
        chunk of jobs; the feed items it makes go to the cache from here."""
        from .feeds import feed_key, item_keys, make_entries, render_feed
        from .plan import DeferredPage
        from .render import page_payload, render
        written, reused, rendered = [], [], 0
        made = make_entries([job for kind, job in chunk if kind == "entry"], self.config)
        if made:
            self.writer.entries([(k, rss, atom) for k, (rss, atom) in made.items()])
        feeds = []  # (feed, its items' keys, its files, key) of the feed pairs whose inputs changed
        for kind, job in chunk:
            if kind == "feed":
                feed, rels = job
                keys = item_keys(feed, self.config)
                key = feed_key(feed, keys, self.config, self.keys.stamp)
                olds = [self.out.reusable(rel, key) for rel in rels]
                if None in olds:
                    feeds.append((feed, keys, rels, key))
                else:
                    reused.extend(zip(rels, olds, strict=True))
        wanted = {k: (a, f.full_content) for f, keys, _, _ in feeds for k, a in zip(keys, f.items, strict=True)}
        entries = {**made, **self.read_entries([k for k in wanted if k not in made])} if wanted else made
        entries.update(make_entries([item for k, item in wanted.items() if k not in entries], self.config))
        for kind, job in chunk:
            if kind == "page":
                rel, page = job
                if type(page) is DeferredPage:
                    page = page.make()
                key = self.keys.key(page)
                old = self.out.reusable(rel, key)
                if old is not None:
                    reused.append((rel, old))
                    continue
                html = render(self.env, page.template, **page.context)
                written.append(self.out.write_claimed(rel, page_payload(html, page.context), key))
                rendered += 1
        for feed, keys, rels, key in feeds:  # rels as `feed` reserved them: RSS, Atom, as `render_feed` gives them
            for rel, (_, xml) in zip(rels, render_feed(feed, self.config, entries, keys), strict=True):
                written.append(self.out.write_claimed(rel, xml, key))
        return written, reused, rendered + len(feeds)
