"""Entities: NER with the news rules on real wire copy, resolution across articles, the registry."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from newsdigest import entity_rules as rules
from newsdigest.config import EntitySettings
from newsdigest.entities import _parse, extract_entities, load_pipeline
from newsdigest.entity_registry import RegistryEntry, find_duplicates, read_registry, resolve_entities
from newsdigest.entity_types import TYPES
from newsdigest.errors import ConfigError, ContentError
from newsdigest.wire import parse_wire

WIRE = Path(__file__).resolve().parent.parent / "content" / "wire"


@pytest.fixture(scope="module")
def nlp():
    return load_pipeline(EntitySettings().model)


@pytest.fixture(scope="module")
def seeds(nlp):
    """The two Reuters seeds: (minister story, its entities), (russia story, its entities)."""
    stories = [parse_wire((WIRE / name).read_text(encoding="utf-8"), name) for name in (
        "reuters-north-korean-minister-lauds-ties.txt", "reuters-russia-says-it-will-build-ties.txt")]
    return list(zip(stories, extract_entities(stories, nlp), strict=True))


def extract(nlp, text: str) -> dict[str, list[str]]:
    return next(extract_entities([parse_wire(text)], nlp))


def everything(ents: dict[str, list[str]]) -> set[str]:
    return {name for names in ents.values() for name in names}


# --- the model ----------------------------------------------------------------------------------

def test_pipeline_is_loaded_once_with_ner_only(nlp):
    assert nlp.pipe_names == ["ner"]
    assert load_pipeline(EntitySettings().model) is nlp


def test_missing_model_is_a_config_error():
    with pytest.raises(ConfigError, match=r"entities\.model: .*not installed"):
        load_pipeline("no_such_spacy_pipeline_xyz")


# --- the seeds ----------------------------------------------------------------------------------

def test_seed_short_forms_resolve_to_full_names(seeds):
    (_, minister), (_, russia) = seeds
    for ents in (minister, russia):
        assert set(ents) == set(TYPES)
        assert {"Vladimir Putin", "Choe Son Hui", "Kim Jong Un", "Sergei Lavrov"} <= set(ents["person"])
        assert not {"Putin", "Choe", "Kim", "Choe Son", "Lavrov"} & set(ents["person"])
    # Kim Jong Il is named once, as Kim Jong Un's father: "Kim" is Kim Jong Un, the main referent.
    assert minister["person"].index("Kim Jong Un") < minister["person"].index("Kim Jong Il")
    assert minister["person"][0] == "Vladimir Putin"


def test_seed_byline_credits_and_agency_are_not_entities(seeds):
    for story, ents in seeds:
        people = [*story.byline, *(n for names in story.credits.values() for n in names)]
        assert people and not set(people) & everything(ents)
        assert "Reuters" not in everything(ents)
    (_, russia) = seeds[1]
    assert "Jack Kim" not in russia["person"]  # an editor, though "Kim" is in the story


def test_seed_dateline_is_a_place_in_normal_case(seeds):
    (_, minister), (_, russia) = seeds
    assert "Moscow" in minister["place"] and "MOSCOW" not in everything(minister)
    assert "Seoul" in russia["place"]


def test_seed_demonyms_are_not_places_and_possessives_are_stripped(seeds):
    for _, ents in seeds:
        assert not {"North Korean", "Russian", "Korean"} & everything(ents)
        assert "North Korea" in ents["place"]
        assert not any("\u2019" in n or "'s" in n for n in everything(ents))
    (_, russia) = seeds[1]
    assert "KCNA" in russia["organization"]  # an acronym keeps its capitals


# --- news rules, each on real wire text ----------------------------------------------------------

def test_titles_and_possessives_are_stripped():
    assert rules.clean_name("President Vladimir Putin", person=True) == ("Vladimir Putin", True)
    assert rules.clean_name("Foreign Minister Sergei Lavrov") == ("Sergei Lavrov", True)
    assert rules.clean_name("North Korea\u2019s") == ("North Korea", False)
    assert rules.clean_name("PANAMA 'S")[0] == "PANAMA"
    assert rules.clean_name("Foreign Ministry") == ("Foreign Ministry", False)
    assert rules.clean_name("New York")[0] == "New York"


def test_shouted_headline_invents_nothing(nlp):
    ents = extract(nlp, """SOCCER - SHEARER NAMED AS ENGLAND CAPTAIN.

LONDON (Reuters) - The world's costliest footballer Alan Shearer was named as the new England captain
on Friday.

The 26-year-old, who joined Newcastle for 15 million pounds sterling, takes over from Tony Adams.

Shearer takes the captaincy on a trial basis, but new coach Glenn Hoddle said he saw no reason
why he should not make the post his own.
""")
    assert {"Alan Shearer", "Glenn Hoddle"} <= set(ents["person"])
    assert "England" in ents["place"] and "London" in ents["place"]
    assert not {"Soccer", "SOCCER", "Shearer", "Captain", "England Captain", "The"} & everything(ents)
    assert "Newcastle" in ents["organization"]  # prose with numbers is not a results table


def test_headline_name_not_in_the_body_is_not_guessed(nlp):
    ents = extract(nlp, """GOLF - HENKE TAKES LEAD IN MILWAUKEE, WOODS MAKES PRO DEBUT.

MILWAUKEE, Wisconsin (Reuters) - Nolan Henke took the lead on Thursday in the first round.
""")
    assert "Nolan Henke" in ents["person"]
    assert not any(n.lower().startswith("wood") for n in everything(ents))
    assert {"Milwaukee", "Wisconsin"} <= set(ents["place"])


def test_title_case_headline_is_read_in_the_body_s_casing(nlp):
    ents = extract(nlp, """Russia Says It Will Build Ties With North Korea As Ministers Set To Meet

SEOUL (Reuters) - Russia will develop ties with North Korea, the Kremlin said on Monday, as the US and
the WHO watched.
""")
    assert ents["place"][:2] == ["Russia", "North Korea"]  # the headline weighs in first
    assert {"US", "Seoul"} <= set(ents["place"]) and {"Kremlin", "WHO"} <= set(ents["organization"])
    assert not {"Ministers", "Ties", "Meet"} & everything(ents)


def test_recase_follows_the_body():
    vocab = rules.build_vocabulary(["Rotor Volgograd must play their next home game behind closed doors."])
    assert rules.recase("ROTOR FANS LOCKED OUT AFTER VOLGOGRAD VIOLENCE", vocab) == (
        "Rotor fans locked out after Volgograd violence")
    assert rules.dateline_places("LA CORUNA, Spain", {}) == ["La Coruna", "Spain"]
    assert rules.dateline_places("ST LOUIS", {}) == ["St Louis"]


def test_results_table_gives_clubs_not_junk(nlp):
    ents = extract(nlp, """RUGBY UNION - ENGLISH AND WELSH RESULTS.

LONDON (Reuters) - Results of English and Welsh rugby union matches on Saturday:

English National League one

Harlequins 75 Gloucester 19

London Irish 27 Bristol 28

Saracens 25 Leicester 23

Welsh division one

Swansea 49 Cardiff 23
""")
    clubs = {"Harlequins", "Gloucester", "London Irish", "Bristol", "Saracens", "Leicester", "Swansea",
             "Cardiff"}
    assert clubs <= set(ents["organization"])
    assert not clubs & set(ents["place"] + ents["person"])
    assert not any(c.isdigit() for name in everything(ents) for c in name)


def test_standings_and_fixtures(nlp):
    ents = extract(nlp, """SOCCER - SCOTTISH LEAGUE STANDINGS.

GLASGOW (Reuters) - Scottish league standings after Saturday's matches (tabulated - played, won,
drawn, lost, goals for, goals against, points):

Stirling 4 3 1 0 7 4 10

Queen of South 3 3 0 0 8 2 9

Postponed: East Fife v Clydebank, St Johnstone v Airdrieonians.
""")
    assert {"Stirling", "Queen of South", "East Fife", "Clydebank", "St Johnstone",
            "Airdrieonians"} <= set(ents["organization"])
    assert "Postponed" not in everything(ents)


def test_countries_stay_places_and_players_are_people_in_results(nlp):
    ents = extract(nlp, """TENNIS - RESULTS FROM THE U.S. OPEN.

NEW YORK (Reuters) - Results from the U.S. Open Tennis Championships on Friday:

Tim Henman (Britain) beat Doug Flach (U.S.) 6-3 6-4 6-2

Sandrine Testud (France) beat Ines Gorrochategui (Argentina) 4-6 6-2 6-1
""")
    assert {"Tim Henman", "Doug Flach", "Sandrine Testud", "Ines Gorrochategui"} <= set(ents["person"])
    assert {"Britain", "France", "Argentina", "New York"} <= set(ents["place"])


def test_numbered_lineups_are_players(nlp):
    ents = extract(nlp, """SOCCER - BELGIUM BEAT TURKEY 2-1 IN WORLD CUP QUALIFIER.

BRUSSELS (Reuters) - Belgium beat Turkey 2-1 in a World Cup qualifier on Saturday.

Teams:

Belgium - 1 - Filip De Wilde, 2 - Bertrand Crasson, 3 - Dirk Medved, 4 - Pascal Renier, 6 - Gunther
Schepens (15 - Nico Van Kerckhoven, 81st), 10 - Enzo Scifo.
""")
    assert {"Filip De Wilde", "Bertrand Crasson", "Dirk Medved", "Pascal Renier", "Nico Van Kerckhoven",
            "Enzo Scifo"} <= set(ents["person"])
    assert {"Belgium", "Turkey", "Brussels"} <= set(ents["place"])


def test_cricket_scorecard_initials_are_players_and_counties_are_clubs(nlp):
    ents = extract(nlp, """CRICKET - ENGLISH COUNTY CHAMPIONSHIP SCORES.

LONDON (Reuters) - Close of play scores in English county championship matches on Friday:

Leicester: Leicestershire beat Somerset by an innings and 39 runs.

Somerset 83 and 174 (P. Simmons 4-38), Leicestershire 296.

Hove: Sussex 363 (W. Athey 111, V. Drakes 52; I. Austin 4-37), Lancashire 197-8 (W. Hegg 54)
""")
    assert {"Somerset", "Leicestershire", "Sussex", "Lancashire"} <= set(ents["organization"])
    assert {"P. Simmons", "W. Athey", "V. Drakes", "W. Hegg"} <= set(ents["person"])
    assert {"Leicester", "Hove"} <= set(ents["place"])


def test_counties_and_towns_in_sports_copy_are_clubs(nlp):
    ents = extract(nlp, """CRICKET - LEICESTERSHIRE TAKE OVER AT TOP AFTER INNINGS VICTORY.

LONDON (Reuters) - West Indian all-rounder Phil Simmons took four for 38 on Friday as Leicestershire
beat Somerset by an innings and 39 runs in two days to take over at the head of the county championship.

Their stay on top, though, may be short-lived as title rivals Essex, Derbyshire and Surrey all closed
in on victory while Kent made up for lost time in their rain-affected match against Nottinghamshire.

After bowling Somerset out for 83 on the opening morning at Grace Road, Leicestershire extended their
first innings by 94 runs.
""")
    assert {"Somerset", "Derbyshire", "Surrey", "Kent", "Nottinghamshire"} <= set(ents["organization"])
    assert "Phil Simmons" in ents["person"] and "London" in ents["place"]
    assert not any("," in name for name in everything(ents))


def test_extract_keeps_order_and_handles_empty_input(nlp, seeds):
    stories = [story for story, _ in seeds]
    assert list(extract_entities([], nlp)) == []
    again = list(extract_entities(stories[::-1], nlp, batch_size=1, processes=2))
    assert again == [ents for _, ents in seeds][::-1]


def test_parse_finds_what_spacy_s_own_loop_finds(nlp):
    """NER stepped from Python (to hold the GIL) gives nlp.pipe's entities, with a batch cut short."""
    texts = [path.read_text(encoding="utf-8") for path in sorted(WIRE.glob("*.txt"))]
    texts += ["", "Putin met Choe Son Hui in Moscow."]

    def spans(docs):
        return [[(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in docs]

    assert spans(_parse(nlp, texts, 3)) == spans(nlp.pipe(texts))
    assert any(spans(nlp.pipe(texts)))


def test_workers_are_spawned_when_other_threads_run(nlp, seeds):
    """The preview server has threads: its workers are spawned, not forked, and find the same names."""
    import threading

    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    try:
        stories = [story for story, _ in seeds]
        assert list(extract_entities(stories, nlp, batch_size=1, processes=2)) == [ents for _, ents in seeds]
    finally:
        stop.set()
        other.join()


# --- resolution across articles --------------------------------------------------------------------

ARCHIVE = {
    "a": {"person": ["Vladimir Putin", "Kim Jong Un", "Kim"], "place": ["United States", "Moscow"]},
    "b": {"person": ["Putin", "Kim Jong Il"], "organization": ["Putin"], "place": ["U.S."]},
    "c": {"person": ["President Putin"], "place": ["US"], "organization": ["Rotor Volgograd", "Rotor"]},
}


def test_resolution_joins_short_forms_acronyms_and_types():
    mapping = resolve_entities(ARCHIVE, [])
    for name in ("Putin", "President Putin", "Vladimir Putin"):
        assert mapping[("person", name)] == ("person", "Vladimir Putin")
    assert mapping[("organization", "Putin")] == ("person", "Vladimir Putin")
    for name in ("U.S.", "US", "United States"):
        assert mapping[("place", name)] == ("place", "United States")
    assert mapping[("organization", "Rotor")] == ("organization", "Rotor Volgograd")


def test_ambiguous_short_form_never_merges_two_people():
    mapping = resolve_entities(ARCHIVE, [])
    assert mapping[("person", "Kim")] == ("person", "Kim")
    assert mapping[("person", "Kim Jong Un")] != mapping[("person", "Kim Jong Il")]


def test_resolution_does_not_depend_on_order():
    expected = resolve_entities(ARCHIVE, [])
    rng = random.Random(4)
    for _ in range(5):
        keys = list(ARCHIVE)
        rng.shuffle(keys)
        shuffled = {k: {t: list(reversed(v)) for t, v in ARCHIVE[k].items()} for k in keys}
        assert resolve_entities(shuffled, []) == expected


def test_registry_wins_and_may_change_type():
    registry = [RegistryEntry("Kim Jong Un", "person", aliases=("Kim",)),
                RegistryEntry("Rotor", "organization", old_names=("Rotor Volgograd",)),
                RegistryEntry("Moscow", "organization", aliases=("Kremlin",))]
    archive = {**ARCHIVE, "d": {"organization": ["Kremlin"], "place": ["Moscow"]}}
    mapping = resolve_entities(archive, registry)
    assert mapping[("person", "Kim")] == ("person", "Kim Jong Un")
    assert mapping[("organization", "Rotor Volgograd")] == ("organization", "Rotor")
    assert mapping[("place", "Moscow")] == ("organization", "Moscow")
    assert mapping[("organization", "Kremlin")] == ("organization", "Moscow")


def test_find_duplicates_lists_overlapping_names():
    lines = find_duplicates({"a": {"person": ["Kim", "Kim Jong Un", "Kim Jong Il"], "place": ["US", "U.S."]}})
    assert "person: Kim | Kim Jong Il, Kim Jong Un (the first could be any of these)" in lines
    assert "place: U.S. | US (the same name but for case, punctuation or a title)" in lines
    assert not any("Kim Jong Un | Kim Jong Il" in line for line in lines)
    lines = find_duplicates({"a": {"person": ["Putin"]}, "b": {"person": ["Vladimir Putin", "Mr Putin"]}},
                            [RegistryEntry("Vladimir Putin", "person", aliases=("V. Putin",))])
    assert lines == ["person: Mr Putin | Putin (the same name but for case, punctuation or a title)",
                     "person: Vladimir Putin | Mr Putin (the second's words are all in the first)",
                     "person: Vladimir Putin | Putin (the second's words are all in the first)"]
    assert find_duplicates({"a": {"person": ["Anna"], "place": ["Anna"]}}) == []


# --- the curated registry ----------------------------------------------------------------------------

def write_entity(folder: Path, name: str, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")


def test_read_registry_entries_and_hide(tmp_path: Path):
    folder = tmp_path / "entities"
    write_entity(folder, "putin.md", "---\nname: Vladimir Putin\ntype: person\naliases: [Putin, V. Putin]\n"
                 "wikidata: Q7747\nold_names: [Vladimir V. Putin]\n---\n\nPresident of *Russia*.\n")
    write_entity(folder, "telegram.md", "---\nname: Telegram\ntype: organisation\nhide: true\n---\n")
    entries, errors = read_registry(folder)
    assert errors == []
    putin, telegram = entries
    assert putin == RegistryEntry(name="Vladimir Putin", type="person", aliases=("Putin", "V. Putin"),
                                  description="President of *Russia*.", wikidata="Q7747", hide=False,
                                  path=str(folder / "putin.md"), old_names=("Vladimir V. Putin",))
    assert telegram.type == "organization" and telegram.hide
    assert read_registry(tmp_path / "missing") == ([], [])


def test_bad_registry_files_are_reported_and_the_rest_read(tmp_path: Path):
    folder = tmp_path / "entities"
    write_entity(folder, "a-good.md", "---\nname: Kremlin\ntype: organization\n---\n")
    write_entity(folder, "b-yaml.md", "---\nname: [unclosed\ntype: person\n---\n")
    write_entity(folder, "c-type.md", "---\nname: Moscow\ntype: city\n---\n")
    write_entity(folder, "d-clash.md",
                 "---\nname: The Kremlin\ntype: organization\naliases: [Kremlin]\n---\n")
    write_entity(folder, "e-hide.md", "---\nname: Seoul\ntype: place\nhide: maybe\n---\n")
    entries, errors = read_registry(folder)
    assert [e.name for e in entries] == ["Kremlin"]
    assert all(isinstance(e, ContentError) for e in errors)
    messages = [str(e) for e in errors]
    assert messages[0].startswith(f"{folder / 'b-yaml.md'}:") and "YAML" in messages[0]
    assert messages[1].startswith(f"{folder / 'c-type.md'}:3: 'type'")
    assert "already claimed" in messages[2] and "a-good.md" in messages[2]
    assert messages[3].startswith(f"{folder / 'e-hide.md'}:4: 'hide'")
