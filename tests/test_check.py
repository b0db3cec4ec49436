"""The link check: the built site crawled under its GitHub Pages path."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import article, broken_links

from newsdigest.build import build_site
from newsdigest.check import check_site
from newsdigest.cli import main
from newsdigest.config import load_config
from newsdigest.errors import NewsdigestError

BROKEN_BODY = """See [the old story](/repo/2024/01/01/gone/) and [the thread](/repo/threads/greetings/#nope).

[Back to the top](#main), [elsewhere on the host](/other/page/), [outside](https://example.com/x).

![a chart](/repo/assets/missing.png)
"""


@pytest.fixture
def broken_site(site: Path) -> Path:
    article(site, "2024/01/15/hello.md", "Hello world", "2024-01-15T09:00:00+00:00", thread="greetings",
            entities={"person": ["Ann Smith"]}, body=BROKEN_BODY)
    article(site, "2024/01/16/fine.md", "Fine story", "2024-01-16T09:00:00+00:00", thread="greetings")
    report = build_site(site, load_config(site))
    assert not report.errors
    return site


def test_broken_links_are_listed_page_by_target(broken_site):
    problems = broken_links(broken_site)
    page = "/repo/2024/01/15/hello/"
    assert f"{page} -> /repo/2024/01/01/gone/ (HTTP 404)" in problems
    assert f"{page} -> /repo/assets/missing.png (HTTP 404)" in problems
    assert f"{page} -> /other/page/ (HTTP 404)" in problems  # outside the project path: broken on Pages
    assert f"{page} -> /repo/threads/greetings/#nope (no element with id 'nope' on that page)" in problems
    assert not any("example.com" in p or "#main" in p for p in problems)
    assert len(problems) == 4, problems  # the links of the rest of the site are fine


def test_broken_feed_and_missing_stylesheet_are_caught(broken_site):
    (broken_site / "output" / "threads" / "greetings" / "feed.xml").write_text("<rss><channel>", encoding="utf-8")
    (broken_site / "output" / "assets" / "style.css").unlink()
    problems = broken_links(broken_site)
    assert any(p.endswith("-> /repo/threads/greetings/feed.xml (not well-formed XML: no element found: "
                          "line 1, column 14)") for p in problems)
    assert any(p.startswith("/repo/ -> /repo/assets/style.css (HTTP 404)") for p in problems)


def test_pages_nothing_links_to_are_checked_too(broken_site):
    (broken_site / "output" / "404.html").write_text('<a href="/repo/lost/">home</a>', encoding="utf-8")
    (broken_site / "output" / "moved").mkdir()
    (broken_site / "output" / "moved" / "index.html").write_text(
        '<meta http-equiv="Refresh" content="0; URL=\'/repo/gone-too/\'">', encoding="utf-8")
    sitemap = (broken_site / "output" / "sitemap.xml").read_text(encoding="utf-8")
    (broken_site / "output" / "sitemap.xml").write_text(
        sitemap.replace("</urlset>", "<url><loc>https://user.github.io/repo/moved/</loc></url></urlset>"),
        encoding="utf-8")
    problems = broken_links(broken_site)
    assert "/repo/404.html -> /repo/lost/ (HTTP 404)" in problems
    assert "/repo/moved/ -> /repo/gone-too/ (HTTP 404)" in problems


def test_check_command_fails_on_broken_links_and_passes_on_a_clean_site(broken_site, capsys):
    assert main(["check", "--site", str(broken_site)]) == 1
    err = capsys.readouterr().err
    assert "error: /repo/2024/01/15/hello/ -> /repo/2024/01/01/gone/ (HTTP 404)" in err
    article(broken_site, "2024/01/15/hello.md", "Hello world", "2024-01-15T09:00:00+00:00", thread="greetings",
            entities={"person": ["Ann Smith"]}, body="See [the thread](/repo/threads/greetings/#main).")
    build_site(broken_site, load_config(broken_site))
    assert check_site(broken_site, load_config(broken_site)) == 0


def test_sample_site_is_clean(sample_site):
    assert broken_links(sample_site) == []


def test_checking_without_a_build_is_one_clear_error(site):
    with pytest.raises(NewsdigestError, match="no built site to check.*build"):
        check_site(site, load_config(site))
