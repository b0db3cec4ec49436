"""Pages: a `Site` in, (route, HTML) pairs out. Pure: nothing here touches the disk.

One Jinja environment, built here: StrictUndefined, autoescape for HTML and XML,
filters registered explicitly. Templates get data and the `url` filter; they
hold no business logic.
"""

from __future__ import annotations

import datetime as dt
import math
import traceback
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from pathlib import Path

import jinja2
from markupsafe import Markup

from . import charts, seo, urls
from .config import Config
from .content import TYPE_LABELS, Article, Entity, EntityRef, Site, Thread
from .digest import Day
from .errors import TemplateError
from .plan import DeferredPage
from .related import RelatedStories
from .search import SearchFilters, article_markers, choose_filters, entity_markers, thread_markers
from .templating import Environment

# Where an article page shows its body (`body` in article.html's context): `page_payload` puts
# the body's stored UTF-8 bytes there. Control characters never reach a page from content.
BODY_MARK = Markup("\x00newsdigest:article-body\x00")
TEMPLATE_EXTENSIONS = ("html", "xml", "txt")  # what the page and feed generators render


def page_payload(html: str, context: dict) -> str | bytes:
    """What to write for a rendered page: with its article's body spliced in as stored, in UTF-8.

    A body is most of an article page, and most bodies hold a curly quote or a dash: put
    into the page's text, it makes the whole page two bytes a character, to decode, copy and
    encode again, ~40 µs a page. Spliced in as bytes, only the rest of the page is encoded.
    """
    article = context.get("article")
    if type(article) is not Article or BODY_MARK not in html:
        return html
    return article.body_utf8.join([part.encode("utf-8") for part in html.split(BODY_MARK)])


def make_environment(config: Config, template_dirs: Sequence[Path]) -> jinja2.Environment:
    """The one Jinja environment: a site's templates first, then the defaults.

    It lives for one build (the preview server makes a new one for each rebuild), so it
    does not look at the template files again on each page (that was five `stat`s a page),
    and keeps every template it loads in a plain dict, not an LRU cache behind a lock.
    """
    env = Environment(
        loader=jinja2.FileSystemLoader([str(d) for d in template_dirs if d.is_dir()]),
        autoescape=jinja2.select_autoescape(["html", "xml", "svg"], default_for_string=True),
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True, auto_reload=False, cache_size=-1)
    link = urls.Urls(config.base_url, config.base_path)
    tz = config.tz

    def local(value: dt.datetime | dt.date) -> dt.datetime | dt.date:
        return value.astimezone(tz) if isinstance(value, dt.datetime) else value

    env.filters.update(
        url=link.link, absolute=link.absolute,
        date=_remembered(lambda v: local(v).strftime(config.date_format)),
        datetime=_remembered(lambda v: local(v).strftime(config.date_format + ", %H:%M %Z")),
        isodate=_remembered(lambda v: local(v).isoformat()),
        # the machine-readable twin of `date`: the day shown, in the site's zone (not the full time)
        isoday=_remembered(lambda v: (v.astimezone(tz).date() if isinstance(v, dt.datetime) else v).isoformat()),
        type_label=lambda t: TYPE_LABELS.get(t, t),
        plural=lambda n, one, many=None: one if n == 1 else (many or one + "s"),
    )
    env.globals.update(config=config, site_title=config.title, type_labels=TYPE_LABELS,
                       feed_route=urls.feed_route, asset=lambda name: link.link(urls.asset_route(name)),
                       day_route=urls.digest_route, month_route=lambda d: urls.archive_route(d.year, d.month),
                       search_route=urls.search_route() if config.search.enabled else None)
    return env


def compile_templates(env: jinja2.Environment) -> None:
    """Compile the environment's templates now, into its cache (a fork of this process gets them
    compiled). A template that fails is left out: rendering with it says what is wrong, as before."""
    for name in env.list_templates(extensions=TEMPLATE_EXTENSIONS):
        try:
            env.get_template(name)
        except (jinja2.TemplateError, UnicodeDecodeError, OSError):
            pass


def _remembered(fn: Callable[[object], str]) -> Callable[[object], str]:
    """`fn`, remembering its result for each value: pages show the same dates thousands of times."""
    memo: dict[object, str] = {}

    def remembered(value: object) -> str:
        try:
            return memo[value]
        except KeyError:
            out = memo[value] = fn(value)
            return out
        except TypeError:  # unhashable: not a date, and `fn` says what is wrong with it
            return fn(value)

    return remembered


def render(env: jinja2.Environment, template: str, **context) -> str:
    """Render one template; template mistakes become a TemplateError naming file and line."""
    try:
        return env.get_template(template).render(**context)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"template syntax error: {exc.message}", exc.filename or exc.name,
                            exc.lineno) from exc
    except jinja2.TemplateNotFound as exc:
        raise TemplateError(f"template not found: {exc.name}", "templates/") from exc
    except jinja2.UndefinedError as exc:
        raise TemplateError(f"{exc.message} while rendering", *_template_line(exc, env, template)) from exc
    except (TypeError, ValueError, LookupError, AttributeError, ArithmeticError) as exc:
        # A mistake in a site's own template (`{{ title + 1 }}`): name its file and line, not a traceback.
        raise TemplateError(f"{type(exc).__name__} while rendering: {exc}",
                            *_template_line(exc, env, template)) from exc


def _template_line(exc: Exception, env: jinja2.Environment, name: str) -> tuple[str, int | None]:
    """The template file and line an exception came from (Jinja puts them in the traceback)."""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename.endswith((".html", ".xml", ".txt", ".svg")):
            return frame.filename, frame.lineno
    return _template_file(env, name), None


def _template_file(env: jinja2.Environment, name: str) -> str:
    try:
        return env.get_template(name).filename or name
    except jinja2.TemplateError:
        return name


def render_site(site: Site, env, config: Config) -> Iterator[tuple[str, object]]:
    """Every HTML page of the site but the days' (`render_archive`, `render_digest.render_digest_pages`),
    as (route, page), in a stable order.

    Article, story and entity pages come deferred (`DeferredPage`): they are most of the site
    and of the planning, so each is made where it is rendered, on every core.
    """
    ctx = _Context(site, config)
    for article in site.articles:
        yield article.route, DeferredPage(partial(render_article, article, env, ctx))
    yield from render_thread_pages(site, env, config, ctx)
    yield from render_entity_pages(site, env, ctx)
    yield "404.html", render(env, "404.html", page_title="Page not found", feeds=[])
    for redirect in site.redirects:
        yield redirect.route, render(env, "redirect.html", target=redirect.target,
                                     page_title="Moved", feeds=[])


class _Context:
    """Lookups the templates need, computed once per build (or once per story, when first asked)."""

    def __init__(self, site: Site, config: Config) -> None:
        self.site = site
        self.config = config
        self.refs = {key: entity.ref for key, entity in site.entities.items()}
        self.related = RelatedStories(site)
        self.offered = choose_filters(site, config.search) if config.search.enabled else SearchFilters()
        self._positions: dict[str, dict[str, int]] = {}

    def entities_of(self, article: Article) -> list[tuple[str, list[EntityRef]]]:
        refs = self.refs
        return [(kind, [refs[(kind, n)] for n in article.entities[kind] if (kind, n) in refs])
                for kind in TYPE_LABELS if article.entities.get(kind)]

    def key_entities(self, thread: Thread, limit: int = 6) -> list[EntityRef]:
        return [self.refs[k] for k in thread.entities[:limit] if k in self.refs]

    def thread_of(self, article: Article) -> Thread | None:
        return self.site.threads.get(article.thread_id)

    def position(self, thread: Thread, article: Article) -> int:
        """Where `article` is in its story (0 if it is not): each story's articles are looked through once."""
        positions = self._positions.get(thread.id)
        if positions is None:
            positions = self._positions[thread.id] = {}
            for n, a in enumerate(thread.articles):
                positions.setdefault(a.key, n)
        return positions.get(article.key, 0)


def render_article(article: Article, env, ctx: _Context) -> str:
    thread = ctx.thread_of(article)
    groups = ctx.entities_of(article)
    # The story's feed and the site's: each person's, organisation's and place's feeds are advertised
    # on its page, one click away; four <link>s more per article weigh 27 MB at 50,000 articles.
    return render(env, "article.html", page_title=article.title, article=article, body=BODY_MARK, thread=thread,
                  entity_groups=groups, canonical=article.route,
                  feeds=([(thread.route, f"Story: {thread.title}")] if thread and len(thread.articles) > 1
                         else []) + [("", ctx.config.title)],
                  page_meta=seo.article_meta(article, thread, ctx.config),
                  related_stories=ctx.related.of(article, ctx.config.article.related_stories),
                  story=story_window(thread, ctx.position(thread, article), ctx.config.article.story_window)
                  if thread else [],
                  search_markers=article_markers(article, thread, ctx.config, ctx.offered)
                  if ctx.config.search.enabled else "")


def story_window(thread: Thread, here: int, size: int) -> list[Article]:
    """At most `size` articles of the story, oldest first, with its article `here` as near the middle as can be."""
    start = max(0, min(here - size // 2, len(thread.articles) - size))
    return list(thread.articles[start:start + size])


def render_thread_pages(site: Site, env, config: Config, ctx: _Context) -> Iterator[tuple[str, object]]:
    for thread in sorted(site.threads.values(), key=lambda t: t.id):
        yield thread.route, DeferredPage(partial(render_thread, thread, env, ctx))
    threads = site.threads_by_latest()
    pages = max(1, math.ceil(len(threads) / config.per_page))
    for page in range(1, pages + 1):
        route = urls.threads_index_route()
        yield urls.page_route(route, page), render(
            env, "threads.html", page_title="Stories", threads=threads[(page - 1) * config.per_page:
                                                                    page * config.per_page],
            pagination=_pagination(route, page, pages), feeds=[("", config.title)],
            canonical=urls.page_route(route, page))


def render_thread(thread: Thread, env, ctx: _Context) -> str:
    config = ctx.config
    updates = []
    seen: set[tuple[str, str]] = set()
    for article in thread.articles:
        keys = [(k, n) for k, names in article.entities.items() for n in names]
        new = [ctx.refs[k] for k in keys if k not in seen and k in ctx.refs][:6]
        seen.update(keys)
        updates.append({"article": article, "new_entities": new if len(updates) else []})
    # one dot on a line says nothing the story's date does not
    timeline = charts.thread_timeline([a.date for a in thread.articles], config.tz) \
        if len(thread.articles) > 1 else ""
    return render(
        env, "thread.html", page_title=thread.title, thread=thread, updates=updates,
        entities=ctx.key_entities(thread, 12), timeline_svg=timeline, canonical=thread.route,
        feeds=[(thread.route, f"Story: {thread.title}"), ("", config.title)],
        page_meta=seo.thread_meta(thread, config),
        search_markers=thread_markers(thread, config, ctx.offered)
        if config.search.enabled and len(thread.articles) > 1 else "")


def render_entity_pages(site: Site, env, ctx: _Context) -> Iterator[tuple[str, object]]:
    config = ctx.config
    for key in sorted(site.entities):
        entity = site.entities[key]
        chunks = entity_page_articles(entity.articles, config.entities.page_summaries, config.entities.page_lines)
        for page, chunk in enumerate(chunks, start=1):
            yield urls.page_route(entity.route, page), DeferredPage(
                partial(render_entity_page, entity, page, len(chunks), chunk, env, ctx))
    by_type: dict[str, list[Entity]] = defaultdict(list)
    for entity in site.entities.values():
        by_type[entity.type].append(entity)
    for kind in by_type:
        by_type[kind].sort(key=lambda e: (-len(e.articles), e.name.lower(), e.name))
    minimum = config.entities.index_min_articles
    listed = {k: [e for e in v if len(e.articles) >= minimum] or v[:50] for k, v in by_type.items()}
    yield urls.entity_index_route(), render(
        env, "entities.html", page_title="People, organizations and places",
        groups=[(k, listed.get(k, [])[:24], len(by_type.get(k, []))) for k in TYPE_LABELS],
        feeds=[("", config.title)], canonical=urls.entity_index_route())
    for kind in TYPE_LABELS:
        entities = listed.get(kind, [])
        letters: dict[str, list[Entity]] = defaultdict(list)
        for e in sorted(entities, key=lambda e: (e.name.lower(), e.name)):
            first = e.name[:1].upper()
            letters[first if first.isalpha() else "#"].append(e)
        yield urls.entity_index_route(kind), render(
            env, "entity_index.html", page_title=TYPE_LABELS[kind], kind=kind, top=entities[:30],
            letters=sorted(letters.items()), total=len(by_type.get(kind, [])), minimum=minimum,
            feeds=[("", config.title)], canonical=urls.entity_index_route(kind))


def render_entity_page(entity: Entity, page: int, pages: int, articles: Sequence[Article], env,
                       ctx: _Context) -> str:
    """Page `page` of `pages` of an entity's articles; the first also shows its chart, stories and company."""
    site, config, first = ctx.site, ctx.config, page == 1
    return render(
        env, "entity.html", page_title=entity.name if first else f"{entity.name}, page {page}", entity=entity,
        related=[ctx.refs[k] for k in entity.related if k in ctx.refs] if first else [],
        threads=[site.threads[t] for t in entity.threads if t in site.threads][:20] if first else [],
        articles=articles, timeline_svg=charts.mention_timeline([a.date for a in entity.articles], config.tz)
        if first else "", page=page,
        pagination=_pagination(entity.route, page, pages), canonical=urls.page_route(entity.route, page),
        feeds=[(entity.route, f"{entity.name}"), ("", config.title)],
        page_meta=seo.entity_meta(entity, config),
        search_markers=entity_markers(entity, config, ctx.offered) if config.search.enabled and first else "")


def entity_page_articles(articles: Sequence[Article], first: int, lines: int) -> list[Sequence[Article]]:
    """An entity's articles, newest first, page by page: `first` shown with summaries, then `lines` a page
    in brief, so big entities stay a few pages."""
    older = articles[first:]
    return [articles[:first]] + [older[i:i + lines] for i in range(0, len(older), lines)]


def render_archive(site: Site, env, config: Config, digest_days: Sequence[Day] = ()) -> Iterator[tuple[str, str]]:
    """Archive by month, each month listing its days' articles (and days that brought only updates)."""
    months: dict[tuple[int, int], list[Article]] = defaultdict(list)
    for article in site.articles:
        d = article.date.astimezone(config.tz)
        months[(d.year, d.month)].append(article)
    updates = {d.date: d.update_count for d in digest_days if d.update_count}
    for date in updates:
        months.setdefault((date.year, date.month), [])
    ordered = sorted(months, reverse=True)
    yield urls.archive_route(), render(
        env, "archive.html", page_title="Archive", feeds=[("", config.title)],
        months=[{"year": y, "month": m, "label": dt.date(y, m, 1).strftime("%B %Y"),
                 "route": urls.archive_route(y, m), "count": len(months[(y, m)]),
                 "days": len({a.date.astimezone(config.tz).date() for a in months[(y, m)]}
                             | {d for d in updates if (d.year, d.month) == (y, m)})} for y, m in ordered],
        canonical=urls.archive_route())
    for i, (y, m) in enumerate(ordered):
        days: dict[dt.date, list[Article]] = defaultdict(list)
        for article in months[(y, m)]:
            days[article.date.astimezone(config.tz).date()].append(article)
        for date in updates:
            if (date.year, date.month) == (y, m):
                days.setdefault(date, [])
        newer = ordered[i - 1] if i > 0 else None
        older = ordered[i + 1] if i + 1 < len(ordered) else None
        yield urls.archive_route(y, m), render(
            env, "month.html", page_title=dt.date(y, m, 1).strftime("%B %Y"),
            days=[(day, urls.digest_route(day), arts, updates.get(day, 0))
                  for day, arts in sorted(days.items(), reverse=True)],
            feeds=[("", config.title)],
            newer=urls.archive_route(*newer) if newer else None,
            older=urls.archive_route(*older) if older else None, canonical=urls.archive_route(y, m))


def _pagination(route: str, page: int, pages: int) -> dict | None:
    if pages <= 1:
        return None
    return {"page": page, "pages": pages,
            "newer": urls.page_route(route, page - 1) if page > 1 else None,
            "older": urls.page_route(route, page + 1) if page < pages else None}
