"""The link check: serve output/ under its GitHub Pages path and crawl it for broken links.

From the front page (and the sitemap and 404 page, so pages nothing links to are read too)
the crawler follows every internal `<a href>`, `<link href>`, `<img src>`,
`<script src>` and meta refresh, reads feeds and sitemaps for the links they
carry, and checks that each `#fragment` names an id on its page. Absolute links
to `base_url` (canonical links, feed items) count as internal.
"""

from __future__ import annotations

import logging
import re
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

from .config import Config
from .errors import NewsdigestError
from .httpserve import ServedSite, start_server
from .writer import recover

log = logging.getLogger(__name__)

_LINK_ATTRS = {"a": "href", "link": "href", "img": "src", "script": "src", "source": "src",
               "iframe": "src", "audio": "src", "video": "src"}
_REFRESH_URL = re.compile(r"url\s*=\s*['\"]?([^'\"]+)", re.I)
_WORKERS = 8
# Read even when nothing links to them: the sitemap lists every page, Pages serves 404.html for any missing one.
_OPTIONAL_SEEDS = ("sitemap.xml", "404.html")


@dataclass
class _Resource:
    """What one fetched URL turned out to be."""

    status: int
    problem: str = ""
    ids: set[str] | None = None  # None: not an HTML page, fragments are not checked
    links: list[str] = field(default_factory=list)


class _PageParser(HTMLParser):
    """Collects the ids and the link targets of one HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if values.get("id"):
            self.ids.add(values["id"])
        if tag == "a" and values.get("name"):
            self.ids.add(values["name"])
        attr = _LINK_ATTRS.get(tag)
        if attr and values.get(attr):
            self.links.append(values[attr].strip())
        if tag == "meta" and values.get("http-equiv", "").lower() == "refresh":
            match = _REFRESH_URL.search(values.get("content", ""))
            if match:
                self.links.append(match.group(1).strip())


def crawl(root_url: str, site_url: str | None = None) -> list[str]:
    """Every broken internal link reachable from `root_url`, as 'page -> target (why)' lines."""
    return _Crawler(root_url, site_url).run()


def check_site(site_dir: Path, config: Config) -> int:
    """Serve output/ under the Pages path of base_url on a free port and crawl it; 1 if anything is broken."""
    output = site_dir / "output"
    recover(output)  # what a killed build left half-moved is finished before the crawl
    if not (output / "index.html").is_file():
        raise NewsdigestError("no built site to check", str(output), hint="run `python build.py build` first")
    server, thread = start_server(ServedSite(output, config.base_path), "127.0.0.1", 0)
    try:
        crawler = _Crawler(f"http://127.0.0.1:{server.server_address[1]}{config.base_path}", config.base_url)
        problems = crawler.run()
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    for problem in problems:
        log.error("%s", problem)
    log.info("check: %d pages and files under %s, %d broken link(s)", len(crawler.resources),
             config.base_path, len(problems))
    return 1 if problems else 0


class _Crawler:
    """A breadth-first crawl of one site, fetching each URL once."""

    def __init__(self, root_url: str, site_url: str | None) -> None:
        self.root = root_url if root_url.endswith("/") else root_url + "/"
        self.site_url = site_url if not site_url or site_url.endswith("/") else site_url + "/"
        self.origin = "{0.scheme}://{0.netloc}".format(urlsplit(self.root))
        self.resources: dict[str, _Resource] = {}

    def run(self) -> list[str]:
        refs: list[tuple[str, str]] = []  # (page, link with fragment)
        optional = [self.root + name for name in _OPTIONAL_SEEDS]
        queue = [self.root, *optional]
        seen = set(queue)
        with ThreadPoolExecutor(_WORKERS) as pool:
            while queue:
                for url, resource in zip(queue, pool.map(self._fetch, queue), strict=True):
                    self.resources[url] = resource
                queue, fetched = [], queue
                for page in fetched:
                    for link in self.resources[page].links:
                        target = urldefrag(link).url
                        refs.append((page, link))
                        if target not in seen:
                            seen.add(target)
                            queue.append(target)
        for url in optional:
            if self.resources[url].status == 404:
                del self.resources[url]  # a site without a sitemap or a 404 page is fine
        problems = {self._check(page, link) for page, link in refs}
        if self.resources[self.root].status != 200:
            problems.add(f"{self._short(self.root)}: the front page answers {self.resources[self.root].status}")
        return sorted(p for p in problems if p)

    def _check(self, page: str, link: str) -> str:
        target, fragment = urldefrag(link)
        resource = self.resources[target]
        where = f"{self._short(page)} -> {self._short(link)}"
        if resource.status != 200:
            return f"{where} ({resource.problem or f'HTTP {resource.status}'})"
        if resource.problem:
            return f"{where} ({resource.problem})"
        if fragment and resource.ids is not None and fragment not in resource.ids:
            return f"{where} (no element with id '{fragment}' on that page)"
        return ""

    def _short(self, url: str) -> str:
        return url[len(self.origin):] if url.startswith(self.origin) else url

    def _internal(self, base: str, link: str) -> str | None:
        """The absolute crawl URL of an internal link, or None for one leaving the site."""
        url = urljoin(base, link)
        if self.site_url and url.startswith(self.site_url):
            url = self.root + url[len(self.site_url):]
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or f"{parts.scheme}://{parts.netloc}" != self.origin:
            return None
        return url

    def _fetch(self, url: str) -> _Resource:
        try:
            with urllib.request.urlopen(url, timeout=15) as response:  # noqa: S310 - our own server
                final, body = response.geturl(), response.read()
                kind = response.headers.get("Content-Type", "")
        except urllib.error.HTTPError as exc:
            return _Resource(exc.code)
        except (urllib.error.URLError, OSError) as exc:
            return _Resource(0, f"cannot fetch: {getattr(exc, 'reason', exc)}")
        if "html" in kind:
            parser = _PageParser()
            parser.feed(body.decode("utf-8", "replace"))
            links = [self._internal(final, link) for link in parser.links]
            return _Resource(200, ids=parser.ids, links=[u for u in links if u])
        if "xml" in kind:
            return self._read_xml(final, body)
        return _Resource(200)

    def _read_xml(self, url: str, body: bytes) -> _Resource:
        """Feeds and sitemaps: well-formed, and their links internal links like any other."""
        try:
            tree = ET.fromstring(body)
        except ET.ParseError as exc:
            return _Resource(200, f"not well-formed XML: {exc}")
        links = []
        for element in tree.iter():
            name = element.tag.rsplit("}", 1)[-1]
            if name == "link" and element.get("href"):
                links.append(element.get("href"))
            elif name in ("link", "loc") and element.text and element.text.strip():
                links.append(element.text.strip())
        internal = [self._internal(url, link) for link in links]
        return _Resource(200, links=[u for u in internal if u])
