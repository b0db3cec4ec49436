#!/usr/bin/env python3
"""Deterministic, seeded benchmark corpora: articles as ingest writes them, or wire copy.

`python bench/generate.py 10000` writes bench/corpora/10000/ (a site folder with
config.yaml and content/articles/YYYY/MM/DD/<slug>.md). The same N and seed give
the same bytes. Entities come from a pool of thousands with Zipf-like popularity;
story threads hold 1-30 articles spread over weeks or months.
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import hashlib
import itertools
import math
import random
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from newsdigest import urls  # noqa: E402
from newsdigest.frontmatter import dump_front_matter  # noqa: E402

CORPORA = ROOT / "bench" / "corpora"
VERSION = "1"  # bump when the generator's output changes, so cached corpora are regenerated
ARTICLES_PER_DAY = 25
CONFIG = """title: "Bench Digest"
description: "A generated archive for the benchmark."
base_url: "https://example.github.io/digest/"
timezone: UTC
per_page: 20
feed:
  items: 20
  full_content: true
search: false
entities:
  index_min_articles: 2
"""

_FIRST = ("Anna Boris Carla Dmitri Elena Farid Grace Hiro Ines Jamal Kofi Lena Marta Nikolai Olga Pavel "
          "Quentin Rosa Sergei Tomas Uma Viktor Wen Xavier Yara Zhanna Ahmed Beatriz Chen Dalia Emre "
          "Fatima Gustavo Hana Ivan Julia Kenji Leila Mateo Nadia Omar Priya Rafael Sofia Tariq Ulla "
          "Vera Wojciech Yusuf Zeynep").split()
_LAST = ("Abe Baranov Castillo Dubois Eriksen Fischer Garcia Haddad Ibrahim Jensen Kowalski Lindqvist "
         "Moreau Novak Okafor Petrov Quispe Rossi Sato Tanaka Usmanov Volkov Wagner Xu Yilmaz Zhou Alvarez "
         "Bianchi Costa Demir Egorov Ferreira Gruber Hoffmann Ivanova Jovanovic Kim Lopez Mendes Nakamura "
         "Orlov Park Ramos Schmidt Torres Unger Varga Weber Yamamoto Zielinski").split()
_SYLLABLES = ("ka lo ma ri sen ta vo bel dor gra min pol stra ven zar kir mo na lu tes ber gan fi "
              "ros han del sol mar tin vil ast").split()
_ORG_HEAD = ("National Federal Northern Eastern United Central Global Pacific Atlantic Baltic Royal "
             "Popular Democratic Independent Allied").split()
_ORG_BODY = ("Energy Shipping Grain Steel Rail Telecom Mining Aviation Banking Pharma Defence Water "
             "Fisheries Textile Media Labour Farmers Workers Reform Liberty").split()
_ORG_TAIL = ("Corp Group Union Party Agency Ministry Council Bank Company Authority Alliance Front "
             "Institute Commission Fund").split()
_WORDS = ("the of and to in a said on for that with as was by at from it is has have will would which "
          "government officials minister talks week year president country military economic agreement "
          "security border trade sanctions election parliament meeting statement spokesman told reporters "
          "after before during while since about against between including over under ties deal plan "
          "report people forces region capital city state policy support crisis vote court law prices "
          "market growth inflation oil gas exports imports budget talks visit summit leaders opposition "
          "protest police investigation company shares investors analysts expected could may also more "
          "than new last first two three percent million billion").split()
_HEAD_WORDS = ("talks deal sanctions vote protest summit crisis reform probe strike plan warns says "
               "rejects backs seeks signs agrees blocks condemns opens").split()
_AGENCIES = ("Reuters", "AP", "AFP", "dpa", "Kyodo")


@dataclass(frozen=True)
class _Entity:
    kind: str
    name: str


@dataclass
class _Story:
    id: str
    start: dt.datetime
    core: list[_Entity]
    words: list[str]
    size: int


def _unique(make, count: int, rng: random.Random) -> list[str]:
    seen: dict[str, None] = {}
    while len(seen) < count:
        seen.setdefault(make(rng))
    return list(seen)


def _person(rng: random.Random) -> str:
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    if rng.random() < 0.4:
        last = last + "-" + rng.choice(_LAST) if rng.random() < 0.2 else _coin(rng, 2, 3)
    return f"{first} {last}"


def _coin(rng: random.Random, lo: int, hi: int) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(lo, hi))).capitalize()


def _org(rng: random.Random) -> str:
    parts = [rng.choice(_ORG_HEAD), rng.choice(_ORG_BODY), rng.choice(_ORG_TAIL)]
    if rng.random() < 0.5:
        parts.insert(0, _coin(rng, 2, 3))
    return " ".join(parts)


def _place(rng: random.Random) -> str:
    name = _coin(rng, 2, 4)
    return name if rng.random() < 0.8 else f"{rng.choice(['North', 'South', 'New', 'Port'])} {name}"


def make_pool(n_articles: int, rng: random.Random) -> list[_Entity]:
    """Entities of all three kinds; the pool grows with the archive, more slowly than it."""
    size = max(1000, int(600 * math.sqrt(n_articles / 1000)))
    per = size // 3
    pool = [_Entity("person", n) for n in _unique(_person, per, rng)]
    pool += [_Entity("organization", n) for n in _unique(_org, per, rng)]
    pool += [_Entity("place", n) for n in _unique(_place, size - 2 * per, rng)]
    rng.shuffle(pool)  # popularity rank is independent of kind
    return pool


class _Zipf:
    """Draws pool indexes with probability proportional to 1 / rank^s."""

    def __init__(self, size: int, s: float = 1.05) -> None:
        self.cum = list(itertools.accumulate(1.0 / (r + 1) ** s for r in range(size)))

    def draw(self, rng: random.Random) -> int:
        return bisect.bisect_left(self.cum, rng.random() * self.cum[-1])


def _thread_sizes(n: int, rng: random.Random) -> list[int]:
    """Sizes 1-30 with many short threads and a long tail, summing to n."""
    sizes = []
    left = n
    while left:
        size = min(left, min(30, max(1, int(rng.paretovariate(0.9)))))
        sizes.append(size)
        left -= size
    return sizes


def _sentence(rng: random.Random, words: list[str], names: list[str]) -> str:
    picked = rng.choices(_WORDS, k=rng.randint(9, 22))
    if rng.random() < 0.5:
        picked[rng.randrange(len(picked))] = rng.choice(words)
    if names and rng.random() < 0.6:
        picked.insert(rng.randrange(len(picked)), rng.choice(names))
    text = " ".join(picked)
    return text[0].upper() + text[1:] + rng.choice((".", ".", ".", ",\u201d he said."))


def make_body(rng: random.Random, words: list[str], names: list[str]) -> tuple[str, str]:
    """600-900 words of wire-like paragraphs; returns (lede, body paragraphs joined by blank lines)."""
    target = rng.randint(600, 900)
    paras, count = [], 0
    while count < target:
        para = " ".join(_sentence(rng, words, names) for _ in range(rng.randint(1, 3)))
        count += para.count(" ") + 1
        paras.append(para)
        if len(paras) == 6 and rng.random() < 0.3:
            paras.append("## " + " ".join(rng.choice(words) for _ in range(2)).upper() + "?")
    return paras[0], "\n\n".join(paras)


def iter_articles(n: int, seed: int = 1):
    """Yield (date, title, front matter, body) for n articles, deterministic for (n, seed)."""
    rng = random.Random(f"{seed}-{n}")
    pool = make_pool(n, rng)
    zipf = _Zipf(len(pool))
    span_days = max(30, n // ARTICLES_PER_DAY)
    epoch = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    stories = []
    for i, size in enumerate(_thread_sizes(n, rng)):
        core = list(dict.fromkeys(pool[zipf.draw(rng)] for _ in range(rng.randint(2, 5))))
        start = epoch + dt.timedelta(days=rng.uniform(0, span_days), minutes=rng.randrange(1440))
        words = rng.sample(_WORDS[40:], 6) + [_coin(rng, 2, 3).lower() for _ in range(3)]
        stories.append(_Story(f"story-{i:05d}", start, core, words, size))
    for story in stories:
        spread = rng.choice((7, 30, 90, 180))
        offsets = sorted(rng.uniform(0, spread) for _ in range(story.size))
        for j, offset in enumerate(offsets):
            date = (story.start + dt.timedelta(days=offset)).replace(second=0, microsecond=0)
            ents = list(story.core)
            want = rng.randint(6, 12)
            while len(ents) < want:
                e = pool[zipf.draw(rng)]
                if e not in ents:
                    ents.append(e)
            head = [rng.choice(ents).name, rng.choice(_HEAD_WORDS)] + rng.sample(story.words, 3)
            title = " ".join(head) + f" {j + 1}" if story.size > 1 else " ".join(head)
            title = title[0].upper() + title[1:]
            names = [e.name for e in ents]
            lede, body = make_body(rng, story.words, names)
            agency = rng.choice(_AGENCIES)
            front = {
                "title": title,
                "date": date,
                "byline": [_person(rng) for _ in range(rng.choice((1, 1, 2)))],
                "dateline": rng.choice([e.name for e in ents if e.kind == "place"] or ["Geneva"]),
                "source": agency,
                "summary": lede[:300],
                "thread": story.id if story.size > 1 else None,
                "entities": {k: [e.name for e in ents if e.kind == k]
                             for k in ("person", "organization", "place")},
            }
            yield date, title, front, body


def write_articles(site: Path, n: int, seed: int = 1) -> int:
    """Write the corpus as ingest writes article files; returns the number written."""
    articles = site / "content" / "articles"
    taken: set[str] = set()
    count = 0
    for date, title, front, body in iter_articles(n, seed):
        front = {k: v for k, v in front.items() if v is not None}
        base = urls.article_source(date, urls.slugify(title, fallback="article"))
        rel, k = base, 2
        while rel in taken:
            rel, k = f"{base[:-3]}-{k}.md", k + 1
        taken.add(rel)
        front["wire"] = {"file": f"content/wire/{rel[:-3].replace('/', '-')}.txt",
                         "sha256": hashlib.sha256((title + body).encode()).hexdigest()}
        path = articles / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dump_front_matter(front, body), encoding="utf-8")
        count += 1
    return count


def write_wire(folder: Path, n: int, seed: int = 1) -> int:
    """Write n plain-text wire files (a `---` header with date and source, then copy)."""
    folder.mkdir(parents=True, exist_ok=True)
    count = 0
    for i, (date, title, front, body) in enumerate(iter_articles(n, seed)):
        text = body.replace("## ", "")
        byline = " and ".join(front["byline"])
        first, _, rest = text.partition("\n\n")
        copy = (f"---\ndate: {date.isoformat()}\nsource: {front['source']}\n---\n\n{title}\n\n"
                f"By {byline}\n\n{front['dateline'].upper()} ({front['source']}) -{first}\n\n{rest}\n")
        (folder / f"{i:06d}.txt").write_text(copy, encoding="utf-8")
        count += 1
    return count


def ensure_corpus(n: int, seed: int = 1, root: Path = CORPORA) -> Path:
    """The site folder of corpus n, generated once (a stamp file says which generator made it)."""
    site = root / str(n)
    stamp = site / ".generated"
    want = f"{VERSION} {n} {seed}\n"
    if stamp.exists() and stamp.read_text() == want:
        return site
    if site.exists():
        import shutil
        shutil.rmtree(site)
    site.mkdir(parents=True)
    (site / "config.yaml").write_text(CONFIG, encoding="utf-8")
    write_articles(site, n, seed)
    stamp.write_text(want)
    return site


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[1000, 10000, 50000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--wire", type=Path, help="write wire copy into this folder instead")
    args = parser.parse_args(argv)
    for n in args.sizes:
        if args.wire:
            print(f"{write_wire(args.wire, n, args.seed)} wire files in {args.wire}")
        else:
            print(f"corpus {n}: {ensure_corpus(n, args.seed)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
