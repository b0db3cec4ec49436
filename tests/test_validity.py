"""The built site checked by real validators: the Nu Html Checker on every page, feedparser and the
RSS 2.0 / Atom rules on every feed, a link crawler under the Pages subpath, and axe-core plus the
keyboard in Debian's Chromium. The tools come from tests/tools/install.sh (`make test-deps`)."""

from __future__ import annotations

import email.utils
import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import quote, unquote, urljoin, urlsplit

import feedparser
import pytest
from browser import chromium, serve_subpath
from conftest import ROOT, article, write
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from newsdigest.build import build_site
from newsdigest.config import load_config

TOOLS = ROOT / "tests" / "tools" / "node_modules"
VNU = TOOLS / "vnu-jar" / "build" / "dist" / "vnu.jar"
AXE = TOOLS / "axe-core" / "axe.min.js"
BASE_URL = "https://user.github.io/repo/"
BASE_PATH = "/repo/"
ATOM = "{http://www.w3.org/2005/Atom}"
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)$")

# Hand-written articles that reach what the two seeds don't: non-Latin names, Markdown links of
# every kind (relative ones must become absolute in feeds), lists, quotes, code, hostile text.
EXTRA = {
    "2024/02/01/kyiv-talks.md": dict(
        title="Зеленский meets envoys in Kyiv", date="2024-02-01T09:30:00+02:00", thread="ukraine-talks",
        entities={"person": ["Зеленский", "Vladimir Putin"], "place": ["Kyiv", "北京", "Ελλάδα"]},
        body="Talks went on.\n\n> A quote, with [a relative link](../../../../threads/ukraine-talks/).\n\n"
             "- one\n- two [root link](/repo/archive/)\n\n`code` and ![a picture](/repo/assets/none.png)\n\n"
             "[absolute](https://example.org/a?b=1&c=2) and <https://example.org/auto>\n\n"
             "<script>alert(1)</script> [bad](javascript:alert(1))\n"),
    "2024/02/02/kyiv-talks-continue.md": dict(
        title="Talks continue in Kyiv", date="2024-02-02T18:00:00+02:00", thread="ukraine-talks",
        entities={"person": ["Зеленский"], "place": ["Kyiv"], "organization": ["United Nations"]},
        body="## What happened\n\nMore talks.\n\n1. first\n2. second\n"),
    "2024/02/03/beijing-summit.md": dict(
        title="Summit in Beijing", date="2024-02-03", entities={"place": ["北京"], "person": ["Xi Jinping"]},
        body="A summit."),
}


@pytest.fixture(scope="session")
def valid_site(sample_site: Path, tmp_path_factory) -> Path:
    """The sample articles plus hand-written ones, built under a Pages subpath with small pages."""
    site = tmp_path_factory.mktemp("valid")
    shutil.copytree(sample_site / "content" / "articles", site / "content" / "articles")
    write(site / "config.yaml", f"""
        title: Validity Digest
        description: Sample and hand-written articles.
        base_url: {BASE_URL}
        per_page: 2
    """)
    for rel, fields in EXTRA.items():
        fields = dict(fields)
        article(site, rel, fields.pop("title"), fields.pop("date"), **fields)
    report = build_site(site, load_config(site))
    assert not report.errors, report.errors
    return site


def _html_files(site: Path) -> list[Path]:
    return sorted((site / "output").rglob("*.html"))


def _feed_files(site: Path) -> list[Path]:
    return sorted(p for p in (site / "output").rglob("*.xml") if p.name in ("feed.xml", "atom.xml"))


def _url_of(site: Path, path: Path) -> str:
    return BASE_URL + quote(path.relative_to(site / "output").as_posix())


# ---------------------------------------------------------------- HTML


def test_every_page_passes_the_nu_html_checker(valid_site):
    if not VNU.exists() or not shutil.which("java"):
        pytest.skip("needs java and tests/tools/node_modules/vnu-jar (run tests/tools/install.sh)")
    files = _html_files(valid_site)
    assert len(files) > 40
    run = subprocess.run(["java", "-jar", str(VNU), "--errors-only", "--format", "json", *map(str, files)],
                         capture_output=True, text=True, timeout=300)
    messages = json.loads(run.stderr or run.stdout)["messages"]
    errors = [f"{unquote(m.get('url', ''))}:{m.get('lastLine')}: {m.get('message')}" for m in messages
              if m.get("type") in ("error", "non-document-error")]
    assert errors == [], "\n".join(errors[:30])


def test_no_broken_internal_link_image_or_feed_under_the_pages_subpath(valid_site):
    output = valid_site / "output"
    ids: dict[Path, set[str]] = {}

    def ids_of(path: Path) -> set[str]:
        if path not in ids:
            tree = HTMLParser(path.read_text(encoding="utf-8"))
            ids[path] = {n.attributes["id"] for n in tree.css("[id]")}
        return ids[path]

    broken, checked = [], 0
    for path in _html_files(valid_site):
        tree = HTMLParser(path.read_text(encoding="utf-8"))
        page_url = "/" + path.relative_to(output).as_posix()
        page_url = BASE_PATH[:-1] + (page_url[: -len("index.html")] if page_url.endswith("/index.html") else page_url)
        for node in tree.css("a[href], link[href], img[src], script[src], source[src], form[action]"):
            ref = node.attributes.get("href") or node.attributes.get("src") or node.attributes.get("action") or ""
            parts = urlsplit(ref)
            if parts.scheme or ref.startswith("//"):
                continue  # external (checked for feeds below); mailto: and the like
            target = urlsplit(urljoin(page_url, ref))
            checked += 1
            if not target.path.startswith(BASE_PATH):
                broken.append(f"{path.relative_to(output)}: {ref} leaves the Pages subpath {BASE_PATH}")
                continue
            rel = unquote(target.path[len(BASE_PATH):])
            file = output / rel / "index.html" if rel == "" or rel.endswith("/") else output / rel
            if not file.is_file() and ref != "/repo/assets/none.png":  # the article's own missing picture
                broken.append(f"{path.relative_to(output)}: {ref} -> no {file.relative_to(output)}")
            elif target.fragment and file.suffix == ".html" and unquote(target.fragment) not in ids_of(file):
                broken.append(f"{path.relative_to(output)}: {ref} -> no id {target.fragment!r}")
    assert checked > 500
    assert broken == [], "\n".join(broken[:30])


def test_content_never_brings_script_or_javascript_links(valid_site):
    doc = HTMLParser((valid_site / "output/2024/02/01/kyiv-talks/index.html").read_text(encoding="utf-8"))
    body = doc.css_first(".body")
    assert "<script>alert(1)</script>" in body.text()
    assert body.css("script") == []
    for node in doc.css("[href], [src]"):
        value = (node.attributes.get("href") or node.attributes.get("src") or "").strip().lower()
        assert not value.startswith(("javascript:", "vbscript:", "data:")), node.html
    for script in doc.css("script"):
        assert script.attributes.get("type") == "application/ld+json" or script.attributes.get(
            "src", "").startswith(BASE_PATH), script.html


# ---------------------------------------------------------------- feeds


def test_feeds_exist_for_site_threads_and_entities(valid_site):
    rels = {p.relative_to(valid_site / "output").as_posix() for p in _feed_files(valid_site)}
    for route in ("", "threads/ukraine-talks/", "entities/person/зеленский/", "entities/place/北京/"):
        assert {route + "feed.xml", route + "atom.xml"} <= rels, route


def test_every_feed_parses_without_bozo_and_follows_the_rss_and_atom_rules(valid_site):
    problems = []
    feeds = _feed_files(valid_site)
    assert len(feeds) > 50
    for path in feeds:
        name = path.relative_to(valid_site / "output").as_posix()
        data = path.read_bytes()
        parsed = feedparser.parse(data)
        if parsed.bozo:
            problems.append(f"{name}: bozo: {parsed.bozo_exception}")
            continue
        problems += [f"{name}: {p}" for p in _feed_problems(parsed, ET.fromstring(data), _url_of(valid_site, path))]
    assert problems == [], "\n".join(problems[:30])


def _feed_problems(parsed, root: ET.Element, own_url: str) -> list[str]:
    problems = []
    selfs = [link.href for link in parsed.feed.get("links", []) if link.get("rel") == "self"]
    if selfs != [own_url]:
        problems.append(f"self link {selfs} is not its own URL {own_url}")
    ids = [entry.get("id") for entry in parsed.entries]
    if len(set(ids)) != len(ids) or not all(ids):
        problems.append(f"ids not unique or missing: {ids}")
    if root.tag == "rss":
        channel = root.find("channel")
        for element in [channel.find("lastBuildDate"), *(i.find("pubDate") for i in channel.iter("item"))]:
            if element is None:
                problems.append("an item has no pubDate")
                continue
            when = email.utils.parsedate_to_datetime(element.text)
            if when.tzinfo is None or not re.search(r"(?:[+-]\d{4}|GMT|UT)$", element.text):
                problems.append(f"RFC 822 date without a zone: {element.text}")
        urls = [channel.findtext("link")] + [i.findtext(t) for i in channel.iter("item") for t in ("link", "guid")]
        html = [i.findtext("description") or "" for i in channel.iter("item")]
        html += [e.text or "" for e in channel.iter("{http://purl.org/rss/1.0/modules/content/}encoded")]
    else:
        entries = root.findall(f"{ATOM}entry")
        for element in [root.find(f"{ATOM}updated"), *(e.find(f"{ATOM}updated") for e in entries)]:
            if element is None or not RFC3339.match(element.text or ""):
                problems.append(f"RFC 3339 date missing or without a zone: {getattr(element, 'text', None)}")
        urls = [root.findtext(f"{ATOM}id")] + [e.findtext(f"{ATOM}id") for e in entries]
        urls += [link.get("href") for link in root.iter(f"{ATOM}link")]
        html = [e.text or "" for e in root.iter() if e.tag in (f"{ATOM}content", f"{ATOM}summary")]
    for url in urls:
        if not url or urlsplit(url).scheme not in ("http", "https"):
            problems.append(f"not an absolute URL: {url!r}")
    for fragment in html:
        for node in HTMLParser(fragment).css("[href], [src]"):
            ref = node.attributes.get("href") or node.attributes.get("src") or ""
            if urlsplit(ref).scheme not in ("http", "https", "mailto"):
                problems.append(f"relative or unsafe link inside content: {ref!r}")
    return problems


def test_relative_links_in_an_article_become_absolute_in_its_feed(valid_site):
    parsed = feedparser.parse((valid_site / "output/atom.xml").read_bytes())  # the site feed: whole articles
    content = next(e for e in parsed.entries if "Зеленский" in e.title).content[0].value
    hrefs = {n.attributes["href"] for n in HTMLParser(content).css("a[href]")}
    assert BASE_URL + "threads/ukraine-talks/" in hrefs
    assert BASE_URL + "archive/" in hrefs
    assert "https://example.org/a?b=1&c=2" in hrefs


# ---------------------------------------------------------------- the browser


def _routes_to_check(site: Path) -> dict[str, str]:
    output = site / "output"
    thread = next(p for p in sorted((output / "threads").iterdir()) if p.is_dir() and p.name != "page")
    return {
        "front page": "", "digest of a day": "digest/2024/02/03/", "search": "search/",
        "article": "2024/01/16/north-korean-minister-lauds-comradely-ties-with-russia/",
        "non-Latin article": "2024/02/01/kyiv-talks/",
        "thread": f"threads/{thread.name}/", "entity": "entities/place/北京/",
        "stories index": "threads/", "entities index": "entities/", "people index": "entities/person/",
        "archive": "archive/", "month": "archive/2024/01/", "404": "404.html",
    }


@pytest.mark.browser
def test_axe_finds_no_serious_or_critical_violation(valid_site):
    if not AXE.exists():
        pytest.skip("needs tests/tools/node_modules/axe-core (run tests/tools/install.sh)")
    routes = _routes_to_check(valid_site)
    found = []
    dark_pages = ("front page", "article", "entity")  # dark mode: colours only
    with serve_subpath(valid_site / "output") as base, chromium() as browser:
        for scheme in ("light", "dark"):
            tab = browser.new_page(color_scheme=scheme)
            options = "{resultTypes: ['violations']}" if scheme == "light" else \
                "{resultTypes: ['violations'], runOnly: ['color-contrast']}"
            for name, route in routes.items():
                if scheme == "dark" and name not in dark_pages:
                    continue
                response = tab.goto(base + quote(route))
                assert response is not None and response.ok, (name, route)
                tab.add_script_tag(path=str(AXE))
                result = tab.evaluate(f"async () => await axe.run(document, {options})")
                for v in result["violations"]:
                    if v["impact"] in ("serious", "critical"):
                        targets = [n["target"] for n in v["nodes"]][:3]
                        found.append(f"{name} ({scheme}): {v['id']} [{v['impact']}] {v['help']} at {targets}")
            tab.close()
    assert found == [], "\n".join(found)


@pytest.mark.browser
def test_keyboard_tab_reaches_the_skip_link_first_and_it_moves_focus_to_main(valid_site):
    routes = _routes_to_check(valid_site)
    with serve_subpath(valid_site / "output") as base, chromium() as browser:
        tab = browser.new_page()
        for name in ("front page", "article", "thread", "entity", "search"):
            tab.goto(base + quote(routes[name]))
            tab.keyboard.press("Tab")
            first = tab.evaluate("document.activeElement.className + ' ' + document.activeElement.getAttribute('href')")
            assert first == "skip #main", name
            box = tab.locator("a.skip").bounding_box()
            assert box is not None and box["x"] >= 0 and box["y"] >= 0, f"{name}: skip link not visible on focus"
            tab.keyboard.press("Enter")
            assert tab.evaluate("document.activeElement.id") == "main", f"{name}: focus did not move to main"
            tab.keyboard.press("Tab")
            inside = tab.evaluate("!!document.activeElement.closest('main')")
            assert inside, f"{name}: Tab after the skip link left main"
