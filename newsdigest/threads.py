"""Story threads: each article joins the best matching earlier thread or starts one.

Assignment is online, in date order, the way a wire editor works. An article is
compared with the latest articles of a few candidate threads: tf-idf of words
(headline and lede counted more than the tail) and of the people, organisations
and places it names; each link is weighted by time (halving every `decay_days`,
down to a floor, since undated and same-dated copy is common), then averaged,
with some weight on the best link and on the thread's centroid. Among the threads
whose score clears the threshold, time weighs less: content chiefly picks. Candidates
come from an inverted index in SQLite (entities and rare words, latest threads
first), so the cost per article does not grow with the archive. The index is derived
state: delete it and `rebuild` it from the `thread:` ids in the front matter.

Document frequencies are counted per article as it is recorded; weights use a
snapshot of them taken whenever the archive has grown by a tenth, so the vectors
of earlier articles can be cached and a rebuilt index scores exactly as the
original did.
"""

from __future__ import annotations

import json
import logging
import math
import sqlite3
import unicodedata
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from .config import ThreadSettings
from .textstats import STOPWORDS, field_counts, idf, slug_words, tokenize, top_keys, weigh

log = logging.getLogger(__name__)

_SCHEMA_VERSION = "2"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS keys (key TEXT PRIMARY KEY, df INTEGER NOT NULL, df_epoch INTEGER NOT NULL)
    WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS docs (id INTEGER PRIMARY KEY, slug TEXT NOT NULL UNIQUE, thread TEXT NOT NULL,
    day REAL NOT NULL, vec TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS docs_thread ON docs (thread, day);
CREATE TABLE IF NOT EXISTS threads (id TEXT PRIMARY KEY, first_day REAL NOT NULL, last_day REAL NOT NULL,
    size INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS postings (key TEXT NOT NULL, thread TEXT NOT NULL, day REAL NOT NULL,
    PRIMARY KEY (key, thread)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS postings_key_day ON postings (key, day);
"""
_ENTITY_KINDS = ("person", "organization", "place")
_CACHE_SIZE = 2048
_COMMIT_EVERY = 100
_EPOCH_GROWTH = 1.1
_LEDE_MIN_WORDS = 8
# Words that make a poor thread name: reporting verbs and filler of headlines.
_NAME_SKIP = frozenset("""say says said tell tells told report reports reported update live new news
latest amid over after before as set sets could would will may might""".split())


@dataclass(frozen=True)
class ThreadDoc:
    """What thread assignment needs to know about one article."""

    slug: str
    date: datetime
    title: str
    lede: str
    text: str
    entities: Mapping[str, Sequence[str]]
    thread: str | None = None


@dataclass(frozen=True)
class _Vectors:
    terms: dict[str, float]  # weighted word counts, "t:" keys
    ents: dict[str, float]  # entity salience weights, "e:" keys


class _Matrix:
    """Sparse vectors of a thread's latest articles as one dense matrix over their keys, and its centroid."""

    def __init__(self, vecs: Sequence[Mapping[str, float]]) -> None:
        self.cols: dict[str, int] = {}
        for vec in vecs:
            for key in vec:
                self.cols.setdefault(key, len(self.cols))
        self.rows = np.zeros((len(vecs), len(self.cols)))
        for i, vec in enumerate(vecs):
            self.rows[i, [self.cols[k] for k in vec]] = list(vec.values())
        total = self.rows.sum(axis=0)
        norm = float(np.sqrt(total @ total))
        self.centroid = total / norm if norm else total

    def dots(self, vec: Mapping[str, float]) -> tuple[np.ndarray, float]:
        """Dot products of `vec` with every row, and with the centroid."""
        shared = sorted(vec.keys() & self.cols.keys())
        if not shared:
            return np.zeros(len(self.rows)), 0.0
        cols = [self.cols[k] for k in shared]
        weights = np.array([vec[k] for k in shared])
        return self.rows[:, cols] @ weights, float(self.centroid[cols] @ weights)


@dataclass(frozen=True)
class _Profile:
    """What scoring needs of a thread: its latest articles' days, words and entities."""

    days: np.ndarray
    terms: _Matrix
    ents: _Matrix


def make_thread_id(doc: ThreadDoc, taken: set[str]) -> str:
    """A readable id from the first article's key entities and headline words, unique among `taken`."""
    headline = doc.title.lower()
    names = [n for kind in ("place", "person", "organization") for n in doc.entities.get(kind, ())[:3]]
    in_headline = [n for n in names if _ascii(n).lower() in _ascii(headline)]
    picked = sorted(dict.fromkeys(in_headline or names[:1]), key=lambda n: headline.find(n.lower()))[:2]
    picked = [n[4:] if n.lower().startswith("the ") else n for n in picked]
    used = set(slug_words(picked).split("-"))
    words: list[str] = []
    # A headline that is only a dateline or a timestamp names nothing: the lede then does.
    for text in (doc.title, _lede(doc.lede, doc.text.split("\n"))):
        raw = (w.strip(".,;:!?'\"()[]") for w in _ascii(text).lower().replace("'s", "").split())
        words = [w for w in dict.fromkeys(raw) if w.isalpha() and len(w) > 2
                 and w not in STOPWORDS and w not in _NAME_SKIP and w not in used]
        if words:
            break
    # The headline words the story keeps repeating name it best ("ties", not "build").
    body = _ascii(doc.text).lower()
    words = sorted(words, key=lambda w: -body.count(w))[:max(1, 3 - len(picked))]
    base = slug_words([*picked, *words], limit=40) or "story"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


class ThreadIndex:
    """The thread index in one SQLite file: documents, threads, postings and document frequencies."""

    def __init__(self, db_path: Path | str, settings: ThreadSettings) -> None:
        self.settings = settings
        if str(db_path) != ":memory:":
            Path(db_path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(db_path))
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        # Scoring reads postings and recent articles all over a file that grows with the archive.
        self._db.execute("PRAGMA cache_size=-65536")
        self._db.executescript(_SCHEMA)
        version = self._meta("schema")
        if version not in (None, _SCHEMA_VERSION):  # derived state: start afresh, ingest rebuilds it
            log.info("%s: thread index of schema %s is rebuilt as schema %s",
                     db_path, version, _SCHEMA_VERSION)
            tables = self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
            for (table,) in tables:
                self._db.execute(f'DROP TABLE "{table}"')
            self._db.executescript(_SCHEMA)
        self._db.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (_SCHEMA_VERSION,))
        self._db.commit()
        self._df = dict(self._db.execute("SELECT key, df FROM keys"))
        self._df_epoch = dict(self._db.execute("SELECT key, df_epoch FROM keys WHERE df_epoch > 0"))
        self._n_docs = int(self._meta("n_docs") or 0)
        self._n_epoch = int(self._meta("n_epoch") or 0)
        self._profiles: OrderedDict[str, _Profile] = OrderedDict()
        self._vectors: OrderedDict[int, _Vectors] = OrderedDict()
        self._taken = {row[0] for row in self._db.execute("SELECT id FROM threads")}
        self._unsaved = 0
        self._idf_table: dict[str, float] = {}

    def __enter__(self) -> ThreadIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Commit and close the database."""
        self._db.commit()
        self._db.close()

    def is_empty(self) -> bool:
        """True when no article has been recorded (a new or deleted index)."""
        return self._n_docs == 0

    def thread_of(self, slug: str) -> str | None:
        """The thread an already recorded article belongs to."""
        row = self._db.execute("SELECT thread FROM docs WHERE slug = ?", (slug,)).fetchone()
        return row[0] if row else None

    def assign(self, doc: ThreadDoc) -> str:
        """Record `doc` in its best matching thread, or a new one; return the thread id."""
        known = self.thread_of(doc.slug)
        if known is not None and doc.thread and doc.thread != known:  # pinned by hand since
            self._db.execute("UPDATE docs SET thread = ? WHERE slug = ?", (doc.thread, doc.slug))
            self._db.execute("INSERT OR IGNORE INTO threads VALUES (?, ?, ?, 1)",
                             (doc.thread, _day(doc.date), _day(doc.date)))
            self._taken.add(doc.thread)
            self._profiles.pop(known, None)
            self._profiles.pop(doc.thread, None)
            return doc.thread
        if known is not None:
            return known
        counts = self._counts(doc)
        if doc.thread:
            thread = doc.thread
        else:
            thread, score = self._best_thread(doc, counts)
            if thread is None:
                thread = make_thread_id(doc, self._taken)
                log.debug("%s starts thread %s (best score %.3f)", doc.slug, thread, score)
        self._record(doc, counts, thread)
        return thread

    def refresh(self, doc: ThreadDoc) -> None:
        """Replace a recorded article's words and entities with its latest version's; its thread stays."""
        row = self._db.execute("SELECT id, thread, day, vec FROM docs WHERE slug = ?", (doc.slug,)).fetchone()
        if row is None:
            return
        doc_id, thread, day, raw = row
        old, new = _Vectors(**json.loads(raw)), self._counts(doc)
        gone = [k for k in (*old.terms, *old.ents) if k not in new.terms and k not in new.ents]
        added = [k for k in (*new.terms, *new.ents) if k not in old.terms and k not in old.ents]
        for key in gone:
            self._df[key] = max(0, self._df.get(key, 0) - 1)
        for key in added:
            self._df[key] = self._df.get(key, 0) + 1
        db = self._db
        db.executemany("UPDATE keys SET df = max(0, df - 1) WHERE key = ?", [(k,) for k in gone])
        db.executemany("INSERT INTO keys VALUES (?, 1, 0) ON CONFLICT (key) DO UPDATE SET df = df + 1",
                       [(k,) for k in added])
        db.execute("UPDATE docs SET vec = ? WHERE id = ?", (_dump(new), doc_id))
        db.executemany("INSERT INTO postings VALUES (?, ?, ?) ON CONFLICT (key, thread) DO UPDATE SET "
                       "day = max(day, excluded.day)", [(k, thread, day) for k in self._query_keys(self._weigh(new))])
        self._vectors.pop(doc_id, None)
        self._profiles.pop(thread, None)

    def rebuild(self, docs: Iterable[ThreadDoc]) -> None:
        """Fill an empty index from articles that carry their thread ids, in date order."""
        if not self.is_empty():
            raise ValueError("rebuild needs an empty thread index")
        for doc in sorted(docs, key=_order):
            if doc.thread:
                self._record(doc, self._counts(doc), doc.thread)
            else:
                self.assign(doc)
        self._db.commit()

    # -- scoring ----------------------------------------------------------------------------------

    def _best_thread(self, doc: ThreadDoc, counts: _Vectors) -> tuple[str | None, float]:
        """Time and content decide whether the article may join a thread; of those it may, content chiefly picks.

        Sibling stories of one topic (two quakes, two heists) differ in what they say more
        reliably than in their dates, which are often missing or shared by a whole batch.
        """
        scores = self._score_threads(doc, counts)
        joinable = [(thread, score, pick) for thread, score, pick in scores if score >= self.settings.threshold]
        if not joinable:
            return None, max((score for _, score, _ in scores), default=0.0)
        best, score, _ = min(joinable, key=lambda tsp: (-tsp[2], tsp[0]))
        return best, score

    def _score_threads(self, doc: ThreadDoc, counts: _Vectors) -> list[tuple[str, float, float]]:
        """(thread, score, pick) for each candidate thread, from time-weighted links to its latest articles.

        `score` weighs each link by the whole time pull; `pick` (for the threads whose score
        clears the threshold, 0 for the rest) by the pull to the power `choice_time_power`.
        """
        s = self.settings
        vec = self._weigh(counts)
        day = _day(doc.date)
        w = s.entity_weight
        scores = []
        for thread in self._candidates(vec):
            prof = self._profile(thread)
            if not len(prof.days):  # every article of it was pinned elsewhere since
                continue
            (text, text_cen), (ents, ents_cen) = prof.terms.dots(vec.terms), prof.ents.dots(vec.ents)
            # Time weighs each link: an article far in time from another needs more in common.
            sims, cen = (1.0 - w) * text + w * ents, (1.0 - w) * text_cen + w * ents_cen
            pulls = self._pull(np.abs(day - prof.days))
            cen_pull = self._pull(max(0.0, day - float(prof.days[0])))
            score = self._link(sims * pulls, cen * cen_pull)
            power = s.choice_time_power  # only a thread the article may join needs its `pick`
            pick = self._link(sims * pulls ** power, cen * cen_pull ** power) if score >= s.threshold else 0.0
            scores.append((thread, score, pick))
        return scores

    def _link(self, sims: np.ndarray, cen: float) -> float:
        """One score from the links to a thread's articles: best and average, mixed with the centroid's."""
        s = self.settings
        link = s.max_link * float(sims.max()) + (1.0 - s.max_link) * float(sims.mean())
        return (1.0 - s.centroid_link) * link + s.centroid_link * cen

    def _doc_vectors(self, doc_id: int, raw: str) -> _Vectors:
        vec = self._vectors.get(doc_id)
        if vec is None:
            vec = self._vectors[doc_id] = self._weigh(_Vectors(**json.loads(raw)))
            if len(self._vectors) > 4 * _CACHE_SIZE:
                self._vectors.popitem(last=False)
        return vec

    def _profile(self, thread: str) -> _Profile:
        prof = self._profiles.get(thread)
        if prof is None:
            rows = self._db.execute(
                "SELECT id, vec, day FROM docs WHERE thread = ? ORDER BY day DESC, id DESC LIMIT ?",
                (thread, self.settings.link_docs)).fetchall()
            vecs = [self._doc_vectors(doc_id, raw) for doc_id, raw, _ in rows]
            prof = _Profile(np.array([day for _, _, day in rows]), _Matrix([v.terms for v in vecs]),
                            _Matrix([v.ents for v in vecs]))
            self._profiles[thread] = prof
            if len(self._profiles) > _CACHE_SIZE:
                self._profiles.popitem(last=False)
        else:
            self._profiles.move_to_end(thread)
        return prof

    def _pull(self, gap_days: float | np.ndarray) -> float | np.ndarray:
        """How much of a link survives a gap in time: halves every decay_days, down to a floor."""
        s = self.settings
        return s.decay_floor + (1.0 - s.decay_floor) * 0.5 ** (gap_days / s.decay_days)

    def _candidates(self, vec: _Vectors) -> list[str]:
        """Threads sharing entities or rare words with the article, most shared first."""
        s = self.settings
        votes: dict[str, float] = {}  # thread -> idf of the keys it shares with the article
        for key in self._query_keys(vec):
            weight = self._idf(key)
            for (thread,) in self._db.execute(
                    "SELECT thread FROM postings WHERE key = ? ORDER BY day DESC LIMIT ?",
                    (key, s.postings_limit)):
                votes[thread] = votes.get(thread, 0.0) + weight
        return sorted(votes, key=lambda t: (-votes[t], t))[:s.candidates]

    def _query_keys(self, vec: _Vectors) -> list[str]:
        n = self.settings.index_keys
        return top_keys(vec.ents, n) + top_keys(vec.terms, n)

    # -- vectors and frequencies ------------------------------------------------------------------

    def _counts(self, doc: ThreadDoc) -> _Vectors:
        s = self.settings
        paras = [p for p in doc.text.split("\n") if p.strip()]
        fields = [(doc.title, s.headline_weight), (_lede(doc.lede, paras), s.lede_weight)]
        # The tail of a story is background; its words count less the further down they are.
        fields += [(p, max(s.tail_floor, 1.0 / (1.0 + i / s.tail_paragraphs))) for i, p in enumerate(paras)]
        terms = {"t:" + k: round(v, 3) for k, v in field_counts(fields).items()}
        ents: dict[str, float] = {}
        kind_weight = {"person": 1.0, "organization": s.organization_weight, "place": s.place_weight}
        for kind in _ENTITY_KINDS:
            for rank, name in enumerate(doc.entities.get(kind, ())[:s.entities_per_kind]):
                weight = kind_weight[kind] / (1.0 + rank * s.entity_rank_decay)
                for key in _entity_keys(name, kind):
                    ents[key] = max(ents.get(key, 0.0), round(weight, 3))
        return _Vectors(terms, ents)

    def _weigh(self, counts: _Vectors) -> _Vectors:
        return _Vectors(weigh(counts.terms, self._idf, self.settings.vector_terms),
                        weigh(counts.ents, self._idf))

    def _idf(self, key: str) -> float:
        weight = self._idf_table.get(key)
        if weight is None:
            weight = idf(self._df_epoch.get(key, 0), self._n_epoch) ** self.settings.idf_power
            self._idf_table[key] = weight
        return weight

    def _record(self, doc: ThreadDoc, counts: _Vectors, thread: str) -> None:
        db, day = self._db, _day(doc.date)
        vec = self._weigh(counts)
        db.execute("INSERT INTO docs (slug, thread, day, vec) VALUES (?, ?, ?, ?)",
                   (doc.slug, thread, day, _dump(counts)))
        db.execute("INSERT INTO threads VALUES (?, ?, ?, 1) ON CONFLICT (id) DO UPDATE SET "
                   "first_day = min(first_day, excluded.first_day), last_day = max(last_day, "
                   "excluded.last_day), size = size + 1", (thread, day, day))
        db.executemany("INSERT INTO postings VALUES (?, ?, ?) ON CONFLICT (key, thread) DO UPDATE SET "
                       "day = max(day, excluded.day)", [(key, thread, day) for key in self._query_keys(vec)])
        keys = [*counts.terms, *counts.ents]
        for key in keys:
            self._df[key] = self._df.get(key, 0) + 1
        db.executemany("INSERT INTO keys VALUES (?, 1, 0) ON CONFLICT (key) DO UPDATE SET df = df + 1",
                       [(k,) for k in keys])
        self._n_docs += 1
        if self._n_docs >= max(self._n_epoch + 1, math.ceil(self._n_epoch * _EPOCH_GROWTH)):
            db.execute("UPDATE keys SET df_epoch = df")
            self._df_epoch = dict(self._df)
            self._n_epoch = self._n_docs
            self._profiles.clear()
            self._vectors.clear()
            self._idf_table.clear()
        db.execute("INSERT OR REPLACE INTO meta VALUES ('n_docs', ?), ('n_epoch', ?)",
                   (str(self._n_docs), str(self._n_epoch)))
        self._taken.add(thread)
        self._profiles.pop(thread, None)
        self._unsaved += 1
        if self._unsaved >= _COMMIT_EVERY:  # a lost tail is harmless: the index is derived state
            db.commit()
            self._unsaved = 0

    def _meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None


def recompute_threads(docs: Sequence[ThreadDoc], settings: ThreadSettings,
                      db_path: Path | str = ":memory:") -> dict[str, str]:
    """Re-thread a whole archive in date order into a fresh index at db_path; pinned ids are kept."""
    if str(db_path) != ":memory:" and Path(db_path).exists():
        raise FileExistsError(f"{db_path}: recompute writes a fresh index; remove the file first")
    with ThreadIndex(db_path, settings) as index:
        return {doc.slug: index.assign(doc) for doc in sorted(docs, key=_order)}


def _dump(counts: _Vectors) -> str:
    return json.dumps({"terms": counts.terms, "ents": counts.ents}, sort_keys=True, separators=(",", ":"))


def _order(doc: ThreadDoc) -> tuple[datetime, str]:
    return (doc.date, doc.slug)


def _day(when: datetime) -> float:
    return when.timestamp() / 86400.0


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def _lede(lede: str, paras: Sequence[str]) -> str:
    """The first paragraph with words in it: a timestamp or a kicker line is not the lede."""
    for text in (lede, *paras):
        if len(tokenize(text)) >= _LEDE_MIN_WORDS:
            return text
    return lede


def _entity_keys(name: str, kind: str) -> list[str]:
    """Index keys for one entity name: the whole name, and a person's surname alone."""
    words = [w for w in tokenize(name) if w != "the"]
    if not words:
        return []
    keys = ["e:" + " ".join(words)]
    if kind == "person" and len(words) > 1:
        keys.append("e:" + words[-1])
    return keys
