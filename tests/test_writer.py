"""The writer: a build killed while it moves files into output/ leaves a whole, working site at every
instant, and the next build, `check` or `deploy` finishes the move. The build is a real subprocess; the
writer's test hook makes it stop itself (SIGSTOP) before each move or deletion, so the test looks at
output/ at every instant of the commit and sends SIGKILL exactly where it wants."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, article, broken_links, build, write

from newsdigest.check import check_site
from newsdigest.config import load_config
from newsdigest.deploy import deploy
from newsdigest.writer import PAUSE_ENV, OutputWriter, recover

pytestmark = pytest.mark.slow


def snapshot(output: Path) -> dict[str, bytes]:
    return {p.relative_to(output).as_posix(): p.read_bytes() for p in sorted(output.rglob("*")) if p.is_file()}


def write_old(site: Path) -> None:
    for i in range(6):
        article(site, f"2024/01/1{i}/story-{i}.md", f"Story number {i}", f"2024-01-1{i}T09:00:00+00:00",
                thread="the-story" if i % 2 else f"single-{i}", entities={"person": [f"Person {i % 3}"]},
                body=f"Paragraph of story {i}.\n\nAnother paragraph.")


def make_new(site: Path) -> None:
    """Edit one body and one title, add an article (new thread, new person), delete one."""
    articles = site / "content" / "articles"
    first = articles / "2024/01/11/story-1.md"
    first.write_text(first.read_text(encoding="utf-8").replace("Paragraph of story 1", "Changed story 1"),
                     encoding="utf-8")
    second = articles / "2024/01/12/story-2.md"
    second.write_text(second.read_text(encoding="utf-8").replace("Story number 2", "A new headline"),
                      encoding="utf-8")
    article(site, "2024/01/20/added.md", "An added story", "2024-01-20T09:00:00+00:00", thread="brand-new",
            entities={"person": ["Person New"]}, body="Fresh text.")
    (articles / "2024/01/13/story-3.md").unlink()


def clean_build(site: Path, scratch: Path) -> dict[str, bytes]:
    shutil.copytree(site / "content", scratch / "content")
    shutil.copy(site / "config.yaml", scratch / "config.yaml")
    build(scratch)
    return snapshot(scratch / "output")


def set_content(site: Path, content: Path) -> None:
    shutil.rmtree(site / "content")
    shutil.copytree(content, site / "content", copy_function=shutil.copy)  # fresh mtimes: inputs changed


def run_paused(site: Path, on_pause) -> int:
    """Run `build.py build` stopping before each move; `on_pause(n, plan)` returns False to SIGKILL it there."""
    with open(site.parent / "build.err", "w") as err:
        proc = subprocess.Popen([sys.executable, str(ROOT / "build.py"), "build", "--site", str(site)], cwd=ROOT,
                                env={**os.environ, PAUSE_ENV: "1"}, stdout=subprocess.DEVNULL, stderr=err)
    pauses = 0
    while True:
        _, status = os.waitpid(proc.pid, os.WUNTRACED)
        if not os.WIFSTOPPED(status):
            assert os.waitstatus_to_exitcode(status) == 0, (site.parent / "build.err").read_text()
            return pauses
        pauses += 1
        plan = json.loads((site / ".output.journal").read_text(encoding="utf-8"))
        if on_pause(pauses, plan):
            os.kill(proc.pid, signal.SIGCONT)
            continue
        os.kill(proc.pid, signal.SIGKILL)
        os.waitpid(proc.pid, 0)
        return pauses


@pytest.fixture
def sites(site: Path, tmp_path_factory) -> tuple[Path, dict[str, bytes], dict[str, bytes], Path, Path]:
    """The site built at its old content; old and new outputs (clean builds); old and new content."""
    scratch = tmp_path_factory.mktemp("versions")
    write_old(site)
    build(site)
    old = snapshot(site / "output")
    shutil.copytree(site / "content", scratch / "old-content")
    make_new(site)
    shutil.copytree(site / "content", scratch / "new-content")
    new = clean_build(site, scratch / "clean-new")
    set_content(site, scratch / "old-content")
    build(site)
    assert snapshot(site / "output") == old
    return site, old, new, scratch / "old-content", scratch / "new-content"


def test_at_every_instant_of_a_commit_output_is_a_whole_site(sites):
    site, old, new, _, new_content = sites
    set_content(site, new_content)
    both = set(old) & set(new)
    seen = {"search": 0}

    def look(n: int, plan: dict) -> bool:
        now = snapshot(site / "output")
        mixed = [rel for rel, data in now.items() if data != old.get(rel) and data != new.get(rel)]
        assert not mixed, (n, mixed[:5])
        assert both <= set(now), (n, sorted(both - set(now))[:5])
        assert broken_links(site) == [], n
        seen["search"] += any(rel.startswith("pagefind/") for rel in plan["moves"])
        return True

    pauses = run_paused(site, look)
    assert pauses > 10 and seen["search"] > 0  # pages and the search index both went through the journal
    assert snapshot(site / "output") == new


@pytest.mark.parametrize("finisher", ["build", "check", "deploy"])
def test_a_build_killed_mid_move_is_finished_by_the_next_command(sites, finisher, tmp_path):
    site, old, new, old_content, new_content = sites
    set_content(site, new_content)

    def kill_where_wanted(n: int, plan: dict) -> bool:
        search = any(rel.startswith("pagefind/") for rel in plan["moves"])
        if finisher == "check":  # check does not build: kill it while the search index moves in
            return not search or n % 2
        return search or n < (3 if finisher == "build" else 8)

    run_paused(site, kill_where_wanted)
    pending = json.loads((site / ".output.journal").read_text(encoding="utf-8"))
    assert pending.get("moves"), "the build should have been killed with moves pending"
    now = snapshot(site / "output")
    assert all(data in (old.get(rel), new.get(rel)) for rel, data in now.items())
    assert broken_links(site) == []
    if finisher == "build":
        build(site)
    elif finisher == "check":
        assert check_site(site, load_config(site)) == 0
    else:
        for args in (["init", "-q", "-b", "main"], ["config", "user.name", "Editor"],
                     ["config", "user.email", "editor@example.org"]):
            subprocess.run(["git", *args], cwd=site, check=True, capture_output=True)
        write(site / ".gitignore", "output/\n.output.*\n.cache/\n")
        assert deploy(site, load_config(site), force=True, push=False) == 0
        listed = subprocess.run(["git", "ls-tree", "-r", "--name-only", "gh-pages"], cwd=site, check=True,
                                capture_output=True, text=True).stdout.split()
        assert set(listed) == set(new)
    assert snapshot(site / "output") == new
    assert "moves" not in json.loads((site / ".output.journal").read_text(encoding="utf-8"))
    assert not list(site.glob(".output.tmp-*"))
    # The build cache still describes the old site; the files the killed build added are still known to it.
    set_content(site, old_content)
    build(site)
    assert snapshot(site / "output") == old


def test_recover_finishes_a_journal_left_by_a_kill(site):
    write_old(site)
    build(site)
    output = site / "output"
    before = snapshot(output)
    with OutputWriter(output, previous={rel: ("x", 0, 0) for rel in before}) as out:
        assert out.incremental
        out.write("404.html", "<p>new</p>", key="k")
        # Stop where a kill would: the journal written, nothing moved yet (the staging folder kept).
        kept = out.tmp_dir.rename(out.tmp_dir.with_name(out.tmp_dir.name + "-killed"))
        out.journal.write_text(json.dumps({"staging": kept.name, "moves": ["404.html"],
                                           "deletes": ["gone/already/page.html"]}), encoding="utf-8")
        out.tmp_dir.mkdir()
    assert snapshot(output) == before  # nothing moved in yet: the old site is whole
    assert recover(output)
    assert (output / "404.html").read_text() == "<p>new</p>"
    assert not list(site.glob(".output.*-killed"))
    assert not recover(output)  # nothing left to do


def test_the_search_index_entry_moves_in_after_everything_it_names():
    from newsdigest.writer import _move_rank

    staged = ["pagefind/pagefind-entry.json", "index.html", "feed.xml", "2024/01/01/a/index.html",
              "assets/style.css", "pagefind/index/new.pf_index", "threads/t/index.html", "sitemap.xml"]
    existed = {"pagefind/pagefind-entry.json", "index.html", "feed.xml", "2024/01/01/a/index.html",
               "assets/style.css", "threads/t/index.html", "sitemap.xml"}
    order = sorted(staged, key=lambda rel: _move_rank(rel, rel in existed))
    assert order == ["pagefind/index/new.pf_index", "assets/style.css", "2024/01/01/a/index.html",
                     "threads/t/index.html", "feed.xml", "index.html", "sitemap.xml",
                     "pagefind/pagefind-entry.json"]


def test_a_full_build_makes_its_page_files_ahead_in_another_process(tmp_path, monkeypatch):
    monkeypatch.setenv("NEWSDIGEST_WORKERS", "2")
    output = tmp_path / "output"
    articles = [f"2024/01/{i:03d}/story-{i}/" for i in range(300)]
    entities = [f"entities/person/p-{i}/" for i in range(250)]
    feeds = [f"entities/person/p-{i}/feed.xml" for i in range(250)]
    with OutputWriter(output) as out:
        out.prepare_files(articles)
        out.prepare_files(entities + feeds)  # a second batch, a second process
        out.prepare_files(["threads/a/"])  # too few to be worth a process
        makers = [maker for maker, _ in out._makers]
        assert len(makers) == 2
        out._stop_makers()  # waits for them
        assert [maker.returncode for maker in makers] == [0, 0]
        made = [out.tmp_dir / route / "index.html" for route in [*articles, *entities]]
        assert all(path.is_file() and path.stat().st_size == 0 for path in made)
        assert (out.tmp_dir / feeds[0]).is_file()
        assert not (out.tmp_dir / "threads").exists()
        for route in [*articles, *entities, *feeds, "threads/a/"]:  # made ahead or not, each file is written
            out.write(route, f"<p>{route}</p>", key="k")
        out.commit()
    assert (output / "2024/01/007/story-7/index.html").read_text() == "<p>2024/01/007/story-7/</p>"
    assert (output / "entities/person/p-3/feed.xml").read_text() == "<p>entities/person/p-3/feed.xml</p>"
    assert (output / "threads/a/index.html").read_text() == "<p>threads/a/</p>"
    assert len(list(output.rglob("index.html"))) == 551


def test_a_file_made_ahead_for_a_page_never_written_is_not_published(tmp_path, monkeypatch):
    monkeypatch.setenv("NEWSDIGEST_WORKERS", "2")
    output = tmp_path / "output"
    routes = [f"a/{i}/" for i in range(300)] + ["b/c/d/"]
    with OutputWriter(output) as out:
        out.prepare_files(routes)
        for route in routes[:-2]:  # a/299/ and b/c/d/ are not written after all
            out.write(route, "<p>page</p>", key="k")
        out.commit()
    assert len(list(output.rglob("*.html"))) == 299
    assert not (output / "a/299").exists() and not (output / "b").exists()  # nor their emptied folders


def test_a_page_shorter_than_the_file_it_finds_leaves_nothing_of_it(tmp_path):
    with OutputWriter(tmp_path / "output") as out:
        (out.tmp_dir / "a").mkdir()
        (out.tmp_dir / "a/index.html").write_text("a much longer text than the page")
        out.write("a/", "<p>", key="k")
        out.commit()
    assert (tmp_path / "output/a/index.html").read_text() == "<p>"


def test_pages_are_written_whatever_becomes_of_the_file_process(tmp_path, monkeypatch, capfd):
    monkeypatch.setenv("NEWSDIGEST_WORKERS", "2")
    routes = [f"a/{i}/" for i in range(300)]
    with OutputWriter(tmp_path / "output") as out:
        (out.tmp_dir / "a").write_text("a file where a folder must go")  # every mkdir under it fails
        out.prepare_files(routes)
        maker = out._makers[0][0]
        out._stop_makers()
        assert maker.returncode == 1
        with pytest.raises(Exception, match="cannot write a/0/index.html"):  # the write says why, naming the file
            out.write("a/0/", "<p>", key="k")
    assert capfd.readouterr().err == ""  # quietly: no traceback
    with OutputWriter(tmp_path / "output") as out:
        out.prepare_files(routes)  # left running by a failed build: stopped before staging is removed
        staging, maker = out.tmp_dir, out._makers[0][0]
    assert not staging.exists() and maker.returncode is not None


def test_an_incremental_build_makes_no_files_ahead(site, monkeypatch):
    monkeypatch.setenv("NEWSDIGEST_WORKERS", "2")
    write_old(site)
    build(site)
    output = site / "output"
    with OutputWriter(output, previous={rel: ("x", 0, 0) for rel in snapshot(output)}) as out:
        out.prepare_files(f"new/{i}/" for i in range(300))
        assert not out._makers
        assert not (out.tmp_dir / "new").exists()


def test_the_file_process_ends_while_forked_workers_hold_its_input_open(tmp_path, monkeypatch):
    import newsdigest.writer as writer

    monkeypatch.setenv("NEWSDIGEST_WORKERS", "2")
    held = []
    monkeypatch.setattr(writer, "_send", lambda pipe, payload: (pipe.write(payload), pipe.flush(), held.append(pipe)))
    routes = [f"a/{i}/" for i in range(300)]
    with OutputWriter(tmp_path / "output") as out:
        out.prepare_files(routes)  # its input stays open, as in a worker forked meanwhile
        try:
            assert out._makers[0][0].wait(timeout=30) == 0  # it read what it was sent, not to an end
            assert all((out.tmp_dir / route / "index.html").is_file() for route in routes)
        finally:
            out._makers[0][1].join()
            held[0].close()


def test_a_short_write_is_carried_on_to_the_end(tmp_path, monkeypatch):
    import newsdigest.writer as writer

    real_write = os.write
    monkeypatch.setattr(writer.os, "write", lambda fd, data: real_write(fd, bytes(data[:3])))
    with OutputWriter(tmp_path / "output") as out:
        out.write("a/", "<p>a page longer than three bytes</p>", key="k")
        monkeypatch.undo()
        out.commit()
    assert (tmp_path / "output/a/index.html").read_text() == "<p>a page longer than three bytes</p>"

