"""The hostile input corpus: small wire files and hand-edited articles, written at test time.

Nothing big is committed: the 50 MB file and the 1 MB lines are made here, in the test's
temporary folder. Each wire case carries a YAML header with `entities:`, so ingest skips
spaCy and the whole corpus runs in seconds.
"""

from __future__ import annotations

import codecs
import random

NO_NER = "entities: {person: [], organization: [], place: []}"
HOSTILE_TEXT = (
    '<script>alert("wire")</script> <img src=x onerror=alert(1)> <a href="javascript:alert(2)">x</a> '
    "[click](javascript:alert(3)) [data](data:text/html;base64,PHNjcmlwdD5hbGVydCg0KTwvc2NyaXB0Pg==) "
    "![img](data:image/svg+xml;base64,PHN2Zz4=) <javascript:alert(5)> &lt;b&gt; <iframe src=//evil.example>"
)


WORDS = ("harbour", "minister", "grain", "river", "council", "budget", "storm", "railway", "vote", "border",
         "museum", "strike", "festival", "court", "mine", "bridge", "school", "market", "drought", "treaty")


def unique_body(seed: str, paragraphs: int = 2) -> str:
    """Paragraphs of words no other case shares, so ingest never takes one case for a version of another."""
    rng = random.Random(seed)
    return "\n\n".join(" ".join(rng.choice(WORDS) + str(rng.randrange(10_000)) for _ in range(30)) + "."
                       for _ in range(paragraphs))


def wire(headline: str, body: str | None = None, *, date: str = "2024-03-01", header: str = NO_NER) -> str:
    """Wire copy with a YAML header that dates it and names its entities."""
    body = unique_body(headline) if body is None else body
    return f"---\ndate: {date}\n{header}\n---\n\n{headline}\n\n{body}\n"


def encoding_cases() -> dict[str, tuple[bytes, str]]:
    """file name -> (bytes, the headline they must decode to)."""
    cp1252 = "Caf\u00e9 owners say \u201cno\u201d to \u20ac5 fee \u2013 again"
    latin1 = "M\u00fcller wins in Z\u00fcrich, \u00bd point ahead"
    cyrillic = "\u0417\u0435\u043b\u0435\u043d\u0441\u043a\u0438\u0439 meets envoys in \u5317\u4eac"
    greek = "\u0395\u03bb\u03bb\u03ac\u03b4\u03b1 votes \u2014 results due"
    return {
        "cp1252.txt": (wire(cp1252).encode("cp1252"), cp1252),
        "latin1.txt": (wire(latin1).encode("latin-1"), latin1),
        "utf16le-bom.txt": (codecs.BOM_UTF16_LE + wire(cyrillic).encode("utf-16-le"), cyrillic),
        "utf16be-bom.txt": (codecs.BOM_UTF16_BE + wire(greek).encode("utf-16-be"), greek),
        "utf8-bom.txt": (codecs.BOM_UTF8 + wire("Plain UTF-8 \u2018with\u2019 a BOM").encode("utf-8"),
                         "Plain UTF-8 \u2018with\u2019 a BOM"),
    }


def binary_cases() -> dict[str, bytes]:
    """Files that are not wire text at all."""
    rng = random.Random(7)
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(rng.randrange(256) for _ in range(3000))
    jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + bytes(rng.randrange(256) for _ in range(3000))
    return {"photo.png": png, "photo.jpg": jpeg, "noise.txt": bytes(rng.randrange(256) for _ in range(5000)),
            "utf16-without-bom.txt": wire("No BOM here").encode("utf-16-le")}


def long_line(size: int = 1_000_000) -> str:
    """Wire copy whose second paragraph is one line of `size` characters."""
    words = ("word " * (size // 5))[:size]
    return wire("A story with a very long line", f"Short lede.\n\n{words}\n\nLast paragraph.")


def hostile_line(size: int = 200_000) -> str:
    """Lines shaped to make backtracking regular expressions take forever."""
    return wire("Backtracking bait", "Lede.\n\n" + "tag" * (size // 3) + "\n\n(" + "Reporting by x " * (size // 15)
                + "\n\n" + "AB, " * (size // 4))


def article(title: str, date: str, body: str = "Body text.", extra: str = "") -> str:
    """A hand-edited article file."""
    return f"---\ntitle: {title}\ndate: {date}\n{extra}\n---\n\n{body}\n"


HOSTILE_ARTICLE = article(
    "'<script>alert(\"title\")</script> Hand-edited'", "2024-03-02T10:00:00+00:00",
    body=HOSTILE_TEXT + "\n\n[ref link][r] and [upper](JaVaScRiPt:alert(6)) and [tab](java&#x09;script:alert(7))\n\n"
    "[r]: javascript:alert(8)\n\n<div onclick=alert(9)>raw html</div>\n",
    extra="summary: '<img src=x onerror=alert(10)>'\nbyline: ['<b>Bold</b> Reporter']\n"
          "entities: {person: ['<script>x</script>', 'javascript:alert(11)']}")

BAD_HEADERS = {
    "unterminated": "---\ndate: 2024-03-01\n\nHeadline of an unterminated header\n\nBody.\n",
    "tabs": "---\ndate: 2024-03-01\n\tsource: Reuters\n---\n\nHeadline with tabs\n\nBody.\n",
    "date-tomorrow": f"---\nsource: Reuters\ndate: tomorrow\n{NO_NER}\n---\n\nHeadline dated tomorrow\n\nBody.\n",
    "entities-string": "---\ndate: 2024-03-01\nentities: Putin\n---\n\nHeadline with bad entities\n\nBody.\n",
    "date-feb-30": f"---\ndate: 2024-02-30\n{NO_NER}\n---\n\nHeadline dated 30 February\n\nBody.\n",
}

BAD_FRONT_MATTER = {
    "unterminated.md": "---\ntitle: Unterminated\ndate: 2024-03-01\n\nBody.\n",
    "tabs.md": "---\ntitle: Tabs\ndate: 2024-03-01\nentities:\n\tperson: [A]\n---\n\nBody.\n",
    "date-tomorrow.md": "---\ntitle: Tomorrow\ndate: tomorrow\n---\n\nBody.\n",
    "entities-string.md": "---\ntitle: Bad entities\ndate: 2024-03-01\nentities: Putin\n---\n\nBody.\n",
    "title-list.md": "---\ntitle: [a, b]\ndate: 2024-03-01\n---\n\nBody.\n",
    "no-date.md": "---\ntitle: No date\n---\n\nBody.\n",
    "alias-bomb.md": "---\ntitle: Bomb\ndate: 2024-03-01\na: &a [x, x, x, x, x, x, x, x, x, x]\n"
                     "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                     "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                     "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\nthread: *f\nentities: {person: *f}\n"
                     "---\n\nBody.\n",
    "not-utf8.md": "---\ntitle: Caf\u00e9\ndate: 2024-03-01\n---\n\nBody.\n",  # written as cp1252 by the test
    "date-feb-30.md": "---\ntitle: No such day\ndate: 2024-02-30\n---\n\nBody.\n",
    "year-one.md": "---\ntitle: Year one\ndate: 0001-01-01T00:00:00+05:00\n---\n\nBody.\n",
}

TRAVERSAL = ["../../x", "/etc/passwd", "%2e%2e", "%2e%2e%2fescape", "C:\\Windows\\evil", "CON", "nul", "..", "."]
