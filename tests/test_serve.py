"""The preview server, driven for real: HTTP on a free port, edits on disk, reload events."""

from __future__ import annotations

import http.client
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from browser import chromium
from conftest import article, ctrl_c_as_in_a_terminal, write

from newsdigest.build import build_site
from newsdigest.config import load_config
from newsdigest.errors import NewsdigestError
from newsdigest.httpserve import EVENTS_PATH, clean_path
from newsdigest.serve import PreviewServer

HELLO = "2024/01/15/hello/"


def get(port: int, path: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    """One request as sent, without client-side path clean-up or redirects."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def raw_get(port: int, target: bytes) -> tuple[int, bytes]:
    """A request line with arbitrary bytes in the path (NUL, backslashes), as an attacker sends it."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET " + target + b" HTTP/1.0\r\nHost: x\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


class EventStream:
    """Reads the server-sent events of the preview in a thread, one (event, data) per item."""

    def __init__(self, port: int) -> None:
        self.events: queue.Queue[tuple[str, dict]] = queue.Queue()
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.conn.request("GET", EVENTS_PATH)
        self.response = self.conn.getresponse()
        assert self.response.getheader("Content-Type").startswith("text/event-stream")
        threading.Thread(target=self._read, daemon=True).start()
        assert self.next("hello")

    def _read(self) -> None:
        kind = ""
        try:
            for line in iter(self.response.fp.readline, b""):
                text = line.decode().rstrip("\n")
                if text.startswith("event: "):
                    kind = text[7:]
                elif text.startswith("data: "):
                    self.events.put((kind, json.loads(text[6:])))
        except (OSError, ValueError):
            pass

    def next(self, kind: str, timeout: float = 15) -> dict:
        """The data of the next event of `kind` (other kinds are skipped)."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                got, data = self.events.get(timeout=left)
            except queue.Empty:
                break
            if got == kind:
                return data
        raise AssertionError(f"no '{kind}' event within {timeout} s")

    def close(self) -> None:
        self.conn.close()


def write_story_site(site: Path) -> Path:
    """Two articles in one thread, one of them a draft."""
    article(site, HELLO[:-1] + ".md", "Hello world", "2024-01-15T09:00:00+00:00", thread="greetings",
            entities={"person": ["Ann Smith"], "place": ["Moscow"]}, body="First body.")
    article(site, "2024/01/16/draft.md", "Unfinished story", "2024-01-16T09:00:00+00:00", thread="greetings",
            entities={"person": ["Ann Smith"]}, extra="draft: true")
    return site


@pytest.fixture
def preview(site: Path):
    """The story site previewed on a free port with the watcher on, for tests that edit it."""
    server = PreviewServer(write_story_site(site), load_config(site), port=0)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def shared_preview(tmp_path_factory):
    """One preview of the story site for the tests that only read from it."""
    site = tmp_path_factory.mktemp("shared")
    write(site / "config.yaml", "title: Test Digest\nbase_url: https://user.github.io/repo/\n")
    server = PreviewServer(write_story_site(site), load_config(site), port=0, watch=False)
    server.start()
    yield server
    server.stop()


def test_serves_pages_under_the_base_path_with_content_types(shared_preview):
    port = shared_preview.port
    assert shared_preview.url == f"http://127.0.0.1:{port}/repo/"
    status, headers, body = get(port, "/repo/")
    assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
    assert b"Hello world" in body
    for path, kind in [("/repo/feed.xml", "application/rss+xml; charset=utf-8"),
                       ("/repo/atom.xml", "application/atom+xml; charset=utf-8"),
                       ("/repo/assets/style.css", "text/css; charset=utf-8"),
                       ("/repo/sitemap.xml", "application/xml; charset=utf-8")]:
        status, headers, _ = get(port, path)
        assert (status, headers["content-type"]) == (200, kind), path
    assert get(port, "/")[:2][0] == 302 and get(port, "/")[1]["location"] == "/repo/"
    assert get(port, "/repo")[1]["location"] == "/repo/"
    status, headers, _ = get(port, "/repo/" + HELLO[:-1])
    assert status == 301 and headers["location"] == "/repo/" + HELLO
    status, headers, body = get(port, "/repo/no/such/page/")
    assert status == 404 and b"Page not found" in body and headers["content-type"].startswith("text/html")
    assert get(port, "/elsewhere/")[0] == 404
    assert get(port, "/repo/", "HEAD")[:1] == (200,)


def test_absolute_links_in_the_preview_point_at_the_preview(shared_preview):
    """Like `hugo server`: the feed a reader opens in the preview links back into the preview."""
    import feedparser

    feed = feedparser.parse(get(shared_preview.port, "/repo/feed.xml")[2])
    assert not feed.bozo and feed.entries
    assert all(e.link.startswith(shared_preview.url) for e in feed.entries), [e.link for e in feed.entries]
    assert "user.github.io" not in get(shared_preview.port, "/repo/sitemap.xml")[2].decode()


def test_reload_script_is_served_but_never_written(shared_preview):
    _, _, body = get(shared_preview.port, "/repo/" + HELLO)
    assert body.count(EVENTS_PATH.encode()) == 1 and body.index(b"<script>") < body.index(b"</body>")
    on_disk = (shared_preview.site.root / HELLO / "index.html").read_bytes()
    assert EVENTS_PATH.encode() not in on_disk
    _, _, css = get(shared_preview.port, "/repo/assets/style.css")
    assert EVENTS_PATH.encode() not in css


def test_drafts_are_shown_marked_in_preview_and_never_published(shared_preview):
    status, _, body = get(shared_preview.port, "/repo/2024/01/16/draft/")
    assert status == 200 and b"Unfinished story" in body and b"Draft" in body
    site = shared_preview.site_dir
    build_site(site, load_config(site))
    published = "".join(p.read_text(encoding="utf-8") for p in (site / "output").rglob("*.*ml"))
    assert "Unfinished story" not in published


ATTACKS = [
    b"/repo/../../../../../../etc/passwd", b"/../../../../etc/passwd", b"/repo/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    b"/repo/%2E%2E%2F%2E%2E%2F%2E%2E%2Fetc%2Fpasswd", b"/repo/%252e%252e/%252e%252e/etc/passwd",
    b"/repo/..%2f..%2f..%2f..%2fetc%2fpasswd", b"/repo/..%5c..%5c..%5cetc%5cpasswd",
    b"/repo/..\\..\\..\\..\\etc\\passwd", b"/repo/%00", b"/repo/index.html%00.css", b"/repo/index.html\x00",
    b"//etc/passwd", b"/repo//etc/passwd", b"/repo/%2fetc%2fpasswd", b"/repo/./../../etc/passwd",
    b"/repo/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd", b"/repo/leak/passwd", b"/repo/passwd-link",
    b"/repo/..;/..;/etc/passwd", b"/repo/%u002e%u002e/etc/passwd", b"/repo/.%2e/.%2e/etc/passwd",
]


def test_path_traversal_is_refused_and_never_leaks(shared_preview):
    (shared_preview.site.root / "leak").symlink_to("/etc")
    (shared_preview.site.root / "passwd-link").symlink_to("/etc/passwd")
    for target in ATTACKS:
        status, body = raw_get(shared_preview.port, target)
        assert status in (400, 404), target
        assert b"root:" not in body, target
    assert clean_path("/repo/a%20b/") == "/repo/a b/"


def test_symlinks_inside_the_site_still_work(shared_preview):
    (shared_preview.site.root / "alias.html").symlink_to(shared_preview.site.root / "index.html")
    assert get(shared_preview.port, "/repo/alias.html")[0] == 200


def test_fifty_concurrent_requests(shared_preview):
    paths = ["/repo/", "/repo/" + HELLO, "/repo/feed.xml", "/repo/assets/style.css", "/repo/missing"] * 10
    started = time.perf_counter()
    with ThreadPoolExecutor(50) as pool:
        statuses = list(pool.map(lambda p: get(shared_preview.port, p)[0], paths))
    assert statuses == [200, 200, 200, 200, 404] * 10
    assert time.perf_counter() - started < 10


def test_requests_during_rebuilds_always_get_a_whole_page(preview):
    stop, answers = threading.Event(), []

    def hammer() -> None:
        while not stop.is_set():
            answers.append(get(preview.port, "/repo/" + HELLO)[::2])

    workers = [threading.Thread(target=hammer) for _ in range(4)]
    for worker in workers:
        worker.start()
    try:
        for _ in range(3):
            assert preview.rebuild()
    finally:
        stop.set()
        for worker in workers:
            worker.join()
    assert answers and all(status == 200 and body.rstrip().endswith(b"</html>") for status, body in answers)


def test_edit_rebuilds_and_sends_reload(preview, site):
    events = EventStream(preview.port)
    try:
        article(site, HELLO[:-1] + ".md", "Hello again", "2024-01-15T09:00:00+00:00", thread="greetings",
                entities={"person": ["Ann Smith"], "place": ["Moscow"]}, body="Edited body.")
        reload = events.next("reload")
        assert reload["error"] is None
        _, _, body = get(preview.port, "/repo/" + HELLO)
        assert b"Hello again" in body and b"Edited body." in body
    finally:
        events.close()


def test_broken_template_keeps_last_good_build_and_sends_error(preview, site):
    events = EventStream(preview.port)
    try:
        good_generation = preview.site.generation
        write(site / "templates" / "article.html", "{% extends 'base.html' %}{% block main %}{% if %}{% endblock %}")
        error = events.next("error")
        assert "article.html" in error["error"] and error["generation"] == good_generation
        status, _, body = get(preview.port, "/repo/" + HELLO)
        assert status == 200 and b"Hello world" in body  # still the last good build
        (site / "templates" / "article.html").unlink()
        fixed = events.next("reload")
        assert fixed["error"] is None and fixed["generation"] > good_generation
    finally:
        events.close()


def test_bad_front_matter_keeps_last_good_build(preview, site):
    events = EventStream(preview.port)
    try:
        path = site / "content" / "articles" / (HELLO[:-1] + ".md")
        path.write_text("---\ntitle: [unclosed\n---\n\nBody.\n", encoding="utf-8")
        error = events.next("error")
        assert "hello.md" in error["error"]
        assert b"Hello world" in get(preview.port, "/repo/" + HELLO)[2]
    finally:
        events.close()


def test_new_wire_file_is_ingested_and_shown(preview, site):
    events = EventStream(preview.port)
    try:
        write(site / "content" / "wire" / "new.txt", """
            ---
            date: 2024-02-01
            entities: {person: [Bo Chan], organization: [], place: [Paris]}
            ---
            Paris talks open

            PARIS (Reuters) - Talks opened in Paris on Thursday.
        """)
        events.next("reload")
        _, _, body = get(preview.port, "/repo/")
        assert b"Paris talks open" in body
        assert list((site / "content" / "articles").rglob("*paris-talks-open*.md"))
    finally:
        events.close()


def test_config_change_is_picked_up_even_when_the_file_is_replaced(preview, site):
    events = EventStream(preview.port)
    try:
        for title in ("Renamed Digest", "Renamed Again"):
            tmp = site / "config.yaml.tmp"
            tmp.write_text((site / "config.yaml").read_text().replace("Test Digest", title)
                           .replace("Renamed Digest", title), encoding="utf-8")
            os.replace(tmp, site / "config.yaml")  # as editors save: a new file renamed over the old
            events.next("reload")
            assert title.encode() in get(preview.port, "/repo/")[2]
    finally:
        events.close()


def test_port_in_use_is_one_clear_error(preview, site):
    other = PreviewServer(site, load_config(site), port=preview.port, watch=False)
    with pytest.raises(NewsdigestError, match=f"cannot listen on 127.0.0.1:{preview.port}: .*--port"):
        other.start()
    assert get(preview.port, "/repo/")[0] == 200


def test_a_second_preview_of_the_same_site_uses_its_own_folders(preview, site):
    second = PreviewServer(site, load_config(site), port=0, watch=False)
    second.start()
    port, folder = second.port, second.site.root
    assert preview.site.root.parent == folder.parent == site / ".cache" and preview.site.root != folder
    assert folder.name == f"serve-{os.getpid()}-a" and not (site / "output").exists()
    assert get(port, "/repo/")[0] == 200
    second.stop()
    assert not folder.exists() and preview.site.root.exists()
    with pytest.raises(OSError):
        get(port, "/repo/")
    assert get(preview.port, "/repo/")[0] == 200


def test_builds_alternate_and_never_touch_the_served_folder(site):
    article(site, HELLO[:-1] + ".md", "Hello world", "2024-01-15T09:00:00+00:00", thread="greetings")
    server = PreviewServer(site, load_config(site), port=0, watch=False)
    server.start()
    try:
        first = server.site.root
        assert server.rebuild() and server.site.root != first and server.site.generation == 2
        assert server.rebuild() and server.site.root == first
    finally:
        server.stop()


def test_a_rebuild_renders_only_what_the_edit_affects(site):
    write_story_site(site)
    article(site, "2024/01/17/other.md", "Other story", "2024-01-17T09:00:00+00:00", thread="elsewhere",
            entities={"person": ["Bo Chan"]})
    server = PreviewServer(site, load_config(site), port=0, watch=False)
    server.start()
    try:
        assert server.rebuild()  # the second folder's first build
        article(site, "2024/01/17/other.md", "Other story", "2024-01-17T09:00:00+00:00", thread="elsewhere",
                entities={"person": ["Bo Chan"]}, body="A corrected body.")
        assert server.rebuild()
        report = server.last_report
        assert 0 < report.rendered < (report.pages + report.feeds) / 2
        assert b"A corrected body." in get(server.port, "/repo/2024/01/17/other/")[2]
    finally:
        server.stop()


def test_stale_build_folders_of_dead_servers_are_removed(site):
    article(site, HELLO[:-1] + ".md", "Hello world", "2024-01-15T09:00:00+00:00", thread="greetings")
    stale = site / ".cache" / "serve-999999999-a"
    (stale / "x").mkdir(parents=True)
    mine = site / ".cache" / f"serve-{os.getpid()}-b"
    mine.mkdir()
    server = PreviewServer(site, load_config(site), port=0, watch=False)
    server.start()
    server.stop()
    assert not stale.exists() and mine.exists()


def test_cli_serves_until_ctrl_c_and_warns_beyond_loopback(site):
    article(site, HELLO[:-1] + ".md", "Hello world", "2024-01-15T09:00:00+00:00", thread="greetings")
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.Popen([sys.executable, str(root / "build.py"), "serve", "--site", str(site), "--port", "0",
                             "--host", "0.0.0.0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=root, preexec_fn=ctrl_c_as_in_a_terminal)
    try:
        line = proc.stdout.readline()
        assert line.startswith("Serving http://0.0.0.0:"), line
        port = int(line.split(":")[2].split("/")[0])
        assert get(port, "/repo/")[0] == 200
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
    finally:
        proc.kill()
    assert proc.returncode == 0
    assert "warning: serving on 0.0.0.0" in err and "Traceback" not in err
    assert not list((site / ".cache").glob("serve-*-[ab]"))  # only the shared pair, kept for the next run



@pytest.mark.browser
def test_browser_tab_reloads_by_itself_and_shows_the_error_overlay(preview, site):
    with chromium() as browser:
        page = browser.new_page()
        page.goto(preview.url + HELLO)
        page.wait_for_selector("html[data-newsdigest-live]", state="attached")
        assert "Hello world" in page.locator("h1").first.inner_text()
        with page.expect_navigation(timeout=15_000):
            article(site, HELLO[:-1] + ".md", "Hello from the editor", "2024-01-15T09:00:00+00:00",
                    thread="greetings", entities={"person": ["Ann Smith"]})
        page.wait_for_selector("html[data-newsdigest-live]", state="attached")
        assert "Hello from the editor" in page.locator("h1").first.inner_text()
        broken = "{% extends 'base.html' %}{% block main %}{{ 1 + }}{% endblock %}"
        write(site / "templates" / "article.html", broken)
        overlay = page.wait_for_selector("#newsdigest-error", timeout=15_000)
        assert "article.html" in overlay.inner_text() and "last good build" in overlay.inner_text()
        with page.expect_navigation(timeout=15_000):
            (site / "templates" / "article.html").unlink()
        page.wait_for_selector("html[data-newsdigest-live]", state="attached")
        assert page.query_selector("#newsdigest-error") is None
