"""A fast reader for the YAML `dump_front_matter` writes, meaning exactly what PyYAML's loader means.

Parsing front matter with PyYAML was about a twentieth of a build's CPU, yet nearly every
front matter has the one shape ingest writes: a block mapping of one-line scalars, flow
sequences and mappings of scalars, nested block mappings, lists of block mappings.
`CanonicalReader` recognises that subset with regexes and str methods. Plain scalars are
typed by the loader's own resolver and built by its own constructors, so the dict is the
loader's. Anything it is not sure of (comments, blank lines, tabs, anchors, aliases, tags,
double quotes, block or multi-line scalars, nested flow collections, a date that does not
exist) makes it return None, and the caller gives the text to PyYAML, which reports any
error with its line.
"""

from __future__ import annotations

import datetime as dt
import re

from yaml.constructor import SafeConstructor
from yaml.nodes import ScalarNode

_TEXT = "tag:yaml.org,2002:str"
_BUILT = [f"tag:yaml.org,2002:{name}" for name in ("bool", "int", "float", "null", "timestamp")]
_DEPTH = 16  # deeper block nesting is not ours, and would only deepen the recursion
# PyYAML drops a candidate key once its ':' is more than 1024 characters away: a longer key is an error.
_KEY_LENGTH = 1000
_QUOTED_BODY = r"[^']*+(?:''[^']*+)*+"  # '' is a quote; a lone ' ends the scalar
_QUOTED = re.compile(f"'{_QUOTED_BODY}'")
# A block mapping entry: a single-quoted key, or a plain one (no indicator first, '-', '?' and
# ':' only before a non-space; no ': ', ' #' or trailing space; not '---' or '...', which end a
# document), then ': ' and the value, or ':' ending the line (the value is on the lines below).
_KEY = re.compile(rf"('{_QUOTED_BODY}'|(?!---|\.\.\.)(?:[^ #,\[\]{{}}&*!|>'\"%@`?:-]|[?:-](?! ))"
                  r"(?:[^ :]++|:(?! |\Z)| ++(?=[^ #:]))*+):(?: |\Z)")
# A plain scalar in [..] or {..}: no ',[]{}?:' anywhere, no indicator first ('-' only before a
# character of the scalar), no ' #' (a comment) and no trailing space. Written as words between
# spaces, so that the regex engine takes a word in one step.
_FLOW_PLAIN = (r"(?:[^ ,\[\]{}#&*!|>'\"%@`?:-]|-(?=[^ ,\[\]{}#?:]))[^ ,\[\]{}?:]*+"
               r"(?: ++[^ ,\[\]{}?:#][^ ,\[\]{}?:]*+)*+")
_FLOW_ITEM = f"(?:'{_QUOTED_BODY}'|{_FLOW_PLAIN})"
_FLOW_SCALAR = re.compile(_FLOW_ITEM)  # in a collection matched whole, finds its scalars
_FLOW_SEQUENCE = re.compile(rf"\[(?:{_FLOW_ITEM}(?:, {_FLOW_ITEM})*+)?\]")
_FLOW_MAPPING = re.compile(rf"\{{(?:{_FLOW_ITEM}: {_FLOW_ITEM}(?:, {_FLOW_ITEM}: {_FLOW_ITEM})*+)?\}}")
# A date and time as ingest writes them (`isoformat` with seconds and offset): every article has one.
_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[+-][0-9]{2}:[0-9]{2}")
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
# Characters that cannot start a plain scalar in a block ('-', '?', ':' can, before a non-space).
_NOT_PLAIN = frozenset(" #,[]{}&*!|>'\"%@`")


class _Declined(Exception):
    """The text is not in the subset the reader is sure of."""


def _indent(line: str) -> int:
    """The spaces a line starts with (lines are never empty: `read` declines blank lines)."""
    return len(line) - len(line.lstrip(" ")) if line[0] == " " else 0


class CanonicalReader:
    """Reads the canonical front matter subset as `loader` would, or declines with None."""

    def __init__(self, loader: type) -> None:
        # The scalar constructors read only the node and class attributes: one instance serves all.
        self._loader = loader("")
        resolvers = loader.yaml_implicit_resolvers
        if None in resolvers:
            raise ValueError("a resolver for any first character: every plain scalar would need resolving")
        self._resolved_first = frozenset(resolvers)  # '' too: the empty scalar is null
        # A matched scalar is its own text when it starts with neither a quote nor a character
        # a resolver's match starts with: most names and titles.
        self._not_verbatim = self._resolved_first | {"'"}
        self._constructors = {tag: loader.yaml_constructors[tag] for tag in _BUILT}
        # Such a date is the datetime `fromisoformat` gives (a 25th of the time) if the loader reads it as
        # PyYAML's safe loader does: the same fields, and the same fixed offset (`timezone.utc` for +00:00).
        self._iso_dates = (self._constructors[_TIMESTAMP_TAG] is SafeConstructor.construct_yaml_timestamp
                           and self._loader.resolve(ScalarNode, "2024-01-02T03:04:05+06:00", (True, False))
                           == _TIMESTAMP_TAG)

    def read(self, raw: str) -> dict | None:
        """The dict `yaml.load(raw, Loader=loader)` returns, or None when not sure it is canonical."""
        if (not raw.endswith("\n") or raw.startswith("\n") or "\n\n" in raw or " \n" in raw
                or not raw.replace("\n", "").isprintable()):  # tabs, CR, NEL, BOM, control characters
            return None
        try:
            return self._mapping(raw[:-1].split("\n"), 0, 0, 0)[0]
        except _Declined:
            return None

    def _mapping(self, lines: list[str], i: int, indent: int, depth: int) -> tuple[dict, int]:
        """A block mapping of the lines from i that start `key:` at `indent`."""
        if depth > _DEPTH:
            raise _Declined
        mapping = {}
        while i < len(lines):
            line = lines[i]
            shift = _indent(line)
            if shift != indent:
                if shift < indent:
                    break
                raise _Declined  # a continued scalar, or indentation PyYAML rejects
            match = _KEY.match(line, indent)
            if match is None or match.end() - indent > _KEY_LENGTH:
                raise _Declined
            key, end = match[1], match.end()
            if key[0] in self._not_verbatim:
                key = self._scalar(key)
            i += 1
            if end < len(line):
                mapping[key] = self._inline(line[end:])
            else:
                mapping[key], i = self._nested(lines, i, indent, depth)
        return mapping, i

    def _nested(self, lines: list[str], i: int, indent: int, depth: int) -> tuple[object, int]:
        """The value of a key ending its line: a block below it, a `- ` list at its indent, or null."""
        if i < len(lines):
            line = lines[i]
            shift = _indent(line)
            if line.startswith("- ", shift) and shift >= indent:
                return self._sequence(lines, i, shift, depth + 1)
            if shift > indent:
                return self._mapping(lines, i, shift, depth + 1)
        return self._plain(""), i

    def _sequence(self, lines: list[str], i: int, indent: int, depth: int) -> tuple[list, int]:
        """A block sequence of `- ` entries at `indent`: one-line values or block mappings."""
        if depth > _DEPTH:
            raise _Declined
        items = []
        inner = indent + 2
        while i < len(lines):
            line = lines[i]
            shift = _indent(line)
            if shift < indent or (shift == indent and not line.startswith("- ", indent)):
                break
            if shift > indent:
                raise _Declined
            if _KEY.match(line, inner):  # `- key: value` opens a mapping at the column of its key
                lines[i] = " " * inner + line[inner:]
                item, i = self._mapping(lines, i, inner, depth + 1)
            else:
                item, i = self._inline(line[inner:]), i + 1
            items.append(item)
        return items, i

    def _inline(self, text: str) -> object:
        """A value filling the rest of its line: a single-quoted or plain scalar, or a flow collection."""
        head = text[0]
        if head == "'":
            if not _QUOTED.fullmatch(text):  # a scalar going on to the next line, or something after it
                raise _Declined
            return self._scalar(text)
        if head == "[" or head == "{":
            return self._flow(text)
        if (head in _NOT_PLAIN or (head in "-?:" and text[1:2] in ("", " "))
                or ": " in text or text[-1] == ":" or " #" in text):
            raise _Declined
        return self._plain(text)

    def _flow(self, text: str) -> list | dict:
        """A flow sequence or mapping of scalars, the whole of `text`, spaced as the dumper spaces them."""
        sequence = text[0] == "["
        if not (_FLOW_SEQUENCE if sequence else _FLOW_MAPPING).fullmatch(text):
            raise _Declined  # a nested collection (the dumper writes none), or not the dumper's spacing
        if len(text) == 2:
            return [] if sequence else {}
        # Without quotes no scalar holds ', ' (nor ': '), and splitting finds them all.
        if "'" in text:
            items = _FLOW_SCALAR.findall(text)
        elif sequence:
            items = text[1:-1].split(", ")
        else:
            items = [item for pair in text[1:-1].split(", ") for item in pair.split(": ")]
        special = self._not_verbatim
        scalars = [self._scalar(item) if item[0] in special else item for item in items]
        if sequence:
            return scalars
        if any(len(key) > _KEY_LENGTH for key in items[::2]):
            raise _Declined
        return dict(zip(scalars[::2], scalars[1::2], strict=True))

    def _scalar(self, token: str) -> object:
        """A single-quoted or plain scalar on one line, as matched."""
        if token[0] == "'":
            return token[1:-1].replace("''", "'")
        return self._plain(token)

    def _plain(self, value: str) -> object:
        """A plain scalar typed by the loader's resolver and built by its constructor."""
        if value[:1] not in self._resolved_first:
            return value
        if len(value) == 25 and self._iso_dates and _TIMESTAMP.fullmatch(value):
            try:
                return dt.datetime.fromisoformat(value)
            except ValueError as exc:  # 2024-02-30: PyYAML reports it
                raise _Declined from exc
        tag = self._loader.resolve(ScalarNode, value, (True, False))
        if tag == _TEXT:
            return value
        construct = self._constructors.get(tag)
        if construct is None:  # '<<' (merge) or '=' (value): PyYAML's business
            raise _Declined
        try:
            return construct(self._loader, ScalarNode(tag, value))
        except (ValueError, TypeError, AttributeError, OverflowError) as exc:  # 2024-02-30: PyYAML reports it
            raise _Declined from exc
