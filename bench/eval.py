#!/usr/bin/env python3
"""Dev-set scores for the language work (what `make eval` runs).

Ingests each dev set's wire folder into a fresh scratch site with the project's
own command, then runs the shared scorer on the articles it wrote.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETS = {
    "entities": ("entities-dev", "score_entities.py", "gold.jsonl"),
    "threads": ("threads-dev", "score_threads.py", "gold.tsv"),
}


def run_set(name: str, eval_dir: Path, work: Path) -> dict:
    """Ingest one dev set into a scratch site and score it; returns the scorer's lines."""
    folder, scorer, gold = SETS[name]
    site = work / name
    shutil.rmtree(site, ignore_errors=True)
    (site / "content").mkdir(parents=True)
    wire = eval_dir / folder / "wire"
    started = time.perf_counter()
    subprocess.run([sys.executable, str(ROOT / "build.py"), "ingest", "--quiet", "--site", str(site), str(wire)],
                   check=True)
    seconds = time.perf_counter() - started
    docs = len(list(wire.glob("*.txt")))
    out = subprocess.run([sys.executable, str(eval_dir / scorer), str(eval_dir / folder / gold),
                          str(site / "content" / "articles")], check=True, capture_output=True, text=True).stdout
    print(f"== {name} ({docs} documents, ingest {seconds:.1f} s, {docs / seconds:.1f} articles/s)")
    print(out.rstrip())
    return {"set": folder, "documents": docs, "ingest_seconds": round(seconds, 2), "scores": out.splitlines()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--only", choices=sorted(SETS))
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / "work" / "eval")
    args = parser.parse_args()
    if not args.eval_dir.is_dir():
        print(f"error: {args.eval_dir}: no dev sets here (pass --eval-dir)", file=sys.stderr)
        return 1
    results = [run_set(name, args.eval_dir, args.work) for name in sorted(SETS) if args.only in (None, name)]
    out = ROOT / "bench" / "results" / f"eval-{time.strftime('%Y-%m-%d')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"saved {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
