"""The two commonest rebuilds, done without loading the site: nothing changed, and text-only edits.

After each build the cache keeps what it was made from (every input's path, mtime
and size), its report, and which feeds list which article (in tables, so a patch
rewrites the rows of the articles it patched, not a record of the whole archive). Then:

- nothing changed, and output/ is as the manifest says: the last report, at once;
- only the body text of a few articles changed (title, date, summary, entities,
  thread and every other field the same): the body appears in exactly two places,
  the article's page and the full-content feed items, so those files are patched
  (the old body HTML replaced by the new, feedgen's old item by its new one) and
  moved in through the writer. Anything unexpected (a body that is not found
  exactly once, search on, more than a few files) falls back to the full path.

Patched files get a key no build computes, so the next full build renders them
again; the output is byte for byte what a full build gives (tests check it).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import logging
import os
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from . import urls
from .cache import BuildCache, fingerprint, tree_stamps
from .config import Config
from .content import Article, article_fingerprint, read_article
from .errors import NewsdigestError
from .feeds import is_full_content, make_entries
from .markup import Markdown, markdown_renderer_name
from .plan import site_stamp
from .writer import OutputWriter

log = logging.getLogger(__name__)

MAX_PATCHED_ARTICLES = 20


@dataclasses.dataclass(frozen=True)
class Inputs:
    """What a build reads, as stamps: everything but the articles, and the articles."""

    others: str
    articles: dict[str, tuple[int, int]]

    @functools.cached_property
    def all(self) -> str:
        return fingerprint(self.others, sorted(self.articles.items()))


def read_inputs(site_dir: Path, config: Config, template_dirs: list[Path], asset_dirs: list[Path],
                include_drafts: bool, now: dt.datetime | None) -> Inputs | None:
    """Stamps of every input (None when the clock matters too: future articles skipped, or `now` given)."""
    if config.future_articles == "skip" or now is not None:
        return None
    content = site_dir / "content"
    others = fingerprint(site_stamp(config, template_dirs), include_drafts, config.search,
                         tree_stamps(content / "entities"), tree_stamps(content / "threads"),
                         [tree_stamps(d) for d in asset_dirs])
    articles = {rel: (m, s) for rel, m, s in tree_stamps(content / "articles")}
    return Inputs(others, articles)


FORMAT = 3  # of the last-build record; an older record is ignored


def _last_build(cache: BuildCache, output_dir: Path) -> dict | None:
    saved = cache.get_meta(f"last-build:{output_dir.resolve()}")
    last = _parse_record(saved) if saved else None
    return last if isinstance(last, dict) and last.get("format") == FORMAT else None


@functools.lru_cache(maxsize=2)
def _parse_record(saved: str) -> object:
    """The last-build record, parsed once per build though both quick paths read it (read-only)."""
    return json.loads(saved)


def _output_intact(output_dir: Path, manifest: dict[str, tuple[str, int, int]]) -> bool:
    prefix = os.path.join(output_dir, "")  # string joins: this stats every file of the site
    for rel, (_, size, mtime_ns) in manifest.items():
        try:
            st = os.stat(prefix + rel)
        except OSError:
            return False
        if st.st_size != size or st.st_mtime_ns != mtime_ns:
            return False
    return True


def unchanged_build(cache: BuildCache, output_dir: Path, inputs: Inputs | None) -> dict | None:
    """The last build's counts if no input changed since and output/ is as it left it."""
    if inputs is None or not output_dir.is_dir():
        return None
    last = _last_build(cache, output_dir)
    if last is None or last["inputs"] != inputs.all or not _output_intact(output_dir, cache.manifest(output_dir)):
        return None
    return last["counts"]


def remember_build(cache: BuildCache, output_dir: Path, inputs: Inputs | None, counts: dict | None,
                   feed_members: dict[str, list[str]] | None = None, patched: Iterable[str] = ()) -> None:
    """Keep what this build was made from and its counts; with `feed_members` (a full build) which
    feeds list which article, else only the new stamps of the `patched` articles."""
    key = f"last-build:{output_dir.resolve()}"
    if inputs is None or counts is None:
        cache.set_meta(key, None)
        return
    if feed_members is not None:
        cache.record_built(output_dir, inputs.articles, feed_members)
    else:
        cache.record_built(output_dir, {rel: inputs.articles[rel] for rel in patched}, None)
    cache.set_meta(key, json.dumps({"format": FORMAT, "inputs": inputs.all, "others": inputs.others,
                                    "counts": counts}))


def patch_text_edits(cache: BuildCache, config: Config, site_dir: Path, output_dir: Path,
                     inputs: Inputs | None) -> tuple[dict, int, int] | None:
    """Patch the pages and feeds of articles whose body text alone changed; (counts, files, bytes) or None."""
    if inputs is None or config.search.enabled or not output_dir.is_dir():
        return None
    last = _last_build(cache, output_dir)
    if last is None or last["others"] != inputs.others:
        return None
    built = cache.built_articles(output_dir)
    if built.keys() != inputs.articles.keys():
        return None
    changed = [rel for rel, stamp in inputs.articles.items() if built[rel] != stamp]
    if not changed or len(changed) > MAX_PATCHED_ARTICLES:
        return None
    old_articles = cache.load_articles_as_built({rel: built[rel] for rel in changed})
    articles_dir = site_dir / "content" / "articles"
    md = Markdown()
    edits = []
    for rel in changed:
        old = old_articles.get(rel)
        try:
            new = read_article(articles_dir / rel, rel, f"content/articles/{rel}", config, md)
        except NewsdigestError:
            return None
        new = replace(new, fingerprint=article_fingerprint(new))
        if old is None or replace(old, body=None) != replace(new, body=None):
            return None
        edits.append((rel, old, new))
    manifest = cache.manifest(output_dir)
    patches = _patches(edits, cache.feeds_listing(output_dir, changed), output_dir, manifest, config)
    if patches is None:
        return None
    with OutputWriter(output_dir, previous=manifest) as out:
        if not out.keep(rel for rel in manifest if rel not in patches):
            return None  # output/ is not as the manifest says: build it properly
        for rel, data in patches.items():
            key = "patched " + fingerprint(rel, data)
            out.claim(rel, key, owner=rel)
            out.adopt([out.write_claimed(rel, data, key)])
        out.commit()
        cache.save_manifest(output_dir, out.manifest, manifest)
    cache.store_articles([(rel, *inputs.articles[rel], markdown_renderer_name(), new.fingerprint, new)
                          for rel, _, new in edits], keep_replaced=True)
    remember_build(cache, output_dir, inputs, {**last["counts"], "bytes": out.site_bytes}, patched=changed)
    return last["counts"] | {"bytes": out.site_bytes}, len(patches), out.bytes_written


def _patches(edits: list[tuple[str, Article, Article]], feed_members: dict[str, list[str]], output_dir: Path,
             manifest: dict, config: Config) -> dict[str, bytes] | None:
    """New bytes of each file that shows an edited body, or None if a body is not where expected."""
    patches: dict[str, bytes] = {}

    def patch(rel: str, old: str, new: str) -> bool:
        if rel not in manifest:
            return False
        current = patches.get(rel)
        text = current.decode("utf-8") if current is not None else (output_dir / rel).read_text(encoding="utf-8")
        if text.count(old) != 1:
            return False
        patches[rel] = text.replace(old, new).encode("utf-8")
        return True

    for rel, old, new in edits:
        if not patch(urls.output_file(old.route), old.body_html, new.body_html):
            return None
        routes = [route for route in feed_members.get(rel, []) if is_full_content(route, config)]
        if not routes:
            continue  # summary items only: the body is in none of them
        (old_rss, old_atom), = make_entries([(old, True)], config).values()
        (new_rss, new_atom), = make_entries([(new, True)], config).values()
        for route in routes:
            if not (patch(urls.feed_route(route, "rss"), old_rss, new_rss)
                    and patch(urls.feed_route(route, "atom"), old_atom, new_atom)):
                return None
    return patches
