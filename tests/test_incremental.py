"""Incremental builds equal clean builds, byte for byte; clean builds are deterministic."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from newsdigest import content as content_module
from newsdigest import feeds as feeds_module
from newsdigest.build import build_site
from newsdigest.cache import BuildCache, tree_stamps
from newsdigest.config import load_config
from newsdigest.content import gather_site, load_articles
from newsdigest.feeds import make_feed, plan_feeds, render_feeds, unique_items

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import generate  # noqa: E402

CONFIG = generate.CONFIG.replace("https://example.github.io/digest/", "https://user.github.io/repo/")


def make_site(folder: Path, n: int = 50) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.yaml").write_text(CONFIG, encoding="utf-8")
    generate.write_articles(folder, n)
    return folder


def snapshot(output: Path) -> dict[str, bytes]:
    return {p.relative_to(output).as_posix(): p.read_bytes() for p in sorted(output.rglob("*")) if p.is_file()}


def clean_build_of(site: Path, scratch: Path) -> dict[str, bytes]:
    """Build a copy of `site`'s content from nothing and return its output."""
    if scratch.exists():
        shutil.rmtree(scratch)
    shutil.copytree(site / "content", scratch / "content")
    shutil.copy(site / "config.yaml", scratch / "config.yaml")
    if (site / "templates").is_dir():
        shutil.copytree(site / "templates", scratch / "templates")
    report = build_site(scratch, load_config(scratch))
    assert not report.errors, report.errors
    return snapshot(scratch / "output")


def assert_same_tree(got: dict[str, bytes], want: dict[str, bytes]) -> None:
    assert sorted(got) == sorted(want), (sorted(set(got) ^ set(want)))[:10]
    different = [rel for rel in want if got[rel] != want[rel]]
    assert not different, different[:10]


def articles_of(site: Path) -> list[Path]:
    return sorted((site / "content" / "articles").rglob("*.md"))


def edit(path: Path, pattern: str, replacement: str) -> None:
    text = path.read_text(encoding="utf-8")
    new = re.sub(pattern, replacement, text, count=1, flags=re.M)
    assert new != text, pattern
    path.write_text(new, encoding="utf-8")


@pytest.fixture(autouse=True)
def code_unchanged(monkeypatch, tmp_path):
    """Others edit the package while these tests run; a code change re-renders everything."""
    monkeypatch.setattr("newsdigest.plan.CODE_DIR", tmp_path / "no-code")


@pytest.fixture
def built(tmp_path: Path) -> Path:
    site = make_site(tmp_path / "site")
    report = build_site(site, load_config(site))
    assert not report.errors and report.rendered > 0
    return site


def test_nothing_changed_renders_nothing(built):
    before = snapshot(built / "output")
    report = build_site(built, load_config(built))
    assert report.rendered == 0 and report.pages > 50
    assert snapshot(built / "output") == before


def test_edits_additions_and_deletions_equal_a_clean_build(built, tmp_path):
    config = load_config(built)
    files = articles_of(built)
    steps = [
        ("body edit", lambda: edit(files[10], r"^([A-Z][^\n]*)$", r"\1 One more sentence.")),
        ("title edit", lambda: edit(files[11], r"^title: .*$", "title: A new headline for this story")),
        ("entities edit", lambda: edit(files[12], r"^  person: \[", "  person: [Brand New Person, ")),
        ("thread change", lambda: edit(files[13], r"^thread: .*$", "thread: a-thread-of-its-own")),
        ("date change", lambda: edit(files[14], r"^date: .*$", "date: 2031-05-06T07:08:00+00:00")),
        ("addition", lambda: shutil.copy(files[20], files[20].with_name("an-added-article.md"))),
        ("deletion", lambda: files[30].unlink()),
        ("template override", lambda: _override_template(built)),
    ]
    for n, (name, change) in enumerate(steps):
        change()
        report = build_site(built, config)
        assert not report.errors, (name, report.errors)
        assert 0 < report.rendered < report.pages + report.feeds or name == "template override", name
        if name == "body edit":  # patched in place: the article's page and the feeds that carry it
            assert report.rendered <= 1 + 2 * (2 + 12), report.rendered  # site, thread, 6-12 entities
        assert_same_tree(snapshot(built / "output"), clean_build_of(built, tmp_path / f"clean-{n}"))


def test_a_new_time_zone_reads_the_articles_again_and_equals_a_clean_build(built, tmp_path):
    """The time zone reads the articles' dates (an article's fingerprint holds it with the file): the
    articles the cache holds, and the feed items it keeps for them, are made again."""
    edit(articles_of(built)[5], r"^date: .*$", "date: 2024-03-04 05:06:07")  # no offset: the site's time zone
    assert not build_site(built, load_config(built)).errors
    config_file = built / "config.yaml"
    config_file.write_text(config_file.read_text(encoding="utf-8").replace("timezone: UTC", "timezone: Asia/Tokyo"),
                           encoding="utf-8")
    report = build_site(built, load_config(built))
    assert not report.errors
    assert_same_tree(snapshot(built / "output"), clean_build_of(built, tmp_path / "clean"))


def test_two_output_folders_in_turn_each_patch_a_text_edit(built, tmp_path):
    """As the preview does: each folder is one edit behind when its turn comes, and is still patched."""
    config = load_config(built)
    folders = [tmp_path / "a", tmp_path / "b"]
    for folder in folders:
        build_site(built, config, output_dir=folder)
    target = articles_of(built)[10]
    for n in range(4):
        edit(target, r"^([A-Z][^\n]*?)( Edit \d+\.)?$", rf"\1 Edit {n}.")
        report = build_site(built, config, output_dir=folders[n % 2])
        assert not report.errors and report.rendered <= 1 + 2 * (2 + 12), (n, report.rendered)
        assert report.rendered < 40, "not patched: the whole plan ran"
        assert_same_tree(snapshot(folders[n % 2]), clean_build_of(built, tmp_path / f"clean-{n}"))


def test_a_body_edit_to_an_article_in_the_full_content_feed_patches_the_feed_too(built, tmp_path):
    newest = articles_of(built)[-1]  # the site feed carries whole articles, the newest first
    edit(newest, r"^([A-Z][^\n]*)$", r"\1 One more sentence.")
    report = build_site(built, load_config(built))
    assert not report.errors
    assert report.rendered == 3, "not patched: its page and the site feed's RSS and Atom"
    assert_same_tree(got := snapshot(built / "output"), clean_build_of(built, tmp_path / "clean"))
    assert report.bytes == sum(len(data) for data in got.values())
    assert "One more sentence." in (built / "output" / "feed.xml").read_text(encoding="utf-8")


def _page_of(site: Path, article: Path) -> Path:
    """The output file of an article's page (its route is its file's path without `.md`)."""
    rel = article.relative_to(site / "content" / "articles").with_suffix("")
    return site / "output" / rel / "index.html"


@pytest.mark.parametrize("harm", ["delete", "change"])
def test_output_files_harmed_by_hand_are_rebuilt_by_the_quick_rebuilds(built, tmp_path, harm):
    """Neither quick rebuild (nothing changed; a body edit) takes output/ on trust."""
    files = articles_of(built)
    config = load_config(built)

    def spoil(path: Path) -> None:
        assert path.is_file(), path
        path.unlink() if harm == "delete" else path.write_text("<p>spoiled</p>", encoding="utf-8")

    spoil(built / "output" / "404.html")
    assert build_site(built, config).rendered >= 1
    assert_same_tree(snapshot(built / "output"), clean_build_of(built, tmp_path / "clean-0"))
    for n, spoiled in enumerate([_page_of(built, files[20]), _page_of(built, files[10])], start=1):
        edit(files[10], r"^([A-Z][^\n]*?)( Edit \d+\.)?$", rf"\1 Edit {n}.")  # files[10]'s own page, too
        spoil(spoiled)
        report = build_site(built, config)
        assert not report.errors and report.rendered >= 1
        assert "spoiled" not in spoiled.read_text(encoding="utf-8")
        assert_same_tree(snapshot(built / "output"), clean_build_of(built, tmp_path / f"clean-{n}"))


def test_a_new_article_leaves_pages_that_only_link_its_entities_alone(built):
    """A page showing an entity as a link does not change when the entity gains an article."""
    files = articles_of(built)
    newest = files[-1]
    config = load_config(built)
    site = gather_site(load_articles(built / "content" / "articles", config)[0], config)
    article = next(a for a in site.articles if a.source == newest.name or newest.as_posix().endswith(a.source))
    names = {(kind, n) for kind, ns in article.entities.items() for n in ns}
    # Another story that names one of its entities: its page shows the entity as a link only.
    other = next(t for t in site.threads.values() if t.id != article.thread_id
                 and names & {(kind, n) for a in t.articles for kind, ns in a.entities.items() for n in ns})
    page_file = built / "output" / other.route / "index.html"
    before = page_file.stat().st_mtime_ns
    added = newest.with_name("one-more-on-this-story.md")
    added.write_text(re.sub(r"^title: .*$", "title: One more on this story", newest.read_text(encoding="utf-8"),
                            count=1, flags=re.M), encoding="utf-8")
    report = build_site(built, config)
    assert not report.errors
    assert page_file.stat().st_mtime_ns == before, "a story page that only links the entity was re-rendered"
    assert report.rendered < (report.pages + report.feeds) // 3


def _override_template(site: Path) -> None:
    source = (ROOT / "templates" / "404.html").read_text(encoding="utf-8")
    (site / "templates").mkdir(exist_ok=True)
    (site / "templates" / "404.html").write_text(source.replace("Page not found", "Nothing here"), encoding="utf-8")


def test_deleting_the_cache_gives_the_same_site(built):
    before = snapshot(built / "output")
    shutil.rmtree(built / ".cache")
    build_site(built, load_config(built))
    assert snapshot(built / "output") == before


def test_a_damaged_manifest_or_build_record_means_building_again(built):
    before = snapshot(built / "output")
    db = sqlite3.connect(built / ".cache" / "build.sqlite")
    with db:
        db.execute("UPDATE manifests SET files = ?", (b"\x00 not marshal",))
        db.execute("UPDATE built SET listing = ?", (b"\xff\xfe",))
    db.close()
    report = build_site(built, load_config(built))
    assert not report.errors and report.rendered > 0  # nothing taken as unchanged: every page rendered again
    assert snapshot(built / "output") == before
    assert build_site(built, load_config(built)).rendered == 0  # and recorded again


def test_two_clean_builds_in_different_processes_are_identical(tmp_path):
    """Same content, same bytes, even with different string hashing (set order) in each process."""
    outputs = []
    for seed in ("1", "2"):
        site = make_site(tmp_path / f"site-{seed}", n=30)
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run([sys.executable, str(ROOT / "build.py"), "build", "--site", str(site), "--quiet"],
                       check=True, env=env, cwd=ROOT)
        outputs.append(snapshot(site / "output"))
    assert_same_tree(outputs[0], outputs[1])


def test_a_build_on_two_cores_equals_a_build_on_one(tmp_path):
    """Pages, and feeds whose items each worker reads from the cache, are the same bytes whoever renders them."""
    outputs = []
    for workers in ("1", "2"):
        site = make_site(tmp_path / f"site-{workers}", n=150)  # enough pages and feeds for workers to start
        env = {**os.environ, "NEWSDIGEST_WORKERS": workers}
        subprocess.run([sys.executable, str(ROOT / "build.py"), "build", "--site", str(site), "--quiet"],
                       check=True, env=env, cwd=ROOT)
        outputs.append(snapshot(site / "output"))
    assert len(outputs[0]) > 600
    assert_same_tree(outputs[0], outputs[1])


def test_articles_parsed_on_two_cores_are_stored_by_both(tmp_path, monkeypatch):
    """Each process stores the articles it parsed; a later load finds every one, with its text."""
    monkeypatch.setenv("NEWSDIGEST_WORKERS", "2")
    site = make_site(tmp_path / "site", n=400)  # enough files for a worker to start
    config = load_config(site)
    cache = BuildCache(site / ".cache" / "build.sqlite")
    try:
        first, errors = load_articles(site / "content" / "articles", config, cache=cache)
    finally:
        cache.close()
    assert not errors and len(first) == 400
    with contextlib.closing(sqlite3.connect(site / ".cache" / "build.sqlite")) as db:
        assert db.execute("SELECT count(*) FROM articles").fetchone()[0] == 400
    monkeypatch.setattr(content_module, "_read_chunk", _fail)  # nothing is parsed again
    cache = BuildCache(site / ".cache" / "build.sqlite")
    try:
        again, errors = load_articles(site / "content" / "articles", config, cache=cache)
        assert not errors and [a.fingerprint for a in again] == [a.fingerprint for a in first]
        assert all(a.body_html.startswith("<p>") for a in again)
    finally:
        cache.close()


def test_articles_stored_in_a_full_load_reach_the_database_file(tmp_path, monkeypatch):
    """The parsing processes leave their articles in SQLite's log; another process copies them
    into the database file meanwhile, so the log does not grow build after build."""
    monkeypatch.setenv("NEWSDIGEST_WORKERS", "2")
    site = make_site(tmp_path / "site", n=400)
    cache = BuildCache(site / ".cache" / "build.sqlite")
    try:
        load_articles(site / "content" / "articles", load_config(site), cache=cache)
    finally:
        cache.close()  # waits for the copy
    alone = tmp_path / "alone.sqlite"  # the database file without its log
    shutil.copyfile(site / ".cache" / "build.sqlite", alone)
    with contextlib.closing(sqlite3.connect(alone)) as db:
        assert db.execute("SELECT count(*) FROM articles WHERE length(body) > 0").fetchone()[0] == 400


def test_the_loader_lists_the_articles_as_the_input_stamps_do(tmp_path):
    """Listed by the loader itself or taken from the build's input stamps: the same articles, and a
    symlink pointing outside content/ refused either way."""
    site = make_site(tmp_path / "site", n=5)
    articles_dir = site / "content" / "articles"
    outside = tmp_path / "outside.md"
    outside.write_text(sorted(articles_dir.rglob("*.md"))[0].read_text(encoding="utf-8"), encoding="utf-8")
    (articles_dir / "linked.md").symlink_to(outside)
    (articles_dir / "notes.txt").write_text("not an article\n", encoding="utf-8")
    config = load_config(site)
    links: set[str] = set()
    stamps = tree_stamps(articles_dir, links)
    own, own_errors = load_articles(articles_dir, config)
    given, given_errors = load_articles(articles_dir, config, listed=(stamps, links))
    assert len(own) == 5 and [a.key for a in own] == [a.key for a in given]
    assert [str(e) for e in own_errors] == [str(e) for e in given_errors]
    assert len(own_errors) == 1 and "symlink" in str(own_errors[0]) and "linked.md" in str(own_errors[0])


def _fail(*args):
    raise RuntimeError("parsed again")


def test_feed_items_follow_the_sites_address(tmp_path):
    """The preview server's build (its own address) and the published build share the cache:
    neither's feed items may link to the other's address."""
    site = make_site(tmp_path / "site", n=20)
    config = load_config(site)
    preview = dataclasses.replace(config, base_url="http://127.0.0.1:8000/")
    build_site(site, preview, output_dir=tmp_path / "preview")
    build_site(site, config)
    feeds = [p for p in (site / "output").rglob("*.xml") if p.name in ("feed.xml", "atom.xml")]
    assert len(feeds) > 20
    for path in feeds:
        assert "127.0.0.1" not in path.read_text(encoding="utf-8"), path


def test_the_cache_keeps_only_the_feed_items_of_the_site_as_it_is(tmp_path):
    """An edited article's old item is dropped: the cache does not grow with every edit."""
    site = make_site(tmp_path / "site", n=20)
    build_site(site, load_config(site))
    before = _cached_entry_fps(site)
    path = sorted((site / "content" / "articles").rglob("*.md"))[-1]
    path.write_text(path.read_text(encoding="utf-8").replace("title: ", "title: Changed ", 1), encoding="utf-8")
    (site / "templates").mkdir(exist_ok=True)
    (site / "templates" / "404.html").write_text("<!DOCTYPE html><title>gone</title>\n", encoding="utf-8")
    build_site(site, load_config(site))  # a template changed: a full build, not a patch
    after = _cached_entry_fps(site)
    assert len(after) == len(before) and len(after - before) >= 1


def test_feed_items_made_on_two_cores_are_stored_by_both(tmp_path, monkeypatch):
    """Each process stores the feed items it made; the next full build makes none of them again."""
    monkeypatch.setenv("NEWSDIGEST_WORKERS", "2")
    site = make_site(tmp_path / "site", n=400)  # enough items for a worker to start
    config = load_config(site)
    build_site(site, config)
    articles, _ = load_articles(site / "content" / "articles", config)
    assert _cached_entry_fps(site) == set(unique_items(plan_feeds(gather_site(articles, config), config), config))
    feeds_before = {p: p.read_bytes() for p in (site / "output").rglob("*.xml")}

    def make_entries(items, config):
        assert not items, "a feed item was made again"
        return {}

    monkeypatch.setattr(feeds_module, "make_entries", make_entries)
    (site / "templates").mkdir(exist_ok=True)
    (site / "templates" / "404.html").write_text("<!DOCTYPE html><title>gone</title>\n", encoding="utf-8")
    build_site(site, load_config(site))  # a template changed: a full build, every feed rendered again
    assert {p: p.read_bytes() for p in (site / "output").rglob("*.xml")} == feeds_before


def _cached_entry_fps(site: Path) -> set[str]:
    with contextlib.closing(sqlite3.connect(site / ".cache" / "build.sqlite")) as db:
        return {fp for (fp,) in db.execute("SELECT fp FROM entries")}


def test_spliced_feeds_equal_feedgen_writing_each_feed(tmp_path):
    site = make_site(tmp_path / "site", n=40)
    config = load_config(site)
    articles, errors = load_articles(site / "content" / "articles", config)
    assert not errors
    built = gather_site(articles, config)
    fast = dict(render_feeds(built, config))
    feeds = plan_feeds(built, config)
    assert len(fast) == 2 * len(feeds)
    for feed in feeds:
        for route, xml in make_feed(config, feed.route, feed.title, feed.description, feed.items):
            assert fast[route] == xml, route
