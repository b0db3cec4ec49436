"""Wire copy as agencies deliver it -> headline, byline, dateline, credits, body.

Pure functions: text in, a `WireStory` out. Nothing here reads files or knows
about the site; `ingest` decides what to do with the result.
"""

from __future__ import annotations

import codecs
import datetime as dt
import re
from dataclasses import dataclass, field

import yaml

from .errors import WireError

try:  # the C loader is ten times faster; PyYAML wheels ship it
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # pragma: no cover - only on exotic builds
    from yaml import SafeLoader as _SafeLoader

AGENCIES = ("Reuters", "AP", "AFP", "Bloomberg", "UPI", "dpa", "DPA", "ANSA", "EFE",
            "Xinhua", "Kyodo", "Yonhap", "PA", "CP", "Interfax", "TASS", "IANS", "PTI")

# Control characters (NUL, escape, form feed...) are invalid in HTML and XML: wire text never keeps them.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
_HEADER_FENCE = re.compile(r"^---[ \t]*$", re.M)
_IMAGE_LINE = re.compile(r"^\s*\S*(?:binary_|VIEWIMAGE)\S*\s*$")
# Bounded repeats: an unbounded `\w*` here takes minutes on a long line of "tagtagtag...".
_IMAGE_GLUED = re.compile(r"tag\w{0,40}\.com\d{4}binary_\S{0,200}?-VIEWIMAGE")
_DASH = r"[-\u2013\u2014]+"
# "MOSCOW (Reuters) -", "LA CORUNA, Spain (Reuters) - ", "PARIS, Jan 15 (AFP) —",
# "WASHINGTON (AP) —", "LONDON -" (no agency, dash required then).
_DATELINE = re.compile(
    r"^(?P<place>[A-Z][A-Z.'\u2019\- ]*[A-Z.](?:,\s*[A-Z][A-Za-z.'\- ]*[A-Za-z.])*?)"
    r"(?:,\s*(?P<when>[A-Z][a-z]{2,8}\.?\s+\d{1,2}))?"
    r"\s*(?:\((?P<agency>[A-Za-z][A-Za-z&.\- ]{0,30})\)\s*" + _DASH + r"|\s" + _DASH + r")\s*"
)
_LONE_DATELINE = re.compile(r"^[A-Z][A-Z.'\- ]{2,30}(?:,\s*[A-Z][A-Za-z.\- ]{1,20})?$")
_BYLINE = re.compile(r"^By\s+(?P<names>[A-Z][^\n]{1,150})$")
# Linear on any input (nested lazy repeats here once took minutes on a 100 kB chunk); `by` is checked apart.
_CREDIT_LINE = re.compile(
    r"^\((?P<inner>[A-Za-z ]{0,40}?(?:reporting|writing|editing|compiled|"
    r"research|graphics|production)\b[^()]*)\)$",
    re.I | re.S,
)
_CREDIT_MAX = 2000
_BY = re.compile(r"\bby\b", re.I)
_NAME_SPLIT = re.compile(r"\s*(?:,\s*(?:and\s+)?|\s+and\s+|\s*&\s*)\s*")
_IN_PLACE = re.compile(r"\s+in\s+[A-Z][\w .\-]*$")
_PRINTED_DATE = re.compile(
    r"^(?:[A-Z][a-z]+day,?\s+)?(?P<text>(?:[A-Z][a-z]{2,8}\.?\s+\d{1,2},?\s+\d{4})|"
    r"(?:\d{1,2}\s+[A-Z][a-z]{2,8}\.?\s+\d{4})|(?:\d{4}-\d{2}-\d{2}))"
    r"(?:\s+\d{1,2}:\d{2}(?:\s*[AaPp]\.?[Mm]\.?)?(?:\s+[A-Z]{2,4})?)?$"
)
_SUBHEAD_MAX = 70


@dataclass(frozen=True)
class Block:
    """One body block: a paragraph of wire text or an all-caps subhead."""

    kind: str  # "p" or "h"
    text: str


@dataclass(frozen=True)
class WireStory:
    """What the wire copy says, before any language work."""

    headline: str
    blocks: tuple[Block, ...]
    byline: tuple[str, ...] = ()
    dateline: str | None = None
    agency: str | None = None
    credits: dict[str, list[str]] = field(default_factory=dict)
    header: dict = field(default_factory=dict)
    printed_date: dt.date | None = None

    @property
    def paragraphs(self) -> list[str]:
        """The body paragraphs as plain text, subheads left out."""
        return [b.text for b in self.blocks if b.kind == "p"]

    @property
    def lede(self) -> str:
        """The first paragraph: what the story is about."""
        paras = self.paragraphs
        return paras[0] if paras else ""

    @property
    def text(self) -> str:
        """Headline and body as one plain text, for language work."""
        return "\n\n".join([self.headline, *(b.text for b in self.blocks)])


def decode_wire(data: bytes, path: str = "<wire>") -> str:
    """Bytes as delivered -> text: BOMs honoured, UTF-8 first, Windows-1252 as fallback."""
    head = data[:4096]
    # Text has no NULs, or a stray few (parse_wire drops them); a binary file or BOM-less UTF-16 has many.
    if head.count(b"\x00") > len(head) // 100 + 2 and not data.startswith((codecs.BOM_UTF16_LE,
                                                                           codecs.BOM_UTF16_BE)):
        raise WireError("binary file, not wire text", path,
                        hint="remove it from content/wire/ or convert it to text")
    for bom, codec in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                       (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            try:
                return data.decode(codec)
            except UnicodeDecodeError as exc:
                raise WireError(f"cannot decode as {codec}: {exc.reason}", path) from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    if sum(1 for c in text if ord(c) < 32 and c not in "\n\r\t") > len(text) // 100 + 2:
        raise WireError("binary file, not wire text", path,
                        hint="remove it from content/wire/ or convert it to text")
    return text


def split_header(text: str, path: str = "<wire>") -> tuple[dict, str, int]:
    """Split an optional leading `---` YAML block off; return (header, rest, rest's first line)."""
    if not text.startswith("---"):
        return {}, text, 1
    first = text.split("\n", 1)[0].rstrip()
    if first != "---":
        return {}, text, 1
    match = _HEADER_FENCE.search(text, len(first))
    if not match:
        raise WireError("the YAML header opened with '---' is never closed", path, 1,
                        hint="add a line '---' after the header")
    raw = text[len(first) + 1:match.start()]
    try:
        header = yaml.load(raw, Loader=_SafeLoader) if raw.strip() else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise WireError(f"bad YAML in the header: {problem}", path, line) from exc
    except (ValueError, TypeError, AttributeError, OverflowError) as exc:  # PyYAML's dates: 2024-02-30
        raise WireError(f"a value in the header cannot be read: {exc}", path, 1,
                        hint="look for a date that does not exist, such as 2024-02-30") from exc
    if not isinstance(header, dict):
        raise WireError("the YAML header must be a mapping of keys to values", path, 2)
    rest = text[match.end():]
    return header, rest, text.count("\n", 0, match.end()) + 1


def parse_wire(text: str, path: str = "<wire>") -> WireStory:
    """Parse wire copy (with an optional YAML header) into a `WireStory`."""
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    header, body, _ = split_header(text, path)
    body = _IMAGE_GLUED.sub("\n", body)
    chunks = [c.strip() for c in re.split(r"\n\s*\n", body)]
    chunks = [_strip_image_lines(c) for c in chunks]
    chunks = [c for c in chunks if c]
    if not chunks and not header.get("title"):
        raise WireError("empty wire file: no headline and no text", path,
                        hint="remove it or add the story's text")

    printed_date = None
    # Web copy often opens with a time stamp ("updated 8:41 p.m. EST, Tue March 3, 2009").
    while len(chunks) > 1 and _is_time_stamp(chunks[0]):
        printed_date = printed_date or _stamp_date(chunks[0])
        chunks = chunks[1:]
    headline = ""
    if chunks:
        headline, chunks = _take_headline(chunks)
    headline = str(header.get("title") or "").strip() or headline
    byline: tuple[str, ...] = ()
    # Byline and a printed date sit between the headline and the first paragraph.
    while chunks and len(chunks[0]) < 160:
        by = _BYLINE.match(chunks[0])
        if by and not byline:
            byline = tuple(_split_names(by.group("names")))
            chunks = chunks[1:]
        elif _is_time_stamp(chunks[0]) and len(chunks) > 1:
            printed_date = printed_date or _stamp_date(chunks[0])
            chunks = chunks[1:]
        else:
            break

    credits: dict[str, list[str]] = {}
    while chunks and _is_credit_line(chunks[-1]):
        credits = _parse_credits(chunks[-1][1:-1]) | credits
        chunks = chunks[:-1]

    dateline = agency = None
    if len(chunks) > 1 and _LONE_DATELINE.match(chunks[0]):
        dateline, chunks = chunks[0].rstrip(".").strip(), chunks[1:]
        while chunks and _PRINTED_DATE.match(chunks[0]):
            printed_date = printed_date or _parse_printed_date(_PRINTED_DATE.match(chunks[0])["text"])
            chunks = chunks[1:]
    blocks: list[Block] = []
    for i, chunk in enumerate(chunks):
        chunk = " ".join(line.strip() for line in chunk.split("\n")) if _is_prose(chunk) else chunk
        if i == 0 and dateline is None:
            m = _DATELINE.match(chunk)
            if m and len(m.group("place")) <= 40:
                dateline = m.group("place").strip()
                agency = (m.group("agency") or "").strip() or None
                chunk = chunk[m.end():].strip()
                if not chunk:
                    continue
        if _is_subhead(chunk) and blocks:
            blocks.append(Block("h", chunk))
        else:
            blocks.append(Block("p", chunk))
    credits = {role: [n for n in names if n not in AGENCIES and n != agency]
               for role, names in credits.items()}
    credits = {role: names for role, names in credits.items() if names}
    return WireStory(headline=_clean_headline(headline), blocks=tuple(blocks), byline=byline,
                     dateline=dateline, agency=agency, credits=credits, header=header,
                     printed_date=printed_date)


def markdown_body(story: WireStory) -> str:
    """The body as Markdown: wire text escaped so it always renders as the text it is."""
    out = []
    for block in story.blocks:
        if block.kind == "h":
            out.append("## " + escape_markdown(block.text))
        elif "\n" in block.text:  # tables and lists keep their lines
            out.append("  \n".join(escape_markdown(line) for line in block.text.split("\n")))
        else:
            out.append(escape_markdown(block.text))
    return "\n\n".join(out) + "\n"


_MD_INLINE = re.compile(r"([\\`*_\[\]<>|~])")
_MD_ENTITY = re.compile(r"&(?=#?\w+;)")
_MD_LINE_START = re.compile(r"^(\s*)([#>+=\-]|\d+[.)])(?=\s|$|[-=\s]*$)")  # "---": a rule


def escape_markdown(text: str) -> str:
    """Backslash-escape what Markdown would read as syntax; plain words stay readable."""
    text = _MD_INLINE.sub(r"\\\1", text)
    text = _MD_ENTITY.sub(r"\\&", text)
    return _MD_LINE_START.sub(lambda m: m.group(1) + _escape_marker(m.group(2)), text)


def _escape_marker(marker: str) -> str:
    if marker[0].isdigit():
        return marker[:-1] + "\\" + marker[-1]
    return "\\" + marker


def _is_credit_line(chunk: str) -> bool:
    """'(Reporting by A; Editing by B)': a parenthesised credit line ending the story."""
    if len(chunk) > _CREDIT_MAX:
        return False
    match = _CREDIT_LINE.match(chunk)
    return bool(match and _BY.search(match.group("inner")))


def _strip_image_lines(chunk: str) -> str:
    return "\n".join(line for line in chunk.split("\n") if not _IMAGE_LINE.match(line)).strip()


def _take_headline(chunks: list[str]) -> tuple[str, list[str]]:
    """The first block is the headline, unless it is a whole lede paragraph."""
    first = chunks[0]
    lines = first.split("\n")
    if len(lines) > 1 and len(lines[0]) <= 200 and not _DATELINE.match(lines[0]):
        return lines[0].strip(), ["\n".join(lines[1:]).strip(), *chunks[1:]]
    words = first.split()
    looks_like_lede = len(words) > 25 or (len(words) > 14 and first.rstrip().endswith((".", "\u201d", '"')))
    if looks_like_lede or (_DATELINE.match(first) and "(" in first[:60]):
        sentence = first_sentence(_DATELINE.sub("", first, 1))
        return _shorten(sentence.rstrip(".")), chunks
    return first.strip(), chunks[1:]


_SENTENCE_END = re.compile(r"(?<=[.!?])[\u201d\"']?\s+(?=[A-Z\u201c\"])")
_ABBREVIATION = re.compile(r"(?:\b[A-Z]\.|\b(?:Mr|Mrs|Ms|Dr|St|Jr|Sr|Gen|Gov|Sen|Rep|Lt|Col|Capt|Sgt|Prof|Rev|Inc|"
                           r"Corp|Co|Ltd|No|vs|Jan|Feb|Mar|Apr|Aug|Sept|Sep|Oct|Nov|Dec)\.)[\u201d\"']?$")


def first_sentence(text: str) -> str:
    """The first sentence of a paragraph, not fooled by 'L.A.', 'U.S.' or 'Mr.'."""
    start = 0
    for match in _SENTENCE_END.finditer(text):
        if not _ABBREVIATION.search(text[start:match.start()]):
            return text[:match.start()].strip()
    return text.strip()


_STAMP_WORDS = {"updated", "posted", "published", "article", "on", "at", "last", "modified", "am", "pm", "a", "p",
                "m", "et", "est", "edt", "gmt", "utc", "bst", "cet", "pst", "pdt", "cst", "cdt", "hrs", "ist", "of"}
_MONTHS = {m.lower() for m in ("January February March April May June July August September October November "
                                "December Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec").split()}
_WEEKDAYS = {d.lower() for d in ("Monday Tuesday Wednesday Thursday Friday Saturday Sunday "
                                  "Mon Tue Tues Wed Thu Thur Thurs Fri Sat Sun").split()}


def _is_time_stamp(chunk: str) -> bool:
    """A short line made only of dates, times and words like 'updated' or 'posted on'."""
    if len(chunk) > 80 or "\n" in chunk:
        return False
    words = re.findall(r"[A-Za-z]+|\d+", chunk)
    dated = [w for w in words if w.isdigit() or w.lower() in _MONTHS or w.lower() in _WEEKDAYS]
    rest = [w for w in words if not (w.isdigit() or w.lower() in _MONTHS or w.lower() in _WEEKDAYS
                                     or w.lower() in _STAMP_WORDS)]
    return bool(dated) and not rest and (any(w.isdigit() for w in dated) or len(dated) > 1)


def _stamp_date(chunk: str) -> dt.date | None:
    found = re.search(r"(?:[A-Z][a-z]{2,8}\.?\s+\d{1,2},?\s+\d{4})|(?:\d{1,2}\s+[A-Z][a-z]{2,8}\.?\s+\d{4})|"
                      r"(?:\d{4}-\d{2}-\d{2})", chunk.title())
    return _parse_printed_date(found.group(0).replace(",", ", ").replace(",  ", ", ")) if found else None


def _shorten(text: str, limit: int = 120) -> str:
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + "\u2026"


def _clean_headline(headline: str) -> str:
    headline = " ".join(headline.split())
    return headline[:-1] if headline.endswith(".") and not headline.endswith("..") else headline


def _is_prose(chunk: str) -> bool:
    """A chunk whose line breaks are only wrapping (not a table or a list)."""
    lines = chunk.split("\n")
    if len(lines) == 1:
        return True
    short = sum(1 for line in lines if len(line) < 50)
    return short <= 1 and not any(re.match(r"\s*(?:[-*\u2022]|\d+[.)])\s", ln) for ln in lines)


def _is_subhead(chunk: str) -> bool:
    letters = [c for c in chunk if c.isalpha()]
    return (len(chunk) <= _SUBHEAD_MAX and len(letters) >= 3 and "\n" not in chunk
            and all(c.isupper() for c in letters) and not chunk.startswith("("))


def _split_names(names: str) -> list[str]:
    names = names.strip().rstrip(".;")
    out = []
    for part in _NAME_SPLIT.split(names):
        part = _IN_PLACE.sub("", part.strip())
        if part and part not in out:
            out.append(part)
    return out


def _parse_credits(inner: str) -> dict[str, list[str]]:
    """'Reporting by A; Editing by B and C' -> {'reporting': [A], 'editing': [B, C]}."""
    credits: dict[str, list[str]] = {}
    for part in re.split(r"\s*;\s*", " ".join(inner.split())):
        m = re.match(r"(?P<role>[A-Za-z ]+?)\s+by\s+(?P<names>.+)", part, re.I)
        if not m:
            continue
        role = "_".join(m.group("role").lower().split())
        credits.setdefault(role, []).extend(
            n for n in _split_names(m.group("names")) if n not in credits.get(role, []))
    return credits


def _parse_printed_date(text: str) -> dt.date | None:
    for fmt in ("%B %d, %Y", "%b %d, %Y", "%b. %d, %Y", "%B %d %Y", "%d %B %Y", "%d %b %Y",
                "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None
