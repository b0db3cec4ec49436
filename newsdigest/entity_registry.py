"""One page per real entity: names unified across the archive, and the editor's registry.

`resolve_entities` maps every (type, name) the articles mention to one canonical entity,
so `Putin` and `Vladimir Putin` share a page while `Kim` alone never joins two Kims.
The curated registry in content/entities/ (`read_registry`) always wins. The build reads
this module; only ingest loads the extraction model (entities.py).
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

from . import entity_rules as rules
from .entity_types import TYPE_ORDER, TYPES
from .errors import ContentError, NewsdigestError
from .frontmatter import as_names, key_line, read_front_matter_file

log = logging.getLogger(__name__)

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
    # (type, name) -> articles: each article's names once, all counted in one call (in C)
    counts = Counter(chain.from_iterable({(kind, str(n)) for kind in TYPES for n in ents.get(kind, ()) or ()}
                                         for ents in mentions.values()))
    curated = _registry_index(registry)
    keys = {(kind, name): _name_key(name, kind) for kind, name in counts}
    by_key: dict[str, Counter] = {}  # key -> Counter((type, form) -> articles)
    for (kind, name), n in counts.items():
        by_key.setdefault(keys[(kind, name)], Counter())[(kind, name)] += n
    chosen: dict[str, tuple[str, str]] = {}  # key -> (type, canonical form) before merging
    for key, forms in by_key.items():
        if key in curated:
            chosen[key] = curated[key]
            continue
        votes: Counter = Counter()
        for (kind, _), n in forms.items():
            votes[kind] += n
        kind = min(votes, key=lambda t: (-votes[t], TYPE_ORDER[t]))
        same = [(n, form) for (t, form), n in forms.items() if t == kind]
        chosen[key] = (kind, min(same, key=lambda nf: (rules.is_shouted(nf[1], 1.0), -nf[0], -len(nf[1]),
                                                       nf[1]))[1])
    target = _merge_keys(chosen, curated)
    out = {}
    for (kind, name) in sorted(counts):
        key = keys[(kind, name)]
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
    return rules.fold_name(name)


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
