"""Commands, `--site`, `--debug`, logging set-up, and turning errors into one line each."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from pathlib import Path

from .config import Config, describe_settings, load_config
from .errors import NewsdigestError

log = logging.getLogger("newsdigest")

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_BUG = 0, 1, 2, 70


class _CountingHandler(logging.Handler):
    """Prints 'warning: ...' lines and counts them, so --strict can fail on them."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.warnings = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.WARNING:
            self.warnings += 1
            prefix = "error: " if record.levelno >= logging.ERROR else "warning: "
        else:
            prefix = ""
        print(prefix + record.getMessage(), file=sys.stderr)


def make_parser() -> argparse.ArgumentParser:
    # SUPPRESS: a subcommand's default must not undo `build.py --site DIR build` (argparse would put '.' back).
    common = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    common.add_argument("--site", type=Path, metavar="DIR",
                        help="folder with config.yaml, content/ and output/ (default: here)")
    common.add_argument("--debug", action="store_true", help="show tracebacks and debug messages")
    common.add_argument("--strict", action="store_true", help="treat warnings as failures (for CI)")
    common.add_argument("--quiet", "-q", action="store_true", help="print only problems")
    parser = argparse.ArgumentParser(
        prog="build.py", parents=[common],
        description="newsdigest: wire copy in, a static news digest site out. "
                    "With no command: ingest what is new, then build.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser("ingest", parents=[common], help="wire files -> content/articles/")
    p.add_argument("paths", nargs="*", type=Path, help="wire files or folders (default: content/wire/)")
    p.add_argument("--date", type=dt.date.fromisoformat, metavar="YYYY-MM-DD",
                   help="date for wire files that carry none")
    p.add_argument("--force", action="store_true", help="replace articles edited by hand")
    p = sub.add_parser("build", parents=[common], help="build the whole site into output/")
    p.add_argument("--drafts", action="store_true", help="include draft articles")
    p = sub.add_parser("serve", parents=[common], help="build, serve, rebuild and reload on change")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--no-reload", action="store_true", help="serve only; don't watch for changes")
    sub.add_parser("entities", parents=[common], help="list entities with counts and likely duplicates")
    p = sub.add_parser("threads", parents=[common], help="list story threads; re-thread the archive")
    p.add_argument("--recompute", action="store_true", help="re-thread every article with current settings")
    p.add_argument("--dry-run", action="store_true", help="with --recompute: print moves, change nothing")
    p = sub.add_parser("deploy", parents=[common], help="publish output/ to the gh-pages branch")
    p.add_argument("--force", action="store_true", help="deploy even with uncommitted content changes")
    p.add_argument("--no-push", action="store_true", help="commit to the branch but don't push")
    p = sub.add_parser("check", parents=[common], help="crawl the built site for broken links")
    sub.add_parser("config", parents=[common], help="print every setting with its default")
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line, with the common options' defaults filled in after parsing."""
    args = make_parser().parse_args(argv)
    for name, default in (("site", Path(".")), ("debug", False), ("strict", False), ("quiet", False)):
        if not hasattr(args, name):  # not set_defaults: it would change the actions the subcommands share
            setattr(args, name, default)
    return args


_KEPT: list = []  # see `main(ending=True)`


def main(argv: list[str] | None = None, *, ending: bool = False) -> int:
    """Entry point of build.py: run one command, return the exit status.

    `ending`: the process ends right after, without freeing its objects (build.py): a build then
    hands what it made to `_KEPT` instead of freeing it (a million objects at 10,000 articles, 0.035 s).
    """
    args = parse_args(argv)
    handler = _CountingHandler()
    root = logging.getLogger("newsdigest")
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if args.debug else logging.WARNING if args.quiet else logging.INFO)
    root.propagate = False
    try:
        status = _run(args, _KEPT if ending else None)
    except NewsdigestError as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_PROBLEMS
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: say so in one line unless --debug
        if args.debug:
            raise
        print(f"internal error: {type(exc).__name__}: {exc} (this is a bug in newsdigest; "
              "run again with --debug for the traceback)", file=sys.stderr)
        return EXIT_BUG
    if args.strict and handler.warnings and status == EXIT_OK:
        print(f"error: {handler.warnings} warning(s) and --strict is set", file=sys.stderr)
        return EXIT_PROBLEMS
    return status


def _run(args: argparse.Namespace, keep: list | None = None) -> int:
    site_dir: Path = args.site
    if not site_dir.is_dir():
        raise NewsdigestError("no such folder", str(site_dir), hint="pass --site DIR of an existing site")
    command = args.command or "all"
    if command == "config":
        for key, default, help_text in describe_settings():
            print(f"{key:32} {default:28} {help_text}")
        return EXIT_OK
    config = load_config(site_dir)
    if command == "ingest":
        return _ingest(site_dir, config, args.paths, args.date, args.force, args.quiet)
    if command == "build":
        return _build(site_dir, config, args.drafts, args.quiet, keep)
    if command == "all":
        status = _ingest(site_dir, config, [], None, False, args.quiet)
        return max(status, _build(site_dir, config, False, args.quiet, keep))
    if command == "serve":
        from .serve import serve
        return serve(site_dir, config, host=args.host, port=args.port, watch=not args.no_reload)
    if command == "deploy":
        from .deploy import deploy
        return deploy(site_dir, config, force=args.force, push=not args.no_push)
    if command == "check":
        from .check import check_site
        return check_site(site_dir, config)
    if command == "entities":
        from .curate import print_entities
        return print_entities(site_dir, config)
    if command == "threads":
        from .curate import print_threads
        return print_threads(site_dir, config, recompute=args.recompute, dry_run=args.dry_run)
    raise AssertionError(command)


def _report_errors(errors: list[NewsdigestError]) -> None:
    for error in errors:
        print(f"error: {error}", file=sys.stderr)


def _ingest(site_dir: Path, config: Config, paths, date, force: bool, quiet: bool) -> int:
    from .ingest import ingest
    from .progress import progress_reporter
    with progress_reporter(quiet) as progress:
        report = ingest(site_dir, config, paths, date=date, force=force, progress=progress)
    _report_errors(report.errors)
    if not quiet:
        log.info("ingest: %d new, %d updated, %d unchanged, %d kept as edited by hand, %d skipped",
                 len(report.written), len(report.updated), report.unchanged, len(report.kept_edits),
                 len(report.errors))
    return EXIT_PROBLEMS if report.errors else EXIT_OK


def _build(site_dir: Path, config: Config, drafts: bool, quiet: bool, keep: list | None = None) -> int:
    from .build import build_site
    report = build_site(site_dir, config, include_drafts=drafts, keep=keep)
    _report_errors(report.errors)
    if not quiet:
        log.info("build: %d articles, %d threads, %d entities -> %d pages, %d feeds, %d assets "
                 "(%.1f MB; %d re-rendered) in %.2f s%s", report.articles, report.threads, report.entities,
                 report.pages, report.feeds, report.assets, report.bytes / 1e6, report.rendered,
                 report.seconds, f"; {len(report.errors)} file(s) skipped" if report.errors else "")
    return EXIT_PROBLEMS if report.errors else EXIT_OK
