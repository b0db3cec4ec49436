"""The preview server: build with drafts, serve under the base path, rebuild and reload on change.

Builds alternate between two folders under `.cache/` and never go into the one
being served; the server switches to a folder only when its build succeeded, so
a reader never sees a half-written site and a failed rebuild keeps the last good
one. Each folder keeps its build manifest, so a rebuild renders only what changed.
Open tabs learn of a new build or an error through server-sent events from a
small script added to HTML responses as they are served, never written to output/.
"""

from __future__ import annotations

import dataclasses
import fcntl
import logging
import os
import shutil
import threading
import time
from collections.abc import Iterable
from pathlib import Path

from watchfiles import watch

from .build import BuildReport, build_site
from .config import Config, load_config
from .errors import NewsdigestError
from .httpserve import ServedSite, start_server
from .writer import recover

log = logging.getLogger(__name__)

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
WATCHED = ("content", "templates", "site")
_POLL_MS = 400  # how often the watcher looks at config.yaml, which editors replace rather than write


class PreviewServer:
    """A preview of one site: the HTTP server, the watcher, and the builds they share."""

    def __init__(self, site_dir: Path, config: Config, host: str = "127.0.0.1", port: int = 8000,
                 watch: bool = True) -> None:
        self.site_dir = site_dir
        self.config = config
        self.host, self.port, self.watch = host, port, watch
        self.cache_dir = site_dir / ".cache"
        self.folders: tuple[Path, Path] | None = None
        self.site = ServedSite(None, config.base_path, live=True)
        self.builds = 0
        self.last_seconds = 0.0
        self.last_report: BuildReport | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._server = None
        self._claim = None
        self._ingested: dict[Path, int] = {}
        self._config_seen: tuple[int, int, int] | None = None

    @property
    def url(self) -> str:
        return self._address(self.site.base_path)

    def _address(self, base_path: str) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{base_path}"

    def start(self) -> str:
        """Build once, start serving (and watching); return the URL to open."""
        self.folders = self._claim_folders()
        try:  # listen first: a port in use should not wait for a whole build to be reported
            self._server, thread = start_server(self.site, self.host, self.port)
        except OSError as exc:
            self.stop()
            raise NewsdigestError(f"cannot listen on {self.host}:{self.port}: {exc.strerror}",
                                  hint="pass --port with another number") from exc
        self.port = self._server.server_address[1]
        self._threads.append(thread)
        self.rebuild()
        if self.site.root is None:
            self.stop()
            raise NewsdigestError(f"the first build failed: {self.site.error}", str(self.site_dir))
        if self.watch:
            watcher = threading.Thread(target=self._watch_loop, name="newsdigest-watch", daemon=True)
            watcher.start()
            self._threads.append(watcher)
        return self.url

    def stop(self) -> None:
        """Stop watching and serving; remove build folders no later preview can reuse."""
        self._stop.set()
        self.site.close()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        for thread in self._threads:
            thread.join(timeout=5)
        if self._claim is not None:
            fcntl.flock(self._claim, fcntl.LOCK_UN)
            self._claim.close()
            self._claim = None
        elif self.folders:  # this server's own pair, named after its process
            for folder in self.folders:
                _remove_build(folder)

    def wait(self, timeout: float) -> bool:
        """Wait until stopped or `timeout` seconds pass; True if stopped."""
        return self._stop.wait(timeout)

    def _claim_folders(self) -> tuple[Path, Path]:
        """The two folders builds alternate between: shared across runs, or this process's own
        while another preview of the same site holds the shared pair."""
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        _remove_stale_builds(self.cache_dir)
        claim = open(self.cache_dir / "serve.lock", "w")  # noqa: SIM115 - held while serving
        try:
            fcntl.flock(claim, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            claim.close()
            name = f"serve-{os.getpid()}"
        else:
            self._claim, name = claim, "serve"
        folders = self.cache_dir / f"{name}-a", self.cache_dir / f"{name}-b"
        for folder in folders:  # a preview killed mid-build left moves to finish before either is served
            recover(folder)
        return folders

    def rebuild(self, changes: Iterable[Path] = ()) -> bool:
        """Ingest new wire files among `changes`, build into the folder not being served, switch if good.

        Each of the two folders keeps its own manifest, so a build there re-renders only what
        changed since that folder's last build, and the folder being served is never touched.
        """
        with self._lock:
            started = time.perf_counter()
            folder = self.folders[1] if self.site.root == self.folders[0] else self.folders[0]
            try:
                problems = self._prepare(set(changes))
                report = build_site(self.site_dir, self._preview_config(), output_dir=folder, include_drafts=True)
                problems += [str(e) for e in report.errors]
            except NewsdigestError as exc:
                return self._fail([str(exc)])
            except Exception as exc:  # a bug in a build must not take the preview down
                log.debug("rebuild crashed", exc_info=True)
                return self._fail([f"internal error: {type(exc).__name__}: {exc}"])
            if problems and self.site.root is not None:
                return self._fail(problems)
            self.site.publish(folder, self.config.base_path, "\n".join(problems) or None)
            self.builds += 1
            self.last_seconds = time.perf_counter() - started
            for problem in problems:
                log.error("%s", problem)
            self.last_report = report
            log.info("built %d pages and feeds (%d re-rendered) in %.2f s%s", report.pages + report.feeds,
                     report.rendered, self.last_seconds, "" if self.builds == 1 else "; reloading open tabs")
            return not problems

    def _preview_config(self) -> Config:
        """The site's settings with base_url pointing at this server, as `hugo server` does:
        absolute links in feeds, sitemaps and link previews then open in the preview too."""
        return dataclasses.replace(self.config, base_url=self._address(self.config.base_path))

    def _prepare(self, changes: set[Path]) -> list[str]:
        """Reload config.yaml and ingest wire files if they changed; return the problems met."""
        if self.site_dir / "config.yaml" in changes:
            self.config = load_config(self.site_dir)
            if self.config.base_path != self.site.base_path:
                log.info("base_url changed: now serving under http://%s:%d%s", self.host, self.port,
                         self.config.base_path)
        wire_dir = self.site_dir / "content" / "wire"
        wire = sorted(p for p in changes if p.is_relative_to(wire_dir) and p.is_file())
        if not wire:
            return []
        from .ingest import ingest

        report = ingest(self.site_dir, self.config, wire)
        for label in report.written + report.updated:
            path = self.site_dir / label
            if path.exists():  # the article ingest just wrote is about to come back as a change
                self._ingested[path] = path.stat().st_mtime_ns
        return [str(e) for e in report.errors]

    def _fail(self, problems: list[str]) -> bool:
        message = "\n".join(problems)
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        log.error("%s: %s%s", "rebuild failed, still serving the last good build" if self.site.root
                  else "build failed", problems[0], more)
        self.site.report_error(message)
        return False

    def _watch_roots(self) -> list[Path]:
        return [self.site_dir / name for name in WATCHED if (self.site_dir / name).is_dir()]

    def _watch_loop(self) -> None:
        """Rebuild on every batch of changes until stopped; restart when a watched folder comes or goes."""
        roots = self._watch_roots()
        self._config_seen = _stamp(self.site_dir / "config.yaml")
        while not self._stop.is_set():
            try:
                roots = self._watch_until_roots_change(roots)
            except Exception:  # the watcher must outlive anything a rebuild or the OS throws at it
                log.error("watching for changes failed; retrying", exc_info=log.isEnabledFor(logging.DEBUG))
                self._stop.wait(1)

    def _watch_until_roots_change(self, roots: list[Path]) -> list[Path]:
        """Rebuild for each batch of changes; return when stopped or when the watched folders change."""
        if not roots:  # nothing to watch but config.yaml: look at it now and then
            self._stop.wait(_POLL_MS / 1000)
        batches = watch(*roots, stop_event=self._stop, step=50, rust_timeout=_POLL_MS,
                        yield_on_timeout=True) if roots else iter([set()])
        for batch in batches:
            changed = {Path(p) for _, p in batch}
            config_path = self.site_dir / "config.yaml"
            if _stamp(config_path) != self._config_seen:  # editors replace it, which a file watch loses
                self._config_seen = _stamp(config_path)
                changed.add(config_path)
            now = self._watch_roots()
            changed = {p for p in changed if not self._is_own_write(p)} | (set(now) ^ set(roots))
            if changed:
                names = sorted(_label(p, self.site_dir) for p in changed)
                log.info("changed: %s%s", ", ".join(names[:3]), f" and {len(names) - 3} more" if len(names) > 3 else "")
                self.rebuild(changed)
            if now != roots:
                return now
        return roots

    def _is_own_write(self, path: Path) -> bool:
        """True for an article ingest wrote in the last rebuild and nobody touched since."""
        mtime = self._ingested.pop(path, None)
        return mtime is not None and path.exists() and path.stat().st_mtime_ns == mtime


def serve(site_dir: Path, config: Config, host: str = "127.0.0.1", port: int = 8000,
          watch: bool = True) -> int:
    """Build, serve and (with `watch`) rebuild on change until Ctrl-C; return the exit status."""
    if host not in LOOPBACK:
        log.warning("serving on %s: anyone who can reach this machine can read the preview, drafts "
                    "included", host)
    server = PreviewServer(site_dir, config, host, port, watch)
    try:
        url = server.start()
        print(f"Serving {url}  (drafts shown; Ctrl-C to stop)", flush=True)
        while not server.wait(0.5):
            pass
    except KeyboardInterrupt:
        log.info("stopped")
    finally:
        server.stop()
    return 0


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


def _label(path: Path, site_dir: Path) -> str:
    return path.relative_to(site_dir).as_posix() if path.is_relative_to(site_dir) else str(path)


def _remove_build(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    (folder.parent / f".{folder.name}.lock").unlink(missing_ok=True)


def _remove_stale_builds(cache_dir: Path) -> None:
    """Remove build folders of preview servers that are no longer running."""
    for folder in cache_dir.glob("serve-*-[ab]"):
        pid = folder.name.split("-")[1]
        if pid.isdigit() and not _alive(int(pid)):
            _remove_build(folder)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

