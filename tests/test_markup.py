"""The short way for plain text gives exactly the HTML markdown-it-py gives, or steps aside."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from newsdigest.markup import Markdown, render_plain
from newsdigest.wire import escape_markdown

PARSER = Markdown().parser

# Mostly words, with a good share of everything that is syntax somewhere in CommonMark.
PIECES = st.one_of(
    st.text(alphabet="abcdefg ,.'\"\u2019\u2014\u00e9", min_size=1, max_size=12),
    st.sampled_from([
        "\n", "\n\n", "  \n", " \n", "\n   \n", "\n ", "\\*", "\\_", "\\[", "\\&", "\\#", "\\\\", "\\a", "\\",
        "&", "&amp;", "&#35;", "&nbsp;", "*", "_", "`", "[", "]", "<", ">", "!", "~", "|", "#", " #",
        "## ", "\n## ", "\n# ", "\n####### x", "1. ", "\n1\\. ", "\n2) ", "\n- ", "\n\\-", "\n+ ", "\n= ",
        "\n---", "\n```", "\n~~~", "\n    code", "\u00a0", "\u3000", "\u2028", "\v", "\f", "\t", "\r", "\0",
        "\n\u0663. ", "\u0663) ", "\n\n\n", "\n \n\n", "\n\n ",
    ]),
)


@settings(max_examples=3000, deadline=None)
@given(st.lists(PIECES, max_size=40).map("".join))
def test_plain_text_renders_as_markdown_it_renders_it(text):
    html = render_plain(text)
    if html is not None:
        assert html == PARSER.render(text)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.text(max_size=200), min_size=1, max_size=6))
def test_wire_paragraphs_escaped_by_ingest_take_the_short_way(paragraphs):
    """Whatever wire text holds, ingest's escaping leaves Markdown the short way renders as markdown-it-py."""
    text = "\n\n".join(escape_markdown(" ".join(p.split())) for p in paragraphs) + "\n"
    html = render_plain(text)
    if "\r" not in text and "\0" not in text and "\t" not in text:
        assert html is not None
    if html is not None:
        assert html == PARSER.render(text)


def test_paragraphs_headings_and_breaks():
    text = "## Markets \\*rally\\*\n\nFirst line  \nsecond line \nthird & \\<b> 5 > 4\n\n\nLast \\[1\\]\n"
    assert render_plain(text) == (
        "<h2>Markets *rally*</h2>\n"
        "<p>First line<br />\nsecond line\nthird &amp; &lt;b&gt; 5 &gt; 4</p>\n"
        "<p>Last [1]</p>\n"
    ) == PARSER.render(text)


def test_empty_headings_take_the_short_way():
    for text in ["##", "## ", "#", "######", "Text\n\n##\n\nMore", "## \n\n### x"]:
        assert render_plain(text) == PARSER.render(text), text


def test_other_syntax_goes_to_markdown_it():
    for text in ["*emphasis*", "a [link](https://example.com)", "- a list", "> a quote", "`code`",
                 "    indented", "Title\n=====", "&copy; 2024", "1. first", "<https://example.com>"]:
        assert render_plain(text) is None, text
        assert Markdown().render(text) == MarkdownIt("commonmark", {"html": False}).render(text)


def test_trim_set_and_version_are_markdown_it_pys():
    import markdown_it
    from markdown_it.common.utils import MD_TRIM_CHARS

    from newsdigest.markup import TRIM_CHARS, markdown_renderer_name
    assert sorted(TRIM_CHARS) == sorted(MD_TRIM_CHARS)
    assert markdown_renderer_name() == "markdown-it-py " + markdown_it.__version__
