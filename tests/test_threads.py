"""Thread assignment: seeds join, sibling stories stay apart, ids stable, index rebuildable."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newsdigest.config import ThreadSettings
from newsdigest.threads import ThreadDoc, ThreadIndex, make_thread_id, recompute_threads
from newsdigest.wire import parse_wire

WIRE = Path(__file__).resolve().parent.parent / "content" / "wire"
SEED_ENTITIES = {
    "reuters-russia-says-it-will-build-ties": {
        "person": ["Vladimir Putin", "Kim Jong Un", "Sergei Lavrov", "Choe Son Hui", "Dmitry Peskov"],
        "organization": ["Kremlin", "KCNA", "Foreign Ministry"],
        "place": ["Russia", "North Korea", "Moscow", "Pyongyang", "Ukraine"],
    },
    "reuters-north-korean-minister-lauds-ties": {
        "person": ["Vladimir Putin", "Choe Son Hui", "Sergei Lavrov", "Kim Jong Un", "Dmitry Peskov"],
        "organization": ["Kremlin", "Telegram"],
        "place": ["Russia", "North Korea", "Moscow", "Pyongyang", "Ukraine"],
    },
}


def make_doc(slug: str, day: str, title: str, body: str, entities: dict,
             thread: str | None = None) -> ThreadDoc:
    """A ThreadDoc from a headline and body paragraphs separated by blank lines."""
    paras = [p.strip() for p in body.strip().split("\n\n")]
    return ThreadDoc(slug=slug, date=datetime.fromisoformat(day).replace(tzinfo=UTC), title=title,
                     lede=paras[0], text="\n".join(paras), entities=entities, thread=thread)


def seed_docs() -> list[ThreadDoc]:
    docs = []
    for path in sorted(WIRE.glob("*.txt")):
        story = parse_wire(path.read_text(encoding="utf-8"), str(path))
        day = story.header["date"]
        docs.append(ThreadDoc(slug=path.stem, date=datetime(day.year, day.month, day.day, tzinfo=UTC),
                              title=story.headline, lede=story.lede, text="\n".join(story.paragraphs),
                              entities=SEED_ENTITIES[path.stem]))
    return sorted(docs, key=lambda d: (d.date, d.slug))


QUAKE_CHILE = {"person": ["Gabriel Boric"], "organization": ["U.S. Geological Survey", "Senapred"],
               "place": ["Chile", "Coquimbo", "La Serena", "Santiago"]}
QUAKE_JAPAN = {"person": ["Fumio Kishida"], "organization": ["Japan Meteorological Agency", "NHK"],
               "place": ["Japan", "Ishikawa", "Noto", "Wajima", "Tokyo"]}
ARREST_1 = {"person": ["Lindsay Lohan", "Shawn Holley"], "organization": ["Los Angeles Police Department"],
            "place": ["Los Angeles", "Venice"]}
ARREST_2 = {"person": ["Lindsay Lohan", "Mark Heller"], "organization": ["New York Police Department"],
            "place": ["New York", "Manhattan", "Dream Hotel"]}


def sibling_docs() -> list[ThreadDoc]:
    """Two earthquakes and two arrests of one actress: four stories, two articles each."""
    return [
        make_doc("chile-quake-1", "2024-03-04", "Strong earthquake shakes northern Chile, two dead", """
A magnitude 7.1 earthquake struck off the coast of Coquimbo in northern Chile on Monday, killing two people
and sending residents of La Serena fleeing to higher ground, the U.S. Geological Survey said.

Chile's disaster agency Senapred ordered a precautionary evacuation of the coast and President Gabriel Boric
said the government was assessing damage to roads and homes.""", QUAKE_CHILE),
        make_doc("chile-quake-2", "2024-03-05", "Chile counts damage after Coquimbo earthquake", """
Rescue teams in Coquimbo searched damaged homes on Tuesday after the magnitude 7.1 earthquake that killed two
people in northern Chile, while aftershocks rattled La Serena.

President Gabriel Boric visited La Serena and promised aid; Senapred lifted the tsunami evacuation order for
the coast of Coquimbo.""", QUAKE_CHILE),
        make_doc("japan-quake-1", "2024-03-20", "Powerful earthquake hits Japan's Noto peninsula", """
A magnitude 7.4 earthquake struck the Noto peninsula in Ishikawa prefecture in Japan on Wednesday, collapsing
houses in Wajima and killing at least 12 people, the Japan Meteorological Agency said.

Prime Minister Fumio Kishida told reporters in Tokyo that troops were being sent to Ishikawa and public
broadcaster NHK urged residents to flee the coast.""", QUAKE_JAPAN),
        make_doc("japan-quake-2", "2024-03-21", "Death toll rises in Japan quake as rescuers dig", """
Rescuers in Wajima dug through collapsed houses on Thursday as the death toll from the Noto peninsula
earthquake in Ishikawa rose to 30, the Japan Meteorological Agency and local officials said.

Fumio Kishida said Japan would spend reserve funds on shelters; NHK showed fires still burning in Wajima.""",
                 QUAKE_JAPAN),
        make_doc("lohan-arrest-1", "2024-05-02", "Lindsay Lohan arrested in Los Angeles after car crash", """
Actress Lindsay Lohan was arrested in Los Angeles on Thursday after her car hit a truck in Venice, the Los
Angeles Police Department said, and she was booked on suspicion of reckless driving.

Her lawyer Shawn Holley said Lohan was cooperating with police in Los Angeles.""", ARREST_1),
        make_doc("lohan-arrest-2", "2024-05-03", "Lohan released on bail after Venice crash arrest", """
Lindsay Lohan was released on bail on Friday, a day after her arrest in Los Angeles over a crash in Venice in
which her car hit a truck, the Los Angeles Police Department said.

Shawn Holley, her lawyer, said the actress would fight the reckless driving charge.""", ARREST_1),
        make_doc("lohan-nyc-1", "2024-08-12", "Lindsay Lohan arrested in New York after club scuffle", """
Lindsay Lohan was arrested in Manhattan early on Monday after a scuffle with a woman at the Dream Hotel
nightclub, the New York Police Department said, and charged with misdemeanor assault.

Her lawyer Mark Heller said the actress was the victim and would be cleared in New York.""", ARREST_2),
        make_doc("lohan-nyc-2", "2024-08-13", "Lohan pleads not guilty to Dream Hotel assault charge", """
Lindsay Lohan pleaded not guilty in a Manhattan court on Tuesday to assault over the scuffle at the
Dream Hotel nightclub in New York, and Mark Heller, her lawyer, asked for the charge to be dropped.

The New York Police Department said a woman at the nightclub had accused the actress of hitting her.""",
                 ARREST_2),
    ]


@pytest.fixture
def settings() -> ThreadSettings:
    return ThreadSettings()


def assign_all(index: ThreadIndex, docs: list[ThreadDoc]) -> dict[str, str]:
    return {doc.slug: index.assign(doc) for doc in docs}


def test_seeds_form_one_thread(tmp_path: Path, settings: ThreadSettings) -> None:
    with ThreadIndex(tmp_path / "threads.sqlite", settings) as index:
        threads = assign_all(index, seed_docs())
    assert len(set(threads.values())) == 1
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", next(iter(threads.values())))


def test_same_topic_different_events_stay_apart(tmp_path: Path, settings: ThreadSettings) -> None:
    with ThreadIndex(tmp_path / "threads.sqlite", settings) as index:
        t = assign_all(index, seed_docs() + sibling_docs())
    assert t["chile-quake-1"] == t["chile-quake-2"]
    assert t["japan-quake-1"] == t["japan-quake-2"]
    assert t["lohan-arrest-1"] == t["lohan-arrest-2"]
    assert t["lohan-nyc-1"] == t["lohan-nyc-2"]
    stories = {t["chile-quake-1"], t["japan-quake-1"], t["lohan-arrest-1"], t["lohan-nyc-1"],
               t["reuters-russia-says-it-will-build-ties"]}
    assert len(stories) == 5


STRIKE_ZWICKAU = {"person": ["Thomas Knabel"], "organization": ["Volkswagen", "IG Metall"],
                  "place": ["Zwickau", "Saxony", "Germany"]}
STRIKE_WOLFSBURG = {"person": ["Daniela Cavallo", "Oliver Blume"], "organization": ["Volkswagen", "IG Metall"],
                    "place": ["Wolfsburg", "Lower Saxony", "Germany"]}


def strike_docs() -> list[ThreadDoc]:
    """Two strikes at one carmaker; the last article, ingested undated, has the batch's date."""
    return [
        make_doc("zwickau-strike-1", "2023-11-06", "Volkswagen workers strike at Zwickau electric car plant", """
Thousands of workers walked out of Volkswagen's electric car plant in Zwickau on Monday in a strike over pay
for temporary staff, halting production of the ID.3, the IG Metall union said.

Thomas Knabel, the union's leader in Zwickau, said the walkout in Saxony would last until the carmaker
offered permanent contracts to the 269 temporary workers whose jobs end this month.""", STRIKE_ZWICKAU),
        make_doc("zwickau-strike-2", "2023-11-07", "Zwickau strike idles Volkswagen ID.3 line for second day", """
The strike at Volkswagen's Zwickau plant kept the ID.3 assembly line idle for a second day on Tuesday as
temporary workers demanded permanent contracts, IG Metall said.

Thomas Knabel told strikers outside the plant in Saxony that the 269 temporary jobs must be saved.""",
                 STRIKE_ZWICKAU),
        make_doc("wolfsburg-strike", "2024-06-01", "Volkswagen workers strike in Wolfsburg over plant closures", """
Workers at Volkswagen's headquarters plant in Wolfsburg held a warning strike on Saturday against the
carmaker's plans to close factories in Germany, the IG Metall union said.

Works council head Daniela Cavallo told a rally in Lower Saxony that chief executive Oliver Blume had to
take the closures off the table before pay talks resume.""", STRIKE_WOLFSBURG),
        make_doc("zwickau-strike-3", "2024-06-01", "Volkswagen workers end strike at Zwickau plant", """
Volkswagen workers in Zwickau ended their strike on Saturday after the carmaker offered permanent jobs to the
269 temporary workers, the IG Metall union said, as the union readied for talks on plant closures in Germany.

Thomas Knabel, the IG Metall leader in Zwickau, said the union would now stand with the workers in
Wolfsburg against closures.""", {**STRIKE_ZWICKAU, "place": ["Zwickau", "Germany", "Wolfsburg"]}),
    ]


def test_content_picks_among_joinable_threads(tmp_path: Path, settings: ThreadSettings) -> None:
    with ThreadIndex(tmp_path / "threads.sqlite", settings) as index:
        t = assign_all(index, strike_docs())
    assert t["zwickau-strike-3"] == t["zwickau-strike-1"] == t["zwickau-strike-2"]
    assert t["wolfsburg-strike"] != t["zwickau-strike-1"]
    # Were dates to weigh fully in the choice, the shared batch date would win it for the other strike.
    full_time = dataclasses.replace(settings, choice_time_power=1.0)
    with ThreadIndex(tmp_path / "full.sqlite", full_time) as index:
        t = assign_all(index, strike_docs())
    assert t["zwickau-strike-3"] == t["wolfsburg-strike"]


def test_pinned_thread_is_kept(tmp_path: Path, settings: ThreadSettings) -> None:
    docs = sibling_docs()
    pinned = ThreadDoc(**{**docs[1].__dict__, "thread": "my-own-thread"})
    with ThreadIndex(tmp_path / "threads.sqlite", settings) as index:
        assert index.assign(docs[0]) != "my-own-thread"
        assert index.assign(pinned) == "my-own-thread"
        assert index.assign(pinned) == "my-own-thread"


def test_ids_are_readable_and_stable(tmp_path: Path, settings: ThreadSettings) -> None:
    docs = seed_docs() + sibling_docs()
    with ThreadIndex(tmp_path / "threads.sqlite", settings) as index:
        first = index.assign(docs[0])
        assert "russia" in first and "korea" in first
        assign_all(index, docs[1:])
        assert index.thread_of(docs[0].slug) == first
    # The id depends on the first article only, and never repeats one already taken.
    assert make_thread_id(docs[0], set()) == first
    assert make_thread_id(docs[0], {first}) == first + "-2"


def test_reassign_is_idempotent(tmp_path: Path, settings: ThreadSettings) -> None:
    docs = sibling_docs()
    with ThreadIndex(tmp_path / "threads.sqlite", settings) as index:
        before = assign_all(index, docs)
    with ThreadIndex(tmp_path / "threads.sqlite", settings) as index:
        assert assign_all(index, docs) == before
        assert not index.is_empty()


def test_rebuild_gives_same_later_assignments(tmp_path: Path, settings: ThreadSettings) -> None:
    docs = seed_docs() + sibling_docs()
    early, late = docs[:5], docs[5:]
    with ThreadIndex(tmp_path / "a.sqlite", settings) as index:
        recorded = assign_all(index, early)
        expected = assign_all(index, late)
    carried = [ThreadDoc(**{**d.__dict__, "thread": recorded[d.slug]}) for d in early]
    with ThreadIndex(tmp_path / "b.sqlite", settings) as index:
        assert index.is_empty()
        index.rebuild(reversed(carried))
        assert assign_all(index, late) == expected


def test_recompute_keeps_pinned(tmp_path: Path, settings: ThreadSettings) -> None:
    docs = sibling_docs()
    docs[3] = ThreadDoc(**{**docs[3].__dict__, "thread": "noto-quake"})
    result = recompute_threads(docs, settings, tmp_path / "re.sqlite")
    assert result["japan-quake-2"] == "noto-quake"
    assert result["chile-quake-1"] == result["chile-quake-2"]
    assert set(result) == {d.slug for d in docs}


def test_editor_pin_after_ingest_wins(tmp_path: Path, settings: ThreadSettings) -> None:
    docs = sibling_docs()
    with ThreadIndex(tmp_path / "threads.sqlite", settings) as index:
        assign_all(index, docs[:2])
        repinned = ThreadDoc(**{**docs[1].__dict__, "thread": "coquimbo-aftermath"})
        assert index.assign(repinned) == "coquimbo-aftermath"
        assert index.thread_of(docs[1].slug) == "coquimbo-aftermath"
        assert index.assign(docs[2]) not in ("", None)


def test_old_schema_is_rebuilt_not_fatal(tmp_path: Path, settings: ThreadSettings) -> None:
    path = tmp_path / "threads.sqlite"
    with ThreadIndex(path, settings) as index:
        assign_all(index, sibling_docs()[:2])
        index._db.execute("UPDATE meta SET value = 'old' WHERE key = 'schema'")
    with ThreadIndex(path, settings) as index:
        assert index.is_empty()
