"""Ingest: wire files -> article files with the contract's front matter; safe to run again."""

from __future__ import annotations

import hashlib
from pathlib import Path

import yaml
from conftest import write

from newsdigest.cli import main
from newsdigest.config import load_config
from newsdigest.ingest import ingest

WIRE = """---
date: 2024-03-01
entities: {{person: [Ann Lee], organization: [Acme], place: [Paris]}}
{extra}---

{headline}

By Ann Lee and Bo Chan

PARIS (AFP) - {lede}

Second paragraph of the story.

(Reporting by Ann Lee; Editing by Cy Dee)
"""


def wire(site: Path, name: str, headline: str = "Acme opens a plant in Paris", lede: str = "Acme opened.",
         extra: str = "") -> Path:
    return write(site / "content" / "wire" / name, WIRE.format(headline=headline, lede=lede, extra=extra))


def front(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    return yaml.safe_load(text.split("---\n")[1])


def articles(site: Path) -> list[Path]:
    return sorted((site / "content" / "articles").rglob("*.md"))


def test_seeds_become_articles_with_the_contract_front_matter(sample_site):
    paths = articles(sample_site)
    assert [p.relative_to(sample_site / "content" / "articles").parts[:3] for p in paths] == [
        ("2024", "01", "15"), ("2024", "01", "16")]
    fm = front(paths[1])
    assert fm["title"] == "North Korean minister lauds \u2018comradely\u2019 ties with Russia, meets Putin in Kremlin"
    assert fm["date"].isoformat() == "2024-01-16T00:00:00+00:00"
    assert fm["byline"] == ["Guy Faulconbridge"]
    assert fm["dateline"] == "Moscow"
    assert fm["source"] == "Reuters"
    assert fm["credits"] == {"editing": ["Andrew Osborn", "Nick Macfie", "Gareth Jones"]}
    assert fm["summary"].startswith("North Korea\u2019s foreign minister lauded")
    assert set(fm["entities"]) == {"person", "organization", "place"}
    assert "Vladimir Putin" in fm["entities"]["person"]
    assert "date: 2024-01-16T00:00:00+00:00" in paths[1].read_text(encoding="utf-8")


def test_the_two_seeds_form_one_thread(sample_site):
    threads = {front(p)["thread"] for p in articles(sample_site)}
    assert len(threads) == 1
    (thread,) = threads
    assert thread == thread.lower() and " " not in thread


def test_ingest_is_idempotent_and_never_touches_wire(site):
    path = wire(site, "a.txt")
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    config = load_config(site)
    first = ingest(site, config)
    assert len(first.written) == 1 and not first.errors
    snapshot = {p: p.read_bytes() for p in articles(site)}
    second = ingest(site, config)
    assert second.written == [] and second.updated == [] and second.unchanged == 1
    assert {p: p.read_bytes() for p in articles(site)} == snapshot
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_header_entities_thread_and_title_win(site):
    wire(site, "a.txt", extra="title: Editor's headline\nthread: my-story\n")
    ingest(site, load_config(site))
    fm = front(articles(site)[0])
    assert fm["title"] == "Editor's headline"
    assert fm["thread"] == "my-story"
    assert fm["entities"] == {"person": ["Ann Lee"], "organization": ["Acme"], "place": ["Paris"]}
    assert fm["byline"] == ["Ann Lee", "Bo Chan"] and fm["dateline"] == "Paris" and fm["source"] == "AFP"
    assert fm["credits"] == {"reporting": ["Ann Lee"], "editing": ["Cy Dee"]}


def test_hand_edited_article_is_kept_unless_forced(site):
    path = wire(site, "a.txt")
    config = load_config(site)
    ingest(site, config)
    (art,) = articles(site)
    art.write_text(art.read_text(encoding="utf-8").replace("Second paragraph", "Edited by hand"), encoding="utf-8")
    wire(site, "a.txt", lede="Acme opened a corrected plant.")
    report = ingest(site, config)
    assert report.kept_edits and "Edited by hand" in art.read_text(encoding="utf-8")
    report = ingest(site, config, [path], force=True)
    assert report.updated and "corrected plant" in art.read_text(encoding="utf-8")


def test_changed_wire_updates_its_own_unedited_article(site):
    wire(site, "a.txt")
    config = load_config(site)
    ingest(site, config)
    wire(site, "a.txt", lede="Acme opened a second time.")
    report = ingest(site, config)
    assert len(report.updated) == 1 and len(articles(site)) == 1
    assert "second time" in articles(site)[0].read_text(encoding="utf-8")


def test_same_headline_same_day_gets_its_own_file(site):
    wire(site, "a.txt", lede="First story.")
    wire(site, "b.txt", lede="Another story with the same headline.")
    ingest(site, load_config(site))
    assert len(articles(site)) == 2


def test_undated_wire_is_reported_and_takes_date(site, capsys):
    write(site / "content" / "wire" / "nodate.txt", "Headline\n\nLONDON (Reuters) - Text.\n")
    wire(site, "good.txt")
    status = main(["ingest", "--site", str(site)])
    err = capsys.readouterr().err
    assert status == 1
    assert "content/wire/nodate.txt: no date" in err and "--date" in err
    assert "Traceback" not in err
    assert len(articles(site)) == 1  # the good one is still written
    write(site / "content" / "wire" / "nodate.txt",
          "---\nentities: {person: [], organization: [], place: []}\n---\nHeadline\n\nLONDON (Reuters) - Text.\n")
    assert main(["ingest", "--site", str(site), "--date", "2024-02-02"]) == 0
    assert any("2024/02/02" in p.as_posix() for p in articles(site))


def test_batch_is_processed_in_date_order(site):
    wire(site, "z-early.txt", headline="Early story").write_text(
        WIRE.format(headline="Early", lede="x.", extra="").replace("2024-03-01", "2024-01-01"), encoding="utf-8")
    wire(site, "a-late.txt", headline="Late story")
    report = ingest(site, load_config(site))
    assert [Path(p).parts[2:5] for p in report.written] == [("2024", "01", "01"), ("2024", "03", "01")]
