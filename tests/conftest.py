"""Shared fixtures: tiny sites written into tmp_path, and the sample site ingested once."""

from __future__ import annotations

import shutil
import signal
import textwrap
from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from newsdigest.config import load_config

ROOT = Path(__file__).resolve().parent.parent


def ctrl_c_as_in_a_terminal() -> None:
    """`preexec_fn` for a subprocess a test stops with SIGINT: a shell starts background jobs
    with SIGINT ignored, and a child inherits that, so tests run in the background would hang."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def article(site: Path, rel: str, title: str, date: str, *, thread: str | None = None,
            entities: dict | None = None, body: str = "Body text.", extra: str = "") -> Path:
    """Write a hand-made article file as ingest would."""
    lines = [f"title: {title!r}", f"date: {date}"]
    if thread:
        lines.append(f"thread: {thread}")
    if entities:
        lines.append("entities:")
        lines += [f"  {k}: [{', '.join(v)}]" for k, v in entities.items()]
    text = "---\n" + "\n".join(lines) + ("\n" + extra.strip() if extra else "") + "\n---\n\n" + body + "\n"
    path = site / "content" / "articles" / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """An empty site folder with a Pages-style base_url."""
    write(tmp_path / "config.yaml", """
        title: Test Digest
        description: A digest for tests.
        base_url: https://user.github.io/repo/
    """)
    (tmp_path / "content" / "wire").mkdir(parents=True)
    return tmp_path


@pytest.fixture(scope="session")
def sample_site(tmp_path_factory) -> Path:
    """The project's sample wire copy ingested (spaCy once per session) and built."""
    from newsdigest.build import build_site
    from newsdigest.ingest import ingest

    site = tmp_path_factory.mktemp("sample")
    shutil.copytree(ROOT / "content" / "wire", site / "content" / "wire")
    write(site / "config.yaml", """
        title: Sample Digest
        description: The sample wire copy.
        base_url: https://user.github.io/repo/
    """)
    config = load_config(site)
    report = ingest(site, config)
    assert not report.errors, report.errors
    build = build_site(site, config)
    assert not build.errors, build.errors
    return site


def build(site: Path):
    """Build `site` as `python build.py build` would; a test fails on any reported problem."""
    from newsdigest.build import build_site

    report = build_site(site, load_config(site))
    assert not report.errors, report.errors
    return report


def page(site: Path, route: str) -> HTMLParser:
    """Parse the built page at `route` (as a reader's browser would)."""
    path = site / "output" / route
    if route == "" or route.endswith("/"):
        path = path / "index.html"
    return HTMLParser(path.read_text(encoding="utf-8"))


def text_of(tree: HTMLParser, selector: str) -> list[str]:
    return [" ".join(n.text().split()) for n in tree.css(selector)]


def broken_links(site: Path) -> list[str]:
    """Serve `site`'s output/ under its Pages path over real HTTP and crawl it: the broken links found."""
    from newsdigest.check import crawl
    from newsdigest.httpserve import ServedSite, start_server

    config = load_config(site)
    server, thread = start_server(ServedSite(site / "output", config.base_path), "127.0.0.1", 0)
    try:
        return crawl(f"http://127.0.0.1:{server.server_address[1]}{config.base_path}", config.base_url)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
