"""Words and weights for comparing articles: tokens, light stemming, tf-idf, cosine.

Pure functions; document frequencies are passed in, so the caller decides where
they live (the thread index keeps them in SQLite and updates them per article).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence

STOPWORDS = frozenset("""
a about above according across after afterwards again against ago all almost along already also although
always am among an and another any anyone anything are around as at away back be became because become
been before began being below between both but by came can cannot could did do does doing done down
during each early earlier either else even ever every few first for former from further get gets got
had has have having he her here hers herself him himself his how however i if in including into is it
its itself just last late later least less like made make many may me might more most mostly much must
my near nearly never new next no nor not now of off often on once one only or other others our out over
own per perhaps put rather really said same say says see seen she should since so some still such than
that the their them then there these they this those though three through thus to told too took toward
two under until up upon us used very via was way we well were what when where whether which while who
whom whose why will with within without would year years yet you your monday tuesday wednesday thursday
friday saturday sunday week weeks today yesterday tomorrow day days time times people mr mrs ms
january february march april may june july august september october november december jan feb mar apr
jun jul aug sep sept oct nov dec updated posted published est edt gmt bst utc ist cet am pm a.m p.m
""".split())

_WORD = re.compile(r"[a-z0-9]+(?:['\u2019.-][a-z0-9]+)*")


@functools.lru_cache(maxsize=1 << 16)
def stem_word(word: str) -> str:
    """A light English suffix strip, enough to join 'arrests'/'arrested'/'arrest'."""
    if len(word) <= 4 or word[0].isdigit():
        return word
    for suffix, keep in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                return word
            if suffix == "es" and not word.endswith(("ches", "shes", "sses", "xes", "zes")):
                continue
            stem = word[: len(word) - len(suffix)] + keep
            if suffix in ("ing", "ed") and len(stem) > 3 and stem[-1] == stem[-2] and stem[-1] not in "lsz":
                stem = stem[:-1]
            return stem
    return word


def tokenize(text: str) -> list[str]:
    """Lower-cased content words, stemmed, stop words and one-letter tokens left out."""
    text = text.lower().replace("\u2019s", "").replace("'s", "")
    out = []
    for word in _WORD.findall(text):
        word = word.strip(".'\u2019-")
        # One- and two-digit numbers are mostly days and clock times, not facts of the story.
        if len(word) < 2 or word in STOPWORDS or (word.isdigit() and len(word) < 3):
            continue
        out.append(stem_word(word.replace("\u2019", "'")))
    return out


def field_counts(fields: Sequence[tuple[str, float]]) -> dict[str, float]:
    """Weighted term counts over (text, weight) fields, e.g. headline and lede counted more."""
    counts: dict[str, float] = {}
    for text, weight in fields:
        for token in tokenize(text):
            counts[token] = counts.get(token, 0.0) + weight
    return counts


def idf(df: int, n_docs: int) -> float:
    """Smoothed inverse document frequency of a key seen in `df` of `n_docs` documents."""
    return math.log((n_docs + 1.0) / (df + 1.0)) + 1.0


def weigh(counts: Mapping[str, float], idf_of: Callable[[str], float], limit: int = 0) -> dict[str, float]:
    """Sublinear tf times idf, L2-normalised; with `limit`, only the heaviest keys are kept."""
    vec = {k: (1.0 + math.log(c) if c >= 1.0 else c) * idf_of(k) for k, c in counts.items()}
    if limit and len(vec) > limit:
        vec = dict(sorted(vec.items(), key=lambda kv: (-kv[1], kv[0]))[:limit])
    norm = math.sqrt(sum(v * v for v in vec.values()))
    return {k: v / norm for k, v in vec.items()} if norm else {}


def cosine(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """Dot product of two normalised sparse vectors."""
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b[k] for k, v in a.items() if k in b)


def top_keys(vec: Mapping[str, float], n: int) -> list[str]:
    """The n heaviest keys, ties broken by the key so the choice is deterministic."""
    return [k for k, _ in sorted(vec.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]


def slug_words(words: Iterable[str], limit: int = 48) -> str:
    """Words -> a URL slug of lower-case ASCII words joined by hyphens, at most `limit` chars."""
    parts: list[str] = []
    for word in words:
        for piece in re.findall(r"[a-z0-9]+", word.lower()):
            if len("-".join([*parts, piece])) > limit:
                return "-".join(parts)
            if piece not in parts:
                parts.append(piece)
    return "-".join(parts)
