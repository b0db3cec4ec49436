"""Markdown -> HTML, configured once for every body and description on the site."""

from __future__ import annotations

from markdown_it import MarkdownIt


def make_markdown() -> MarkdownIt:
    """CommonMark with raw HTML off: text is text; unsafe link schemes are refused."""
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
