"""Page keys: what a page shows changes its key, and what it does not show leaves it alone."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from markupsafe import Markup

from newsdigest.content import Article, Entity
from newsdigest.parallel import MIN_PARALLEL, Aside
from newsdigest.plan import PageKeys, PlannedPage

DAY = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def _article(slug: str, date: dt.datetime = DAY, text: str = "fp") -> Article:
    return Article(slug=slug, source=f"{slug}.md", title=slug.title(), date=date, body=None, fingerprint=text)


def _entity(*articles: Article) -> Entity:
    return Entity("person", "Ada Lovelace", "ada-lovelace", articles=articles, threads=())


def _key(**context) -> str:
    """The key of a page in a build of its own (memos start empty, as in a new build)."""
    return PageKeys("stamp").key(PlannedPage("entity.html", context))


def test_markup_dates_and_their_text_give_different_keys():
    assert _key(x=Markup("<b>a</b>")) != _key(x="<b>a</b>")
    assert _key(x=DAY) != _key(x=repr(DAY))
    assert _key(x=DAY) != _key(x=DAY.astimezone(dt.timezone(dt.timedelta(hours=1))))  # same instant
    assert _key(x=DAY) == _key(x=DAY)
    assert _key(x={DAY.date(): [DAY], "n": {1, 2}}) != _key(x={DAY.date(): [DAY], "n": {1, 3}})


def test_an_entity_key_follows_its_mentions_dates_not_their_text():
    one, two = _article("one"), _article("two")
    before = _key(entity=_entity(one, two))
    assert _key(entity=_entity(replace(one, fingerprint="edited"), two)) == before
    assert _key(entity=_entity(replace(one, date=DAY + dt.timedelta(days=1)), two)) != before
    assert _key(entity=_entity(one)) != before


def test_keys_of_one_build_remember_each_article_by_itself():
    keys = PageKeys("stamp")
    one, moved = _article("one"), _article("one", date=DAY + dt.timedelta(hours=1))
    first = keys.key(PlannedPage("entity.html", {"entity": _entity(one)}))
    assert keys.key(PlannedPage("entity.html", {"entity": _entity(moved)})) != first


def test_digests_worked_out_aside_give_the_keys_worked_out_here():
    """A build works out its entities' and stories' digests in a fork (`Aside`) and adopts them."""
    articles = [_article(f"a{i}", DAY + dt.timedelta(hours=i)) for i in range(MIN_PARALLEL)]
    entities = [Entity("person", f"P{i}", f"p{i}", articles=tuple(articles[i:i + 3]), threads=())
                for i in range(MIN_PARALLEL)]
    here, adopted = PageKeys("stamp"), PageKeys("stamp")
    digests = Aside(adopted.shared_digests, entities, size=len(entities)).result()
    adopted.adopt(digests, entities)
    assert len(digests) == len(entities)
    pages = [PlannedPage("entity.html", {"entity": e, "articles": e.articles}) for e in entities]
    assert [adopted.key(p) for p in pages] == [here.key(p) for p in pages]
    assert len({adopted.key(p) for p in pages}) == len(pages)
