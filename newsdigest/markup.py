"""Markdown -> HTML, configured once for every body and description on the site.

CommonMark with raw HTML off. markdown-it-pyrs (the same parser in Rust, about
six times faster) is used when it is installed; it gives the same HTML as
markdown-it-py on our corpora. The renderer's name is part of the build cache's
key, so cached HTML never mixes the two.
"""

from __future__ import annotations

from functools import cache
from importlib import metadata

from markdown_it import MarkdownIt

try:
    import markdown_it_pyrs
except ImportError:  # pragma: no cover - the pure Python parser is the fallback
    markdown_it_pyrs = None

# markdown-it's "commonmark" preset without html_block and html_inline: text stays text.
_RULES = ["blockquote", "code", "fence", "heading", "hr", "lheading", "list", "paragraph", "reference",
          "autolink", "backticks", "emphasis", "entity", "escape", "image", "link", "newline"]


def make_markdown() -> MarkdownIt:
    """CommonMark with raw HTML off: text is text; unsafe link schemes are refused."""
    if markdown_it_pyrs is not None:
        return markdown_it_pyrs.MarkdownIt("zero").enable_many(_RULES)
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


@cache
def markdown_renderer_name() -> str:
    """Which parser (and version) renders Markdown in this process."""
    if markdown_it_pyrs is not None:
        return "markdown-it-pyrs " + metadata.version("markdown-it-pyrs")
    return "markdown-it-py " + metadata.version("markdown-it-py")
