"""The whole site, read as a reader would: pages, links, threads, entities, feeds."""

from __future__ import annotations

import datetime as dt
import gc
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import feedparser
import pytest
from conftest import article, build, page, text_of, write

from newsdigest.cli import main

BASE = "https://user.github.io/repo/"


@pytest.fixture
def story_site(site: Path) -> Path:
    """Three articles: two in one thread, one alone; shared and distinct entities."""
    article(site, "2024/01/15/ties.md", "Russia says it will build ties", "2024-01-15T09:00:00+00:00",
            thread="russia-north-korea", body="First **day**.\n\n## SUBHEAD\n\nMore.",
            entities={"person": ["Vladimir Putin", "Choe Son Hui"], "place": ["Moscow", "North Korea"]},
            extra="byline: [Josh Smith]\ndateline: Seoul\nsource: Reuters\nsummary: Russia will develop ties.\n"
                  "credits: {editing: [Jamie Freed]}")
    article(site, "2024/01/16/lauds.md", "Minister lauds ties", "2024-01-16T10:00:00+00:00",
            thread="russia-north-korea", entities={"person": ["Vladimir Putin", "Sergei Lavrov"],
                                                   "organization": ["Kremlin"], "place": ["Moscow"]})
    article(site, "2024/01/16/quake.md", "Earthquake hits coast", "2024-01-16T12:00:00+00:00",
            thread="quake", entities={"place": ["Chile"]})
    return site



def internal_targets(output: Path, html_file: Path) -> list[str]:
    text = html_file.read_text(encoding="utf-8")
    return [m for m in re.findall(r'(?:href|src)="([^"]+)"', text) if not m.startswith(("http", "#", "mailto:"))]


def resolve(output: Path, link: str) -> Path:
    path = unquote(urlsplit(link).path)
    assert path.startswith("/repo/"), f"link outside the Pages path: {link}"
    target = output / path[len("/repo/"):]
    return target / "index.html" if path.endswith("/") else target


def test_every_internal_link_resolves_under_the_pages_path(story_site):
    build(story_site)
    output = story_site / "output"
    pages = list(output.rglob("*.html"))
    assert len(pages) > 10
    for html in pages:
        for link in internal_targets(output, html):
            assert resolve(output, link).is_file(), f"{html.relative_to(output)} links to missing {link}"


def test_front_page_is_a_digest_of_threads(story_site):
    build(story_site)
    front = page(story_site, "")
    headlines = text_of(front, ".digest h2")
    assert headlines == ["Earthquake hits coast", "Minister lauds ties"]  # latest first, one per thread
    story = front.css(".digest > li")[1]
    assert "2 articles" in story.text()
    assert [a.text() for a in story.css(".chips a")][:2] == ["Vladimir Putin", "Moscow"]


def test_article_page_shows_everything_the_wire_said(story_site):
    build(story_site)
    doc = page(story_site, "2024/01/15/ties/")
    assert text_of(doc, "h1") == ["Russia says it will build ties"]
    meta = text_of(doc, ".article .meta")[0]
    assert "15 January 2024" in meta and "Seoul" in meta and "By Josh Smith" in meta
    assert doc.css_first(".article time").attributes["datetime"] == "2024-01-15T09:00:00+00:00"
    assert "<strong>day</strong>" in doc.css_first(".body").html
    assert text_of(doc, ".credits dd") == ["Jamie Freed"]
    links = {a.text(): a.attributes["href"] for a in doc.css("a")}
    assert links["Vladimir Putin"] == "/repo/entities/person/vladimir-putin/"
    assert links["Story: Russia says it will build ties"] == "/repo/threads/russia-north-korea/"
    assert links["Minister lauds ties"] == "/repo/2024/01/16/lauds/"
    # the entity links come under their type's heading, each list of one type (styled by it, not per link)
    people = doc.css_first(".related .chips-person")
    assert people.parent.css_first("h2").text() == "People" and "Vladimir Putin" in text_of(people, "a")


def test_thread_page_is_a_timeline_oldest_first(story_site):
    build(story_site)
    doc = page(story_site, "threads/russia-north-korea/")
    assert text_of(doc, ".timeline h3") == ["Russia says it will build ties", "Minister lauds ties"]
    # what each update brought, named as the day's digest names it (the article links every entity)
    assert "Sergei Lavrov" in text_of(doc, ".timeline li:nth-child(2) .new")[0]
    assert not doc.css(".timeline .chips") and "Sergei Lavrov" in text_of(doc, "#involved + .chips a")
    assert doc.css_first("svg.chart") is not None
    feeds = [link.attributes["href"] for link in doc.css('link[rel="alternate"]')]
    assert "/repo/threads/russia-north-korea/feed.xml" in feeds


def test_entity_pages_list_articles_threads_and_related(story_site):
    build(story_site)
    doc = page(story_site, "entities/person/vladimir-putin/")
    assert text_of(doc, "h1") == ["Vladimir Putin"]
    assert text_of(doc, ".articles h3") == ["Minister lauds ties", "Russia says it will build ties"]
    assert "Russia says it will build ties" in text_of(doc, "#stories + ul a")
    assert "Moscow" in text_of(doc, "#related + ul a")
    index = page(story_site, "entities/person/")
    assert "Vladimir Putin" in text_of(index, "a")
    assert page(story_site, "entities/place/chile/").css_first("h1").text() == "Chile"


def test_archive_and_404(story_site):
    build(story_site)
    archive = page(story_site, "archive/")
    assert text_of(archive, ".months a") == ["January 2024"]
    month = page(story_site, "archive/2024/01/")
    assert len(month.css("ol.lines > li")) == 3
    assert "Page not found" in page(story_site, "404.html").css_first("h1").text()


def test_feeds_are_valid_absolute_and_stable(story_site):
    build(story_site)
    output = story_site / "output"
    for rel in ["feed.xml", "atom.xml", "threads/russia-north-korea/feed.xml",
                "entities/person/vladimir-putin/atom.xml"]:
        feed = feedparser.parse((output / rel).read_bytes())
        assert not feed.bozo, (rel, feed.bozo_exception)
        for entry in feed.entries:
            assert entry.link.startswith(BASE)
            assert entry.id == entry.link
            assert entry.published_parsed is not None
        self_links = [link.href for link in feed.feed.links if link.rel == "self"]
        assert self_links == [BASE + rel]
        assert feed.feed.link == BASE + rel[:rel.rfind("/") + 1]  # the page the feed belongs to
    site_feed = feedparser.parse((output / "feed.xml").read_bytes())
    assert [e.title for e in site_feed.entries] == ["Earthquake hits coast", "Minister lauds ties",
                                                     "Russia says it will build ties"]
    thread_feed = feedparser.parse((output / "threads/russia-north-korea/atom.xml").read_bytes())
    assert len(thread_feed.entries) == 2


def test_story_and_entity_feeds_carry_summaries_unless_asked_for_whole_articles(story_site):
    """Each article is in a dozen story and entity feeds: whole text only in the site feed by default."""
    build(story_site)
    output = story_site / "output"

    def contents(rel: str) -> list[bool]:
        return [bool(e.get("content")) for e in feedparser.parse((output / rel).read_bytes()).entries]

    assert all(contents("atom.xml"))
    assert not any(contents("threads/russia-north-korea/atom.xml"))
    assert not any(contents("entities/person/vladimir-putin/atom.xml"))
    assert all(e.summary for e in feedparser.parse((output / "entities/person/vladimir-putin/feed.xml")
                                                   .read_bytes()).entries)
    config = story_site / "config.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "feed:\n  full_content_topics: true\n", encoding="utf-8")
    build(story_site)
    assert all(contents("threads/russia-north-korea/atom.xml"))


def test_story_and_entity_feeds_carry_their_newest_five_and_their_pages_all(site):
    for n in range(1, 8):
        article(site, f"2024/03/{n:02d}/talks-{n}.md", f"Talks {n}", f"2024-03-{n:02d}T09:00:00+00:00",
                thread="talks", entities={"person": ["Ana Brnabic"]})
    build(site)
    output = site / "output"
    for rel in ("threads/talks/feed.xml", "entities/person/ana-brnabic/atom.xml"):
        feed = feedparser.parse((output / rel).read_bytes())
        assert [e.title for e in feed.entries] == [f"Talks {n}" for n in range(7, 2, -1)], rel
    assert len(page(site, "threads/talks/").css(".timeline h3")) == 7
    assert len(page(site, "entities/person/ana-brnabic/").css(".articles h3")) == 7
    assert len(feedparser.parse((output / "feed.xml").read_bytes()).entries) == 7  # the site's: feed.items


def test_same_content_same_bytes(story_site, tmp_path):
    build(story_site)
    first = {p.relative_to(story_site / "output"): p.read_bytes() for p in (story_site / "output").rglob("*")
             if p.is_file()}
    build(story_site)
    second = {p.relative_to(story_site / "output"): p.read_bytes() for p in (story_site / "output").rglob("*")
              if p.is_file()}
    assert first == second


def test_malformed_article_is_reported_and_the_rest_builds(story_site, capsys):
    write(story_site / "content/articles/2024/01/17/bad.md", "---\ntitle: Bad\ndate: tomorrow\n---\n\nText\n")
    status = main(["build", "--site", str(story_site)])
    err = capsys.readouterr().err
    assert status == 1
    assert "content/articles/2024/01/17/bad.md:3: 'date'" in err and "Traceback" not in err
    assert (story_site / "output/2024/01/16/lauds/index.html").is_file()


def test_builds_leave_the_garbage_collector_as_they_found_it(story_site, capsys):
    """The build pauses the cyclic GC while it loads and freezes the site; the preview server builds
    again and again in one process, so each build must hand the GC back, failed or not."""
    thresholds = gc.get_threshold()
    build(story_site)
    assert gc.isenabled() and gc.get_freeze_count() == 0 and gc.get_threshold() == thresholds
    write(story_site / "templates/article.html", "{% extends 'base.html' %}{% block main %}{% if %}{% endblock %}")
    assert main(["build", "--site", str(story_site)]) == 1
    assert gc.isenabled() and gc.get_freeze_count() == 0 and gc.get_threshold() == thresholds


def test_failed_build_keeps_the_previous_output(story_site, capsys):
    build(story_site)
    before = (story_site / "output/index.html").read_bytes()
    write(story_site / "templates/article.html", "{% extends 'base.html' %}{% block main %}{% if %}{% endblock %}")
    status = main(["build", "--site", str(story_site)])
    err = capsys.readouterr().err
    assert status == 1 and "templates/article.html:1" in err and "Traceback" not in err
    assert (story_site / "output/index.html").read_bytes() == before
    assert not list(story_site.glob(".output.tmp-*"))


def test_sample_site_end_to_end(sample_site):
    front = page(sample_site, "")
    assert len(front.css(".digest > li")) == 1  # the seeds are one story
    assert "2 articles" in front.css_first(".digest .kicker").text()
    (thread_link,) = [a.attributes["href"] for a in front.css(".digest .kicker a")]
    thread = page(sample_site, thread_link[len("/repo/"):])
    assert text_of(thread, ".timeline h3") == [
        "Russia says it will build ties with North Korea as foreign ministers set to meet",
        "North Korean minister lauds \u2018comradely\u2019 ties with Russia, meets Putin in Kremlin"]
    putin = page(sample_site, "entities/person/vladimir-putin/")
    assert len(putin.css(".articles > li")) == 2
    art = page(sample_site, "2024/01/16/north-korean-minister-lauds-comradely-ties-with-russia/")
    body = art.css_first(".body").text()
    assert "VIEWIMAGE" not in body and "PUTIN VISIT?" in text_of(art, ".body h2")


def test_short_form_page_redirects_once_the_full_name_arrives(site):
    article(site, "2024/02/01/a.md", "Putin speaks", "2024-02-01T09:00:00+00:00", thread="a",
            entities={"person": ["Putin"]})
    build(site)
    assert page(site, "entities/person/putin/").css_first("h1").text() == "Putin"
    article(site, "2024/02/02/b.md", "Vladimir Putin travels", "2024-02-02T09:00:00+00:00", thread="b",
            entities={"person": ["Vladimir Putin"]})
    build(site)
    moved = page(site, "entities/person/putin/")
    assert moved.css_first('meta[http-equiv="refresh"]').attributes["content"].endswith(
        "/repo/entities/person/vladimir-putin/")
    assert len(page(site, "entities/person/vladimir-putin/").css(".articles > li")) == 2


def test_renamed_entity_keeps_its_old_url(site):
    article(site, "2024/02/01/a.md", "A", "2024-02-01T09:00:00+00:00", thread="a",
            entities={"organization": ["Acme Holdings"], "place": ["Acme Corp"]})
    write(site / "content/entities/acme.md",
          "---\nname: Acme Corp\ntype: organization\nold_names: [Acme Holdings]\n---\nA maker of anvils.\n")
    build(site)
    moved = page(site, "entities/organization/acme-holdings/")
    assert moved.css_first('meta[http-equiv="refresh"]').attributes["content"].endswith(
        "/repo/entities/organization/acme-corp/")
    assert "A maker of anvils." in page(site, "entities/organization/acme-corp/").text()


def test_articles_without_a_thread_are_stories_of_their_own(site):
    article(site, "2024/02/01/same.md", "First", "2024-02-01T09:00:00+00:00")
    article(site, "2024/02/02/same.md", "Second", "2024-02-02T09:00:00+00:00")
    build(site)
    stories = page(site, "threads/").css(".articles > li")
    assert len(stories) == 2
    story = page(site, stories[0].css_first("a").attributes["href"][len("/repo/"):])
    assert text_of(story, ".timeline h3") == ["Second"] and not story.css("svg")  # no chart of one dot


def test_article_page_lists_the_story_around_itself_not_all_of_a_long_one(site):
    for n in range(1, 13):
        article(site, f"2024/02/{n:02d}/part-{n}.md", f"Part {n}", f"2024-02-{n:02d}T09:00:00+00:00", thread="long")
    build(site)

    def parts(n: int) -> list[int]:
        return [int(t.split(" Part ")[1]) for t in text_of(page(site, f"2024/02/{n:02d}/part-{n}/"),
                                                           ".timeline-list li")]

    assert text_of(page(site, "2024/02/01/part-1/"), ".timeline-list li strong") == ["Part 1"]
    assert (parts(1), parts(7), parts(12)) == ([1, 2, 3, 4, 5], [5, 6, 7, 8, 9], [8, 9, 10, 11, 12])
    more = page(site, "2024/02/12/part-12/").css_first(".timeline-list + p")
    assert more.css_first("a").attributes["href"] == "/repo/threads/long/" and "(12 articles)" in more.text()
    with (site / "config.yaml").open("a", encoding="utf-8") as f:
        f.write("article:\n  story_window: 7\n")
    build(site)
    assert (parts(1), parts(7), parts(12)) == ([1, 2, 3, 4, 5, 6, 7], [4, 5, 6, 7, 8, 9, 10], list(range(6, 13)))


def test_entity_page_shows_the_newest_in_full_then_older_ones_a_line_each(site):
    for n in range(1, 141):
        day = dt.date(2024, 1, 1) + dt.timedelta(days=n)
        article(site, f"{day:%Y/%m/%d}/vote-{n}.md", f"Vote {n}", f"{day}T09:00:00+00:00",
                entities={"person": ["Ana Brnabic"]}, extra=f"summary: Summary {n}.")
    build(site)
    first = page(site, "entities/person/ana-brnabic/")
    assert text_of(first, ".articles h3") == [f"Vote {n}" for n in range(140, 130, -1)]
    assert text_of(first, ".articles .summary")[0] == "Summary 140."
    assert "Page 1 of 2" in first.css_first(".pager").text()
    second = page(site, "entities/person/ana-brnabic/page/2/")
    lines = text_of(second, "ol.lines li")
    assert len(lines) == 130 and lines[0].endswith("Vote 130") and lines[-1].endswith("Vote 1")
    assert not second.css(".summary") and not second.css("svg")
    assert not (site / "output" / "entities/person/ana-brnabic/page/3").exists()
    with (site / "config.yaml").open("a", encoding="utf-8") as f:
        f.write("entities:\n  page_summaries: 20\n  page_lines: 100\n")
    build(site)
    first = page(site, "entities/person/ana-brnabic/")
    assert text_of(first, ".articles h3") == [f"Vote {n}" for n in range(140, 120, -1)]
    assert "Page 1 of 3" in first.css_first(".pager").text()
    lines = text_of(page(site, "entities/person/ana-brnabic/page/2/"), "ol.lines li")
    assert len(lines) == 100 and lines[0].endswith("Vote 120") and lines[-1].endswith("Vote 21")
    third = page(site, "entities/person/ana-brnabic/page/3/")
    assert [t.split(" Vote ")[1] for t in text_of(third, "ol.lines li")] == [str(n) for n in range(20, 0, -1)]
    assert not (site / "output" / "entities/person/ana-brnabic/page/4").exists()


def test_a_days_digest_lists_the_three_latest_earlier_articles_of_a_story(site):
    for n in range(1, 9):
        article(site, f"2024/02/{n:02d}/part-{n}.md", f"Part {n}", f"2024-02-{n:02d}T09:00:00+00:00", thread="long")
    build(site)
    day = page(site, "digest/2024/02/08/")
    assert text_of(day, "details.earlier li a") == [f"Part {n}" for n in range(7, 4, -1)]
    more = day.css_first("details.earlier p a")
    assert more.attributes["href"] == "/repo/threads/long/" and more.text() == "All 8 articles of the story"


def test_article_text_read_back_from_the_cache_on_a_later_build(story_site, monkeypatch):
    """Builds hold articles without their text and read it from .cache/ (here from a relative --site)."""
    monkeypatch.chdir(story_site.parent)
    assert main(["build", "--site", story_site.name]) == 0
    article(story_site, "2024/01/16/quake.md", "Earthquake hits the coast", "2024-01-16T12:00:00+00:00",
            thread="quake", entities={"place": ["Chile"]})  # a new title: every page is planned again
    assert main(["build", "--site", story_site.name]) == 0
    ties = page(story_site, "2024/01/15/ties/")
    assert text_of(ties, ".body h2") == ["SUBHEAD"] and "First day." in ties.css_first(".body").text()
    assert text_of(page(story_site, "2024/01/16/quake/"), "h1") == ["Earthquake hits the coast"]


def test_an_article_body_reaches_its_page_as_written_whatever_its_characters(site, monkeypatch):
    # the body goes in as the cache's UTF-8 bytes (`render.page_payload`): around it, a page of
    # one-byte, two-byte and four-byte characters, in the title and in the body
    monkeypatch.setenv("NEWSDIGEST_WORKERS", "1")
    body = "“Quoted,” she said — 50 € — and 🙂.\n\nA second paragraph, <b>not bold</b>."
    article(site, "2024/05/01/quotes.md", "Café “talks” 🙂", "2024-05-01T09:00:00+00:00", body=body)
    build(site)
    html = (site / "output/2024/05/01/quotes/index.html").read_text(encoding="utf-8")
    assert html.count("<p>“Quoted,” she said — 50 € — and 🙂.</p>") == 1
    assert "&lt;b&gt;not bold&lt;/b&gt;" in html and "\x00" not in html
    assert text_of(page(site, "2024/05/01/quotes/"), "h1") == ["Café “talks” 🙂"]


def test_a_site_template_may_show_the_body_its_own_way(site):
    source = (Path(__file__).resolve().parent.parent / "templates" / "article.html").read_text(encoding="utf-8")
    assert "{{ body }}" in source
    write(site / "templates" / "article.html", source.replace(
        "{{ body }}", "<section class='mine'>{{ article.body_html|safe }}</section>{{ body }}"))
    article(site, "2024/05/01/a.md", "A", "2024-05-01T09:00:00+00:00", body="Été “ok”.")
    build(site)
    html = (site / "output/2024/05/01/a/index.html").read_text(encoding="utf-8")
    assert html.count("<p>Été “ok”.</p>") == 2  # once as text, once spliced in
    assert "<section class='mine'><p>Été “ok”.</p>\n</section><p>" in html
