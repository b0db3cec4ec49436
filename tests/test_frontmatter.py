"""Front matter: the loader means what PyYAML's safe loader means; control characters never kept."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from yaml.nodes import ScalarNode

from newsdigest.frontmatter import (
    _CONTROL,
    _CONTROL_BYTES,
    _FrontMatterLoader,
    _Loader,
    as_names,
    clean_text,
    read_front_matter_file,
)

DOCUMENTS = [
    "title: Plain\ndate: 2024-01-16T09:30:00+01:00\ndraft: yes\ncount: 0x1f\nratio: 1_000.5\nnothing: ~\n",
    "a: &name Ann\nb: *name\nlist: &l [x, 'y', \"z\", 12, 2024-02-03]\nagain: *l\n",
    "base: &base {x: 1, y: two}\nmerged:\n  <<: *base\n  y: three\nmany:\n  <<: [*base, {z: 3}]\n",
    "? [complex, key]\n: value\n",
    "dup: one\ndup: two\n'quoted': 'yes'\nplain: no\n= : equals\n",
    "set: !!set {a, b}\nomap: !!omap [{a: 1}, {b: 2}]\npairs: !!pairs [{a: 1}]\nbin: !!binary aGVsbG8=\n",
    "s: !!str 12\ni: !!int '12'\nf: !!float '1.5'\nts: !!timestamp '2024-01-16'\nnested: {a: [b, {c: d}]}\n",
    "self: &s [1, *s]\n",
    "weird: !!python/name:os.system x\n",
    "when: 2024-02-30\n",
    "a: '12'\nb: 12\nc: yes\nd: 'yes'\ne: \"null\"\nf: null\ng: [12, '12', yes, 'yes', ~, '~', '']\nh: ''\n",
    "= : value key\n12: int key\nyes: bool key\n~: null key\n",
]


def _load(doc, loader):
    try:
        return "ok", yaml.load(doc, Loader=loader)
    except (yaml.YAMLError, ValueError) as exc:
        return "error", type(exc).__name__


@pytest.mark.parametrize("doc", DOCUMENTS)
def test_front_matter_loader_means_what_the_safe_loader_means(doc):
    assert repr(_load(doc, _FrontMatterLoader)) == repr(_load(doc, _Loader))


def test_remembered_tags_are_the_resolvers_in_any_order():
    """The loader remembers tags across documents: the same text, plain or quoted, in any order."""
    for doc in DOCUMENTS + DOCUMENTS[::-1]:
        assert repr(_load(doc, _FrontMatterLoader)) == repr(_load(doc, _Loader))
    values = ["12", "yes", "Yes", "no", "on", "null", "~", "", "1.5", ".inf", "2024-01-16", "<<", "=", "Ann", "0x1f"]
    stock = _Loader("")
    for value in values + values:
        for implicit in [(True, False), (False, True), (False, False)]:
            assert _FrontMatterLoader.resolve(ScalarNode, value, implicit) == stock.resolve(ScalarNode, value, implicit)


def test_aliased_text_is_the_same_object():
    data = yaml.load("a: &x Ann Smith\nb: *x\n", Loader=_FrontMatterLoader)
    assert data["a"] is data["b"]


def test_control_bytes_are_the_control_characters_below_0x80():
    assert set(_CONTROL_BYTES) == {b for b in range(0x80) if _CONTROL.match(chr(b))}


def test_clean_text_keeps_printable_text_and_drops_control_characters():
    assert clean_text("Ann Smith") == "Ann Smith"
    assert clean_text("Ann\x07 Smith\x1b\ufffe\uffff\x7f") == "Ann Smith"
    assert clean_text("line\nand\ttab\r\u2028\xa0") == "line\nand\ttab\r\u2028\xa0"
    assert as_names(["Ann\x07", " ", "\x1b", "Ann", 12], "byline") == ("Ann", "12")


@pytest.mark.parametrize("raw, title", [
    (b"---\r\ntitle: CRLF\r\n---\r\n\r\nBody\r\n", "CRLF"),
    (b"---\rtitle: CR\r---\r\rBody\r", "CR"),
    (b"\xef\xbb\xbf---\ntitle: BOM \xe2\x80\x9cquoted\xe2\x80\x9d\n---\n\nBody\n", "BOM \u201cquoted\u201d"),
    (b"---\ntitle: \"bell\\a and \\x1b\"\n---\n\nBody\x07 text\xef\xbf\xbe\n", "bell and "),
])
def test_read_front_matter_file_reads_as_text_mode_and_cleans(tmp_path: Path, raw: bytes, title: str):
    path = tmp_path / "a.md"
    path.write_bytes(raw)
    data, body, text = read_front_matter_file(path)
    assert text == clean_text(path.read_text(encoding="utf-8"))
    assert clean_text(data["title"]) == title
    assert body.strip() in ("Body", "Body text")
    assert data == yaml.load(text.lstrip("\ufeff").split("---")[1], Loader=_Loader)


def test_dates_keep_their_meaning():
    data = yaml.load("date: 2024-01-16T09:30:00+01:00\nday: 2024-01-16\n", Loader=_FrontMatterLoader)
    assert data["date"] == dt.datetime(2024, 1, 16, 8, 30, tzinfo=dt.UTC)
    assert data["day"] == dt.date(2024, 1, 16)
