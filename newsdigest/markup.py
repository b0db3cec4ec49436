"""Markdown -> HTML, configured once for every body and description on the site.

CommonMark with raw HTML off, by markdown-it-py. Most wire copy is nothing but
paragraphs of plain text (with the backslash escapes ingest writes), and parsing
those was a fifth of a cold build's time; `render_plain` writes such text
straight to the HTML markdown-it-py would give, and hands everything else to
markdown-it-py. A test compares the two on generated Markdown. (markdown-it-pyrs,
the same parser in Rust, was measured and rejected: it panics on some inputs and
lets raw HTML through.) The renderer's name is part of the build cache's key.
"""

from __future__ import annotations

import importlib.util
import re
from functools import cache, cached_property
from pathlib import Path

# What CommonMark trims from a paragraph or heading: JavaScript's String.trim set, as
# markdown-it-py's `mdTrim` has it (a test checks they are the same).
TRIM_CHARS = "\t\n\x0b\x0c\r \xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"


class Markdown:
    """CommonMark with raw HTML off (text is text; unsafe link schemes are refused).

    Plain paragraphs and headings take the short way (`render_plain`); the rest is
    parsed by markdown-it-py, imported when first needed (a third of the imports of a
    rebuild that patches an edited article's text).
    """

    @cached_property
    def parser(self):
        from markdown_it import MarkdownIt
        return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})

    def render(self, text: str) -> str:
        html = render_plain(text)
        return self.parser.render(text) if html is None else html


@cache
def markdown_renderer_name() -> str:
    """Which parser (and version) renders Markdown, for the build cache's key.

    Read from the package's source rather than by importing it (30 ms of every rebuild)
    or through importlib.metadata (35 ms).
    """
    spec = importlib.util.find_spec("markdown_it")
    found = re.search(r'^__version__ = "([^"]+)"', Path(spec.origin).read_text(encoding="utf-8"), re.M) \
        if spec and spec.origin else None
    if found is None:  # pragma: no cover - a markdown-it-py that declares its version otherwise
        import markdown_it
        return "markdown-it-py " + markdown_it.__version__
    return "markdown-it-py " + found.group(1)


def _escape_html(text: str) -> str:
    """As markdown-it-py escapes text: &, <, > and double quotes (not single ones)."""
    # `in` is a cheaper scan than `replace` finding nothing, and most text has few of these.
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text.replace('"', "&quot;") if '"' in text else text


# A backslash before ASCII punctuation stands for the character itself (CommonMark 2.4).
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
# What may start something other than plain text, outside escapes: code, emphasis, links,
# autolinks, a lone backslash (a hard break or a literal), an entity or character reference.
_INLINE_SYNTAX = "`*_[]<\\"  # tested with `in`, one character at a time: 15 times faster than a regex
_REFERENCE = re.compile(r"&#?[0-9A-Za-z]+;")
# Line starts that may open or interrupt a block: indentation, quotes, list markers, headings,
# lines of rule or setext-underline characters, fences, ordered-list markers.
_BLOCK_START = re.compile(r"(?: |>|[-+*](?=[ \n]|\Z)|#{1,6}(?=[ \n]|\Z)|[-*_=][-*_= ]*(?=\n|\Z)|```|~~~"
                          r"|[0-9]{1,9}[.)](?=[ \n]|\Z))")  # CommonMark's list numbers: ASCII digits only
_BLOCK_START_CHARS = frozenset(" >-+*#_=`~0123456789")  # the first characters it can match: a cheap test first
_LINE_BLOCK_START = re.compile(r"\n" + _BLOCK_START.pattern)
_HEADING = re.compile(r"(#{1,6}) +(.*[^#\s]) *\Z")  # one line, no closing #s (markdown-it-py decides those)
_EMPTY_HEADING = re.compile(r"(#{1,6}) *\Z")  # ingest leaves a wire paragraph '##' as it is
_BLANK_LINES = re.compile(r"\n(?: *\n)+")
_HARD_BREAK = re.compile(r" {2,}\n")
_SOFT_BREAK = re.compile(r" \n")


def render_plain(text: str) -> str | None:
    """HTML for text made only of paragraphs and one-line headings, as markdown-it-py renders it; else None."""
    text = text.strip("\n")
    if "\r" in text or "\0" in text or "\t" in text:
        return None
    unescaped = _ESCAPE.sub("", text) if "\\" in text else text
    if any(char in unescaped for char in _INLINE_SYNTAX) or ("&" in unescaped and _REFERENCE.search(unescaped)):
        return None
    out: list[str] = []
    for block in _BLANK_LINES.split(text):
        # Something other than a paragraph starts at a block's first line or, in a block of several lines
        # (few are), at another line. Escapes are resolved after these tests: '\#' is no heading.
        if (block[:1] in _BLOCK_START_CHARS and _BLOCK_START.match(block)) or (
                "\n" in block and _LINE_BLOCK_START.search(block)):
            heading = _HEADING.match(block)
            if heading is None:
                empty = _EMPTY_HEADING.match(block)
                if empty is None:
                    return None
                out.append(f"<h{len(empty.group(1))}></h{len(empty.group(1))}>\n")
            else:
                out.append(_block(f"h{len(heading.group(1))}", heading.group(2)))
        else:
            out.append(_block("p", block))
    return "".join(out)


def _block(tag: str, text: str) -> str:
    """One paragraph or heading as HTML: escapes resolved, trimmed, line ends made breaks as CommonMark says."""
    html = _escape_html(_ESCAPE.sub(r"\1", text) if "\\" in text else text)
    trimmed = html.strip(TRIM_CHARS)
    if not trimmed and not html.strip(" "):  # a block of spaces alone is no paragraph
        return ""
    if "\n" in trimmed:
        trimmed = _SOFT_BREAK.sub("\n", _HARD_BREAK.sub("<br />\n", trimmed))
    return f"<{tag}>{trimmed}</{tag}>\n"
