"""Versions: wire markers, near-duplicates of the seeds, one article with its history on every page."""

from __future__ import annotations

import hashlib
import logging
import shutil
from pathlib import Path

import feedparser
import pytest
import yaml
from conftest import ROOT, page, text_of
from hypothesis import given
from hypothesis import strategies as st

from newsdigest.build import build_site
from newsdigest.config import Config, load_config
from newsdigest.content import load_articles
from newsdigest.errors import ContentError
from newsdigest.ingest import ingest
from newsdigest.versions import parse_marker, read_story, similarity

SEEDS = ROOT / "content" / "wire"
LAUDS = (SEEDS / "reuters-north-korean-minister-lauds-ties.txt").read_text(encoding="utf-8")
BUILDS = (SEEDS / "reuters-russia-says-it-will-build-ties.txt").read_text(encoding="utf-8")
HEADLINE = "North Korean minister lauds \u2018comradely\u2019 ties with Russia, meets Putin in Kremlin"
# Entities in the header skip spaCy; one pinned thread makes "same story thread" certain.
ENTITIES = ("entities: {person: [Choe Son Hui, Vladimir Putin, Sergei Lavrov], organization: [Kremlin],"
            " place: [Moscow, North Korea]}\nthread: russia-north-korea\n")


# -- edited copies of the seed, as the agency would send them ------------------------------------

def _with(text: str, marker: str, date: str) -> str:
    text = text.replace("date: 2024-01-16\n", f"date: {date}\n" + ENTITIES, 1)
    return text.replace("\n\nNorth Korean minister lauds", f"\n\n{marker}North Korean minister lauds", 1)


def first_take() -> str:
    return _with(LAUDS, "", "2024-01-16T14:00:00+00:00")


def resend(date: str = "2024-01-16T14:30:00+00:00") -> str:
    """The same story re-sent later (a second feed, or an RPT)."""
    return _with(LAUDS, "RPT-", date)


def update() -> str:
    """UPDATE 1: a note, a rewritten lede and two new paragraphs."""
    text = _with(LAUDS, "UPDATE 1-", "2024-01-16T15:40:00+00:00")
    text = text.replace("By Guy Faulconbridge\n", "By Guy Faulconbridge\n\n"
                        "(Adds Kremlin readout, Peskov comment in paragraphs 3-4)\n", 1)
    text = text.replace("who has been invited", "who the Kremlin said is ready to accept an invitation", 1)
    return text.replace(
        "No further details were immediately available.\n",
        "Putin told Choe that Moscow valued the visit and asked her to pass on his warm greetings to Kim, "
        "according to a Kremlin readout of the meeting published later on Tuesday.\n\n"
        "Kremlin spokesman Dmitry Peskov said the talks had been substantive and that dates for a Putin trip "
        "to Pyongyang would be agreed through diplomatic channels.\n", 1)


def corrected(text: str = "") -> str:
    """CORRECTED: one fact fixed in the seed (or in `text`, an update), with the agency's note."""
    if text:
        text = text.replace("UPDATE 1-", "CORRECTED-UPDATE 1-", 1).replace("T15:40:", "T16:20:", 1)
    else:
        text = _with(LAUDS, "CORRECTED-", "2024-01-16T16:20:00+00:00")
    text = text.replace("By Guy Faulconbridge\n", "By Guy Faulconbridge\n\n(Corrects month of Lavrov's visit "
                        "to North Korea in paragraph 7 to July from October)\n", 1)
    return text.replace("who visited North Korea last October", "who visited North Korea last July", 1)


def follow_up() -> str:
    """The next day's story: new news on top of five of the seed's background paragraphs."""
    keep = [p for p in LAUDS.split("\n\n") if p.startswith((
        "Putin has deepened", "Both Russia and North Korea", "Russia has gone out", "For Putin, who says",
        "For Kim, who has"))]
    return ("---\ndate: 2024-01-17\n" + ENTITIES + "---\n\n"
            "North Korea's foreign minister heads to Russia's far east after Kremlin talks\n\n"
            "MOSCOW (Reuters) - North Korea's Foreign Minister Choe Son Hui left Moscow on Wednesday for "
            "Vladivostok, where she was expected to visit a shipyard and meet regional officials.\n\n"
            "Choe's visit followed talks with President Vladimir Putin in the Kremlin on Tuesday.\n\n"
            "Regional officials said the delegation would discuss trade, tourism and direct flights.\n\n"
            + "\n\n".join(keep) + "\n\n(Reporting by Reuters; Editing by Andrew Osborn)\n")


def other_seed() -> str:
    return BUILDS.replace("date: 2024-01-15\n", "date: 2024-01-15\n" + ENTITIES, 1)


def body(text: str) -> str:
    story, _ = read_story(text)
    return "\n".join(b.text for b in story.blocks)


# -- markers ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("headline", "clean", "label", "kinds"), [
    ("UPDATE 2-Putin meets Choe", "Putin meets Choe", "UPDATE 2", ()),
    ("UPDATE 2: Putin meets Choe", "Putin meets Choe", "UPDATE 2", ()),
    ("REFILE-Putin meets Choe", "Putin meets Choe", "REFILE", ()),
    ("CORRECTED-Putin meets Choe", "Putin meets Choe", "CORRECTED", ()),
    ("RPT-Putin meets Choe", "Putin meets Choe", "RPT", ()),
    ("WRAPUP 1-Putin meets Choe", "Putin meets Choe", "WRAPUP 1", ()),
    ("EXCLUSIVE-Putin meets Choe", "Putin meets Choe", "", ("EXCLUSIVE",)),
    ("FACTBOX-What Putin and Choe agreed", "What Putin and Choe agreed", "", ("FACTBOX",)),
    ("ANALYSIS-Why Putin courts Kim", "Why Putin courts Kim", "", ("ANALYSIS",)),
    ("Exclusive: Putin meets Choe", "Putin meets Choe", "", ("EXCLUSIVE",)),
    ("UPDATE 3-EXCLUSIVE-Putin meets Choe", "Putin meets Choe", "UPDATE 3", ("EXCLUSIVE",)),
    ("REFILE-UPDATE 1-Putin meets Choe", "Putin meets Choe", "REFILE-UPDATE 1", ()),
    ("CORRECTED (OFFICIAL)-Putin meets Choe", "Putin meets Choe", "CORRECTED", ()),
    ("Fed holds rates steady (2)", "Fed holds rates steady", "UPDATE 2", ()),
    # Not markers: they stay in the headline.
    ("U.S.-China talks resume", "U.S.-China talks resume", "", ()),
    ("Russia-Ukraine war: what we know", "Russia-Ukraine war: what we know", "", ()),
    ("Putin: the West will fail", "Putin: the West will fail", "", ()),
    ("Analysis shows wages rose", "Analysis shows wages rose", "", ()),
    ("UPDATE 2-", "UPDATE 2-", "", ()),
])
def test_markers_in_each_agency_style(headline, clean, label, kinds):
    text, marker = parse_marker(headline)
    assert (text, marker.label, marker.kinds) == (clean, label, kinds)
    assert marker.is_correction == (label == "CORRECTED")


@given(st.text(max_size=120))
def test_marker_parsing_never_loses_the_headline(headline):
    clean, _ = parse_marker(headline)
    assert clean in headline and (clean.strip() or not headline.strip())


def test_read_story_takes_the_note_out_and_keeps_the_dateline():
    story, marker = read_story(corrected())
    assert story.headline == HEADLINE
    assert story.dateline == "MOSCOW" and story.agency == "Reuters"
    assert marker.label == "CORRECTED" and marker.is_correction
    assert marker.note.startswith("Corrects month of Lavrov's visit") and not marker.note.endswith(")")
    assert not any(b.text.startswith("(Corrects") for b in story.blocks)


def test_header_names_version_and_what_it_replaces():
    text = "---\ndate: 2024-01-16\nversion: 3\nreplaces: content/wire/a.txt\n---\n\nHeadline\n\nLONDON - Text.\n"
    story, marker = read_story(text)
    assert marker.label == "UPDATE 3" and marker.replaces == "content/wire/a.txt" and marker.is_version
    assert read_story(text.replace("version: 3", "version: corrected"))[1].is_correction


# -- the threshold, on real wire text -------------------------------------------------------------

def test_threshold_separates_versions_from_other_stories():
    threshold = Config().versions.threshold
    seed = body(first_take())
    same = {"re-send": similarity(seed, body(resend())), "update": similarity(seed, body(update())),
            "correction": similarity(seed, body(corrected())),
            "correction of the update": similarity(body(update()), body(corrected(update())))}
    different = {"other seed": similarity(seed, body(other_seed())),
                 "follow-up": similarity(seed, body(follow_up()))}
    assert min(same.values()) >= threshold + 0.1, same
    assert max(different.values()) <= threshold - 0.2, different


# -- ingest -------------------------------------------------------------------------------------------

def put(site: Path, name: str, text: str) -> Path:
    path = site / "content" / "wire" / name
    path.write_text(text, encoding="utf-8")
    return path


def front(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8").split("---\n")[1])


def articles(site: Path) -> list[Path]:
    return sorted((site / "content" / "articles").rglob("*.md"))


@pytest.fixture
def versioned(site: Path) -> Path:
    """Both seeds, then a correction, an update and a re-send of the second, in two ingest runs."""
    put(site, "builds.txt", other_seed())
    put(site, "lauds.txt", first_take())
    report = ingest(site, load_config(site))
    assert len(report.written) == 2 and not report.errors
    put(site, "lauds-update-1.txt", update())
    put(site, "lauds-corrected.txt", corrected(update()))
    put(site, "lauds-rpt.txt", resend())
    report = ingest(site, load_config(site))
    assert not report.errors and not report.written
    assert report.versions == ["content/articles/2024/01/16/" + Path(report.versions[0]).name] * 3
    return site


def test_update_correction_and_resend_become_versions_of_the_seed(versioned):
    paths = articles(versioned)
    assert [p.relative_to(versioned / "content" / "articles").as_posix() for p in paths] == [
        "2024/01/15/russia-says-it-will-build-ties-with-north-korea-as-foreign.md",
        "2024/01/16/north-korean-minister-lauds-comradely-ties-with-russia.md"]
    fm = front(paths[1])
    assert [(v["marker"], v["wire_file"]) for v in fm["versions"]] == [
        ("", "content/wire/lauds.txt"), ("RPT", "content/wire/lauds-rpt.txt"),
        ("UPDATE 1", "content/wire/lauds-update-1.txt"),
        ("CORRECTED-UPDATE 1", "content/wire/lauds-corrected.txt")]
    assert all(v["headline"] == HEADLINE for v in fm["versions"])
    assert fm["versions"][3]["note"].startswith("Corrects month")
    assert fm["date"].isoformat() == "2024-01-16T14:00:00+00:00"
    assert fm["updated"].isoformat() == "2024-01-16T16:20:00+00:00"
    assert fm["title"] == HEADLINE and fm["thread"] == "russia-north-korea"
    assert fm["wire"]["file"] == "content/wire/lauds-corrected.txt"
    text = paths[1].read_text(encoding="utf-8")
    assert "last July" in text and "Kremlin readout" in text and "(Corrects" not in text
    assert "versions" not in front(paths[0])  # the other story of the thread stays its own article


def test_wire_files_stay_and_a_second_ingest_changes_nothing(versioned):
    wire = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in (versioned / "content" / "wire").iterdir()}
    assert len(wire) == 5
    snapshot = {p: p.read_bytes() for p in articles(versioned)}
    report = ingest(versioned, load_config(versioned))
    assert report.unchanged == 5 and not report.written and not report.updated
    assert {p: p.read_bytes() for p in articles(versioned)} == snapshot
    shutil.rmtree(versioned / ".cache")  # derived state: rebuilt from the articles, same result
    report = ingest(versioned, load_config(versioned))
    assert not report.written and not report.updated and not report.errors
    assert {p: p.read_bytes() for p in articles(versioned)} == snapshot


def test_version_index_is_rebuilt_from_front_matter(versioned):
    (versioned / ".cache" / "versions.sqlite").unlink()
    second_feed = _with(LAUDS, "", "2024-01-16T19:00:00+00:00").replace(
        "North Korean minister lauds", "N.Korea's foreign minister praises", 1)  # no marker, other headline
    put(versioned, "second-feed.txt", second_feed)
    report = ingest(versioned, load_config(versioned))
    assert len(report.versions) == 1 and len(articles(versioned)) == 2
    fm = front(articles(versioned)[1])
    assert fm["versions"][-1]["wire_file"] == "content/wire/second-feed.txt"
    assert fm["title"].startswith("N.Korea's foreign minister praises")


def test_follow_up_story_is_a_new_article(versioned):
    put(versioned, "follow-up.txt", follow_up())
    report = ingest(versioned, load_config(versioned))
    assert len(report.written) == 1 and not report.versions


def test_resend_outside_the_window_is_a_new_article(versioned):
    put(versioned, "lauds-much-later.txt", resend("2024-01-26T09:00:00+00:00").replace("RPT-", ""))
    report = ingest(versioned, load_config(versioned))
    assert len(report.written) == 1 and not report.versions


def test_a_header_naming_another_slug_is_another_document(versioned):
    # Wire systems that name each document (a `slug:` header) say when two are different
    # documents, however alike their text (two results tables, a duplicate in an archive).
    text = resend("2024-01-16T12:00:00+00:00").replace("RPT-", "").replace("---\n\n", "slug: another-doc\n---\n\n", 1)
    put(versioned, "another.txt", text)
    report = ingest(versioned, load_config(versioned))
    assert len(report.written) == 1 and not report.versions
    assert report.written[0].endswith("/another-doc.md")


def test_replaces_header_links_a_rewritten_story(versioned):
    text = follow_up().replace("---\n\n", "replaces: lauds.txt\n---\n\n", 1)
    put(versioned, "rewrite.txt", text)
    report = ingest(versioned, load_config(versioned))
    assert not report.written and len(report.versions) == 1


def test_replaces_a_hand_written_article_waits_beside_it(site):
    path = site / "content" / "articles" / "2024" / "01" / "16" / "mine.md"
    path.parent.mkdir(parents=True)
    path.write_text("---\ntitle: Mine\ndate: 2024-01-16T10:00:00+00:00\n---\n\nWritten by hand.\n", encoding="utf-8")
    put(site, "lauds.txt", first_take().replace("---\n\n", "replaces: 2024/01/16/mine\n---\n\n", 1))
    report = ingest(site, load_config(site))
    assert not report.written and report.kept_edits
    assert path.read_text(encoding="utf-8").endswith("Written by hand.\n")
    assert "Telegram" in path.with_name("mine.v2.md.new").read_text(encoding="utf-8")


def test_hand_edited_article_gets_the_version_beside_it(site, caplog):
    put(site, "lauds.txt", first_take())
    ingest(site, load_config(site))
    (art,) = articles(site)
    edited = art.read_text(encoding="utf-8").replace("Telegram messaging app", "Telegram app")
    art.write_text(edited, encoding="utf-8")
    put(site, "lauds-update-1.txt", update())
    with caplog.at_level(logging.WARNING):
        report = ingest(site, load_config(site))
    assert art.read_text(encoding="utf-8") == edited and report.kept_edits
    beside = art.with_name(art.stem + ".v2.md.new")
    assert "Kremlin readout" in beside.read_text(encoding="utf-8")
    assert art.name in caplog.text and beside.name in caplog.text
    loaded, errors = load_articles(site / "content" / "articles", load_config(site))
    assert len(loaded) == 1 and not errors  # the build does not see the waiting version
    assert ingest(site, load_config(site)).kept_edits  # reported again until the editor decides
    report = ingest(site, load_config(site), force=True)
    assert report.versions and "Kremlin readout" in art.read_text(encoding="utf-8")


def test_bad_versions_entry_names_file_and_line(site):
    path = site / "content" / "articles" / "2024" / "01" / "16" / "a.md"
    path.parent.mkdir(parents=True)
    path.write_text("---\ntitle: A\ndate: 2024-01-16\nversions:\n- {headline: B}\n---\n\nText.\n", encoding="utf-8")
    _, errors = load_articles(site / "content" / "articles", load_config(site))
    (error,) = errors
    assert isinstance(error, ContentError) and error.line == 4
    assert "content/articles/2024/01/16/a.md" in str(error) and "versions" in str(error)


# -- what readers see -------------------------------------------------------------------------------

def test_page_thread_and_feed_show_one_article_with_its_history(versioned):
    report = build_site(versioned, load_config(versioned))
    assert not report.errors, report.errors
    route = "2024/01/16/north-korean-minister-lauds-comradely-ties-with-russia/"
    tree = page(versioned, route)
    assert text_of(tree, "h1") == [HEADLINE]
    (updated,) = text_of(tree, ".updated")
    assert updated.startswith("Updated 16 January 2024, 16:20") and "3 updates" in updated
    assert tree.css_first(".updated time").attributes["datetime"] == "2024-01-16T16:20:00+00:00"
    (note,) = text_of(tree, ".correction")
    assert "Corrects month of Lavrov's visit" in note
    earlier = text_of(tree, "details.versions li")
    assert len(earlier) == 3 and "UPDATE 1" in earlier[0] and "RPT" in earlier[1]
    assert earlier[2].startswith("16 January 2024, 14:00") and HEADLINE in earlier[2]

    thread = page(versioned, "threads/russia-north-korea/")
    assert sum(HEADLINE in t for t in text_of(thread, "main a")) == 1
    front_page = page(versioned, "")
    assert sum(HEADLINE in t for t in text_of(front_page, "main a")) <= 1

    feed = feedparser.parse((versioned / "output" / "atom.xml").read_bytes())
    entries = [e for e in feed.entries if e.title == HEADLINE]
    assert len(entries) == 1 and len(feed.entries) == 2
    assert entries[0].id == "https://user.github.io/repo/" + route
    assert entries[0].updated.startswith("2024-01-16T16:20:00")
    assert entries[0].published.startswith("2024-01-16T14:00:00")


def test_new_version_moves_its_thread_to_the_top(site):
    put(site, "lauds.txt", first_take())
    quake = ("---\ndate: 2024-01-16T20:00:00+00:00\nentities: {place: [Chile]}\nthread: quake\n---\n\n"
             "Earthquake hits Chile coast\n\nSANTIAGO (Reuters) - A strong earthquake struck off the coast.\n")
    put(site, "quake.txt", quake)
    ingest(site, load_config(site))
    build_site(site, load_config(site))
    assert text_of(page(site, "threads/"), "main h2 a") == ["Earthquake hits Chile coast", HEADLINE]
    assert text_of(page(site, ""), ".digest h2")[0] == "Earthquake hits Chile coast"
    put(site, "lauds-rpt.txt", resend("2024-01-16T21:00:00+00:00"))
    ingest(site, load_config(site))
    build_site(site, load_config(site))
    assert text_of(page(site, "threads/"), "main h2 a") == [HEADLINE, "Earthquake hits Chile coast"]
    assert text_of(page(site, ""), ".digest h2")[0] == HEADLINE  # the front page: today's digest


def test_thread_index_compares_later_stories_with_the_latest_version(versioned):
    """The update's new words (the Kremlin's readout) are in the thread index, not only the first take's."""
    import json
    import sqlite3
    with sqlite3.connect(versioned / ".cache" / "threads.sqlite") as db:
        rows = dict(db.execute("SELECT slug, vec FROM docs"))
        df = dict(db.execute("SELECT key, df FROM keys"))
    lauds = json.loads(next(v for slug, v in rows.items() if "lauds" in slug))
    assert "t:substantive" in lauds["terms"] and "t:diplomatic" in lauds["terms"]
    assert df["t:substantive"] == 1  # counted once, for the one article that now says it
