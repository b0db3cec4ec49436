"""Front matter: the loader means what PyYAML's safe loader means; control characters never kept."""

from __future__ import annotations

import datetime as dt
import random
import string
import sys
from pathlib import Path

import pytest
import yaml
from yaml.nodes import ScalarNode

from newsdigest.frontmatter import (
    _CANONICAL,
    _CONTROL,
    _CONTROL_BYTES,
    _FENCE,
    BlockMapping,
    _FrontMatterLoader,
    _Loader,
    as_names,
    clean_text,
    dump_front_matter,
    read_bytes,
    read_front_matter_file,
)
from newsdigest.versions import Marker, merge_versions, version_entry

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import generate  # noqa: E402

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


@pytest.mark.parametrize("size", [0, 1, (1 << 16) - 1, 1 << 16, (1 << 16) + 1, 300_000])
def test_read_bytes_reads_whole_files_of_any_size(tmp_path: Path, size: int):
    path = tmp_path / "a.md"
    path.write_bytes(bytes(range(256)) * (size // 256) + b"x" * (size % 256))
    assert read_bytes(path) == path.read_bytes()


def test_dates_keep_their_meaning():
    data = yaml.load("date: 2024-01-16T09:30:00+01:00\nday: 2024-01-16\n", Loader=_FrontMatterLoader)
    assert data["date"] == dt.datetime(2024, 1, 16, 8, 30, tzinfo=dt.UTC)
    assert data["day"] == dt.date(2024, 1, 16)


# -- the canonical fast path: PyYAML's dict or None --------------------------------------------------

TRICKY = ["yes", "No", "on", "OFF", "true", "False", "y", "n", "null", "Null", "NULL", "~", "", "12", "-3", "+7",
          "0x1F", "0o17", "017", "0b101", "1_000", "1.5", "-.5", "1e5", "1.0e+3", ".inf", "-.Inf", ".NaN", "190:20:30",
          "12:30", "2024-01-16", "2024-02-30", "2024-1-6", "2024-01-16T09:30:00+01:00", "2024-01-16 09:30:00 -5",
          "2024-01-16t09:30:00Z", "2024-01-16T09:30:00.123456789Z", "2024-01-16T25:30:00Z", "2024-02-30T09:30:00+01:00",
          "2024-01-16T24:00:00+00:00", "2024-01-16T09:30:60+00:00", "2024-01-16T09:30:00-00:00",
          "2024-01-16T09:30:00+23:59", "2024-01-16T09:30:00+24:00", "٢٠٢٤-01-16T09:30:00+01:00",
          "2024-01-16T09:30:00+0100", "0000-01-16T09:30:00+00:00", "99999-01-01", "<<",
          "=", "!", "&a", "*a", "!!str x", "- x", "-x", "-", "? x", "?x", ":x", ": x", "x:", "#x", "x #y", "x#y",
          "[x", "x]", "{x}", "x, y", "x,y", "'x'", '"x"', "it's", "a: b", "a:b", "%x", "@x", "`x", "|", ">-", "---",
          "...", "x ", " x", "x  y", "Ann Lee", "Kim Jong Un", "U.S.", "‘comradely’", "Zoë Ünal", "中文", "😀",
          "a\tb", "a\nb", "a\xa0b", "\ufeffx", "a\u2028b", "a\x85b", "a\x07b", "C#", "x -y", "x - y", "1" * 30]
NAMES = ["Ann", "Lee", "Kim Jong Un", "U.S.", "‘comradely’", "Zoë", "Ünal", "中文", "it's", "O'Brien", "C#", "2024",
         "Tuesday", "North", "yes", "on", "-x", "x-y", "a/b", "50%", "A&B", "Q&A?", "x!", "AT&T", "(x)", "x.", "😀"]
UNICODE = "éß‘’“”—…中Ωж😀\xa0\u200b"


def _same(a, b) -> bool:
    """==, and the same types all the way down: keys and their order, tzinfo; floats by repr (-0.0, nan)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return len(a) == len(b) and all(_same(ka, kb) and _same(va, vb)
                                        for (ka, va), (kb, vb) in zip(a.items(), b.items(), strict=True))
    if isinstance(a, list):
        return len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, float):
        return repr(a) == repr(b)
    if isinstance(a, dt.datetime):
        return a == b and type(a.tzinfo) is type(b.tzinfo) and a.tzinfo == b.tzinfo
    return a == b


def _fast_agrees(raw: str) -> bool:
    """The fast path returns None or exactly PyYAML's dict (None when PyYAML fails); True if it read `raw`."""
    fast = _CANONICAL.read(raw)
    try:
        slow = yaml.load(raw, Loader=_FrontMatterLoader)
    except (yaml.YAMLError, ValueError, TypeError, AttributeError, OverflowError):
        assert fast is None, raw
        return False
    assert fast is None or _same(fast, slow), (raw, fast, slow)
    return fast is not None


def _raw(text: str) -> str:
    """The front matter of a Markdown file's text, as split_front_matter cuts it."""
    return text[text.index("\n") + 1:_FENCE.search(text, 3).start()]


def _text(rng: random.Random, mess: float = 1.0) -> str:
    """A string full of what YAML gives meaning to, or (1 - mess of the time) a plain name."""
    roll = rng.random()
    if roll >= mess:
        return " ".join(rng.choice(NAMES) for _ in range(rng.randint(1, 3)))
    roll /= mess
    if roll < 0.4:
        return rng.choice(TRICKY)
    if roll < 0.6:
        return f"{rng.choice(TRICKY)}{rng.choice(' ,:#-')}{rng.choice(TRICKY)}"
    alphabet = string.ascii_letters + string.digits + string.punctuation + "    " + UNICODE
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))


def _scalar_token(rng: random.Random, mess: float) -> str:
    """A scalar as someone might write it: plain, single-quoted (maybe badly) or double-quoted."""
    text = _text(rng, mess)
    roll = rng.random()
    if roll < 0.6:
        return text
    if roll < 0.9 or roll >= 0.9 + mess / 10:
        return "'" + text.replace("'", "''") + "'"
    return rng.choice(["'" + text + "'", '"' + text + '"'])


def _flow_token(rng: random.Random, mess: float, depth: int = 0) -> str:
    sep = rng.choice([", ", ",", " , ", ",  "]) if rng.random() < mess else ", "
    items = [_flow_token(rng, mess, depth + 1) if depth < 2 and rng.random() < mess / 5 else _scalar_token(rng, mess)
             for _ in range(rng.randint(0, 4))]
    if rng.random() < 0.6:
        return "[" + sep.join(items) + "]"
    colon = rng.choice([": ", ":"]) if rng.random() < mess else ": "
    return "{" + sep.join(f"{_scalar_token(rng, mess)}{colon}{item}" for item in items) + "}"


def _key_token(rng: random.Random, keys: list[str], mess: float) -> str:
    roll = rng.random()
    if roll < 0.1 and keys:
        return rng.choice(keys)  # a duplicate
    if roll >= mess:
        return rng.choice(["title", "date", "byline", "summary", "thread", "entities", "wire", "x_y", "a-b", "a.b",
                           "two words", "Ünïcode", "yes", "No", "null", "1", "0x1F", "1.5", "2024-01-16", "'quoted'",
                           "'it''s'", "''", "'a: b'", "k" * 990])
    return rng.choice(["~", "<<", "=", "k" * 1100, _scalar_token(rng, mess)])


def _block(rng: random.Random, indent: int, depth: int, mess: float) -> list[str]:
    """Lines of a block mapping at `indent`, with nested mappings and lists, and (mess) flaws."""
    lines: list[str] = []
    keys: list[str] = []
    pad = " " * indent
    for _ in range(rng.randint(1, 4)):
        key = _key_token(rng, keys, mess)
        keys.append(key)
        roll = rng.random()
        if depth < 3 and roll < 0.15:
            lines.append(f"{pad}{key}:")
            lines += _block(rng, indent + rng.choice([2, 2, 1, 4]), depth + 1, mess)
        elif depth < 3 and roll < 0.3:
            lines.append(f"{pad}{key}:")
            dash = pad + rng.choice(["", "", "  "])
            for _ in range(rng.randint(1, 3)):
                if rng.random() < 0.4:
                    entry = _block(rng, len(dash) + 2, depth + 1, mess)
                    lines.append(f"{dash}- {entry[0].lstrip(' ')}")
                    lines += entry[1:]
                else:
                    lines.append(f"{dash}- {_value(rng, mess)}")
        else:
            sep = rng.choice([": ", ":", ":  ", " : "]) if rng.random() < mess else ": "
            lines.append(f"{pad}{key}{sep}{_value(rng, mess)}")
        if rng.random() < mess / 10:
            lines.append(rng.choice(["# a comment", "", "  ", f"{pad}  continued", "\tkey: tab", "---", "...",
                                     f"{pad}- stray", f"{pad}key: value  ", f"{pad}key: value # note", "%YAML 1.1"]))
    return lines


def _value(rng: random.Random, mess: float) -> str:
    return _flow_token(rng, mess) if rng.random() < 0.25 else _scalar_token(rng, mess)


def _random_value(rng: random.Random, mess: float, depth: int = 0):
    """A value ingest could put in a front matter, and (mess) a few it never would."""
    roll = rng.random()
    if depth < 2 and roll < 0.1:
        return {_text(rng, mess): _random_value(rng, mess, depth + 1) for _ in range(rng.randint(0, 3))}
    if depth < 2 and roll < 0.2:
        return [_random_value(rng, mess, 2) for _ in range(rng.randint(0, 4))]
    if depth < 2 and roll < 0.25:
        return [BlockMapping((_text(rng, mess), _random_value(rng, mess, 2)) for _ in range(rng.randint(1, 3)))
                for _ in range(rng.randint(1, 2))]
    if roll < 0.35:
        return rng.choice([True, False, None, 0, -7, 2**70, 1.5, -0.0, float("inf"), float("nan"), 1e-300])
    if roll < 0.45 and (depth < 2 or rng.random() < mess):  # a date in a flow list comes back as text
        return _random_date(rng)
    return _text(rng, mess)


def _random_date(rng: random.Random) -> dt.date:
    day = dt.date(rng.randint(1, 9999), rng.randint(1, 12), rng.randint(1, 28))
    if rng.random() < 0.3:
        return day
    tz = rng.choice([None, dt.UTC, *(dt.timezone(dt.timedelta(minutes=m)) for m in (330, -480, 59))])
    return dt.datetime(day.year, day.month, day.day, rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59),
                       rng.choice([0, 0, 500, 123456]), tzinfo=tz)


def test_fast_path_agrees_with_pyyaml_on_generated_documents():
    """Hand-written YAML from a grammar of tricky scalars: the fast path is PyYAML or declines."""
    rng = random.Random(20240116)
    read = 0
    for n in range(4000):
        lines = _block(rng, 0, 0, mess=(0.05, 0.2, 0.6)[n % 3])
        read += _fast_agrees("\n".join(lines) + "\n")
    assert read > 1000  # the grammar's documents are often canonical enough: the comparison really ran


def test_fast_path_agrees_with_pyyaml_on_dumped_dicts():
    """`dump_front_matter` of random dicts: the fast path is PyYAML or declines, and reads most of them."""
    rng = random.Random(20240117)
    read, kinds = 0, set()
    for n in range(3000):
        mess = (0.02, 0.1, 0.4)[n % 3]
        data = {"title": _text(rng, mess), "date": _random_date(rng), "byline": [_text(rng, mess)]}
        for _ in range(rng.randint(0, 5)):
            key = _text(rng, mess) if rng.random() > mess else rng.choice([1, True, None, dt.date(2024, 1, 16), 1.5])
            data[key] = _random_value(rng, mess)
        raw = _raw(dump_front_matter(data, ""))
        if _fast_agrees(raw):
            read += 1
            kinds |= {type(v) for v in _CANONICAL.read(raw).values()}
    assert read > 1500
    assert kinds >= {str, int, float, bool, type(None), dt.date, dt.datetime, list, dict}


def test_fast_path_reads_what_ingest_writes(sample_site: Path, tmp_path: Path):
    """The sample articles, generated bench articles and a versioned article: all read, all as PyYAML reads them."""
    texts = [p.read_text(encoding="utf-8") for p in sorted((sample_site / "content" / "articles").rglob("*.md"))]
    generate.write_articles(tmp_path, 200)
    texts += [p.read_text(encoding="utf-8") for p in sorted((tmp_path / "content" / "articles").rglob("*.md"))]
    old = yaml.load(_raw(texts[0]), Loader=_FrontMatterLoader)
    entry = version_entry(old["date"] + dt.timedelta(hours=3), "Update: it's 'quoted'", Marker("UPDATE 1", note="Adds"),
                          "content/wire/update-1.txt")
    versioned, _ = merge_versions(old, dict(old, title="Update: it's 'quoted'"), entry)
    texts.append(dump_front_matter(versioned, "Body."))
    assert len(texts) == 2 + 200 + 1 and "\nversions:\n- received: " in texts[-1]
    for text in texts:
        assert _fast_agrees(_raw(text)), _raw(text)


@pytest.mark.parametrize("raw", [
    "title: A # a comment\n", "# comment\ntitle: A\n", "title: A\n\ndate: 2024-01-16\n", "title:\tA\n",
    "a: &x A\nb: *x\n", "s: !!str 12\n", 'title: "A"\n', "title: A\n  continued\n", "summary: |\n  A\n",
    "nested: {a: [b]}\n", "list: [a,b]\n", "when: 2024-02-30\n", "<<: {a: 1}\n", "title: A \n", "k" * 1100 + ": v\n",
    "- a\n- b\n", "title: 'it''s\n  two lines'\n", "a:\n  - b\n  c: d\n",
])
def test_fast_path_declines_what_it_is_not_sure_of(raw: str):
    """PyYAML reads these, or reports their error with its line."""
    assert _CANONICAL.read(raw) is None
    _fast_agrees(raw)


@pytest.mark.parametrize("doc", DOCUMENTS)
def test_fast_path_agrees_with_pyyaml_on_the_documents(doc):
    _fast_agrees(doc)
