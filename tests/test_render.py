"""Page planning lookups: what `_Context` remembers for one build gives what each page would compute."""

from __future__ import annotations

import datetime as dt

from newsdigest.config import Config
from newsdigest.content import Article, gather_site
from newsdigest.render import _Context, story_window

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
