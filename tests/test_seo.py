"""Metadata for search engines and link previews: JSON-LD, OpenGraph, sitemaps, robots.txt, feeds."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import feedparser
import pytest
from conftest import article, page, text_of

from newsdigest.build import build_site
from newsdigest.config import load_config
from newsdigest.content import gather_site, load_articles
from newsdigest.digest import group_days
from newsdigest.seo import to_script
from newsdigest.sitemap import render_sitemap

BASE = "https://user.github.io/repo/"
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
NEWS = "{http://www.google.com/schemas/sitemap-news/0.9}"


@pytest.fixture
def seo_site(site: Path) -> Path:
    article(site, "2024/01/10/early.md", "Early report", "2024-01-10T08:00:00+00:00", thread="early",
            entities={"person": ["Vladimir Putin"], "place": ["Kyiv"]})
    article(site, "2024/01/15/ties.md", "Russia says it will build ties", "2024-01-15T09:00:00+00:00",
            thread="rnk", entities={"person": ["Vladimir Putin", "Choe Son Hui"], "place": ["Moscow"]},
            extra="byline: [Josh Smith, Ju-min Park]\ndateline: SEOUL\nsource: Reuters\n"
                  "summary: Russia will develop ties </script><b>x</b>.")
    article(site, "2024/01/16/lauds.md", "Minister lauds ties", "2024-01-16T10:00:00+00:00",
            thread="rnk", entities={"person": ["Vladimir Putin", "Sergei Lavrov"],
                                    "organization": ["Kremlin"], "place": ["Moscow"]},
            extra="updated: 2024-01-16T12:30:00+00:00")
    article(site, "2024/01/17/quake.md", "Earthquake hits coast", "2024-01-17T12:00:00+00:00",
            thread="quake", entities={"place": ["Chile"]})
    build_site_ok(site)
    return site


def build_site_ok(site: Path) -> None:
    report = build_site(site, load_config(site))
    assert not report.errors, report.errors


def jsonld(doc) -> dict:
    (script,) = doc.css('script[type="application/ld+json"]')
    return json.loads(script.text())


def test_article_json_ld_matches_the_page(seo_site):
    doc = page(seo_site, "2024/01/15/ties/")
    data = jsonld(doc)
    assert data["@context"] == "https://schema.org" and data["@type"] == "NewsArticle"
    assert data["headline"] == text_of(doc, "h1")[0]
    assert data["datePublished"] == doc.css_first(".article time").attributes["datetime"]
    assert data["dateModified"] == "2024-01-15T09:00:00+00:00"
    assert [a["name"] for a in data["author"]] == ["Josh Smith", "Ju-min Park"]
    assert all(a["@type"] == "Person" for a in data["author"])
    assert data["locationCreated"] == {"@type": "Place", "name": "SEOUL"}
    assert data["publisher"]["@type"] == "Organization" and data["publisher"]["name"] == "Test Digest"
    assert data["url"] == BASE + "2024/01/15/ties/" == doc.css_first('link[rel="canonical"]').attributes["href"]
    # the story and the entities are links on the page (each entity page has its typed JSON-LD), not repeated
    assert "isPartOf" not in data and "mentions" not in data and "inLanguage" not in data
    assert doc.css_first(".kicker a").attributes["href"] == "/repo/threads/rnk/"
    assert doc.css_first('.related a[href="/repo/entities/person/choe-son-hui/"]').text() == "Choe Son Hui"
    assert "description" not in data  # the meta description carries the summary, which round-trips, yet...
    description = doc.css_first('meta[name="description"]').attributes["content"]
    assert description == "Russia will develop ties </script><b>x</b>."
    assert "</script><b>" not in doc.html  # ...cannot close the script element
    updated = jsonld(page(seo_site, "2024/01/16/lauds/"))
    assert updated["dateModified"] == "2024-01-16T12:30:00+00:00"
    assert updated["author"] == {"@type": "Organization", "name": "Test Digest"}  # no byline, no source


def test_to_script_escapes_what_could_end_the_script():
    text = str(to_script({"a": "</script><!-- & >"}))
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"a": "</script><!-- & >"}


def test_thread_and_entity_json_ld(seo_site):
    thread = page(seo_site, "threads/rnk/")
    data = jsonld(thread)
    assert data["@type"] == "CollectionPage" and data["name"] == text_of(thread, "h1")[0]
    assert data["dateCreated"] == "2024-01-15T09:00:00+00:00" and data["dateModified"] == "2024-01-16T10:00:00+00:00"
    assert "hasPart" not in data and "description" not in data  # the timeline's links, the meta description
    for kind, slug, schema in [("person", "vladimir-putin", "Person"), ("organization", "kremlin", "Organization"),
                               ("place", "moscow", "Place")]:
        doc = page(seo_site, f"entities/{kind}/{slug}/")
        data = jsonld(doc)
        assert data["@type"] == schema and data["name"] == text_of(doc, "h1")[0]
        assert data["url"] == BASE + f"entities/{kind}/{slug}/"
    front = jsonld(page(seo_site, ""))
    assert front["@type"] == "WebSite" and front["potentialAction"]["target"] == BASE + "search/?q={query}"


def test_opengraph_twitter_and_canonical(seo_site):
    doc = page(seo_site, "2024/01/15/ties/")
    og = {m.attributes["property"]: m.attributes["content"] for m in doc.css("meta[property]")}
    assert og["og:type"] == "article" and og["og:title"] == "Russia says it will build ties"
    assert og["og:url"] == BASE + "2024/01/15/ties/" and og["og:site_name"] == "Test Digest"
    assert og["og:description"] == doc.css_first('meta[name="description"]').attributes["content"]
    assert og["article:published_time"] == "2024-01-15T09:00:00+00:00"
    assert doc.css_first('meta[name="twitter:card"]').attributes["content"] == "summary"
    for route in ["", "threads/rnk/", "entities/place/moscow/", "digest/2024/01/16/", "archive/"]:
        doc = page(seo_site, route)
        assert doc.css_first('link[rel="canonical"]').attributes["href"] == BASE + route
        assert doc.css_first('meta[property="og:url"]').attributes["content"] == BASE + route


def test_long_summaries_are_shortened_for_search_results_and_previews(site):
    summary = "The minister said the two countries would deepen ties in trade, energy and security. " * 4
    article(site, "2024/01/15/long.md", "A long one", "2024-01-15T09:00:00+00:00", thread="long",
            extra=f"summary: {summary.strip()}")
    build_site_ok(site)
    doc = page(site, "2024/01/15/long/")
    description = doc.css_first('meta[name="description"]').attributes["content"]
    assert len(description) <= 161 and description.endswith("…")
    assert summary.startswith(description[:-1].rstrip())  # cut at a word, not in one
    assert doc.css_first('meta[property="og:description"]').attributes["content"] == description
    assert summary.strip() in feedparser.parse((site / "output/feed.xml").read_bytes()).entries[0].summary


def test_modified_time_only_when_the_article_changed(seo_site):
    times = [m.attributes["property"] for m in page(seo_site, "2024/01/15/ties/").css('meta[property^="article:"]')]
    assert "article:published_time" in times and "article:modified_time" not in times
    updated = page(seo_site, "2024/01/16/lauds/")
    assert updated.css_first('meta[property="article:modified_time"]').attributes["content"] == \
        "2024-01-16T12:30:00+00:00"


def test_alternate_links_name_every_feed_that_concerns_the_page(seo_site):
    output = seo_site / "output"
    doc = page(seo_site, "2024/01/16/lauds/")
    feeds = [link.attributes["href"] for link in doc.css('link[rel="alternate"]')]
    # an article: its story's feeds and the site's; a person's are on the person's page, a click away
    assert feeds == ["/repo/" + f for f in ["threads/rnk/feed.xml", "threads/rnk/atom.xml", "feed.xml", "atom.xml"]]
    person = page(seo_site, "entities/person/vladimir-putin/")
    assert "/repo/entities/person/vladimir-putin/feed.xml" in [
        link.attributes["href"] for link in person.css('link[rel="alternate"]')]
    assert doc.css_first('.related a[href="/repo/entities/person/vladimir-putin/"]')
    for href in feeds:
        assert (output / href[len("/repo/"):]).is_file(), href


def test_related_stories_share_main_entities(seo_site):
    doc = page(seo_site, "2024/01/16/lauds/")
    assert text_of(doc, "#related-stories + ul a") == ["Early report"]  # shares Vladimir Putin
    assert not page(seo_site, "2024/01/17/quake/").css("#related-stories")


def test_sitemap_lists_every_page_and_parses(seo_site):
    tree = ET.parse(seo_site / "output/sitemap.xml")
    locs = [u.findtext(f"{SM}loc") for u in tree.getroot().iter(f"{SM}url")]
    for route in ["", "2024/01/15/ties/", "threads/rnk/", "entities/person/vladimir-putin/", "digest/2024/01/16/"]:
        assert BASE + route in locs
    assert len(locs) == len(set(locs))
    for loc in locs:
        rel = loc[len(BASE):]
        assert (seo_site / "output" / rel / "index.html").is_file() or (seo_site / "output" / rel).is_file(), loc


def test_sitemap_becomes_an_index_past_the_limit(seo_site):
    config = load_config(seo_site)
    articles, _ = load_articles(seo_site / "content/articles", config)
    site = gather_site(articles, config)
    files = dict(render_sitemap(site, config, group_days(site, config.tz), max_urls=5))
    index = ET.fromstring(files["sitemap.xml"])
    assert index.tag == f"{SM}sitemapindex"
    parts = [s.findtext(f"{SM}loc") for s in index.iter(f"{SM}sitemap")]
    assert parts == [BASE + f"sitemap-{n}.xml" for n in range(1, len(parts) + 1)] and len(parts) > 1
    counts = [len(ET.fromstring(files[p[len(BASE):]]).findall(f"{SM}url")) for p in parts]
    assert max(counts) == 5
    whole = ET.fromstring(dict(render_sitemap(site, config, group_days(site, config.tz)))["sitemap.xml"])
    assert sum(counts) == len(whole.findall(f"{SM}url"))


def test_news_sitemap_holds_the_last_two_days_before_the_newest_article(seo_site):
    root = ET.parse(seo_site / "output/news-sitemap.xml").getroot()
    urls = root.findall(f"{SM}url")
    # 48 hours back from 17 January 12:00: 'ties' (15 January 09:00) is three hours too old
    assert [u.findtext(f"{SM}loc") for u in urls] == [BASE + "2024/01/17/quake/", BASE + "2024/01/16/lauds/"]
    news = urls[0].find(f"{NEWS}news")
    assert news.findtext(f"{NEWS}title") == "Earthquake hits coast"
    assert news.findtext(f"{NEWS}publication/{NEWS}name") == "Test Digest"
    assert news.findtext(f"{NEWS}publication_date") == "2024-01-17T12:00:00+00:00"


def test_robots_txt_points_at_both_sitemaps(seo_site):
    robots = (seo_site / "output/robots.txt").read_text(encoding="utf-8")
    assert "User-agent: *" in robots
    assert f"Sitemap: {BASE}sitemap.xml" in robots and f"Sitemap: {BASE}news-sitemap.xml" in robots


def test_an_article_lists_two_related_stories_unless_set_otherwise(site):
    for n, name in enumerate(["a", "b", "c", "d"], start=1):
        article(site, f"2024/03/{n:02d}/{name}.md", f"Story {name}", f"2024-03-{n:02d}T09:00:00+00:00",
                thread=name, entities={"person": ["Ana Brnabic"]})
    build_site_ok(site)
    assert len(page(site, "2024/03/04/d/").css("#related-stories + ul li")) == 2
    with (site / "config.yaml").open("a", encoding="utf-8") as f:
        f.write("article:\n  related_stories: 0\n")
    build_site_ok(site)
    assert not page(site, "2024/03/04/d/").css("#related-stories")
