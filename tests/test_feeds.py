"""Feeds: each feed's channel and each item, filled into what feedgen wrote once with markers, is
byte for byte what feedgen writes (`make_feed`, all feedgen, and `feedgen_entries`, the items as
feedgen alone made them, are the references), hostile values included; values it cannot be sure
of go to feedgen; feed item keys keep their values."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from feedgen.feed import formatRFC2822  # feedgen.util imported first fails (lxml.etree not loaded yet)
from hypothesis import given, settings
from hypothesis import strategies as st

from newsdigest import feeds, feedtext, urls
from newsdigest.cache import fingerprint
from newsdigest.config import Config, FeedSettings
from newsdigest.content import Article
from newsdigest.feeds import Feed, entry_key, is_full_content, item_keys, make_entries, make_feed, render_feed
from newsdigest.urls import Urls

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
# Pieces of article bodies: markup, links relative and absolute, what CDATA or a % template would trip on.
MARKUP = ['<p>', '</p>', '<a href="/rel/x/">', '<a href="../up.html?a=1&amp;b=2">', '</a>', '<a href="#note">',
          '<a href="https://other.example/a?b=1&amp;c=2">', '<img src="img/ph.jpg" alt="&quot;q&quot; \'s\'">',
          ']]>', '<![CDATA[x]]>', '&amp;', '&lt;&gt;', "'", '"', '\r\n', '\t', '\U0001f600', '%s %(x)s %%',
          '{0} {title_text}', 'ndMarkBody9q', "<script>alert('x')</script>", '<a href="">', "<a href='/single/'>"]
bodies = st.lists(st.one_of(st.sampled_from(MARKUP), sure_texts, texts), max_size=8).map("".join)
sure_bodies = st.lists(st.one_of(st.sampled_from(MARKUP), sure_texts), min_size=1, max_size=8).map("".join)
SLUGS = ["story", "zo\u00eb-\u00f1", "a&b'c", "x y \"%z"]


def make_item(i: int, title: str, summary: str, byline: list[str], body: str, date: dt.datetime,
              updated: dt.datetime | str | None, slug: str = "story") -> Article:
    """Article `i`: `updated` "same" is its date again."""
    return Article(slug=f"{slug}-{i}", source=f"story-{i}.md", title=title, date=date,
                   updated=date if updated == "same" else updated, body=body, summary=summary,
                   byline=tuple(byline), fingerprint=f"fp{i}")


def item_fields(title=texts, summary=texts, byline=texts, body=bodies):
    """What `make_item` takes after its index: anything, or only what the templates are sure of."""
    return st.tuples(title, summary, st.lists(byline, max_size=3), body, dates,
                     st.one_of(st.none(), st.just("same"), dates), st.sampled_from(SLUGS))


def feedgen_entries(items: list[tuple[Article, bool]], config: Config) -> dict[str, tuple[str, str]]:
    """The items as `make_entries` made them before templates: all by feedgen, in one feed."""
    link = Urls(config.base_url, config.base_path)
    fg = feeds.make_channel(config, "", "entries", "entries", link)
    for article, full in items:
        feeds._add_entry(fg, article, link, full)
    rss = fg.rss_str(pretty=True).decode("utf-8")
    atom = fg.atom_str(pretty=True).decode("utf-8")
    rss_items = rss[:rss.rindex("\n  </channel>")].split("\n    <item>")[1:]
    atom_entries = atom[:atom.rindex("\n</feed>")].split("\n  <entry>")[1:]
    return {entry_key(article, full, config): ("\n    <item>" + item, "\n  <entry>" + entry)
            for (article, full), item, entry in zip(items, rss_items, atom_entries, strict=True)}


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
    return (outcome(lambda: render_feed(feed, config, make_entries([(a, full) for a in articles], config),
                                        item_keys(feed, config))),
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


@settings(max_examples=500, deadline=None)
@given(fields=st.lists(st.tuples(item_fields(), st.booleans()), max_size=5), base_url=st.sampled_from(BASE_URLS))
def test_every_item_is_what_feedgen_writes(fields, base_url):
    """Keys and values, or feedgen's refusal, hostile titles, summaries, bylines and bodies included."""
    config = Config(base_url=base_url)
    items = [(make_item(i, *values), full) for i, (values, full) in enumerate(fields)]
    made = outcome(lambda: make_entries(items, config))
    assert made == outcome(lambda: feedgen_entries(items, config))
    if made != "refused":
        assert list(made) == [entry_key(article, full, config) for article, full in items]


@settings(max_examples=300, deadline=None)
@given(fields=st.lists(item_fields(), max_size=4), route=st.sampled_from(ROUTES), base_url=st.sampled_from(BASE_URLS),
       full=st.booleans(), topics=st.booleans())
def test_every_feed_of_hostile_articles_is_what_feedgen_writes(fields, route, base_url, full, topics):
    config = Config(base_url=base_url, feed=FeedSettings(full_content=full, full_content_topics=topics))
    articles = tuple(make_item(i, *values) for i, values in enumerate(fields))
    spliced, reference = render_both(config, route, "Title", "Description", articles)
    assert spliced == reference


@settings(max_examples=400, deadline=None)
@given(values=item_fields(title=sure_texts, summary=st.just("") | sure_texts, byline=sure_texts, body=sure_bodies),
       full=st.booleans(), base_url=st.sampled_from(BASE_URLS))
def test_the_items_are_filled_in_not_written_by_feedgen(values, full, base_url):
    """For anything lxml writes, escapes and links included, the templates fill the item, as feedgen would."""
    config = Config(base_url=base_url)
    article = make_item(0, *values)
    filled = feeds._fill_item(article, Urls(config.base_url, config.base_path), full)
    assert filled is not None
    assert {entry_key(article, full, config): filled} == feedgen_entries([(article, full)], config)


def test_ordinary_items_never_reach_feedgen(monkeypatch):
    config = Config(base_url="https://example.github.io/digest/")
    when = dt.datetime(2024, 3, 1, 12, 30, tzinfo=zoneinfo.ZoneInfo("Europe/Paris"))
    items = [(make_item(i, f"Headline {i} \u2014 caf\u00e9 & co", "A summary." * (i % 2), ["Ana", "Bo"][:i % 3],
                        f'<p>Body {i}: <a href="/threads/x/">the story</a> &amp; more</p>', when,
                        [None, "same", when + dt.timedelta(days=1)][i % 3]), i % 4 == 0) for i in range(24)]
    want = feedgen_entries(items, config)
    monkeypatch.setattr(feeds, "_feedgen_entries", None)  # calling it would fail
    assert make_entries(items, config) == want


NOON = dt.datetime(2024, 3, 1, 12, tzinfo=dt.UTC)


@pytest.mark.parametrize("values, full", [
    (("", "s", [], "<p>b</p>", NOON, None), False),  # feedgen refuses an Atom entry without a title
    (("t", "s", [], "", NOON, None), True),  # empty content: an empty element
    (("t", "s", ["Ana", ""], "<p>b</p>", NOON, None), False),  # Atom leaves out an author without a name
    (("t\x00", "s", [], "<p>b</p>", NOON, None), False),
    (("t", "s\x0b", [], "<p>b</p>", NOON, None), False),
    (("t", "s", ["\ud800"], "<p>b</p>", NOON, None), False),
    (("t", "s", [], "<p>b\x85</p>", NOON, None), True),
    (("t", "s", [], "<p>b\ufffe</p>", NOON, None), True),
    (("t", "s", [], "<p>b</p>", NOON.replace(tzinfo=None), None), False),  # naive dates: feedgen refuses
    (("t", "s", [], "<p>b</p>", NOON, NOON.replace(tzinfo=None)), False),
])
def test_what_the_item_templates_are_unsure_of_goes_to_feedgen(values, full):
    """Among sure items, the unsure one goes to feedgen: the same items, or feedgen's error."""
    config = Config(base_url="https://example.org/")
    unsure = make_item(1, *values)
    assert feeds._fill_item(unsure, Urls(config.base_url, config.base_path), full) is None
    items = [(make_item(0, "a", "b", [], "<p>c</p>", NOON, None), full), (unsure, full),
             (make_item(2, "d", "", ["e"], "<p>f</p>", NOON, "same"), not full)]
    assert outcome(lambda: make_entries(items, config)) == outcome(lambda: feedgen_entries(items, config))


def test_a_long_body_with_every_hazard_matches_feedgen():
    body = "".join(MARKUP) * 2000 + "\u00e9\U0001f600" * 5000
    article = make_item(0, "T", "S", ["A & B", "<C>"], body, NOON, "same")
    config = Config(base_url="https://example.org/news/")
    link = Urls(config.base_url, config.base_path)
    for full in (True, False):
        assert feeds._fill_item(article, link, full) is not None
        assert make_entries([(article, full)], config) == feedgen_entries([(article, full)], config)


LIMIT = dt.timedelta(hours=23, minutes=59, seconds=59)
offsets = st.builds(dt.timezone, st.timedeltas(min_value=-LIMIT, max_value=LIMIT))


@settings(max_examples=1000)
@given(date=st.datetimes(timezones=st.one_of(st.sampled_from([*ZONES, None]), st.timezones(), offsets)))
def test_rfc822_dates_are_feedgens(date):
    """Every year, zone and offset (seconds, microseconds, none) as feedgen's formatRFC2822 writes it."""
    assert feedtext.rfc822.__wrapped__(date, date.utcoffset()) == formatRFC2822(date)
    assert feedtext.format_date("rss", date) == formatRFC2822(date)
