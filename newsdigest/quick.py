"""The two commonest rebuilds, done without loading the site: nothing changed, and text-only edits.

After each build the cache keeps what it was made from (every input's path, mtime
and size), its report, and which full-content feeds list which article (in tables,
so a patch rewrites the rows of the articles it patched, not a record of the whole
archive). `quick_build` compares the article files' stamps with those rows, both
sorted by path, as two lists; then:

- nothing changed, and output/ is as the manifest says: the last report, at once;
- only the body text of a few articles changed (title, date, summary, entities,
  thread and every other field the same): the body appears in exactly two places,
  the article's page and the full-content feed items, so those files are patched
  (the old body HTML replaced by the new, feedgen's old item by its new one) and
  moved in through the writer. Anything unexpected (a body that is not found
  exactly once, search on, more than a few files) falls back to the full path.

Both check that output/ is as the manifest says with one stat per file, read from
the manifest as they go (no copy of it in memory), so a file deleted or changed by
hand is rebuilt. Modules only the full path needs (Jinja, feedgen) are not imported.

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
from .content import Article, read_article
from .errors import NewsdigestError
from .markup import Markdown, markdown_renderer_name
from .plan import site_stamp
from .writer import OutputWriter

log = logging.getLogger(__name__)

MAX_PATCHED_ARTICLES = 20


@dataclasses.dataclass(frozen=True)
class Inputs:
    """What a build reads, as stamps: everything but the articles, and the articles."""

    others: str
    articles: list[tuple[str, int, int]]  # (rel, mtime_ns, size), sorted by rel as the cache lists them
    article_links: frozenset[str] = frozenset()  # which of them are symlinks (`load_articles(listed=...)`)

    @functools.cached_property
    def stamps(self) -> dict[str, tuple[int, int]]:
        return {rel: (m, s) for rel, m, s in self.articles}


def read_inputs(site_dir: Path, config: Config, template_dirs: list[Path], asset_dirs: list[Path],
                include_drafts: bool, now: dt.datetime | None) -> Inputs | None:
    """Stamps of every input (None when the clock matters too: future articles skipped, or `now` given)."""
    if config.future_articles == "skip" or now is not None:
        return None
    content = site_dir / "content"
    others = fingerprint(site_stamp(config, template_dirs), include_drafts, config.search,
                         tree_stamps(content / "entities"), tree_stamps(content / "threads"),
                         [tree_stamps(d) for d in asset_dirs])
    links: set[str] = set()
    articles = tree_stamps(content / "articles", links)
    return Inputs(others, articles, frozenset(links))


FORMAT = 4  # of the last-build record (and of the `built` table's feeds); an older record is ignored


def quick_build(cache: BuildCache, config: Config, site_dir: Path, output_dir: Path,
                inputs: Inputs | None) -> tuple[dict, int, int] | None:
    """(counts, files rendered, bytes written) when nothing changed or a patch did, None to build properly."""
    if inputs is None or not output_dir.is_dir():
        return None
    saved = cache.get_meta(f"last-build:{output_dir.resolve()}")
    last = json.loads(saved) if saved else None
    if not isinstance(last, dict) or last.get("format") != FORMAT or last["others"] != inputs.others:
        return None
    built = cache.built_stamps(output_dir)  # the same files, listed alike: one comparison of two lists
    if built == inputs.articles:
        return (last["counts"], 0, 0) if _output_intact(cache, output_dir) else None
    if [rel for rel, _, _ in built] != [rel for rel, _, _ in inputs.articles]:
        return None  # articles added or removed
    changed = {rel: (m, s) for new, (rel, m, s) in zip(inputs.articles, built, strict=True) if new[1:] != (m, s)}
    if len(changed) > MAX_PATCHED_ARTICLES:
        return None
    return _patch_text_edits(cache, config, site_dir, output_dir, inputs, last["counts"], changed)


def _output_intact(cache: BuildCache, output_dir: Path) -> bool:
    """Whether every file of output/ the manifest lists has the size and mtime it records."""
    prefix = os.path.join(output_dir, "")  # string joins: this stats every file of the site
    for rel, size, mtime_ns in cache.manifest_stamps(output_dir):
        try:
            st = os.stat(prefix + rel)
        except OSError:
            return False
        if st.st_size != size or st.st_mtime_ns != mtime_ns:
            return False
    return True


def remember_build(cache: BuildCache, output_dir: Path, inputs: Inputs | None, counts: dict | None,
                   feed_members: dict[str, list[str]] | None = None, patched: Iterable[str] = ()) -> None:
    """Keep what this build was made from and its counts; with `feed_members` (a full build) which
    full-content feeds list which article, else only the new stamps of the `patched` articles."""
    key = f"last-build:{output_dir.resolve()}"
    if inputs is None or counts is None:
        cache.set_meta(key, None)
        return
    if feed_members is not None:
        cache.record_built(output_dir, inputs.stamps, feed_members)
    else:
        cache.record_built(output_dir, {rel: inputs.stamps[rel] for rel in patched}, None)
    cache.set_meta(key, json.dumps({"format": FORMAT, "others": inputs.others, "counts": counts}))


def _patch_text_edits(cache: BuildCache, config: Config, site_dir: Path, output_dir: Path, inputs: Inputs,
                      counts: dict, built: dict[str, tuple[int, int]]) -> tuple[dict, int, int] | None:
    """Patch the pages and feeds of the changed articles (their stamps as built) if their body text alone changed."""
    if config.search.enabled:
        return None
    changed = list(built)
    old_articles = cache.load_articles_as_built(built)
    articles_dir = site_dir / "content" / "articles"
    md = Markdown()
    edits = []
    for rel in changed:
        old = old_articles.get(rel)
        try:
            new = read_article(articles_dir / rel, rel, f"content/articles/{rel}", config, md)
        except NewsdigestError:
            return None
        if old is None or replace(old, body=None) != replace(new, body=None):
            return None
        edits.append((rel, old, new))
    patches = _patches(edits, cache.feeds_listing(output_dir, changed), output_dir, config)
    if patches is None:
        return None
    replaced = cache.manifest_rows(output_dir, patches)
    if replaced.keys() != patches.keys():
        return None
    with OutputWriter(output_dir, previous=replaced, patch=True) as out:
        recorded = cache.manifest_rows(output_dir, out.unrecorded)
        if len(recorded) != len(out.unrecorded) or not _output_intact(cache, output_dir):
            return None  # output/ is not as the manifest says: build it properly
        for rel, data in patches.items():
            out.write(rel, data, owner=rel, key="patched " + fingerprint(rel, data))
        out.commit()
        cache.save_manifest(output_dir, out.manifest, replaced)
    cache.store_articles([(rel, *inputs.stamps[rel], markdown_renderer_name(), new.fingerprint, new)
                          for rel, _, new in edits], keep_replaced=True)
    counts = counts | {"bytes": counts["bytes"] + out.site_bytes - sum(size for _, size, _ in replaced.values())}
    remember_build(cache, output_dir, inputs, counts, patched=changed)
    return counts, len(patches), out.bytes_written


def _patches(edits: list[tuple[str, Article, Article]], feed_members: dict[str, list[str]], output_dir: Path,
             config: Config) -> dict[str, bytes] | None:
    """New bytes of each file that shows an edited body, or None if a body is not where expected."""
    patches: dict[str, bytes] = {}

    def patch(rel: str, old: str, new: str) -> bool:
        current = patches.get(rel)
        try:
            text = current.decode("utf-8") if current is not None else (output_dir / rel).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):  # deleted or spoiled by hand: a full build writes it again
            return False
        if text.count(old) != 1:
            return False
        patches[rel] = text.replace(old, new).encode("utf-8")
        return True

    for rel, old, new in edits:
        if not patch(urls.output_file(old.route), old.body_html, new.body_html):
            return None
        routes = feed_members.get(rel, [])
        if not routes:
            continue  # in no full-content feed (summary items only): the body is in none of them
        from .feeds import make_entries  # feedgen and lxml: imported only when a feed is patched
        (old_rss, old_atom), = make_entries([(old, True)], config).values()
        (new_rss, new_atom), = make_entries([(new, True)], config).values()
        for route in routes:
            if not (patch(urls.feed_route(route, "rss"), old_rss, new_rss)
                    and patch(urls.feed_route(route, "atom"), old_atom, new_atom)):
                return None
    return patches
