"""Markdown files with a YAML front matter block: read, validate fields, write.

Used by ingest (writes articles), the content loader (reads them) and the
curated registries. Errors name the file and the line of the offending key.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import reprlib
from functools import lru_cache, partial
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from .canonical_yaml import CanonicalReader
from .errors import ContentError

try:
    from yaml import CSafeDumper as _Dumper
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover
    from yaml import SafeDumper as _Dumper
    from yaml import SafeLoader as _Loader


_TEXT = "tag:yaml.org,2002:str"


class _FrontMatterLoader(_Loader):
    """The safe loader, with text taken straight from its nodes and tags remembered.

    Most of a front matter's keys and values are text, and PyYAML's generic constructor
    (anchor bookkeeping, a constructor looked up per node) was a third of parsing it. A text
    node's value is what the generic constructor returns for it too (the same object, for an
    alias), so every document means what it did; other nodes take the generic way, and so
    does a mapping with a key that is not text (a merge '<<', a complex key).
    """

    # The parser asks for the tag of every node, and keys and names repeat from article to
    # article. The resolver reads only class attributes (no path resolvers are added), so
    # its answer depends on the arguments alone.
    resolve = staticmethod(lru_cache(maxsize=1024)(partial(_Loader.resolve, _Loader)))

    def construct_object(self, node, deep=False):
        if node.tag == _TEXT and node.__class__ is ScalarNode:
            return node.value
        return super().construct_object(node, deep)

    def construct_mapping(self, node, deep=False):
        if node.__class__ is MappingNode and all(k.tag == _TEXT and k.__class__ is ScalarNode for k, _ in node.value):
            construct = self.construct_object
            return {k.value: v.value if v.tag == _TEXT and v.__class__ is ScalarNode else construct(v, deep)
                    for k, v in node.value}
        return super().construct_mapping(node, deep)

    def construct_sequence(self, node, deep=False):
        if node.__class__ is SequenceNode:
            construct = self.construct_object
            return [v.value if v.tag == _TEXT and v.__class__ is ScalarNode else construct(v, deep) for v in node.value]
        return super().construct_sequence(node, deep)


# Reads the front matter ingest writes as _FrontMatterLoader does, in half the time; None for the rest.
_CANONICAL = CanonicalReader(_FrontMatterLoader)
_FENCE = re.compile(r"^---[ \t]*\r?$", re.M)
# Control characters are invalid in HTML and XML (a feed with one does not build): never kept.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
_READ_SIZE = 1 << 16  # most articles are 5-10 KB: read whole at once
_CONTROL_BYTES = bytes([*range(0x09), 0x0b, 0x0c, *range(0x0e, 0x20), 0x7f])  # those of them below U+0080
_SHOWN = reprlib.Repr()
_SHOWN.maxstring, _SHOWN.maxother, _SHOWN.maxlevel, _SHOWN.maxlist, _SHOWN.maxdict = 60, 60, 2, 4, 4


def shown(value) -> str:
    """A value for an error message: short, even for a YAML alias bomb of a million items."""
    return _SHOWN.repr(value)


def clean_text(text: str) -> str:
    """Text without the control characters HTML and XML forbid (YAML's \\a, \\e escapes let them in)."""
    # Printable text (most names and titles) has none of them; the test is cheaper than the regex.
    return text if text.isprintable() else _CONTROL.sub("", text)


class _ArticleDumper(_Dumper):
    """Dumps datetimes as ISO 8601 with 'T' and offset, the form the contract shows."""

    def ignore_aliases(self, data) -> bool:
        """Never write YAML anchors: a value shared by two keys is written out twice, as an editor expects."""
        return True


def _represent_datetime(dumper, value: dt.datetime):
    return dumper.represent_scalar("tag:yaml.org,2002:timestamp", value.isoformat())


_ArticleDumper.add_representer(dt.datetime, _represent_datetime)


class BlockMapping(dict):
    """A mapping `dump_front_matter` writes one key per line, however short (e.g. a `versions` entry)."""


_ArticleDumper.add_representer(
    BlockMapping, lambda dumper, value: dumper.represent_mapping("tag:yaml.org,2002:map", value, flow_style=False))


def split_front_matter(text: str, path: str) -> tuple[dict, str, int]:
    """Return (front matter, body, line where the body starts); errors name file and line."""
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.startswith("---"):
        return {}, text, 1
    end = _FENCE.search(text, 3)
    if not end or text[:end.start()].count("\n") == 0:
        raise ContentError("front matter opened with '---' is never closed", path, 1,
                           hint="add a line '---' after the front matter")
    raw = text[text.index("\n") + 1:end.start()]
    data = _CANONICAL.read(raw)
    if data is None:  # not in the canonical form: PyYAML reads it, and reports its errors
        data = _load_yaml(raw, path)
    if not isinstance(data, dict):
        raise ContentError("front matter must be a mapping of keys to values", path, 2)
    body_start = end.end() + 1
    return data, text[body_start:], text.count("\n", 0, body_start) + 1


def _load_yaml(raw: str, path: str) -> object:
    """PyYAML's reading of a front matter; its errors as ContentError with the file's line."""
    try:
        return yaml.load(raw, Loader=_FrontMatterLoader) if raw.strip() else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ContentError(f"bad YAML in front matter: {problem}", path,
                           mark.line + 2 if mark is not None else 1) from exc
    except (ValueError, TypeError, AttributeError, OverflowError) as exc:  # PyYAML's dates: 2024-02-30
        raise ContentError(f"a value in the front matter cannot be read: {exc}", path, 1,
                           hint="look for a date that does not exist, such as 2024-02-30") from exc


def read_front_matter_file(path: str | Path, label: str | None = None) -> tuple[dict, str, str]:
    """Read a Markdown file; return (front matter, body, raw text)."""
    label = label or str(path)
    return front_matter_of(read_file(path, label), label)


def read_file(path: str | Path, label: str) -> bytes:
    """A file's bytes, or a ContentError naming it (`label`)."""
    try:
        return read_bytes(path)
    except OSError as exc:
        raise ContentError(f"cannot read: {exc.strerror}", label) from exc


def front_matter_of(raw: bytes, label: str) -> tuple[dict, str, str]:
    """A Markdown file's bytes as (front matter, body, text); errors name the file (`label`) and line."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ContentError(f"not UTF-8 text (byte {exc.start})", label,
                           hint="save the file as UTF-8") from exc
    if "\r" in text:  # line ends as reading in text mode gives them
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    # UTF-8 keeps the control characters single bytes: testing the bytes for them is cheaper
    # than the regex over the text, and most files have none. U+FFFE and U+FFFF are looked
    # for in the text, where `in` finds a character with memchr (in the bytes it did not).
    if len(raw.translate(None, _CONTROL_BYTES)) != len(raw) or "\ufffe" in text or "\uffff" in text:
        text = clean_text(text)
    data, body, _ = split_front_matter(text, label)
    return data, body, text


def read_bytes(path: str | Path) -> bytes:
    """A file's bytes with three system calls for most files (`Path.read_bytes` makes seven, and two
    Python objects: ~2.5 µs more a file, for each of the thousands of articles a build reads)."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        data = os.read(fd, _READ_SIZE)
        if len(data) < _READ_SIZE:  # all of it (a read of a regular file is short only at its end)
            return data
        parts = [data]
        while more := os.read(fd, _READ_SIZE):
            parts.append(more)
        return b"".join(parts)
    finally:
        os.close(fd)


def key_line(text: str, key: str) -> int | None:
    """The 1-based line of a top-level front matter key, for error messages."""
    match = re.search(rf"^{re.escape(key)}\s*:", text, re.M)
    return text.count("\n", 0, match.start()) + 1 if match else None


def dump_front_matter(data: dict, body: str) -> str:
    """The text of a Markdown file with `data` as front matter (key order kept)."""
    head = yaml.dump(data, Dumper=_ArticleDumper, allow_unicode=True, sort_keys=False,
                     width=10_000, default_flow_style=None)
    return f"---\n{head}---\n\n{body.rstrip()}\n"


def as_datetime(value, tz: dt.tzinfo) -> dt.datetime:
    """A front matter date (datetime, date or ISO string) as an aware datetime; naive means `tz`."""
    if isinstance(value, dt.datetime):
        result = value
    elif isinstance(value, dt.date):
        result = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            result = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError as exc:
            raise ValueError(f"expected an ISO 8601 date such as 2024-01-16T09:30:00+00:00, "
                             f"got {shown(value)}") from exc
    else:
        raise ValueError(f"expected a date, got {shown(value)}")
    if not 1 < result.year < 9999:  # years 1 and 9999 overflow when shown in another time zone
        raise ValueError(f"date out of range (years 2 to 9998), got {shown(value)}")
    if result.tzinfo is None:
        result = result.replace(tzinfo=tz)
    return result


_NAME_TYPES = (str, int, float)  # a tuple: isinstance with a union type is several times slower
_TEXT_ONLY = frozenset({str})


def as_names(value, key: str) -> tuple[str, ...]:
    """A list of names (a lone string is one name); anything else is an error."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list):
        # Four lists an article, nearly all of text alone: told by their types' set, made in C.
        texts = value if set(map(type, value)) <= _TEXT_ONLY else None
        if texts is None and all(isinstance(v, _NAME_TYPES) for v in value):
            texts = list(map(str, value))
        if texts is not None:
            names = dict.fromkeys([(text if text.isprintable() else clean_text(text)).strip() for text in texts])
            names.pop("", None)
            return tuple(names)
    raise ValueError(f"'{key}': expected a list of names, got {shown(value)}")
