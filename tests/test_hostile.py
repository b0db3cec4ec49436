"""Hostile and broken input, end to end through the CLI (`ingest`, then `build`): every case gets one
clear line naming the file, the rest of the site still builds, nothing is lost or overwritten, and
`--strict` makes warnings fatal. The corpus is written by tests/corpus/make_corpus.py at test time."""

from __future__ import annotations

import ctypes
import datetime as dt
import errno
import fcntl
import hashlib
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, write
from corpus import make_corpus as corpus
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from newsdigest.cli import main
from newsdigest.config import Config
from newsdigest.errors import NewsdigestError
from newsdigest.markup import Markdown
from newsdigest.wire import decode_wire, parse_wire

GOOD = "content/wire/good.txt"
GOOD_PAGE = "output/2024/03/01/a-perfectly-ordinary-story/index.html"


@dataclass
class Run:
    status: int
    err: str

    @property
    def lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]

    def problems(self, name: str) -> list[str]:
        """The error/warning lines that name `name`."""
        return [line for line in self.lines if name in line and line.startswith(("error:", "warning:"))]


def _hashes(folder: Path) -> dict[str, str]:
    def digest(path: Path) -> str:
        with open(path, "rb") as f:  # not Path.read_bytes: a test makes that fail on purpose
            return hashlib.file_digest(f, "sha256").hexdigest()
    return {p.relative_to(folder).as_posix(): digest(p)
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink()}


@pytest.fixture
def cli(site: Path, capsys):
    """Run build.py's main in-process; checks no traceback and that content/wire/ is untouched."""

    def run(*args: str) -> Run:
        wire = site / "content" / "wire"
        before = _hashes(wire)
        capsys.readouterr()
        status = main([*args, "--site", str(site)])
        err = capsys.readouterr().err
        assert "Traceback" not in err and "internal error" not in err, err
        assert _hashes(wire) == before, "content/wire/ changed"
        return Run(status, err)

    return run


@pytest.fixture
def good(site: Path) -> Path:
    """One well-formed wire file: it must be published whatever else the inbox holds."""
    return write(site / GOOD, corpus.wire("A perfectly ordinary story"))


def _page(site: Path, rel: str) -> HTMLParser:
    return HTMLParser((site / rel).read_text(encoding="utf-8"))


def _articles(site: Path) -> dict[str, str]:
    folder = site / "content" / "articles"
    return {p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8") for p in sorted(folder.rglob("*.md"))}


def _titles(site: Path) -> list[str]:
    return [yaml.safe_load(text.split("---")[1])["title"] for text in _articles(site).values()]


def _ingest_and_build(cli, *extra: str) -> tuple[Run, Run]:
    return cli("ingest", *extra), cli("build", *extra)


# ---------------------------------------------------------------- encodings, binary, sizes


def test_wire_encodings_are_decoded_without_mojibake(site, cli, good):
    cases = corpus.encoding_cases()
    for name, (data, _) in cases.items():
        (site / "content" / "wire" / name).write_bytes(data)
    ingest, build = _ingest_and_build(cli)
    assert (ingest.status, build.status) == (0, 0), ingest.err + build.err
    titles = _titles(site)
    for name, (_, headline) in cases.items():
        assert headline in titles, (name, titles)
    assert not any(c in "".join(titles) for c in ("\ufeff", "\u00c3", "\u00e2\u20ac", "\x00"))
    assert (site / GOOD_PAGE).exists()


def test_binary_files_and_images_are_reported_and_skipped(site, cli, good):
    for name, data in corpus.binary_cases().items():
        (site / "content" / "wire" / name).write_bytes(data)
    ingest, build = _ingest_and_build(cli)
    assert ingest.status == 1 and build.status == 0
    for name in corpus.binary_cases():
        [line] = ingest.problems(f"content/wire/{name}")
        assert "binary file" in line and "remove it" in line
    assert (site / GOOD_PAGE).exists()
    assert list(_articles(site)) == ["2024/03/01/a-perfectly-ordinary-story.md"]


def test_empty_and_blank_files_are_reported(site, cli, good):
    write(site / "content/wire/empty.txt", "")
    (site / "content/wire/blank.txt").write_text("\n \n\t\n", encoding="utf-8")
    (site / "content/wire/header-only.txt").write_text("---\ndate: 2024-03-01\n---\n", encoding="utf-8")
    ingest, build = _ingest_and_build(cli)
    assert ingest.status == 1 and build.status == 0
    for name in ("empty.txt", "blank.txt", "header-only.txt"):
        [line] = ingest.problems(f"content/wire/{name}")
        assert "empty wire file" in line
    assert (site / GOOD_PAGE).exists()


def test_a_headline_only_is_published_with_a_warning(site, cli, good):
    write(site / "content/wire/headline.txt", corpus.wire("Only a headline here", ""))
    ingest, build = _ingest_and_build(cli)
    assert (ingest.status, build.status) == (0, 0)
    [line] = ingest.problems("content/wire/headline.txt")
    assert line.startswith("warning:") and "no body" in line
    assert (site / "output/2024/03/01/only-a-headline-here/index.html").exists()
    assert cli("ingest", "--strict").status == 0  # nothing new: no warning the second time


def test_a_50_mb_file_is_refused_without_reading_it(site, cli, good):
    big = site / "content/wire/huge.txt"
    with big.open("wb") as f:
        f.write(corpus.wire("Huge").encode())
        f.truncate(50 * 1024 * 1024)
    started = time.perf_counter()
    ingest, build = _ingest_and_build(cli)
    assert time.perf_counter() - started < 20
    assert ingest.status == 1 and build.status == 0
    [line] = ingest.problems("content/wire/huge.txt")
    assert "MB" in line and "larger than" in line
    assert (site / GOOD_PAGE).exists()


def test_lines_of_a_megabyte_are_ingested_quickly(site, cli, good):
    write(site / "content/wire/long.txt", corpus.long_line())
    write(site / "content/wire/bait.txt", corpus.hostile_line())
    started = time.perf_counter()
    ingest, build = _ingest_and_build(cli)
    assert time.perf_counter() - started < 60
    assert (ingest.status, build.status) == (0, 0), ingest.err + build.err
    html = (site / "output/2024/03/01/a-story-with-a-very-long-line/index.html").read_text(encoding="utf-8")
    assert html.count("word ") > 190_000
    assert (site / GOOD_PAGE).exists()


def test_nul_and_control_characters_never_reach_pages_or_feeds(site, cli, good):
    text = corpus.wire("Stray\x00 NUL and\x1b escape", "Form\x0cfeed and vertical\x0btab.\x00\n\nDEL\x7f too.")
    (site / "content/wire/nul.txt").write_bytes(text.encode("utf-8"))
    write(site / "content/articles/2024/03/02/hand.md", corpus.article("Hand edit", "2024-03-02",
                                                                       "Bell\x07 and\x1b escape in the body."))
    ingest, build = _ingest_and_build(cli)
    assert (ingest.status, build.status) == (0, 0), ingest.err + build.err
    for path in (site / "output").rglob("*"):
        if path.suffix in (".html", ".xml"):
            data = path.read_text(encoding="utf-8")
            assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", data), path
    assert "Stray NUL and escape" in _titles(site)


# ---------------------------------------------------------------- HTML, scripts, links


def _assert_no_active_content(tree: HTMLParser, where: str) -> None:
    for node in tree.css("script"):  # the site's own scripts only: JSON-LD data, files under the site
        assert node.attributes.get("type") == "application/ld+json" or (
            node.attributes.get("src") or "").startswith("/repo/"), f"{where}: {node.html}"
    for node in tree.css("*"):
        for name, value in node.attributes.items():
            assert not name.lower().startswith("on"), f"{where}: {node.html[:200]}"
            if name in ("href", "src", "action", "formaction") and value:
                assert not value.strip().lower().startswith(("javascript:", "vbscript:", "data:text")), \
                    f"{where}: {node.html[:200]}"
    for node in tree.css("iframe, object, embed"):
        raise AssertionError(f"{where}: {node.html}")


def test_html_scripts_and_unsafe_links_in_wire_text_and_articles_are_neutralised(site, cli, good):
    write(site / "content/wire/script.txt",
          corpus.wire("<script>alert(1)</script> Headline", corpus.HOSTILE_TEXT + "\n\n" + corpus.HOSTILE_TEXT))
    write(site / "content/articles/2024/03/02/hostile.md", corpus.HOSTILE_ARTICLE)
    ingest, build = _ingest_and_build(cli)
    assert (ingest.status, build.status) == (0, 0), ingest.err + build.err
    wire_page = _page(site, "output/2024/03/01/script-alert-1-script-headline/index.html")
    assert wire_page.css_first("h1").text() == "<script>alert(1)</script> Headline"
    assert '<script>alert("wire")</script>' in wire_page.css_first(".body").text()
    hand_page = _page(site, "output/2024/03/02/hostile/index.html")
    assert hand_page.css_first("h1").text().startswith('<script>alert("title")</script>')
    pages = [p for p in (site / "output").rglob("*.html")]
    for path in pages:
        _assert_no_active_content(HTMLParser(path.read_text(encoding="utf-8")), str(path))
    import feedparser
    for path in (site / "output").rglob("atom.xml"):
        for entry in feedparser.parse(path.read_bytes()).entries:
            for content in entry.get("content", []):
                _assert_no_active_content(HTMLParser(content.value), f"{path}: {entry.title}")


# ---------------------------------------------------------------- malformed YAML


@pytest.mark.parametrize("case", sorted(corpus.BAD_HEADERS))
def test_malformed_wire_headers_name_the_file_and_line(site, cli, good, case):
    write(site / f"content/wire/{case}.txt", corpus.BAD_HEADERS[case])
    ingest, build = _ingest_and_build(cli)
    assert ingest.status == 1 and build.status == 0
    [line] = ingest.problems(f"content/wire/{case}.txt")
    expected = {"unterminated": r"\.txt:1: .*never closed", "tabs": r"\.txt:3: bad YAML",
                "date-tomorrow": r"\.txt:3: 'date': .*'tomorrow'", "entities-string": r"\.txt:3: 'entities': ",
                "date-feb-30": r"\.txt:1: .*cannot be read: day is out of range"}
    assert re.search(expected[case], line), line
    assert (site / GOOD_PAGE).exists()
    assert len(_articles(site)) == 1


@pytest.mark.parametrize("case", sorted(corpus.BAD_FRONT_MATTER))
def test_malformed_front_matter_is_reported_and_the_rest_builds(site, cli, good, case):
    path = site / "content/articles/2024/03/05" / case
    path.parent.mkdir(parents=True)
    text = corpus.BAD_FRONT_MATTER[case]
    path.write_bytes(text.encode("cp1252" if case == "not-utf8.md" else "utf-8"))
    started = time.perf_counter()
    ingest, build = _ingest_and_build(cli)
    assert time.perf_counter() - started < 30
    assert ingest.status == 0 and build.status == 1, build.err
    [line] = build.problems(f"content/articles/2024/03/05/{case}")
    expected = {"unterminated.md": ":1: front matter .* never closed", "tabs.md": ":5: bad YAML",
                "date-tomorrow.md": ":3: 'date': .*'tomorrow'", "entities-string.md": ":4: 'entities': ",
                "title-list.md": ":2: 'title'", "no-date.md": "'date': every article needs a date",
                "alias-bomb.md": ":\\d+: '(thread|entities)'", "not-utf8.md": "not UTF-8",
                "year-one.md": ":3: 'date': ", "date-feb-30.md": ":1: .*cannot be read: day is out of range"}
    assert re.search(expected[case], line), line
    assert len(line) < 400, line
    assert (site / GOOD_PAGE).exists()


# ---------------------------------------------------------------- paths, names, URLs


def test_path_traversal_in_slugs_threads_and_entity_names_stays_inside(site, cli, good, tmp_path_factory):
    outside = sorted(p.name for p in site.parent.iterdir())
    for n, name in enumerate(corpus.TRAVERSAL):
        header = (f"slug: {name!r}\nthread: {name!r}\n"
                  f"entities: {{person: [{name!r}], place: [{name!r}], organization: []}}")
        write(site / f"content/wire/t{n}.txt", corpus.wire(f"Traversal case {n}", header=header))
    write(site / "content/articles/2024/03/06/CON.md",
          corpus.article("Reserved name", "2024-03-06", extra="entities: {person: [CON, '../../y']}"))
    write(site / "content/articles/2024/03/06/bad-thread.md",
          corpus.article("Bad thread", "2024-03-06", extra="thread: '../../x'"))
    ingest, build = _ingest_and_build(cli)
    assert ingest.status == 1, ingest.err  # '..' and '.' give no slug at all
    for n, name in enumerate(corpus.TRAVERSAL):
        if name in ("..", "."):
            [line] = ingest.problems(f"content/wire/t{n}.txt")
            assert "'slug'" in line
    [line] = build.problems("content/articles/2024/03/06/bad-thread.md")
    assert "'thread'" in line and "not a valid id" in line
    assert sorted(p.name for p in site.parent.iterdir()) == outside
    output = (site / "output").resolve()
    for path in (site / "output").rglob("*"):
        assert path.resolve().is_relative_to(output)
        assert path.name.lower() not in ("con", "nul", "..", "."), path
        assert "\\" not in path.name and ":" not in path.name, path
    for path in (site / "content/articles").rglob("*"):
        assert path.resolve().is_relative_to((site / "content/articles").resolve())
    assert (site / "output/2024/03/06/con-1/index.html").exists()
    assert (site / "output/entities/person/con-1/index.html").exists()
    assert (site / "output/entities/person/x/index.html").exists()
    assert (site / "output/threads/x/index.html").exists()
    assert (site / GOOD_PAGE).exists()


def test_non_latin_names_get_readable_stable_slugs(site, cli, good):
    header = "entities: {person: [Зеленский], place: [北京, Ελλάδα], organization: []}"
    write(site / "content/wire/kyiv.txt", corpus.wire("Зеленский едет в 北京 и Ελλάδα", header=header))
    ingest, build = _ingest_and_build(cli)
    assert (ingest.status, build.status) == (0, 0)
    expected = ["output/2024/03/01/зеленский-едет-в-北京-и-ελλάδα/index.html",
                "output/entities/person/зеленский/index.html", "output/entities/place/北京/index.html",
                "output/entities/place/ελλάδα/index.html", "output/entities/place/ελλάδα/atom.xml"]
    for rel in expected:
        assert (site / rel).exists(), rel
    first = _hashes(site / "output")
    write(site / "content/wire/later.txt", corpus.wire("Another story", date="2024-03-09", header=header))
    cli("ingest")
    assert cli("build").status == 0
    for rel in expected:
        assert (site / rel).exists(), rel
    assert first["entities/person/зеленский/index.html"]


def test_two_articles_wanting_one_url_never_overwrite_each_other(site, cli, good):
    for name in ("twin-a.txt", "twin-b.txt"):  # the same headline and date from two wire files
        write(site / f"content/wire/{name}", corpus.wire("Twin headline", f"Of {name}. {corpus.unique_body(name)}"))
    write(site / "content/articles/2024/03/07/clash.md", corpus.article("First clash", "2024-03-07", "First."))
    write(site / "content/articles/2024/03/08/clash.md", corpus.article("Second clash", "2024-03-07", "Second."))
    ingest, build = _ingest_and_build(cli)
    assert ingest.status == 0
    pages = [(site / f"output/2024/03/01/{slug}/index.html").read_text(encoding="utf-8")
             for slug in ("twin-headline", "twin-headline-2")]
    assert sorted("Of twin-a.txt" in page for page in pages) == [False, True]
    assert sorted("Of twin-b.txt" in page for page in pages) == [False, True]
    assert build.status == 1, build.err  # one of the two clashing hand-made articles is refused...
    [line] = build.problems("content/articles/2024/03/08/clash.md")
    assert "2024/03/07/clash/" in line and "content/articles/2024/03/07/clash.md" in line
    page = _page(site, "output/2024/03/07/clash/index.html")
    assert page.css_first("h1").text() == "First clash"  # ...and the other is published, untouched
    assert (site / GOOD_PAGE).exists()


# ---------------------------------------------------------------- dates


def test_future_and_zoneless_dates_follow_the_stated_policy(site, cli, good):
    write(site / "config.yaml", "base_url: https://user.github.io/repo/\ntimezone: Europe/Moscow\n")
    write(site / "content/articles/2999/01/01/future.md", corpus.article("From the future", "2999-01-01T00:00:00Z"))
    write(site / "content/articles/2024/03/03/naive.md", corpus.article("Naive time", "2024-03-03T10:00:00"))
    write(site / "content/articles/2024/03/04/day.md", corpus.article("Date only", "2024-03-04"))
    ingest, build = _ingest_and_build(cli)
    assert (ingest.status, build.status) == (0, 0)
    assert (site / "output/2999/01/01/future/index.html").exists()  # future_articles: publish (the default)
    naive = _page(site, "output/2024/03/03/naive/index.html").css_first("time").attributes["datetime"]
    assert naive == "2024-03-03T10:00:00+03:00"  # a time without a zone is read in the site's time zone
    day = _page(site, "output/2024/03/04/day/index.html").css_first("time").attributes["datetime"]
    assert day == "2024-03-04T00:00:00+03:00"
    write(site / "config.yaml", "base_url: https://user.github.io/repo/\nfuture_articles: skip\n")
    assert cli("build").status == 0
    assert not (site / "output/2999/01/01/future/index.html").exists()
    assert (site / GOOD_PAGE).exists()


# ---------------------------------------------------------------- files that lie


def test_symlinks_pointing_outside_content_are_not_followed(site, cli, good, tmp_path_factory):
    secret_dir = tmp_path_factory.mktemp("secret")
    write(secret_dir / "secret.txt", corpus.wire("Secret wire copy"))
    write(secret_dir / "2024/03/01/secret.md", corpus.article("Secret article", "2024-03-01"))
    (site / "content/wire/link.txt").symlink_to(secret_dir / "secret.txt")
    (site / "content/articles/2024").mkdir(parents=True)
    (site / "content/articles/2024/linked.md").symlink_to(secret_dir / "2024/03/01/secret.md")
    (site / "content/articles/linked-dir").symlink_to(secret_dir / "2024", target_is_directory=True)
    ingest, build = _ingest_and_build(cli)
    assert ingest.status == 1 and build.status == 1
    assert "symlink" in ingest.problems("content/wire/link.txt")[0]
    assert "symlink" in build.problems("content/articles/2024/linked.md")[0]
    html = "".join(p.read_text(encoding="utf-8") for p in (site / "output").rglob("*.html"))
    assert "Secret" not in html
    assert (site / GOOD_PAGE).exists()


def test_unreadable_files_are_reported(site, cli, good, monkeypatch):
    write(site / "content/wire/locked.txt", corpus.wire("Locked wire"))
    write(site / "content/articles/2024/03/02/locked.md", corpus.article("Locked article", "2024-03-02"))
    real_read_bytes, real_read_text, real_open, real_os_open = Path.read_bytes, Path.read_text, open, os.open

    def denied(path):
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(Path, "read_bytes", lambda self: denied(self) if self.name.startswith("locked")
                        else real_read_bytes(self))
    monkeypatch.setattr(Path, "read_text", lambda self, *a, **k: denied(self) if self.name == "locked.md"
                        else real_read_text(self, *a, **k))
    monkeypatch.setattr("builtins.open", lambda file, *a, **k: denied(file)
                        if str(file).endswith("locked.md") else real_open(file, *a, **k))
    monkeypatch.setattr(os, "open", lambda file, *a, **k: denied(file)
                        if str(file).endswith("locked.md") else real_os_open(file, *a, **k))
    ingest, build = _ingest_and_build(cli)
    assert ingest.status == 1 and build.status == 1
    assert "Permission denied" in ingest.problems("content/wire/locked.txt")[0]
    assert "Permission denied" in build.problems("content/articles/2024/03/02/locked.md")[0]
    assert (site / GOOD_PAGE).exists()


def test_chmod_000_files_are_reported(site, good):
    """A real mode-000 file read by a real process. Root reads any file through the capabilities
    CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH, so as root the ingest runs without them (dropped from
    the bounding set before exec): root then meets file modes as their owner does."""
    locked = write(site / "content/wire/locked.txt", corpus.wire("Locked wire"))
    locked.chmod(0)
    run = subprocess.run([sys.executable, str(ROOT / "build.py"), "ingest", "--site", str(site)], cwd=ROOT,
                         capture_output=True, text=True, timeout=300,
                         preexec_fn=_drop_file_capabilities if os.geteuid() == 0 else None)
    problems = [line for line in run.stderr.splitlines() if "content/wire/locked.txt" in line]
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
    assert len(problems) == 1 and "cannot read" in problems[0] and "Permission denied" in problems[0], problems
    assert (site / "content/articles/2024/03/01/a-perfectly-ordinary-story.md").exists()


def _drop_file_capabilities() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "cannot drop a capability")


# ---------------------------------------------------------------- templates and config


def test_a_template_syntax_error_names_file_and_line_and_keeps_the_old_site(site, cli, good):
    _ingest_and_build(cli)
    before = _hashes(site / "output")
    write(site / "templates/article.html", '{% extends "base.html" %}\n{% block main %}\n{% if x %}\n{% endblock %}\n')
    build = cli("build")
    assert build.status == 1
    [line] = build.problems("templates/article.html")
    assert re.search(r"templates/article\.html:\d+: template syntax error", line), line
    assert _hashes(site / "output") == before


def test_a_template_runtime_error_names_the_template(site, cli, good):
    _ingest_and_build(cli)
    write(site / "templates/article.html", '{% extends "base.html" %}\n{% block main %}\n{{ article.title + 1 }}\n'
                                           '{% endblock %}\n')
    build = cli("build")
    assert build.status == 1
    [line] = build.problems("templates/article.html")
    assert re.search(r"templates/article\.html:3: ", line), line


def test_config_with_wrong_types_names_the_key(site, cli, good):
    write(site / "config.yaml", "base_url: https://user.github.io/repo/\nper_page: ten\n")
    run = cli("build")
    assert run.status == 1
    [line] = run.problems("config.yaml")
    assert "config.yaml:2: 'per_page': expected a whole number, got 'ten'" in line
    write(site / "config.yaml", "base_url: https://user.github.io/repo/\nfeed:\n  items: 0\n")
    assert "config.yaml:3: 'feed.items': must be at least 1" in cli("build").err
    write(site / "config.yaml", "base_url: https://user.github.io/repo/\nfuture_articles: sometimes\n")
    assert "'future_articles': must be one of publish, skip" in cli("build").err
    write(site / "config.yaml", "base_url: https://user.github.io/repo/\nper_page: 2024-02-30\n")
    assert "config.yaml: a value cannot be read: day is out of range for month" in cli("build").err
    write(site / "config.yaml", "base_url: [https://user.github.io/repo/\n")
    assert re.search(r"config\.yaml:\d+: not valid YAML", cli("build").err)


def test_config_unknown_keys_are_warned_with_a_suggestion_and_fail_only_with_strict(site, cli, good):
    write(site / "config.yaml", "base_url: https://user.github.io/repo/\ntitel: Typo\nfeed: {itmes: 3}\n"
                                "entities:\n  # a comment\n  index_min_articels: 2\n")
    ingest, build = _ingest_and_build(cli)
    assert (ingest.status, build.status) == (0, 0)
    problems = build.problems("config.yaml")
    assert any("config.yaml:2: unknown setting 'titel' is ignored; did you mean 'title'?" in line
               for line in problems), problems
    assert any("config.yaml:3: unknown setting 'feed.itmes'" in line and "did you mean 'feed.items'" in line
               for line in problems), problems
    assert any("config.yaml:6: unknown setting 'entities.index_min_articels'" in line for line in problems), problems
    assert cli("build", "--strict").status == 1
    assert (site / GOOD_PAGE).exists()


# ---------------------------------------------------------------- nothing lost


def _changed_wire(word: str) -> str:
    return corpus.wire("A perfectly ordinary story", f"{word} wire text.\n\n{corpus.unique_body('x')}")


def test_a_hand_edited_article_is_never_overwritten_without_force(site, cli, good):
    assert cli("ingest").status == 0
    path = site / "content/articles/2024/03/01/a-perfectly-ordinary-story.md"
    edited = path.read_text(encoding="utf-8") + "\nEdited by hand.\n"
    path.write_text(edited, encoding="utf-8")
    write(site / GOOD, _changed_wire("New"))
    run = cli("ingest", "--strict")
    assert run.status == 1 and path.read_text(encoding="utf-8") == edited  # kept; a warning, fatal with --strict
    assert "--force" in run.problems("a-perfectly-ordinary-story.md")[0]
    shutil_cache = site / ".cache"
    import shutil
    shutil.rmtree(shutil_cache)  # derived state gone: the edit is still recognised
    write(site / GOOD, _changed_wire("Newer"))
    cli("ingest")
    assert path.read_text(encoding="utf-8") == edited
    write(site / GOOD, _changed_wire("Newest"))
    assert cli("ingest", "--force").status == 0
    assert "Newest wire text" in path.read_text(encoding="utf-8")


def test_disk_full_while_building_keeps_the_previous_output(site, cli, good, monkeypatch):
    _ingest_and_build(cli)
    before = _hashes(site / "output")
    write(site / "config.yaml", "base_url: https://user.github.io/repo/\ntitle: Renamed\n")  # every page changes
    real_write = os.write

    def full(fd, data):
        if ".output.tmp-" in os.readlink(f"/proc/self/fd/{fd}"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", full)
    monkeypatch.setattr(Path, "write_bytes", lambda self, data: full(0, data) if ".output.tmp-" in str(self) else None)
    run = cli("build")
    monkeypatch.undo()
    assert run.status == 1
    assert any("disk full" in line for line in run.lines), run.err
    assert _hashes(site / "output") == before
    assert not list(site.glob(".output.tmp-*"))


def test_disk_full_while_ingesting_loses_nothing(site, cli, good, monkeypatch):
    real_write_text = Path.write_text

    def full(self, *args, **kwargs):
        if "content/articles" in self.as_posix():
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write_text(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", full)
    run = cli("ingest")
    monkeypatch.undo()
    assert run.status == 1
    [line] = run.problems("a-perfectly-ordinary-story.md")
    assert "No space left on device" in line
    assert not [p for p in (site / "content/articles").rglob("*") if p.is_file()]
    assert cli("ingest").status == 0  # room again: the same wire file goes in
    assert len(_articles(site)) == 1


def _big_site(site: Path, n: int = 1200) -> None:
    people = [f"Person {i}" for i in range(150)]
    for i in range(n):
        day = dt.date(2024, 1, 1) + dt.timedelta(days=i // 8)
        ents = f"entities: {{person: ['{people[i % 150]}', '{people[(i * 7) % 150]}'], place: [Place {i % 40}]}}"
        write(site / f"content/articles/{day:%Y/%m/%d}/story-{i}.md",
              corpus.article(f"Story number {i}", day.isoformat(), "Paragraph. " * 40,
                             extra=f"thread: thread-{i % 60}\n{ents}"))


def _build_process(site: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(ROOT / "build.py"), "build", "--site", str(site)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_a_build_killed_mid_way_leaves_the_previous_output_complete(site, cli):
    _big_site(site, 300)
    assert cli("build").status == 0
    before = _hashes(site / "output")
    write(site / "config.yaml", "base_url: https://user.github.io/repo/\ntitle: Renamed\n")
    proc = _build_process(site)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until it is writing the new site, then kill it
        staged = list(site.glob(".output.tmp-*"))
        if staged and sum(1 for _ in staged[0].rglob("*.html")) > 30:
            break
        time.sleep(0.02)
    else:
        pytest.fail("the build never started writing")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert _hashes(site / "output") == before
    assert cli("build").status == 0  # the next build clears what the killed one left
    assert "Renamed" in (site / "output/index.html").read_text(encoding="utf-8")
    assert not list(site.glob(".output.tmp-*"))


@pytest.mark.slow
def test_a_second_build_at_the_same_time_refuses_with_a_clear_message(site, cli):
    _big_site(site, 100)
    assert cli("build").status == 0
    before = _hashes(site / "output")
    with open(site / ".output.lock", "w") as lock:  # another build holds the lock
        fcntl.flock(lock, fcntl.LOCK_EX)
        run = cli("build")
    assert run.status == 1
    [line] = run.problems("output")
    assert "another build is writing this site right now" in line
    assert _hashes(site / "output") == before
    first, second = _build_process(site), _build_process(site)  # and two real processes at once
    results = [p.communicate(timeout=120) + (p.returncode,) for p in (first, second)]
    for _, err, code in results:
        assert code == 0 or (code == 1 and "another build is writing this site" in err), err
        assert "Traceback" not in err
    assert any(code == 0 for _, _, code in results)
    assert (site / "output/index.html").exists()


# ---------------------------------------------------------------- exit status and --strict


def test_exit_status_is_non_zero_when_something_was_skipped_and_strict_fails_on_warnings(site, cli, good):
    write(site / "content/wire/empty.txt", "")
    assert cli("ingest").status == 1
    assert cli("build").status == 0
    assert main(["--site", str(site)]) == 1  # ingest + build: something was skipped
    write(site / "config.yaml", "base_url: https://user.github.io/repo/\ntitel: x\n")
    assert cli("build").status == 0
    assert cli("build", "--strict").status == 1


# ---------------------------------------------------------------- property tests


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text())
def test_any_text_parses_or_gives_a_wire_error(text):
    try:
        parse_wire(text, "x.txt")
    except NewsdigestError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_any_bytes_decode_or_give_a_wire_error(data):
    try:
        parse_wire(decode_wire(data, "x.txt"), "x.txt")
    except NewsdigestError:
        pass


_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=30),
                     st.dates(), st.datetimes(), st.datetimes(timezones=st.timezones()))
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4)
                       | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=12)
_keys = st.sampled_from(["title", "date", "updated", "thread", "entities", "byline", "credits", "summary",
                         "dateline", "source", "draft", "slug", "wire", "versions", "kind"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(front=st.dictionaries(_keys, _values, max_size=8) | st.dictionaries(st.text(max_size=8), _values, max_size=3),
       entities=st.dictionaries(st.sampled_from(["person", "organization", "place", "other"]),
                                _values, max_size=3))
def test_any_front_matter_reads_or_gives_a_content_error(tmp_path, front, entities):
    from newsdigest.content import read_article
    if entities:
        front = {**front, "entities": entities}
    try:
        text = "---\n" + yaml.safe_dump(front, allow_unicode=True) + "---\n\nBody.\n"
    except yaml.YAMLError:
        return
    path = tmp_path / "a.md"
    path.write_text(text, encoding="utf-8")
    try:
        read_article(path, "2024/01/01/a.md", "content/articles/2024/01/01/a.md", Config(), Markdown())
    except NewsdigestError:
        pass


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text())
def test_any_text_after_a_fence_reads_or_gives_a_content_error(tmp_path, text):
    from newsdigest.content import read_article
    path = tmp_path / "a.md"
    path.write_text("---\n" + text, encoding="utf-8")
    try:
        read_article(path, "2024/01/01/a.md", "content/articles/2024/01/01/a.md", Config(), Markdown())
    except NewsdigestError:
        pass


def test_options_before_the_command_are_not_lost(tmp_path, capsys):
    missing = tmp_path / "no-such-site"
    assert main(["--site", str(missing), "build"]) == 1  # not a build of the current folder
    assert f"error: {missing}: no such folder" in capsys.readouterr().err


def test_a_build_killed_between_the_two_renames_gets_the_previous_site_back(site, cli, good):
    _ingest_and_build(cli)
    before = _hashes(site / "output")
    (site / "output").rename(site / ".output.old-99999")  # where a kill after commit's first rename leaves it
    write(site / ".output.tmp-99999/index.html", "half a site")
    write(site / "templates/article.html", "{% if %}")  # and the next build fails
    run = cli("build")
    assert run.status == 1 and any("previous site is back" in line for line in run.lines), run.err
    assert _hashes(site / "output") == before
    assert not list(site.glob(".output.*-99999"))


def test_a_second_ingest_at_the_same_time_refuses_with_a_clear_message(site, cli, good):
    (site / ".cache").mkdir()
    with open(site / ".cache/ingest.lock", "w") as lock:  # another ingest holds the lock
        fcntl.flock(lock, fcntl.LOCK_EX)
        run = cli("ingest")
    assert run.status == 1 and "another ingest is running on this site right now" in run.err
    assert not (site / "content/articles").exists()
    assert cli("ingest").status == 0 and (site / "content/articles").exists()
