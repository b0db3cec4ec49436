"""Serve a built site over HTTP under its base path, safely; the preview adds live-reload events.

Used by `serve` (live: events and the reload script) and `check` (plain, like
GitHub Pages). Only regular files inside the served folder are ever read: a
request path is decoded once, and anything that could step outside (dot
segments, a second layer of percent-encoding, backslashes, NUL, empty segments,
symlinks resolving elsewhere) is refused before the disk is touched.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import socket
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

log = logging.getLogger(__name__)

EVENTS_PATH = "/__newsdigest/events"
_KEEPALIVE_SECONDS = 15.0
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".xml": "application/xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
}
_NAMED_TYPES = {"feed.xml": "application/rss+xml; charset=utf-8",
                "atom.xml": "application/atom+xml; charset=utf-8"}
_RELOAD_SCRIPT = """<script>/* newsdigest preview: live reload; never part of the published site */
(function () {
  var generation = %d, url = "%s", source = null;
  function show(message) {
    var box = document.getElementById("newsdigest-error");
    if (!message) { if (box) box.remove(); return; }
    if (!box) {
      box = document.createElement("div");
      box.id = "newsdigest-error";
      box.setAttribute("role", "alert");
      box.style.cssText = "position:fixed;inset:0;z-index:2147483647;overflow:auto;padding:2rem;" +
        "background:#2a0a0a;color:#fff;font:15px/1.5 monospace;white-space:pre-wrap";
      document.body.appendChild(box);
    }
    box.textContent = "newsdigest: the last rebuild failed. Fix it and this tab reloads by itself; " +
      "until then the server keeps the last good build.\\n\\n" + message;
  }
  function update(event) {
    var state = JSON.parse(event.data);
    document.documentElement.setAttribute("data-newsdigest-live", state.generation);
    if (state.generation !== generation) { disconnect(); location.reload(); return; }
    show(state.error);
  }
  function connect() {
    if (source) return;
    source = new EventSource(url);
    ["hello", "reload", "error", "state"].forEach(function (name) { source.addEventListener(name, update); });
  }
  function disconnect() { if (source) { source.close(); source = null; } }
  // A hidden tab lets go of its connection (browsers allow six per host) and catches up when shown again.
  document.addEventListener("visibilitychange", function () { if (document.hidden) disconnect(); else connect(); });
  if (!document.hidden) connect();
})();
</script>
"""


class ServedSite:
    """The folder being served and, for the preview, its build generation and last error."""

    def __init__(self, root: Path | None, base_path: str, live: bool = False) -> None:
        self.current: tuple[Path | None, str, int] = (root, base_path, 0)  # swapped whole, read whole
        self.live = live
        self.error: str | None = None
        self.revision = 0
        self.closed = False
        self._changed = threading.Condition()

    def publish(self, root: Path, base_path: str, error: str | None = None) -> None:
        """Switch every following request to the build in `root` (one reference swap)."""
        with self._changed:
            self.current = (root, base_path, self.generation + 1)
            self.error = error
            self.revision += 1
            self._changed.notify_all()

    def report_error(self, message: str) -> None:
        """Keep serving the current build; tell open tabs what went wrong."""
        with self._changed:
            self.error = message
            self.revision += 1
            self._changed.notify_all()

    @property
    def root(self) -> Path | None:
        return self.current[0]

    @property
    def base_path(self) -> str:
        return self.current[1]

    @property
    def generation(self) -> int:
        return self.current[2]

    def close(self) -> None:
        """End every open event stream."""
        with self._changed:
            self.closed = True
            self._changed.notify_all()

    def wait_change(self, seen: int | None, timeout: float) -> dict | None:
        """The state once its revision differs from `seen`; None on timeout or when closed."""
        with self._changed:
            changed = self._changed.wait_for(lambda: self.closed or self.revision != seen, timeout)
            if not changed or self.closed:
                return None
            return {"revision": self.revision, "generation": self.generation, "error": self.error}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024  # many browsers and tabs connect at once; a full backlog drops SYNs for seconds
    site: ServedSite

    def handle_error(self, request, client_address) -> None:
        log.debug("request from %s failed", client_address, exc_info=True)


class _Server6(_Server):
    address_family = socket.AF_INET6


def start_server(site: ServedSite, host: str, port: int) -> tuple[_Server, threading.Thread]:
    """Listen on host:port (0: any free port) and serve `site` from a background thread."""
    server = (_Server6 if ":" in host else _Server)((host, port), _Handler)
    server.site = site
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                              name="newsdigest-http", daemon=True)
    thread.start()
    return server, thread


def clean_path(raw: str) -> str | None:
    """The decoded request path, or None when it could name anything outside the site."""
    path = raw.split("?", 1)[0].split("#", 1)[0]
    if not path.startswith("/") or "\\" in path or "\x00" in path:
        return None
    try:
        path = unquote(path, errors="strict")
    except UnicodeDecodeError:
        return None
    if any(c in path for c in "\\%") or any(ord(c) < 32 or ord(c) == 127 for c in path):
        return None  # '%' left after one decode means the path was encoded twice
    segments = path.split("/")[1:]
    if any(s in (".", "..") for s in segments) or "" in segments[:-1]:
        return None
    return path


def content_type(path: Path) -> str:
    """The Content-Type for a file: feeds as RSS/Atom XML, text types with UTF-8 declared."""
    if path.name in _NAMED_TYPES:
        return _NAMED_TYPES[path.name]
    if path.suffix.lower() in _TYPES:
        return _TYPES[path.suffix.lower()]
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def _inject(body: bytes, generation: int) -> bytes:
    script = (_RELOAD_SCRIPT % (generation, EVENTS_PATH)).encode("utf-8")
    at = body.lower().rfind(b"</body>")
    return body + script if at < 0 else body[:at] + script + body[at:]


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "newsdigest"

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        self._respond(head=False)

    def do_HEAD(self) -> None:  # noqa: N802
        self._respond(head=True)

    def log_message(self, format: str, *args) -> None:  # noqa: A002
        log.debug("%s %s", self.address_string(), format % args)

    def _respond(self, head: bool) -> None:
        site = self.server.site
        root, base, generation = site.current  # one build for the whole request, whatever happens meanwhile
        if site.live and self.path.split("?", 1)[0] == EVENTS_PATH and not head:
            return self._events(site)
        path = clean_path(self.path)
        if path is None:
            return self._send(HTTPStatus.BAD_REQUEST, b"bad request\n", "text/plain; charset=utf-8", head)
        if root is None:
            return self._send(HTTPStatus.SERVICE_UNAVAILABLE, b"the first build is still running\n",
                              "text/plain; charset=utf-8", head)
        if not path.startswith(base):
            if path in ("/", "/index.html", base.rstrip("/")):
                return self._redirect(base, HTTPStatus.FOUND)
            return self._not_found(root, generation, head)
        target = _locate(root, path[len(base):])
        if target == "dir":
            return self._redirect(path + "/", HTTPStatus.MOVED_PERMANENTLY)
        if target is None:
            return self._not_found(root, generation, head)
        self._send_file(HTTPStatus.OK, target, generation, head)

    def _not_found(self, root: Path, generation: int, head: bool) -> None:
        page = root / "404.html"
        if page.is_file():
            return self._send_file(HTTPStatus.NOT_FOUND, page, generation, head)
        self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8", head)

    def _send_file(self, status: HTTPStatus, path: Path, generation: int, head: bool) -> None:
        try:
            body = path.read_bytes()
        except OSError:  # the build it belonged to was removed meanwhile
            return self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8", head)
        kind = content_type(path)
        if self.server.site.live and kind.startswith("text/html"):
            body = _inject(body, generation)
        self._send(status, body, kind, head)

    def _redirect(self, location: str, status: HTTPStatus) -> None:
        self.send_response(status)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _send(self, status: HTTPStatus, body: bytes, kind: str, head: bool) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Content-Type-Options", "nosniff")
            if self.server.site.live:
                self.send_header("Cache-Control", "no-store")
            self.end_headers()
            if not head:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _events(self, site: ServedSite) -> None:
        """A server-sent event stream: 'hello' now, then 'reload' or 'error' as builds come and go."""
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        seen, generation = None, None
        try:
            self.wfile.write(b"retry: 1000\n\n")
            while True:
                state = site.wait_change(seen, _KEEPALIVE_SECONDS)
                if site.closed:
                    return
                if state is None:
                    self.wfile.write(b": keep-alive\n\n")
                    self.wfile.flush()
                    continue
                kind = ("hello" if seen is None else "reload" if state["generation"] != generation
                        else "error" if state["error"] else "state")
                seen, generation = state["revision"], state["generation"]
                data = json.dumps({"generation": state["generation"], "error": state["error"]})
                self.wfile.write(f"event: {kind}\ndata: {data}\n\n".encode())
                self.wfile.flush()
        except OSError:
            return


def _locate(root: Path, rel: str) -> Path | str | None:
    """The regular file inside `root` serving `rel`, 'dir' for a folder named without '/', or None."""
    top = root.resolve()
    target = (root / rel) if rel else root
    if rel == "" or rel.endswith("/"):
        target = target / "index.html"
    try:
        resolved = target.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if not resolved.is_relative_to(top):
        return None
    if resolved.is_dir():
        return "dir" if (resolved / "index.html").is_file() else None
    return resolved if resolved.is_file() else None
