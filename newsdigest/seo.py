"""What search engines and link previews read: schema.org JSON-LD and OpenGraph facts.

Pure: articles, threads and entities in, `PageMeta` out. JSON-LD is built here
as data and serialised with `json.dumps`, `<`, `>` and `&` escaped so no value
can close the script element; templates only place it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from markupsafe import Markup

from . import urls
from .config import Config
from .content import Article, Entity, Thread

SCHEMA_TYPES = {"person": "Person", "organization": "Organization", "place": "Place"}
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))  # `json.dumps` would make one a page


@dataclass(frozen=True)
class PageMeta:
    """OpenGraph type, article times and the JSON-LD script of one page."""

    og_type: str = "website"
    published: str = ""
    modified: str = ""
    section: str = ""
    jsonld: Markup = Markup("")


def to_script(data: dict) -> Markup:
    """JSON for a `<script type="application/ld+json">`, safe inside HTML."""
    text = _JSON.encode(data)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def _publisher(config: Config) -> dict:
    return {"@type": "Organization", "name": config.author or config.title, "url": config.base_url}


def article_meta(article: Article, thread: Thread | None, config: Config) -> PageMeta:
    """`NewsArticle`: headline, dates, authors, dateline place, source and publisher.

    Only what the rest of the page does not already say, at 50,000 pages: no description
    (the meta description), language (`<html lang>`), story (`article:section` and the story
    link) or mentions (the entity links, each to a page with its own typed JSON-LD).
    """
    link = urls.Urls(config.base_url, config.base_path)
    url = link.absolute(article.route)
    published = article.date.isoformat()
    modified = (article.updated or article.date).isoformat()
    data: dict = {
        "@context": "https://schema.org", "@type": "NewsArticle", "url": url, "headline": article.title,
        "datePublished": published, "dateModified": modified,
    }
    if article.byline:
        data["author"] = [{"@type": "Person", "name": name} for name in article.byline]
    else:
        data["author"] = {"@type": "Organization", "name": article.source_name or config.author or config.title}
    if article.dateline:
        data["locationCreated"] = {"@type": "Place", "name": article.dateline}
    if article.source_name:
        data["sourceOrganization"] = {"@type": "Organization", "name": article.source_name}
    data["publisher"] = _publisher(config)
    return PageMeta(og_type="article", published=published, modified=modified,
                    section=thread.title if thread and len(thread.articles) > 1 else "", jsonld=to_script(data))


def thread_meta(thread: Thread, config: Config) -> PageMeta:
    """`CollectionPage`: the story's name and dates (its articles are the page's links, its
    summary the meta description)."""
    link = urls.Urls(config.base_url, config.base_path)
    url = link.absolute(thread.route)
    data = {
        "@context": "https://schema.org", "@type": "CollectionPage", "@id": url, "url": url,
        "name": thread.title, "inLanguage": config.language, "dateCreated": thread.first.date.isoformat(),
        "dateModified": thread.latest.date.isoformat(), "publisher": _publisher(config),
    }
    return PageMeta(jsonld=to_script(data))


def entity_meta(entity: Entity, config: Config) -> PageMeta:
    """`Person`, `Organization` or `Place`, with its other names."""
    link = urls.Urls(config.base_url, config.base_path)
    url = link.absolute(entity.route)
    kind = SCHEMA_TYPES[entity.type]
    data: dict = {"@context": "https://schema.org", "@type": kind, "@id": url, "url": url,
                  "name": entity.name, "mainEntityOfPage": url}
    if entity.aliases:
        data["alternateName"] = list(entity.aliases)
    return PageMeta(og_type="profile" if kind == "Person" else "website", jsonld=to_script(data))


def site_meta(config: Config) -> PageMeta:
    """`WebSite` on the front page, with the search page as its search action."""
    data: dict = {"@context": "https://schema.org", "@type": "WebSite", "url": config.base_url,
                  "name": config.title, "description": config.description, "inLanguage": config.language,
                  "publisher": _publisher(config)}
    if config.search.enabled:
        target = urls.Urls(config.base_url, config.base_path).absolute(urls.search_route())
        data["potentialAction"] = {"@type": "SearchAction", "target": f"{target}?q={{query}}",
                                   "query-input": "required name=query"}
    return PageMeta(jsonld=to_script(data))
