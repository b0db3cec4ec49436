"""The orchestrator: load content, gather the site, render pages and feeds, write output/."""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from .config import Config
from .content import gather_site, load_articles, load_registries
from .digest import group_days
from .errors import NewsdigestError
from .feeds import render_feeds
from .render import DEFAULT_TEMPLATES, make_environment, render_site
from .render_digest import render_digest_feeds, render_digest_pages
from .search import SearchReport, index_site
from .sitemap import render_sitemap
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
    bytes: int = 0
    seconds: float = 0.0
    search: SearchReport | None = None
    errors: list[NewsdigestError] = field(default_factory=list)


def build_site(site_dir: Path, config: Config, *, output_dir: Path | None = None,
               include_drafts: bool = False, now: dt.datetime | None = None) -> BuildReport:
    """Build the whole site into output/ (or `output_dir`); bad articles are skipped and reported."""
    started = time.perf_counter()
    report = BuildReport()
    content_dir = site_dir / "content"
    articles, errors = load_articles(content_dir / "articles", config, include_drafts=include_drafts,
                                     now=now or dt.datetime.now(dt.UTC))
    registry, thread_notes, registry_errors = load_registries(content_dir)
    report.errors.extend(errors + registry_errors)
    site = gather_site(articles, config, registry=registry, thread_notes=thread_notes)
    days = group_days(site, config.tz)
    env = make_environment(config, [site_dir / "templates", DEFAULT_TEMPLATES])
    with OutputWriter(output_dir or site_dir / "output") as out:
        for route, html in render_site(site, env, config):
            out.write(route, html, owner=route)
            report.pages += 1
        for route, html in render_digest_pages(site, days, env, config):
            out.write(route, html, owner=route)
            report.pages += 1
        for route, xml in render_feeds(site, config):
            out.write(route, xml, owner=route)
            report.feeds += 1
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
        report.bytes = out.bytes_written
    report.articles, report.threads, report.entities = (len(site.articles), len(site.threads),
                                                        len(site.entities))
    report.seconds = time.perf_counter() - started
    return report
