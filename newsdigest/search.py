"""Static search with Pagefind: page attributes that say what to index, and the indexer run.

Pagefind (the `pagefind[bin]` package ships its binary; nothing is downloaded)
reads the built pages and writes its index and UI into `pagefind/`. Only
elements carrying `data-pagefind-body` are indexed: article bodies, thread and
entity headers. Filters (type of page, story, person, organization, place, year,
month), metadata (date, byline) and the date sort key are empty marker spans, one
key each (Pagefind reads one key per attribute).

Only the most-mentioned people, organizations, places and stories become filter
values (`search.filter_min_articles`, `search.filter_values`): at 10k articles a
filter listing every name would run to thousands of checkboxes. Every name is
still found by text, in article bodies and on its own page.

Pagefind writes its metadata file with filters in hash-map order, which varies
between runs; `_canonical_meta` sorts them so the same site gives the same bytes.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import shutil
import subprocess
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup, escape

from . import urls
from .config import Config, SearchSettings
from .content import Article, Entity, Site, Thread
from .errors import BuildError

log = logging.getLogger(__name__)

_META_SIGNATURE = b"pagefind_dcd"
TYPE_NAMES = {"person": "Person", "organization": "Organization", "place": "Place"}
# Pagefind ships three UIs; the search page uses the default one, so the others are not deployed.
UNUSED_UI = ("pagefind-component-ui.css", "pagefind-component-ui.js", "pagefind-modular-ui.css",
             "pagefind-modular-ui.js", "pagefind-highlight.js")


@dataclass(frozen=True)
class SearchReport:
    """What the indexer did: pages indexed, files and bytes of the bundle, seconds taken."""

    pages: int
    files: int
    bytes: int
    seconds: float


@dataclass(frozen=True)
class SearchFilters:
    """The entities (type, name) and story ids offered as filter values on the search page."""

    entities: frozenset[tuple[str, str]] = frozenset()
    stories: frozenset[str] = frozenset()


def choose_filters(site: Site, settings: SearchSettings) -> SearchFilters:
    """Per type, the entities and stories in the most articles (at least `filter_min_articles`)."""
    least, limit = settings.filter_min_articles, settings.filter_values or None
    entities: set[tuple[str, str]] = set()
    for kind in TYPE_NAMES:
        ranked = sorted((-len(e.articles), e.name, key) for key, e in site.entities.items()
                        if key[0] == kind and len(e.articles) >= least)
        entities.update(key for _, _, key in ranked[:limit])
    stories = sorted((-len(t.articles), t.title, t.id) for t in site.threads.values()
                     if len(t.articles) >= max(2, least))
    return SearchFilters(entities=frozenset(entities), stories=frozenset(tid for _, _, tid in stories[:limit]))


def find_pagefind() -> Path | None:
    """The Pagefind binary: $PAGEFIND_BINARY_PATH, the pagefind_bin package, or the PATH."""
    if os.environ.get("PAGEFIND_BINARY_PATH"):
        return Path(os.environ["PAGEFIND_BINARY_PATH"])
    try:
        from pagefind_bin import get_executable
        return Path(get_executable())
    except (ImportError, FileNotFoundError):
        found = shutil.which("pagefind_extended") or shutil.which("pagefind")
        return Path(found) if found else None


def search_markers(kind: str, *, filters: Mapping[str, Iterable[str]] = {},
                   meta: Mapping[str, str] = {}, sort: Mapping[str, str] = {}) -> Markup:
    """Empty spans telling Pagefind a page's filters, metadata and sort keys (one key each)."""
    spans = [("filter", "Type", kind)]
    spans += [("filter", key, value) for key, values in filters.items() for value in values if value]
    spans += [("meta", key, value) for key, value in meta.items() if value]
    spans += [("sort", key, value) for key, value in sort.items() if value]
    return Markup("".join(f'<span data-pagefind-{what}="{escape(key)}:{escape(" ".join(str(value).split()))}"></span>'
                          for what, key, value in spans))


def article_markers(article: Article, thread: Thread | None, config: Config, offered: SearchFilters) -> Markup:
    """An article: its story, the entities it mentions, its month; byline and date to show."""
    local = article.date.astimezone(config.tz)
    filters = {"Story": [thread.title] if thread and thread.id in offered.stories else []}
    filters.update({TYPE_NAMES[k]: [n for n in article.entities.get(k, ()) if (k, n) in offered.entities]
                    for k in TYPE_NAMES})
    filters.update(Year=[f"{local:%Y}"], Month=[f"{local:%Y-%m}"])
    return search_markers("Article", filters=filters,
                          meta={"date": local.strftime(config.date_format), "byline": ", ".join(article.byline),
                                "dateline": article.dateline},
                          sort={"date": local.isoformat()})


def thread_markers(thread: Thread, config: Config, offered: SearchFilters) -> Markup:
    """A story: its title as the story filter, its key entities, the months it spans."""
    months = sorted({a.date.astimezone(config.tz).strftime("%Y-%m") for a in thread.articles})
    filters: dict[str, list[str]] = {"Story": [thread.title] if thread.id in offered.stories else []}
    for kind, name in thread.entities:
        if (kind, name) in offered.entities:
            filters.setdefault(TYPE_NAMES[kind], []).append(name)
    filters.update(Year=sorted({m[:4] for m in months}), Month=months)
    latest = thread.latest.date.astimezone(config.tz)
    return search_markers("Story", filters=filters,
                          meta={"date": latest.strftime(config.date_format)}, sort={"date": latest.isoformat()})


def entity_markers(entity: Entity, config: Config, offered: SearchFilters) -> Markup:
    """A person, organisation or place: found by its name and its type."""
    latest = entity.articles[0].date.astimezone(config.tz) if entity.articles else None
    own = [entity.name] if (entity.type, entity.name) in offered.entities else []
    return search_markers(TYPE_NAMES[entity.type], filters={TYPE_NAMES[entity.type]: own},
                          meta={"date": latest.strftime(config.date_format) if latest else ""},
                          sort={"date": latest.isoformat() if latest else ""})


def index_site(folder: Path, bundle: Path | None = None, binary: Path | None = None) -> SearchReport:
    """Run Pagefind over a built folder; its bundle lands in `bundle` (default: folder/pagefind/)."""
    binary = binary or find_pagefind()
    if binary is None:
        raise BuildError("search: the Pagefind binary is missing", "requirements.txt",
                         hint="pip install 'pagefind[bin]', or set search: false in config.yaml")
    started = time.perf_counter()
    out = bundle or folder / urls.search_bundle_route()
    try:
        done = subprocess.run([str(binary), "--site", str(folder), "--output-path", str(out.resolve()), "--quiet"],
                              capture_output=True, text=True, timeout=1800, check=False)
    except OSError as exc:
        raise BuildError(f"search: cannot run Pagefind: {exc}", str(binary)) from exc
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise BuildError(f"search: Pagefind failed: {detail[-1] if detail else done.returncode}", str(binary))
    for name in UNUSED_UI:
        (out / name).unlink(missing_ok=True)
    pages = _canonical_meta(out)
    files = [p for p in out.rglob("*") if p.is_file()]
    report = SearchReport(pages=pages, files=len(files), bytes=sum(p.stat().st_size for p in files),
                          seconds=time.perf_counter() - started)
    log.info("search: %d pages indexed by Pagefind (%d files, %.1f MB) in %.2f s", report.pages, report.files,
             report.bytes / 1e6, report.seconds)
    return report


def _canonical_meta(bundle: Path) -> int:
    """Sort filter values, filter lists and sort lists; rename each changed file by its new hash."""
    entry_path = bundle / "pagefind-entry.json"
    text = entry_path.read_text(encoding="utf-8")
    renames = {}
    for path in sorted((bundle / "filter").glob("*.pf_filter")):
        data = _read_pf(path)
        if data is not None:
            renames[path.stem] = _rewrite(path, data, (1,))
    pages = 0
    for info in json.loads(text).get("languages", {}).values():
        old = bundle / f"pagefind.{info['hash']}.pf_meta"
        raw = _read_pf(old)
        if raw is None:
            continue
        for before, after in renames.items():
            raw = raw.replace(before.encode(), after.encode())
        new_hash = _rewrite(old, raw, (3, 4, 5))
        text = text.replace(f'"{info["hash"]}"', f'"{new_hash}"')
        pages += int(info.get("page_count", 0))
    entry_path.write_text(text, encoding="utf-8")
    return pages


def _read_pf(path: Path) -> bytes | None:
    raw = gzip.decompress(path.read_bytes())
    return raw if raw.startswith(_META_SIGNATURE) else None


def _rewrite(path: Path, raw: bytes, positions: tuple[int, ...]) -> str:
    """Write `raw` with the lists at `positions` sorted, named by its hash like Pagefind does."""
    body = raw[:len(_META_SIGNATURE)] + _sort_lists(raw[len(_META_SIGNATURE):], positions)
    name, _, suffix = path.name.rpartition(".")
    prefix, _, old_hash = name.rpartition("_")
    stem = f"{prefix}_{hashlib.sha256(body).hexdigest()[:len(old_hash)]}"
    path.unlink()
    (path.parent / f"{stem}.{suffix}").write_bytes(gzip.compress(body, 9, mtime=0))
    return stem.removeprefix("pagefind.")


def _sort_lists(data: bytes, positions: tuple[int, ...]) -> bytes:
    """Given a CBOR array, sort the items of its arrays at `positions` by their bytes."""
    count, start = _head(data, 0)
    spans, i = [], start
    for _ in range(count):
        end = _skip(data, i)
        spans.append((i, end))
        i = end
    out = bytearray(data[:start])
    for n, (a, b) in enumerate(spans):
        chunk = data[a:b]
        if n in positions and chunk[0] >> 5 == 4:
            inner_count, inner_start = _head(chunk, 0)
            items, j = [], inner_start
            for _ in range(inner_count):
                end = _skip(chunk, j)
                items.append(chunk[j:end])
                j = end
            chunk = chunk[:inner_start] + b"".join(sorted(items))
        out += chunk
    return bytes(out + data[i:])


def _head(data: bytes, i: int) -> tuple[int, int]:
    """A CBOR item's argument and where its content starts."""
    info = data[i] & 31
    if info < 24:
        return info, i + 1
    if info > 27:
        raise ValueError("indefinite-length CBOR is not expected in Pagefind metadata")
    n = 1 << (info - 24)
    return int.from_bytes(data[i + 1:i + 1 + n], "big"), i + 1 + n


def _skip(data: bytes, i: int) -> int:
    """The offset just past the CBOR item starting at i."""
    major = data[i] >> 5
    arg, start = _head(data, i)
    if major in (2, 3):
        return start + arg
    if major in (4, 5):
        for _ in range(arg * (2 if major == 5 else 1)):
            start = _skip(data, start)
        return start
    if major == 6:
        return _skip(data, start)
    return start
