"""Page planning lookups: what `_Context` remembers for one build gives what each page would compute;
shortcuts of gathering and rendering give what the long way gives."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import jinja2
import pytest

from newsdigest.config import Config
from newsdigest.content import Article, _Canonical, _canonical_entities, gather_site
from newsdigest.errors import TemplateError
from newsdigest.render import _Context, compile_templates, make_environment, render, story_window

START = dt.datetime(2026, 3, 1, 23, 30, tzinfo=dt.UTC)


def _articles(n: int) -> list[Article]:
    return [Article(slug=f"a{i}", source=f"a{i}.md", title=f"A{i}", date=START + dt.timedelta(hours=i),
                    body="", thread="story") for i in range(n)]


def test_story_windows_centre_each_article_of_its_story():
    config = Config()
    ctx = _Context(gather_site(_articles(7), config), config)
    thread = ctx.site.threads["story"]
    windows = [[a.slug for a in story_window(thread, ctx.position(thread, a), 3)] for a in thread.articles]
    assert windows == [["a0", "a1", "a2"], ["a0", "a1", "a2"], ["a1", "a2", "a3"], ["a2", "a3", "a4"],
                       ["a3", "a4", "a5"], ["a4", "a5", "a6"], ["a4", "a5", "a6"]]
    assert ctx.position(thread, _articles(9)[8]) == 0  # not in the story: its start


def test_entities_company_is_the_same_worked_out_aside_or_here(monkeypatch):
    """Big sites rank each entity's company in another process (`parallel.Aside`), small ones here."""
    def entities(i: int) -> dict[str, tuple[str, ...]]:
        return {"person": tuple(f"Person {j % 12}" for j in (i, i * 7 + 1, i // 3)), "place": (f"Place {i % 5}",)}

    articles = [Article(slug=f"a{i}", source=f"a{i}.md", title=f"A{i}", date=START + dt.timedelta(hours=i), body="",
                        thread=f"story-{i % 30}", entities=entities(i)) for i in range(300)]
    config = Config()
    aside = gather_site(articles, config)
    monkeypatch.setenv("NEWSDIGEST_WORKERS", "1")
    here = gather_site(articles, config)
    assert {k: e.related for k, e in aside.entities.items()} == {k: e.related for k, e in here.entities.items()}
    assert any(e.related for e in here.entities.values())


def test_templates_are_compiled_before_use_and_a_broken_one_is_left_to_say_so(tmp_path):
    defaults = Path(__file__).resolve().parent.parent / "templates"
    (tmp_path / "broken.html").write_text("{% if %}\n")
    (tmp_path / "note.txt").write_bytes(b"\xff not UTF-8")
    env = make_environment(Config(), [tmp_path, defaults])
    compile_templates(env)
    loaded = {template.name for template in env.cache.values()}
    assert {"article.html", "base.html", "_macros.html", "entity.html", "email.txt"} <= loaded
    assert not {"broken.html", "note.txt"} & loaded
    with pytest.raises(TemplateError, match="template syntax error"):
        render(env, "broken.html")
    assert isinstance(env.get_template("404.html"), jinja2.Template)


def test_canonical_entities_at_once_are_the_ones_worked_out():
    rng = random.Random(7)
    names = ["Ana", "Ben", "Cy", "Dee", "Ed"]
    kinds = ["person", "organization", "place"]
    keys = [(k, n) for k in kinds for n in names]
    for _ in range(300):
        mapping = {key: (rng.choice(kinds), rng.choice(names)) if rng.random() < 0.2 else key for key in keys}
        hidden = {key for key in keys if rng.random() < 0.1}
        canonical = _Canonical(mapping, hidden)
        for _ in range(20):
            order = rng.sample(kinds, rng.randint(0, 3))
            if rng.random() < 0.7:
                order.sort(key=kinds.index)
            entities = {k: tuple(rng.choices(names, k=rng.randint(0, 3))) for k in order}
            assert canonical(entities) == _canonical_entities(entities, mapping, hidden), (entities, mapping)
