"""News rules on top of the statistical NER model: what wire copy needs that the model does not know.

Pure functions on strings. `entities` runs spaCy and calls these to re-case shouted text,
clean a mention into a name, and decide its type from the story's layout and context.
"""

from __future__ import annotations

import re
from functools import cache

# The agencies' short names and full names: a story's own agency is not one of its entities.

_AGENCY_FULL = {
    "ap": "associated press", "afp": "agence france-presse", "pa": "press association",
    "upi": "united press international", "dpa": "deutsche presse-agentur", "cp": "canadian press",
    "reuters": "thomson reuters", "bloomberg": "bloomberg news", "xinhua": "xinhua news agency",
    "kyodo": "kyodo news", "tass": "itar-tass",
}

# Words that open a mention without being part of the name: personal titles, and the
# modifiers that go with them. Stripped from people's names ("Foreign Minister Sergei Lavrov").
_PERSONAL_TITLES = frozenset("""
president president-elect premier minister chancellor secretary secretary-general senator sen
congressman congresswoman governor mayor judge ambassador envoy spokesman spokeswoman spokesperson
mr mrs ms dr prof professor sir dame king queen prince princess emperor sultan emir sheikh sheik
pope cardinal archbishop bishop rev reverend ayatollah imam rabbi mullah coach chairman chairwoman
""".split())
_TITLE_MODIFIERS = frozenset("""
vice prime deputy acting former ex late assistant foreign defence defense finance interior economy
trade justice health labour labor education energy transport agriculture industry culture
environment outgoing incoming chief executive ceo director manager general gen lieutenant lt
colonel col major maj captain capt commander admiral sergeant sgt marshal brigadier lord lady
father striker midfielder defender goalkeeper keeper winger skipper jockey champion leader
opposition police commissioner inspector detective officer speaker state attorney prosecutor
rep representative miss
""".split())

_CALENDAR = frozenset("""
january february march april may june july august september october november december jan feb mar
apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday friday saturday sunday
""".split())
# Words a table's lines start with that are never names on their own.
_TABLE_WORDS = frozenset("""
total totals extras overs wickets points won lost drawn played division league group round
halftime half-time result results standings postponed abandoned attendance scorers bowling batting
men women men's women's world schedule note notes scorer scorers goalscorers attendance penalties
conversions tries fall distances winner winners referee teams squad score scores
""".split())

_LEADING_JUNK = frozenset("the at in on from for with by to of and but as".split())
_EVENT_WORDS = frozenset("""
open cup championship championships games olympics olympiad prix masters series trophy classic
tournament final finals slam tour rally marathon
""".split())
# Demonyms that are not a country's name with an ending ("Kenyan", "Brazilian" are).
_DEMONYMS = frozenset("""
french dutch swiss british welsh scottish scots irish greek thai filipino turkish danish polish czech
slovak finnish swedish norwegian icelandic spanish portuguese english cypriot maltese pakistani
bangladeshi israeli iraqi kuwaiti saudi yemeni omani qatari emirati afghan somali sudanese lebanese
chinese japanese vietnamese burmese taiwanese congolese senegalese togolese maltese kiwi briton
american argentine peruvian chilean
""".split())
# Capitalised words the model tags alone that name no one thing.
_GENERIC = frozenset("""
north south northern southern eastern western central government ministry parliament
legend authority council court army police party union league
""".split())

_NAME_PARTICLES = frozenset({"de", "da", "di", "del", "della", "van", "von", "der", "den", "la", "le",
                             "du", "des", "bin", "ibn", "al", "el", "of", "the", "and", "y", "dos"})

_POSSESSIVE = re.compile(r"\s*['\u2019`]\s*s?$", re.I)
_EDGE_JUNK = re.compile(r"^[\s\"'\u2018\u2019\u201c\u201d`(\[{.,;:\-\u2013\u2014/*#]+|"
                        r"[\s\"'\u2018\u2019\u201c\u201d`)\]},;:\-\u2013\u2014/*#]+$")
_NUMBERISH = re.compile(r"^[\d.,:/\-\u2013+%()]+$")
_WORD = re.compile(r"[^\W\d_][\w'\u2019.\-]*", re.U)
_SENTENCE_ENDS = (".", "!", "?", ":", "\u201c", '"')
_SCORE = re.compile(r"(?<![\d/-])\d{1,3}-\d{1,3}(?![\d/-])")

# Sports that wire services put in front of a results headline ("SOCCER - ...", "Golf-..."):
# in team sports a lone name in a result is a club, in the others a player.
_TEAM_SPORTS = frozenset("""
soccer football cricket baseball basketball rugby hockey nfl nba nhl volleyball handball polo
""".split())
_SPORTS = _TEAM_SPORTS | frozenset("""
tennis golf athletics cycling boxing motor motorcycling racing horse squash badminton swimming
skiing rowing sailing snooker darts formula wrestling judo fencing gymnastics triathlon
""".split())
# Words that make a name an organisation whatever its other words look like.
_ORG_WORDS = frozenset("""
inc inc. corp corp. co co. ltd ltd. plc llc ag sa nv spa bv group bank party association federation
union council committee ministry department agency authority board club united city rovers athletic
fc team university college institute commission court exchange airlines airways motors holdings
international news times post journal organisation organization foundation fund society company
industries systems services front movement army navy police forces assembly parliament congress
senate government cabinet church league cup series tour newsroom newspaper radio television tv
""".split())
_SPORTS_WORDS = re.compile(
    r"\b(?:beat|beats|drew|draw|defeat(?:ed)?|halftime|half-time|innings|wickets?|goals?|scored|"
    r"league|cup|championship|tournament|qualifier|semifinal|quarter-final|final|seed(?:ed)?|"
    r"striker|midfielder|goalkeeper|coach|standings|points|match|season|club)\b", re.I)

# Sovereign states and the home nations, with the short forms wire copy uses. In sports copy a
# country's name stands for its national team and stays a place (CoNLL convention); any other
# place name heading a result is a club and becomes an organisation.
COUNTRIES = frozenset(n.strip().lower() for n in """
Afghanistan; Albania; Algeria; Andorra; Angola; Antigua; Argentina; Armenia; Australia; Austria;
Azerbaijan; Bahamas; Bahrain; Bangladesh; Barbados; Belarus; Belgium; Belize; Benin; Bhutan; Bolivia;
Bosnia; Bosnia and Herzegovina; Herzegovina; Botswana; Brazil; Brunei; Bulgaria; Burkina Faso;
Burma; Burundi; Cambodia; Cameroon; Canada; Cape Verde; Central African Republic; Chad; Chile;
China; Colombia; Comoros; Congo; Costa Rica; Croatia; Cuba; Cyprus; Czech Republic; Czechia;
Denmark; Djibouti; Dominica; Dominican Republic; East Timor; Ecuador; Egypt; El Salvador;
Equatorial Guinea; Eritrea; Estonia; Eswatini; Ethiopia; Fiji; Finland; France; Gabon; Gambia;
Georgia; Germany; Ghana; Greece; Grenada; Guatemala; Guinea; Guinea-Bissau; Guyana; Haiti;
Honduras; Hungary; Iceland; India; Indonesia; Iran; Iraq; Ireland; Israel; Italy; Ivory Coast;
Jamaica; Japan; Jordan; Kazakhstan; Kenya; Kiribati; Kosovo; Kuwait; Kyrgyzstan; Laos; Latvia;
Lebanon; Lesotho; Liberia; Libya; Liechtenstein; Lithuania; Luxembourg; Macedonia; North Macedonia;
Madagascar; Malawi; Malaysia; Maldives; Mali; Malta; Mauritania; Mauritius; Mexico; Micronesia;
Moldova; Monaco; Mongolia; Montenegro; Morocco; Mozambique; Myanmar; Namibia; Nauru; Nepal;
Netherlands; Holland; New Zealand; Nicaragua; Niger; Nigeria; North Korea; Norway; Oman; Pakistan;
Palau; Palestine; Panama; Papua New Guinea; Paraguay; Peru; Philippines; Poland; Portugal; Qatar;
Romania; Russia; Rwanda; Samoa; San Marino; Saudi Arabia; Senegal; Serbia; Seychelles;
Sierra Leone; Singapore; Slovakia; Slovenia; Solomon Islands; Somalia; South Africa; South Korea;
Korea; South Sudan; Spain; Sri Lanka; Sudan; Suriname; Surinam; Swaziland; Sweden; Switzerland;
Syria; Taiwan; Tajikistan; Tanzania; Thailand; Togo; Tonga; Trinidad; Trinidad and Tobago;
Tunisia; Turkey; Turkmenistan; Tuvalu; Uganda; Ukraine; United Arab Emirates; UAE;
United Kingdom; UK; U.K.; Britain; Great Britain; England; Scotland; Wales; Northern Ireland;
United States; US; U.S.; USA; U.S.A.; America; Uruguay; Uzbekistan; Vanuatu; Vatican;
Venezuela; Vietnam; Yemen; Yugoslavia; Zaire; Zambia; Zimbabwe; Soviet Union; USSR;
Czechoslovakia; Faroe Islands; Faroes; Hong Kong; Puerto Rico; Macau; Greenland
""".replace("\n", " ").split(";"))

_LOCATIVE = frozenset({"in", "at", "near", "from", "to", "outside", "into", "across", "around",
                       "towards", "toward", "of", "via", "through", "inside", "within"})


def fold_name(name: str) -> str:
    """Names compared: case, punctuation and a leading 'the' folded."""
    name = re.sub(r"[^\w\s]", "", name.casefold())
    return " ".join(name.removeprefix("the ").split())


def is_shouted(text: str, threshold: float = 0.8) -> bool:
    """True when nearly all letters are capitals: a headline or a table row set in ALL CAPS."""
    letters = sum(map(str.isalpha, text))
    return letters >= 3 and sum(map(str.isupper, text)) >= threshold * letters


def is_title_case(text: str) -> bool:
    """True for a Headline In Title Case, where capitals no longer mark names."""
    words = [w for w in _WORD.findall(text) if len(w) > 3]
    return len(words) >= 3 and sum(w[0].isupper() for w in words) >= 0.8 * len(words)


def build_vocabulary(texts: list[str]) -> dict[str, str]:
    """lower-case word -> how the story writes it, learnt from its normally cased text."""
    mid: dict[str, dict[str, int]] = {}
    initial: dict[str, dict[str, int]] = {}  # words that start a sentence: their capital says nothing
    for text in texts:
        prev = "."
        for token in text.split():
            for word in (token,) if token.isalpha() else _WORD.findall(token):
                forms = (initial if prev.endswith(_SENTENCE_ENDS) or prev == "-" else mid).setdefault(word.lower(), {})
                forms[word] = forms.get(word, 0) + 1
                prev = word
            prev = token
    vocab = {low: max(forms, key=forms.__getitem__) for low, forms in initial.items()}
    vocab.update({low: max(forms, key=forms.__getitem__) for low, forms in mid.items()})
    return vocab


def recase(text: str, vocab: dict[str, str], unknown: str = "lower") -> str:
    """Re-case shouted or title-cased text word by word as the story's body writes each word.

    Words the body never uses are lower-cased (`unknown="lower"`: a headline cannot invent a
    name) or given a capital (`unknown="title"`: table rows, where every word is a name).
    The result has exactly the length of the input, so offsets stay valid.
    """
    def fix(m: re.Match) -> str:
        word = m.group()
        known = vocab.get(word.lower())
        if known is None:
            known = word.lower() if unknown == "lower" else _title(word)
        return known if len(known) == len(word) else word
    return _WORD.sub(fix, text)


def _title(word: str) -> str:
    return "-".join(p[:1].upper() + p[1:].lower() for p in word.split("-"))


def normal_case(name: str) -> str:
    """'LA CORUNA' -> 'La Coruna', 'ST LOUIS' -> 'St Louis'; mixed-case names are left alone."""
    if not is_shouted(name, 1.0):
        return name
    words = name.split()
    return " ".join(w.lower() if i and w.lower() in _NAME_PARTICLES - {"la", "le", "el", "al"}
                    else _title(w) for i, w in enumerate(words))


def dateline_places(dateline: str | None, vocab: dict[str, str]) -> list[str]:
    """'MOSCOW' -> ['Moscow'], 'LA CORUNA, Spain' -> ['La Coruna', 'Spain'] in the story's casing."""
    if not dateline:
        return []
    places = []
    for part in dateline.split(","):
        part = part.strip(" .")
        if not part or not any(c.isalpha() for c in part):
            continue
        words = part.split()
        if all(w.lower() in vocab for w in words) and not all(vocab[w.lower()].isupper() for w in words):
            part = " ".join(vocab[w.lower()] for w in words)
        places.append(normal_case(part))
    return places


def clean_name(text: str, person: bool = False) -> tuple[str, bool]:
    """A mention's text -> (name, titled): quotes, possessives, scores and titles stripped.

    An empty name means the mention is junk. Titles are stripped from people's names; any
    mention opened by a personal title ("President Putin" tagged ORG) comes back `titled`,
    which makes it a person whatever the model said.
    """
    if "\n" in text.strip() or re.search(r"\s[-\u2013\u2014]+\s|--", text):
        return "", False  # across lines or a headline's " - ": two things, not one name
    name = " ".join(text.split())
    titled = False
    for _ in range(3):
        before = name
        name = _POSSESSIVE.sub("", _EDGE_JUNK.sub("", name))
        if name.endswith(".") and name.count(".") == 1 and len(name.rsplit(" ", 1)[-1]) > 4:
            name = name[:-1]  # a sentence's full stop, not an abbreviation's
        words = name.split()
        while words and _NUMBERISH.match(words[0]):
            words.pop(0)
        while words and _NUMBERISH.match(words[-1]):
            words.pop()
        if len(words) > 1 and words[0].lower() in _LEADING_JUNK:
            words.pop(0)  # "At Bristol:", "The Kremlin"
        if len(words) > 2 and words[-1].lower().rstrip(".,") in ("jr", "sr"):
            words.pop()
        if person and len(words) > 2 and is_demonym(words[0]):
            words.pop(0)  # "American Dennis Mitchell", "Belgian King Baudouin"
        while len(words) > 1 and words[0].lower().rstrip(".") in _CALENDAR:
            words.pop(0)  # "August Chicago NAPM": the month of a figure, not part of its name
        rest, strong = _strip_title(words)
        if rest and (person or strong):
            words, titled = rest, titled or strong
        name = " ".join(words)
        if name == before:
            break
    if not _is_plausible(name):
        return "", False
    return name, titled


def may_be_alone(name: str, kind: str) -> bool:
    """False for a title or office on its own ('Defence', 'State'): the model's half of a phrase."""
    return " " in name or kind == "person" or not is_title_word(name) and name.lower() not in _GENERIC


def is_event(name: str) -> bool:
    """'Hong Kong Open', 'Fed Cup', 'Atlanta Games': competitions are not people, bodies or places."""
    words = name.split()
    return len(words) > 1 and words[-1].lower() in _EVENT_WORDS


def is_common_word(name: str, vocab: dict[str, str]) -> bool:
    """True when every word is a common one: written in lower case elsewhere ('Scorers', 'Did not bat')."""
    if any(w.isupper() and len(w.strip(".")) > 1 for w in name.split()):
        return False  # an acronym: US, WHO, IT
    words = [w.lower() for w in _WORD.findall(name) if w.lower() not in _NAME_PARTICLES]
    return bool(words) and all(vocab.get(w, w.title())[:1].islower() or w in _stop_words() or w in _CALENDAR
                               for w in words)


@cache
def _stop_words() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS  # spaCy is loaded anyway when NER runs

    return frozenset(STOP_WORDS)


def is_demonym(word: str) -> bool:
    """'Australian', 'Kenyan', 'French': a nationality, not part of the name that follows it."""
    low = word.lower()
    if low in _DEMONYMS:
        return True
    for ending in ("ian", "an", "ese", "ish", "i", "ean"):
        stem = low.removesuffix(ending)
        if stem != low and len(stem) >= 4 and any(c.startswith(stem) for c in COUNTRIES):
            return True
    return False


_NEXT_NAME_WORD = re.compile(r"[ ]([A-Z][a-z]+(?:-[A-Z]?[a-z]+)?)(?![\w'\u2019.-])")


def name_continues(text: str, end: int, vocab: dict[str, str]) -> str:
    """The rest of a person's name the model cut short: 'Choe Son' + ' Hui'."""
    pos = end
    while m := _NEXT_NAME_WORD.match(text, pos):
        word = m.group(1)
        if vocab.get(word.lower(), word)[:1].islower() or word.lower() in _CALENDAR or is_title_word(word):
            break
        pos = m.end()
    return text[end:pos]


def _strip_title(words: list[str]) -> tuple[list[str], bool]:
    """Leading title words off: (the rest, whether a personal title was among them)."""
    i, strong = 0, False
    while i < len(words) - 1:
        low = words[i].lower().rstrip(".")
        if low in _PERSONAL_TITLES:
            strong = True
        elif low not in _TITLE_MODIFIERS:
            break
        i += 1
    rest = words[i:]
    if not i or not rest[0][:1].isupper() or rest[0].lower() in _NAME_PARTICLES:
        return [], False
    return rest, strong


def _is_plausible(name: str) -> bool:
    words = name.split()
    if len(words) == 1 and name.lower() in _TABLE_WORDS | _CALENDAR:
        return False
    if not words or len(words) > 7 or len(name) < 2:
        return False
    if any(c.isdigit() for c in name) or not any(c.isupper() for c in name):
        return False
    if not any(c.isalpha() for c in words[0]) or not words[-1][-1:].isalpha() and words[-1][-1:] != ".":
        return False
    # Lower-case words inside a name are particles only ("Bank of England", "Vincent van Gogh").
    return all(w[:1].isupper() or not w[:1].isalpha() or w.lower() in _NAME_PARTICLES for w in words)


def agency_names(*agencies: str | None) -> set[str]:
    """The lower-case names a story's own agency goes by ('AP' -> also 'associated press')."""
    names = set()
    for agency in agencies:
        if agency:
            low = agency.strip().lower()
            names |= {low, _AGENCY_FULL.get(low, low)}
            names |= {short for short, full in _AGENCY_FULL.items() if full == low}
    return names


_COUNTRY_VARIANTS = {"kazakstan": "kazakhstan", "kirghizia": "kyrgyzstan", "byelorussia": "belarus",
                     "moldavia": "moldova", "cote d'ivoire": "ivory coast", "the gambia": "gambia",
                     "czech republic": "czechia", "viet nam": "vietnam", "persia": "iran"}


def is_country(name: str) -> bool:
    """True for a sovereign state or home nation (and its common short forms)."""
    low = " ".join(name.lower().removeprefix("the ").split())
    low = low.removeprefix("republic of ").removeprefix("kingdom of ").removeprefix("state of ")
    return _COUNTRY_VARIANTS.get(low, low) in COUNTRIES


def sport_of(headline: str, text: str) -> str | None:
    """'team' or 'individual' for sports copy (from the sport before the headline's dash), else None.

    Sports copy without a named sport (many scores and sports words) counts as 'team'.
    """
    head = re.split(r"\s*[-\u2013\u2014:]\s*", headline.strip(), maxsplit=1)[0].lower()
    named = set(re.findall(r"[a-z]+", head)) if len(head) < 30 else set()
    if named & _TEAM_SPORTS:
        return "team"
    if named & _SPORTS:
        return "individual"
    sample = text[:4000]
    if len(_SCORE.findall(sample)) >= 3 and len(_SPORTS_WORDS.findall(sample)) >= 3:
        return "team"
    return None


def has_org_word(name: str) -> bool:
    """True for 'Pirelli Cables SpA', 'Norwich City': a word that only organisations carry."""
    return any(w.lower() in _ORG_WORDS for w in name.split()[1:]) or name.split()[0].lower() in {
        "fc", "ac", "bank", "university", "club"}


def is_title_word(word: str) -> bool:
    """True for a word that introduces a person: 'spokesman', 'President', 'coach'."""
    low = word.lower().rstrip(".")
    return low in _PERSONAL_TITLES or low in _TITLE_MODIFIERS


def is_venue(before: list[str], after: str) -> bool:
    """A place where something happens, not a team: 'in Volgograd', 'at the Oval', 'Leicester: ...'."""
    words = [w.lower() for w in before if w.lower() != "the"]
    return bool(words) and words[-1] in _LOCATIVE or after in (":", "(")


def split_mention(text: str, kind: str) -> list[tuple[int, str, str]]:
    """(offset, text, type) of the names in one tagged mention.

    'North Korea’s Choe' holds the owner ('North Korea', as tagged) and the owned ('Choe', a
    person unless it reads as an organisation); 'Grace Road, Leicestershire' holds two names:
    a name never holds a comma.
    """
    if ", " in text:
        head, _, tail = text.partition(", ")
        return [(0, head, kind), *((len(head) + 2 + o, t, k) for o, t, k in split_mention(tail, kind))]
    m = re.match(r"^(?P<head>.+?)\s?['\u2019]s\s+(?P<tail>[A-Z].*)$", text)
    if not m:
        return [(0, text, kind)]
    tail = m.group("tail")
    tail_kind = "organization" if kind == "organization" or has_org_word(tail) else "person"
    head_kind = "place" if is_country(m.group("head")) else kind
    return [(0, m.group("head"), head_kind), (m.start("tail"), tail, tail_kind)]


def mention_type(name: str, kind: str, before: list[str], sport: str | None, titled: bool) -> str:
    """The model's type for a mention corrected by the word before it and the kind of story."""
    words = name.split()
    prev = before[-1] if before else ""
    if is_country(name):
        return "place"
    if titled or (sport and looks_like_person(name)):
        return "person"
    if kind == "person" and len(words) == 1 and prev.lower() in ("in", "near", "outside"):
        return "place"  # "fighting in Tavildara": an unknown town, not a person
    if kind != "person" and len(words) > 1 and not has_org_word(name):
        if is_title_word(prev) and prev[:1].islower() or sport == "individual" and kind == "organization":
            return "person"  # "spokesman Glyn Davies"; an unknown runner in athletics results
    return kind


def side_type(name: str, role: str, labels: set[str], sport: str | None) -> str:
    """The type of a name in a slot of a results line (see `sports_sides`), given the model's labels."""
    if role in ("nation", "venue") or is_country(name):
        return "place"
    if role == "player" or looks_like_person(name):
        return "person"
    if has_org_word(name) or sport == "team":
        return "organization"
    return "organization" if "ORG" in labels and len(name.split()) == 1 else "person"


# Sports results and tables: where a name stands tells what it is. A name heading a score
# ("Harlequins 75 Gloucester 19", "Stoke 4 3 1 0 7 4 10", "Somerset 83 and 174") is a team; a
# name before a bracketed country ("Tim Henman (Britain) beat ...") is a competitor.
_CAP_WORD = r"[A-Z][\w'\u2019.\-]*"
_LINK_WORD = r"(?:of|de|del|la|le|van|von|der|and|y|du|da|di|St\.?)"
_NAME_RE = rf"{_CAP_WORD}(?:\s+(?:{_LINK_WORD}\s+)?{_CAP_WORD}){{0,4}}"
_NUM_RE = r"\d+(?:[.\-/]\d+)*"
_TEAM_BEFORE_SCORE = re.compile(
    rf"(?:^|(?<=^\d\.\s)|(?<=\d\s)|(?<=[,;:]\s)|(?<=\band\s))(?P<name>{_NAME_RE})(?=\s+{_NUM_RE}\b)")
_FIXTURE = re.compile(rf"(?:(?P<a>{_NAME_RE})\s+|(?<=\d\s)|^)vs?\.?\s+(?P<b>{_NAME_RE})")
_COMPETITOR = re.compile(rf"(?P<name>{_NAME_RE})\s+\((?P<nation>[A-Z][\w.' \-]*)\)")
_INITIALLED = re.compile(
    r"(?<![\w.])(?P<name>(?:[A-Z]\.\s?){1,2}(?:(?:de|van|von|da|di|du|le|la|el|al|ul)\s)?"
    r"[A-Z][a-z][\w'\u2019\-]*(?:\s(?:ul\s)?[A-Z][a-z][\w'\u2019\-]*)?)")
_VENUE = re.compile(rf"^(?P<name>{_NAME_RE})(?:\s+\((?P<alt>{_NAME_RE})\))?:\s")
_LINEUP = re.compile(rf"^(?P<label>{_NAME_RE}):\s+(?={_NAME_RE}\s*[,(.])")
_RANKED_LIST = re.compile(r"^\d+\s(?=[A-Z])")
_LIST_NAME = re.compile(r"(?:(?<=^\d\s)|(?<=\d\d\s)|(?<=\d\d\d\s)|(?<=:\s)|(?<=,\s)|(?<=\()|(?<=\(\())"
                        rf"(?P<name>{_NAME_RE})(?=\s*[,().]|\s+\d|$)")
_NUMBERED_PLAYER = re.compile(rf"(?<![\d-])\d{{1,2}}\s?-\s(?P<name>{_NAME_RE})")
_SUBSTITUTE = re.compile(rf"\((?P<name>{_NAME_RE}),?\s+\d")
_DISMISSAL = re.compile(rf"(?:\b(?:c|b|st|lbw b|c and b|c & b)|\brun out \()\s*(?P<name>{_NAME_RE})")
_PERSON_SHAPE = re.compile(r"^(?:[A-Z]\.\s?){1,2}[A-Z][a-z'\u2019]")


def sports_sides(segment: str, individual: bool = False) -> list[tuple[int, int, str]]:
    """(start, end, role) of names that a results line or table row puts in a team's or player's slot.

    role is "team" (a name heading a score or a fixture), "competitor" (a name before a bracketed
    country), "nation" (that bracketed country), "player" (an initialled name, a bowler or fielder
    in a scorecard) or "venue" (a ground or town heading a result: "Hove: Sussex 363 ...").
    """
    found: list[tuple[int, int, str]] = []
    depth_at = _paren_depths(segment)
    for m in _INITIALLED.finditer(segment):
        if not is_country(m.group("name").split()[0]):
            found.append((m.start("name"), m.end("name"), "player"))
    venue = _VENUE.match(segment)
    if venue and _is_side(venue.group("name")) and re.search(r"\d|\sv\s|\sbeat\s", segment[venue.end():]):
        found.append((venue.start("name"), venue.end("name"), "venue"))
        if venue.group("alt"):
            found.append((venue.start("alt"), venue.end("alt"), "venue"))
    for m in _TEAM_BEFORE_SCORE.finditer(segment):
        if not depth_at[m.start()] and _is_side(m.group("name")) and _is_tabular(_clause(segment, m.start())):
            figures = re.match(r"\s+([\d\-]+)", segment[m.end():])
            role = "player" if figures and figures.group(1).count("-") >= 3 else "team"  # bowling
            found.append((m.start("name"), m.end("name"), role))
    for m in _FIXTURE.finditer(segment):
        for part in ("a", "b"):
            if m.group(part) and not depth_at[m.start(part)] and _is_side(m.group(part)):
                found.append((m.start(part), m.end(part), "team"))
    for m in _COMPETITOR.finditer(segment):
        if is_country(m.group("nation").strip()) and _is_side(m.group("name")):
            found.append((m.start("name"), m.end("name"), "competitor"))
            found.append((m.start("nation"), m.end("nation"), "nation"))
    lineup = _LINEUP.match(segment)
    if lineup and (segment.count(",") >= 3 or lineup.group("label").lower() in _TABLE_WORDS):
        if lineup.group("label").lower() not in _TABLE_WORDS:
            found.append((lineup.start("label"), lineup.end("label"), "team"))
        for m in _LIST_NAME.finditer(segment, lineup.end()):
            found.append((m.start("name"), m.end("name"), "player"))
    ranked = _RANKED_LIST.match(segment)
    if ranked and individual:  # golf: "66 Neal Lancaster, Dave Barr (Canada), Mike Sullivan"
        found += [(m.start("name"), m.end("name"), "player")
                  for m in _LIST_NAME.finditer(segment, ranked.end() - 1)]
    numbered = list(_NUMBERED_PLAYER.finditer(segment))
    if len(numbered) >= 3:  # "Belgium - 1 - Filip De Wilde, 2 - Bertrand Crasson (15 - Nico ...)"
        found += [(m.start("name"), m.end("name"), "player") for m in numbered]
        found += [(m.start("name"), m.end("name"), "player") for m in _SUBSTITUTE.finditer(segment)]
    for m in _DISMISSAL.finditer(segment):
        if _is_side(m.group("name")):
            found.append((m.start("name"), m.end("name"), "player"))
    kept: list[tuple[int, int, str]] = []
    for span in sorted(set(found), key=lambda f: (f[0], f[0] - f[1], _ROLES.index(f[2]))):
        if not kept or span[0] >= kept[-1][1]:  # overlaps: the first, longest reading wins
            kept.append(span)
    return kept


_ROLES = ("nation", "player", "competitor", "team", "venue")


def looks_like_person(name: str) -> bool:
    """'P. Simmons', 'T.O'Gorman': an initial before a surname marks a player, not a team."""
    return bool(_PERSON_SHAPE.match(name))


def _clause(segment: str, pos: int) -> str:
    """The part of a line a position is in, between colons: 'Summary of ...: Deportivo 1 ...'."""
    start = segment.rfind(": ", 0, pos) + 1
    end = segment.find(": ", pos)
    return segment[start:end if end >= 0 else len(segment)]


def _is_tabular(text: str) -> bool:
    """A results line or table row, not prose: few longer words in lower case outside brackets."""
    words = [w for w in re.findall(r"[^\W\d_]+", re.sub(r"\([^()]*\)", " ", text)) if len(w) > 3]
    return sum(w[0].islower() for w in words) <= 0.4 * len(words)


def _is_side(name: str) -> bool:
    if re.search(r"['\u2019]s\s", name) or all(w.lower() in _stop_words() for w in name.split()):
        return False  # "Shearer's Euro", "The": a possessive phrase or a function word
    words = name.split()
    first = words[0].lower().rstrip(".:")
    return first not in _TABLE_WORDS and first not in _CALENDAR and not (len(words) == 1 and len(name) < 2)


def _paren_depths(text: str) -> list[int]:
    depths, depth = [], 0
    for c in text:
        if c == "(":
            depth += 1
        depths.append(depth)
        if c == ")":
            depth = max(0, depth - 1)
    depths.append(depth)
    return depths
