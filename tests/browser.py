"""A real browser for tests: Debian's Chromium driven by Playwright, and a static server
that serves a built site under a GitHub Pages-style subpath."""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--headless=new", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]


class _SubpathHandler(SimpleHTTPRequestHandler):
    """Serves `directory` at `prefix` only, as GitHub Pages serves a project site."""

    prefix = "/repo/"
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".js": "text/javascript",
                      ".wasm": "application/wasm"}

    def translate_path(self, path: str) -> str:
        if not path.startswith(self.prefix):
            return str(Path(self.directory) / "__outside_the_subpath__")
        return super().translate_path("/" + path[len(self.prefix):])

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the name http.server uses
        pass


@contextlib.contextmanager
def serve_subpath(root: Path, prefix: str = "/repo/") -> Iterator[str]:
    """Serve `root` at http://127.0.0.1:PORT{prefix}; yields that URL."""
    handler = type("Handler", (_SubpathHandler,), {"prefix": prefix})
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{prefix}"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def chromium() -> Iterator:
    """A headless Chromium (skips the test when Debian's chromium or Playwright is missing)."""
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium (tests/tools/install.sh)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
