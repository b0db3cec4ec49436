"""Feeds: each feed's channel, filled into feedgen's channel written once with markers, is byte for
byte what feedgen writes for that feed (`make_feed`, all feedgen, is the reference), hostile values
included; values it cannot be sure of go to feedgen; feed item keys keep their values."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsdigest import feeds, urls
from newsdigest.cache import fingerprint
from newsdigest.config import Config, FeedSettings
from newsdigest.content import Article
from newsdigest.feeds import Feed, entry_key, is_full_content, make_entries, make_feed, render_feed

HOSTILE = "&<>\"' \t\n\r{}%\u00e9\u2014\u2028\ufdd0\U0001f600\x00\x01\x0b\x1f\x7f\x85\x9f\ufffe\uffff\ud800"
SURE = "&<>\"' \t\n\r{}%aZ09\u00e9\u2014\u2028\ufdd0\U0001f600\U0010ffff"  # lxml takes all of these
BASE_URLS = ["https://example.org/", "https://example.github.io/news/digest/", "http://127.0.0.1:8000",
             "https://ex.org/a&b/?q=<x>&r=\"y\"'#frag/", "https://ex.org/\u00e9t\u00e9 {x}/", "https://ex.org/t\tn\nr\r/"]
ROUTES = ["", "threads/a-story/", "entities/person/zo\u00eb-\u00f1/", "entities/org/a&b'c/", "x y/\"%z/"]
ZONES = [dt.UTC, zoneinfo.ZoneInfo("America/New_York"), zoneinfo.ZoneInfo("Asia/Kathmandu"),
         dt.timezone(dt.timedelta(hours=-3, minutes=-30)), dt.timezone(dt.timedelta(seconds=3601, microseconds=5))]

sure_texts = st.text(alphabet=SURE, min_size=1)
texts = st.one_of(sure_texts, sure_texts, st.text(), st.text(alphabet=HOSTILE),
                  st.sampled_from(["", " ", "\n", "ndMarkTitle9q"]))
authors = st.one_of(sure_texts, st.sampled_from(["", "ndMarkTitle9q", "Sun, 01 Jan 2000 bell\x07", "\ud800"]))
dates = st.builds(lambda d, zone: d.replace(tzinfo=zone),
                  st.datetimes(min_value=dt.datetime(1971, 1, 1), max_value=dt.datetime(2100, 1, 1)),
                  st.sampled_from(ZONES))


def make_articles(stamps: list[tuple[dt.datetime, dt.datetime | None]]) -> tuple[Article, ...]:
    return tuple(Article(slug=f"story-{i}", source=f"story-{i}.md", title=f"Story {i} & <more>", date=date,
                         updated=updated, body=f'<p>Body {i} <a href="/x/">link</a></p>', summary="A & B",
                         byline=("Ana \u00d1",), fingerprint=f"fp{i}")
                 for i, (date, updated) in enumerate(stamps))


def outcome(make):
    """What making the feeds gives: {route: bytes}, or "refused"."""
    try:
        return dict(make())
    except ValueError:  # feedgen's refusals and lxml's (UnicodeEncodeError is one too)
        return "refused"


def render_both(config: Config, route: str, title: str, description: str, articles: tuple[Article, ...]):
    """(spliced feeds, feedgen's feeds) of one page, as `render_feed` and `make_feed` make them."""
    full = is_full_content(route, config)
    feed = Feed(route, title, description, articles, full)
    return (outcome(lambda: render_feed(feed, config, make_entries([(a, full) for a in articles], config))),
            outcome(lambda: make_feed(config, route, title, description, articles)))


@settings(max_examples=400, deadline=None)
@given(title=texts, description=texts, route=st.sampled_from(ROUTES), base_url=st.sampled_from(BASE_URLS),
       language=st.sampled_from(["en", "", "fr-CA", "x&<\"y>"]), author=authors,
       stamps=st.lists(st.tuples(dates, st.none() | dates), max_size=4), full=st.booleans())
def test_every_feed_is_what_feedgen_writes(title, description, route, base_url, language, author, stamps, full):
    config = Config(base_url=base_url, language=language, author=author,
                    feed=FeedSettings(full_content=full))
    spliced, reference = render_both(config, route, title, description, make_articles(stamps))
    assert spliced == reference
    if isinstance(reference, dict):
        assert sorted(reference) == [urls.feed_route(route, "atom"), urls.feed_route(route, "rss")]


@settings(max_examples=300, deadline=None)
@given(title=sure_texts, description=sure_texts, route=st.sampled_from(ROUTES),
       base_url=st.sampled_from(BASE_URLS), author=sure_texts,
       stamps=st.lists(st.tuples(dates, st.none() | dates), max_size=3))
def test_the_channel_is_filled_in_not_written_by_feedgen(title, description, route, base_url, author, stamps):
    """For anything lxml writes, escapes included, the template fills the channel, as feedgen would."""
    config = Config(base_url=base_url, author=author)
    link = urls.Urls(config.base_url, config.base_path)
    feed = Feed(route, title, description, make_articles(stamps), False)
    filled = feeds._fill_channels(feed, config, link)
    assert filled is not None
    assert filled == {kind: feeds._feedgen_channel(feed, config, link, kind) for kind in ("rss", "atom")}


@pytest.mark.parametrize("title, description", [
    ("Tom & Jerry <live> \"quoted\" 'single' \u2014 caf\u00e9 \U0001f4f0", "A & B < C > D \"E\" 'F'"),
    ("x" * 5000 + "&<>" * 3000 + "\U0001f600" * 1000, "\u00e9" * 20000),
    ("tab\there\r\nnew line", "carriage\rreturn"),
    ("ends with ]]>", "{braces} {0} {title_text} %s"),
])
@pytest.mark.parametrize("base_url", BASE_URLS)
def test_hostile_headers_match_feedgen(title, description, base_url):
    config = Config(base_url=base_url, title=title, description=description)
    articles = make_articles([(dt.datetime(2024, 3, 1, 12, 30, tzinfo=dt.UTC), None)])
    for route in ROUTES:
        spliced, reference = render_both(config, route, title, description, articles)
        assert isinstance(reference, dict) and spliced == reference
        assert feeds._fill_channels(Feed(route, title, description, articles, False), config,
                                    urls.Urls(config.base_url, config.base_path)) is not None


def test_a_feed_without_items_dates_from_1970():
    config = Config(base_url="https://example.org/news/")
    spliced, reference = render_both(config, "threads/empty/", "Empty", "Nothing yet", ())
    assert spliced == reference
    assert b"<lastBuildDate>Thu, 01 Jan 1970 00:00:00 +0000</lastBuildDate>" in spliced["threads/empty/feed.xml"]
    assert b"<updated>1970-01-01T00:00:00+00:00</updated>" in spliced["threads/empty/atom.xml"]


def test_equal_instants_in_other_zones_keep_their_own_dates():
    """Noon in London and one o'clock in Paris are equal datetimes, but feedgen writes each as it is."""
    config = Config()
    for zone in (dt.UTC, dt.timezone(dt.timedelta(hours=1)), zoneinfo.ZoneInfo("Europe/Paris"), dt.UTC):
        when = dt.datetime(2024, 1, 10, 12, tzinfo=dt.UTC).astimezone(zone)
        spliced, reference = render_both(config, "threads/x/", "T", "D", make_articles([(when, None)]))
        assert isinstance(reference, dict) and spliced == reference
        assert when.isoformat().encode() in spliced["threads/x/atom.xml"]


@pytest.mark.parametrize("title, description", [("", "d"), ("t", ""), ("bell\x07", "d"), ("t", "nul\x00"),
                                                ("t", "\ud800"), ("t", "\x85 next line")])
def test_what_the_template_is_unsure_of_goes_to_feedgen(title, description):
    """Empty values (feedgen refuses them in RSS) and control characters: feedgen decides, and
    the result (bytes, or feedgen's error) is the same."""
    config = Config(base_url="https://example.org/")
    articles = make_articles([(dt.datetime(2024, 3, 1, tzinfo=dt.UTC), None)])
    assert feeds._fill_channels(Feed("", title, description, articles, True), config,
                                urls.Urls(config.base_url, config.base_path)) is None
    spliced, reference = render_both(config, "", title, description, articles)
    assert spliced == reference


def test_a_site_whose_author_looks_like_a_mark_gets_feedgen_channels():
    config = Config(author="ndMarkTitle9q")
    assert feeds._channel_templates(config.language, config.author) is None
    articles = make_articles([(dt.datetime(2024, 3, 1, tzinfo=dt.UTC), None)])
    spliced, reference = render_both(config, "threads/x/", "Title", "Description", articles)
    assert isinstance(reference, dict) and spliced == reference


@given(full=st.sampled_from([True, False, 1, 0]), base_url=st.sampled_from(BASE_URLS),
       fp=st.sampled_from(["", "abc", "def"]))
def test_entry_keys_keep_their_values(full, base_url, fp):
    """Item keys are stored in the build cache: remembering them must not change one."""
    config = Config(base_url=base_url)
    article, = make_articles([(dt.datetime(2024, 3, 1, tzinfo=dt.UTC), None)])
    object.__setattr__(article, "fingerprint", fp)
    want = fingerprint(fp or repr(article), full, config.base_url, config.base_path)
    assert entry_key(article, full, config) == entry_key(article, full, config) == want
