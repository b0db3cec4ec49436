"""Markdown -> HTML, configured once for every body and description on the site.

CommonMark with raw HTML off. (markdown-it-pyrs, the same parser in Rust, was
measured: about six times faster, but it renders a leading non-breaking space
differently, and with the build cache Markdown is no longer a hot spot, so we
keep the one parser.) The renderer's name is part of the build cache's key.
"""

from __future__ import annotations

from functools import cache

import markdown_it
from markdown_it import MarkdownIt


def make_markdown() -> MarkdownIt:
    """CommonMark with raw HTML off: text is text; unsafe link schemes are refused."""
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


@cache
def markdown_renderer_name() -> str:
    """Which parser (and version) renders Markdown, for the build cache's key."""
    return "markdown-it-py " + markdown_it.__version__  # importlib.metadata costs 35 ms of every build
