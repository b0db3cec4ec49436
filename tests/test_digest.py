"""Daily digests: day pages, the front page, the archive by day, newsletters and the digest feed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import feedparser
import pytest
from conftest import article, build, page, text_of, write
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from newsdigest.config import load_config
from newsdigest.content import gather_site, load_articles
from newsdigest.digest import active_threads, group_days

BASE = "https://user.github.io/repo/"


@pytest.fixture
def days_site(site: Path) -> Path:
    """Three days: a story over two of them, a one-day story, an older quiet story; a Tokyo zone."""
    write(site / "config.yaml", """
        title: Test Digest
        base_url: https://user.github.io/repo/
        timezone: Asia/Tokyo
    """)
    article(site, "2024/01/02/old.md", "Old story", "2024-01-02T03:00:00+00:00", thread="old",
            entities={"place": ["Lima"]})
    article(site, "2024/01/15/ties.md", "Russia says it will build ties", "2024-01-15T09:00:00+00:00",
            thread="rnk", entities={"person": ["Vladimir Putin"], "place": ["Moscow"]},
            extra="summary: Russia will develop ties.")
    # 16:30 UTC on the 15th is the 16th in Tokyo, like the quake; the minister lauds on the 17th
    article(site, "2024/01/15/talks.md", "Ministers open talks", "2024-01-15T16:30:00+00:00",
            thread="rnk", entities={"person": ["Vladimir Putin", "Sergei Lavrov"]})
    article(site, "2024/01/16/lauds.md", "Minister lauds ties", "2024-01-16T16:00:00+00:00",
            thread="rnk", entities={"person": ["Vladimir Putin", "Choe Son Hui"], "organization": ["Kremlin"]})
    article(site, "2024/01/16/quake.md", "Earthquake hits <coast>", "2024-01-16T05:00:00+00:00",
            thread="quake", entities={"place": ["Chile"]})
    return site



def test_days_group_threads_in_the_site_time_zone(days_site):
    config = load_config(days_site)
    articles, errors = load_articles(days_site / "content" / "articles", config)
    site = gather_site(articles, config)
    days = group_days(site, config.tz)
    assert [d.date for d in days] == [dt.date(2024, 1, 17), dt.date(2024, 1, 16), dt.date(2024, 1, 15),
                                      dt.date(2024, 1, 2)]
    latest, middle = days[0], days[1]
    assert [t.thread.id for t in latest.threads] == ["rnk"]
    rnk = latest.threads[0]
    assert [a.title for a in rnk.articles] == ["Minister lauds ties"]
    assert [a.title for a in rnk.earlier] == ["Russia says it will build ties", "Ministers open talks"]
    assert rnk.new_entities == (("person", "Choe Son Hui"), ("organization", "Kremlin"))
    # the 16th (Tokyo): the quake (14:00 local) and the talks (01:30 local), newest activity first
    assert [t.thread.id for t in middle.threads] == ["quake", "rnk"]
    assert middle.threads[1].new_entities == (("person", "Sergei Lavrov"),)
    assert (latest.previous, latest.next, middle.previous, middle.next) == (
        dt.date(2024, 1, 16), None, dt.date(2024, 1, 15), dt.date(2024, 1, 17))
    assert [t.id for t in active_threads(site, latest, config.tz, days=7, limit=5)] == ["quake"]
    assert [t.id for t in active_threads(site, latest, config.tz, days=30, limit=5)] == ["quake", "old"]


def test_day_page_lists_the_days_stories_and_what_changed(days_site):
    build(days_site)
    doc = page(days_site, "digest/2024/01/17/")
    assert text_of(doc, "h1") == ["17 January 2024"]
    assert doc.css_first("h1 time").attributes["datetime"] == "2024-01-17"
    assert text_of(doc, ".digest h2") == ["Minister lauds ties"]
    change = text_of(doc, ".digest .new")[0]
    assert "New in this update: Choe Son Hui, Kremlin" in change and "2 earlier articles" in change
    links = {a.text(): a.attributes["href"] for a in doc.css(".pager a")}
    assert links["16 January 2024 \u2192"] == "/repo/digest/2024/01/16/"
    assert links["January 2024"] == "/repo/archive/2024/01/"
    middle = page(days_site, "digest/2024/01/16/")
    assert text_of(middle, ".digest h2") == ["Earthquake hits <coast>", "Ministers open talks"]
    assert "<coast>" not in middle.html.replace("&lt;coast&gt;", "")  # escaped, never markup
    assert {a.attributes["rel"] for a in middle.css(".pager a[rel]")} == {"prev", "next"}
    assert not middle.css(".digest .chips")  # a day's page names what was new; the front page the key entities


def test_listed_dates_are_machine_readable_as_the_day_shown(days_site):
    build(days_site)
    # "Ministers open talks" is 16:30 UTC on the 15th: the 16th in Tokyo, the site's zone
    story = page(days_site, "2024/01/16/lauds/").css(".timeline-list time")
    assert [(t.attributes["datetime"], t.text()) for t in story] == [
        ("2024-01-15", "15 January 2024"), ("2024-01-16", "16 January 2024"), ("2024-01-17", "17 January 2024")]
    person = page(days_site, "entities/person/vladimir-putin/")
    assert person.css_first("header .meta time").attributes["datetime"] == "2024-01-15"
    # an article's own time stays exact
    assert page(days_site, "2024/01/15/talks/").css_first(".article time").attributes["datetime"] == \
        "2024-01-16T01:30:00+09:00"


def test_front_page_is_the_latest_day_plus_active_stories(days_site):
    build(days_site)
    front = page(days_site, "")
    assert text_of(front, ".digest h2") == ["Minister lauds ties"]
    assert front.css_first(".kicker a").attributes["href"] == "/repo/digest/2024/01/17/"
    assert text_of(front, "#active + ol h3") == ["Earthquake hits <coast>"]  # 'old' is older than a week
    assert {"Vladimir Putin", "Kremlin", "Moscow"} <= set(text_of(front, ".digest .chips a"))  # key entities
    feeds = [link.attributes["href"] for link in front.css('link[rel="alternate"]')]
    assert "/repo/digest/feed.xml" in feeds and "/repo/digest/atom.xml" in feeds


def test_archive_lists_months_and_links_every_day(days_site):
    build(days_site)
    archive = page(days_site, "archive/")
    assert text_of(archive, ".months li") == ["January 2024 5 articles on 4 days"]
    month = page(days_site, "archive/2024/01/")
    digests = [a.attributes["href"] for a in month.css("section .meta a")]
    assert digests == ["/repo/digest/2024/01/17/", "/repo/digest/2024/01/16/", "/repo/digest/2024/01/15/",
                       "/repo/digest/2024/01/02/"]


def test_newsletter_html_is_inline_styled_absolute_and_script_free(days_site):
    build(days_site)
    html = (days_site / "output/digest/2024/01/16/email.html").read_text(encoding="utf-8")
    doc = HTMLParser(html)
    assert not doc.css("script") and not doc.css("link[rel=stylesheet]") and not doc.css("style")
    assert not doc.css("table")
    hrefs = [a.attributes["href"] for a in doc.css("a")]
    assert hrefs and all(h.startswith(BASE) for h in hrefs)
    assert BASE + "2024/01/16/quake/" in hrefs
    assert all("style" in n.attributes for n in doc.css("h1, h2, p"))
    assert "Earthquake hits &lt;coast&gt;" in html


def test_newsletter_text_is_plain_with_absolute_links(days_site):
    build(days_site)
    text = (days_site / "output/digest/2024/01/16/email.txt").read_text(encoding="utf-8")
    assert "Earthquake hits <coast>\n" + BASE + "2024/01/16/quake/" in text  # text, not HTML-escaped
    assert "New in this update: Sergei Lavrov." in text
    assert "<a " not in text and "&lt;" not in text


def test_only_the_newest_days_get_an_email_edition(days_site):
    with (days_site / "config.yaml").open("a", encoding="utf-8") as f:
        f.write("digest:\n  email_days: 2\n")
    build(days_site)
    digest = days_site / "output/digest/2024/01"
    # counted back from the newest day (the 17th), not from today: the 17th and 16th only
    assert sorted(p.parent.name for p in digest.glob("*/email.html")) == ["16", "17"]
    assert sorted(p.parent.name for p in digest.glob("*/email.txt")) == ["16", "17"]
    recent, older = page(days_site, "digest/2024/01/16/"), page(days_site, "digest/2024/01/15/")
    assert [a.text() for a in recent.css("header .meta a")][:2] == ["as an e-mail", "as plain text"]
    assert [a.text() for a in older.css("header .meta a")] == ["digest feed"]
    assert text_of(older, ".digest h2") == ["Russia says it will build ties"]  # the day's page itself stays
    feed = feedparser.parse((days_site / "output/digest/feed.xml").read_bytes())
    assert len(feed.entries) == 4  # and every day keeps its digest feed item


def test_digest_feed_has_one_item_per_day(days_site):
    build(days_site)
    for name in ("feed.xml", "atom.xml"):
        feed = feedparser.parse((days_site / "output/digest" / name).read_bytes())
        assert not feed.bozo, feed.bozo_exception
        assert [e.link for e in feed.entries] == [BASE + f"digest/2024/01/{d}/" for d in ("17", "16", "15", "02")]
        assert [link.href for link in feed.feed.links if link.rel == "self"] == [BASE + "digest/" + name]
        content = feed.entries[1].content[0].value
        assert BASE + "2024/01/16/quake/" in content and "style=" in content and "<script" not in content


@pytest.fixture
def updates_site(site: Path) -> Path:
    """An article updated the next day (a wire version) and corrected the day after; one updated by hand."""
    article(site, "2024/01/15/flood.md", "Flood reaches the capital", "2024-01-15T08:00:00+00:00",
            thread="flood", extra="updated: 2024-01-17T06:00:00+00:00")
    article(site, "2024/01/15/ties.md", "Russia says it will build ties", "2024-01-15T09:00:00+00:00",
            thread="rnk", entities={"person": ["Vladimir Putin"]})
    article(site, "2024/01/16/lauds.md", "Minister lauds ties with Moscow", "2024-01-16T10:00:00+00:00",
            thread="rnk", entities={"person": ["Vladimir Putin"]}, extra="""
updated: 2024-01-18T07:00:00+00:00
versions:
  - {received: 2024-01-16T10:00:00+00:00, headline: Minister lauds ties}
  - {received: 2024-01-16T15:00:00+00:00, headline: Minister lauds ties, marker: UPDATE 1, note: Adds quotes}
  - {received: 2024-01-17T08:00:00+00:00, headline: Minister lauds ties with Moscow, marker: UPDATE 2,
     note: Adds Kremlin comment}
  - {received: 2024-01-18T07:00:00+00:00, headline: Minister lauds ties with Moscow, marker: CORRECTED,
     note: Corrects minister's name in paragraph 2}
""")
    article(site, "2024/01/17/quake.md", "Earthquake hits coast", "2024-01-17T12:00:00+00:00", thread="quake")
    return site


def test_updates_are_grouped_on_the_day_they_arrived(updates_site):
    config = load_config(updates_site)
    site = gather_site(load_articles(updates_site / "content" / "articles", config)[0], config)
    days = group_days(site, config.tz)
    assert [d.date.day for d in days] == [18, 17, 16, 15]
    corrected, busy, published = days[0], days[1], days[2]
    assert [t.thread.id for t in corrected.threads] == ["rnk"] and corrected.article_count == 0
    [update] = corrected.updates
    assert (update.article.title, update.is_correction, update.detail) == (
        "Minister lauds ties with Moscow", True, "Corrects minister's name in paragraph 2")
    assert corrected.threads[0].latest.title == "Minister lauds ties with Moscow"
    assert [t.thread.id for t in busy.threads] == ["quake", "rnk", "flood"]  # latest news of the day first
    assert [(u.article.slug, u.detail) for u in busy.updates] == [("lauds", "Adds Kremlin comment"), ("flood", "")]
    assert not published.updates  # the same day's update is the article itself
    assert [a.title for a in busy.threads[1].earlier] == ["Russia says it will build ties",
                                                          "Minister lauds ties with Moscow"]
    assert (busy.previous, busy.next) == (dt.date(2024, 1, 16), dt.date(2024, 1, 18))
    assert [t.id for t in active_threads(site, corrected, config.tz, days=7, limit=5)] == ["quake", "flood"]


def test_day_page_lists_updates_under_their_story(updates_site):
    build(updates_site)
    doc = page(updates_site, "digest/2024/01/17/")
    assert text_of(doc, ".digest h2") == ["Earthquake hits coast", "Minister lauds ties with Moscow",
                                          "Flood reaches the capital"]
    assert text_of(doc, ".digest .updates li") == ["Updated 17 January 2024, 08:00 UTC · Adds Kremlin comment",
                                                   "Updated 17 January 2024, 06:00 UTC"]
    assert text_of(doc, "header .meta")[0].startswith("1 article and 2 updates in 3 stories")
    assert text_of(doc, ".digest .new") == ["2 earlier articles since 15 January 2024."]  # rnk; flood is one article
    corrected = page(updates_site, "digest/2024/01/18/")
    assert text_of(corrected, ".digest .updates li") == [
        "Corrected 18 January 2024, 07:00 UTC · Corrects minister's name in paragraph 2"]
    assert text_of(corrected, "header .meta")[0].startswith("1 update in 1 story")
    assert corrected.css_first(".digest h2 a").attributes["href"] == "/repo/2024/01/16/lauds/"
    assert not page(updates_site, "digest/2024/01/16/").css(".updates")
    month = page(updates_site, "archive/2024/01/")
    assert "/repo/digest/2024/01/18/" in [a.attributes["href"] for a in month.css("section .meta a")]
    assert "1 update" in text_of(month, "section .meta")[0]
    assert text_of(page(updates_site, "archive/"), ".months li") == ["January 2024 4 articles on 4 days"]


def test_newsletters_and_digest_feed_carry_the_updates(updates_site):
    build(updates_site)
    html = (updates_site / "output/digest/2024/01/17/email.html").read_text(encoding="utf-8")
    doc = HTMLParser(html)
    lines = [" ".join(p.text().split()) for p in doc.css("p") if "Updated" in p.text()]
    assert lines == ["Updated 17 January 2024, 08:00 UTC · Adds Kremlin comment",
                     "Updated 17 January 2024, 06:00 UTC"]
    assert all("style" in p.attributes for p in doc.css("p"))
    text = (updates_site / "output/digest/2024/01/17/email.txt").read_text(encoding="utf-8")
    assert "Minister lauds ties with Moscow\n" + BASE + "2024/01/16/lauds/" in text
    assert "Updated 17 January 2024, 08:00 UTC: Adds Kremlin comment" in text
    feed = feedparser.parse((updates_site / "output/digest/feed.xml").read_bytes())
    assert [e.link for e in feed.entries] == [BASE + f"digest/2024/01/{d}/" for d in ("18", "17", "16", "15")]
    assert "Corrects minister" in feed.entries[0].content[0].value
    assert "Adds Kremlin comment" in feed.entries[1].content[0].value
    assert feed.entries[0].published_parsed[:4] == (2024, 1, 18, 7)
