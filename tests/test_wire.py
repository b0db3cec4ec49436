"""Wire copy -> headline, byline, dateline, credits and body, on real and edge-case text."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from newsdigest.errors import WireError
from newsdigest.markup import Markdown
from newsdigest.wire import decode_wire, markdown_body, parse_wire

WIRE = Path(__file__).resolve().parent.parent / "content" / "wire"


@pytest.fixture(scope="module")
def minister():
    return parse_wire((WIRE / "reuters-north-korean-minister-lauds-ties.txt").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def russia():
    return parse_wire((WIRE / "reuters-russia-says-it-will-build-ties.txt").read_text(encoding="utf-8"))


def test_seed_headline_byline_dateline(minister):
    assert minister.headline == ("North Korean minister lauds \u2018comradely\u2019 ties with Russia, "
                                 "meets Putin in Kremlin")
    assert minister.byline == ("Guy Faulconbridge",)
    assert minister.dateline == "MOSCOW"
    assert minister.agency == "Reuters"
    assert minister.lede.startswith("North Korea\u2019s foreign minister lauded comradely ties")
    assert minister.header["date"].isoformat() == "2024-01-16"


def test_seed_credits_leave_out_the_agency(minister, russia):
    assert minister.credits == {"editing": ["Andrew Osborn", "Nick Macfie", "Gareth Jones"]}
    assert russia.credits == {
        "reporting": ["Josh Smith"],
        "additional_reporting": ["Hyunsu Yim", "Lidia Kelly"],
        "editing": ["Jamie Freed", "Jack Kim", "Angus MacSwan"],
    }


def test_image_placeholders_never_reach_the_body(minister):
    body = markdown_body(minister)
    assert "VIEWIMAGE" not in body and "tagreuters" not in body
    assert "(Reporting by" not in body


def test_all_caps_subhead_becomes_a_heading(minister):
    assert ("h", "PUTIN VISIT?") in [(b.kind, b.text) for b in minister.blocks]
    assert "## PUTIN VISIT?" in markdown_body(minister)


@pytest.mark.parametrize("byline, names", [
    ("By Guy Faulconbridge", ("Guy Faulconbridge",)),
    ("By Josh Smith and Hyunsu Yim", ("Josh Smith", "Hyunsu Yim")),
    ("By Ann Lee, Bo Chan and Cy Dee", ("Ann Lee", "Bo Chan", "Cy Dee")),
    ("By Ann Lee, Bo Chan, and Cy Dee", ("Ann Lee", "Bo Chan", "Cy Dee")),
])
def test_byline_forms(byline, names):
    story = parse_wire(f"A headline\n\n{byline}\n\nLONDON (Reuters) - Something happened today.\n")
    assert story.byline == names


@pytest.mark.parametrize("lede, place, agency", [
    ("MOSCOW (Reuters) -North Korea said", "MOSCOW", "Reuters"),
    ("MOSCOW (Reuters) - North Korea said", "MOSCOW", "Reuters"),
    ("WASHINGTON (AP) \u2014 North Korea said", "WASHINGTON", "AP"),
    ("PARIS (AFP) - North Korea said", "PARIS", "AFP"),
    ("SEOUL (Reuters) \u2013 North Korea said", "SEOUL", "Reuters"),
    ("LA CORUNA, Spain (Reuters) - North Korea said", "LA CORUNA, Spain", "Reuters"),
    ("TOKYO, Jan 16 (Reuters) - North Korea said", "TOKYO", "Reuters"),
])
def test_dateline_forms(lede, place, agency):
    story = parse_wire(f"A headline\n\n{lede} on Tuesday.\n")
    assert (story.dateline, story.agency) == (place, agency)
    assert story.lede == "North Korea said on Tuesday."


def test_header_overrides_and_printed_date():
    story = parse_wire("---\ntitle: Given title\nslug: given\n---\n\nWire headline\n\nMay 03, 2013\n\nText.\n")
    assert story.headline == "Given title"
    assert story.printed_date.isoformat() == "2013-05-03"


def test_headless_wire_uses_the_first_sentence():
    lede = ("Perennial party girl Tara Reid checked herself into Promises Treatment Center, her rep "
            "told People. More words follow here.")
    story = parse_wire(lede + "\n\nSecond paragraph.\n")
    assert story.headline.startswith("Perennial party girl Tara Reid checked herself")
    assert story.lede == lede  # the lede stays in the body


def test_wire_text_is_text_not_html_or_markdown():
    story = parse_wire("Headline\n\n<script>alert(1)</script> [click](javascript:alert(1)) *not em* # no\n\n"
                       "1. not a list\n")
    html = Markdown().render(markdown_body(story))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<a " not in html and "<em>" not in html and "<ol" not in html


def test_unclosed_header_names_the_line():
    with pytest.raises(WireError) as err:
        parse_wire("---\ndate: 2024-01-01\nHeadline\n", "content/wire/x.txt")
    assert "content/wire/x.txt:1" in str(err.value) and "never closed" in str(err.value)


def test_bad_yaml_header_names_the_line():
    with pytest.raises(WireError) as err:
        parse_wire("---\ndate: 2024-01-01\ntitle: [unclosed\n---\nHeadline\n", "w.txt")
    assert str(err.value).startswith("w.txt:")


@pytest.mark.parametrize("encoding, prefix", [
    ("utf-8", b""), ("utf-8-sig", b""), ("utf-16", b""), ("cp1252", b""),
])
def test_encodings_decode_without_mojibake(encoding, prefix):
    text = "Caf\u00e9 \u201cquoted\u201d \u2013 na\u00efve"
    data = prefix + text.encode(encoding)
    assert decode_wire(data) == text


def test_utf16_bom_is_honoured():
    name = "Zelensky \u0417\u0435\u043b"
    assert decode_wire(codecs.BOM_UTF16_LE + name.encode("utf-16-le")) == name


def test_binary_is_refused():
    with pytest.raises(WireError, match="binary"):
        decode_wire(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "content/wire/pic.png")


def test_empty_file_is_refused():
    with pytest.raises(WireError, match="empty"):
        parse_wire("\n\n  \n", "content/wire/empty.txt")


@pytest.mark.parametrize("stamp", ["updated 8: 41 p. m. EST, Tue March 3, 2009", "Article posted on 08. 07. 2012",
                                   "MONDAY, MAY 23, 2005", "April 27, 2009"])
def test_time_stamp_before_the_headline_is_not_the_headline(stamp):
    story = parse_wire(f"{stamp}\n\nObama overturns Bush endangered species rule\n\nPresident Obama on Tuesday "
                       "overturned a regulation.\n")
    assert story.headline == "Obama overturns Bush endangered species rule"
    assert story.lede.startswith("President Obama")


def test_headless_lede_is_not_cut_at_an_abbreviation():
    story = parse_wire("Stephen A. Smith has reported that the Philadelphia 76ers have parted ways with coach "
                       "Maurice Cheeks in Philadelphia today. The 76ers have a record of 9-14.\n\nMore.\n")
    assert story.headline.startswith("Stephen A. Smith has reported that the Philadelphia 76ers")
