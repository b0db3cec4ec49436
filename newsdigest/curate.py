"""`entities` and `threads`: let an editor inspect and correct the language work.

These commands read content/ and print; `threads --recompute` is the one that
writes, and only the `thread:` line of articles whose thread ingest chose.
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
from collections import Counter
from pathlib import Path

from .config import Config
from .content import gather_site, load_articles, load_registries
from .entity_registry import find_duplicates
from .frontmatter import read_front_matter_file
from .ingest import assigned_thread, read_thread_docs
from .threads import recompute_threads

log = logging.getLogger(__name__)


def print_entities(site_dir: Path, config: Config) -> int:
    """List entities by type with article counts, then likely duplicates to curate."""
    articles, errors = load_articles(site_dir / "content" / "articles", config)
    registry, notes, reg_errors = load_registries(site_dir / "content")
    for error in errors + reg_errors:
        log.warning("%s", error)
    site = gather_site(articles, config, registry=registry, thread_notes=notes)
    rows = sorted(site.entities.values(), key=lambda e: (e.type, -len(e.articles), e.name))
    print(table(["type", "articles", "name", "page"],
                [[e.type, str(len(e.articles)), e.name, e.route] for e in rows]))
    mentions = {a.key: a.entities for a in site.articles}
    duplicates = find_duplicates(mentions, registry)
    if duplicates:
        print("\nLikely duplicates (same type, overlapping names) - curate them in content/entities/:")
        for line in duplicates:
            print(f"  {line}")
    return 1 if errors or reg_errors else 0


def print_threads(site_dir: Path, config: Config, *, recompute: bool = False, dry_run: bool = False) -> int:
    """List threads; with `recompute`, re-thread the archive and print (or apply) the moves."""
    articles_dir = site_dir / "content" / "articles"
    if not recompute:
        articles, errors = load_articles(articles_dir, config)
        registry, notes, reg_errors = load_registries(site_dir / "content")
        site = gather_site(articles, config, registry=registry, thread_notes=notes)
        rows = [[t.id, str(len(t.articles)), f"{t.first.date:%Y-%m-%d}", f"{t.latest.date:%Y-%m-%d}", t.title]
                for t in site.threads_by_latest()]
        print(table(["thread", "articles", "first", "latest", "title"], rows))
        return 1 if errors or reg_errors else 0
    docs = read_thread_docs(articles_dir, config, pinned_only=True)
    current = {d.slug: _current_thread(articles_dir / f"{d.slug}.md") for d in docs}
    tmp = Path(tempfile.mkdtemp(prefix="threads-"))
    try:
        new = recompute_threads(docs, config.threads, tmp / "threads.sqlite")
        moves = sorted((slug, current[slug], new[slug]) for slug in new if new[slug] != current[slug])
        if not dry_run:
            cache = site_dir / ".cache" / "threads.sqlite"
            cache.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(tmp / "threads.sqlite", cache)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for slug, old, thread in moves:
        print(f"{slug}: {old} -> {thread}")
        if not dry_run:
            _rewrite_thread(articles_dir / f"{slug}.md", thread)
    pinned = sum(1 for d in docs if d.thread)
    counts = Counter(new.values())
    print(f"{len(moves)} of {len(docs)} articles {'would move' if dry_run else 'moved'}; "
          f"{len(counts)} threads; {pinned} pinned by the editor kept")
    return 0


def table(header: list[str], rows: list[list[str]]) -> str:
    """A plain text table, columns padded to their widest cell."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
             for row in [header, ["-" * w for w in widths], *rows]]
    return "\n".join(lines)


def _current_thread(path: Path) -> str | None:
    data, _, _ = read_front_matter_file(path)
    return str(data["thread"]) if data.get("thread") else None


def _rewrite_thread(path: Path, thread: str) -> None:
    """Change only the `thread:` value and ingest's record of it; the rest of the file stays as written."""
    text = path.read_text(encoding="utf-8")
    head, sep, body = text.partition("\n---")
    data, _, _ = read_front_matter_file(path)
    old = assigned_thread(data)
    head = re.sub(r"^thread:.*$", f"thread: {thread}", head, count=1, flags=re.M)
    if old:
        head = re.sub(rf"(^wire:.*\bthread: ){re.escape(old)}\b", rf"\g<1>{thread}", head, count=1, flags=re.M)
    path.write_text(head + sep + body, encoding="utf-8")
