"""Text normalisation shared by the place tables, the institution tables and the ROR index.

`fold` keeps the text readable (case, punctuation) and only removes what never carries
meaning: compatibility forms, accents, footnote marks, doubled spaces. `name_key` turns a name
into the key both sides of a match are compared by: lower case, punctuation gone, common
abbreviations spelled out, legal suffixes and "the" dropped.
"""

from __future__ import annotations

import re
import unicodedata

# Footnote marks: dagger, double dagger, section, pilcrow, asterisks, stars, superscripts.
FOOTNOTE_MARKS = re.compile(r"[\u2020\u2021\u00a7\u00b6\u2016\u2225*#\u2217\u22c6\u2605\u2606\u00b9\u00b2\u00b3\u2070-\u209f]")
# A footnote number glued to the end of a word: "Switzerland2", "Sinica3" (not "COVID19"-like
# tokens in capitals, not "3D").
GLUED_NUMBER = re.compile(r"(?<=[a-z]{3})\d{1,2}\b")
# ... or to the start of the next one: "3Shanghai Qi Zhi Institute", "2Anhui Provincial ...".
LEADING_NUMBER = re.compile(r"(?<![\w.])\d{1,2}(?=[A-Z][a-z]{2})")
NON_WORD = re.compile(r"[^0-9a-z]+")
# PDF text often keeps an accent as a separate spacing character: "Montr ´eal", "Link ¨oping".
SPACING_ACCENT = re.compile(r"\s?[\u00b4\u00a8\u02c6\u02dc\u00b8\u02d8\u02c7\u02dd\u02da`]\s?(?=[A-Za-z])")
TRANSLITERATE = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})
SPECIAL = str.maketrans({"ß": "ss", "ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "đ": "d", "Đ": "D", "ł": "l",
                         "Ł": "L", "ı": "i", "œ": "oe", "Œ": "OE", "\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'",
                         "\u2013": "-", "\u2014": "-", "\u2010": "-", "\u2011": "-"})

ABBREVIATIONS = {
    "univ": "university", "u": "university", "universty": "university", "inst": "institute", "natl": "national",
    "intl": "international", "dept": "department", "lab": "laboratory", "labs": "laboratory",
    "laboratories": "laboratory", "centre": "center", "st": "saint", "mt": "mount",
    "technol": "technology", "sci": "science", "acad": "academy", "res": "research",
}
LEGAL_SUFFIXES = {"inc", "ltd", "llc", "gmbh", "corp", "plc", "limited", "co", "srl", "bv", "ag", "sas"}
DROP = {"the"}


def fold(text: str) -> str:
    """NFKC, then strip accents and footnote marks, collapse white space."""
    text = SPACING_ACCENT.sub("", text)
    text = unicodedata.normalize("NFKC", text).translate(SPECIAL)
    text = FOOTNOTE_MARKS.sub(" ", text)
    if not text.isascii():
        text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = GLUED_NUMBER.sub("", text)
    text = LEADING_NUMBER.sub("", text)
    return " ".join(text.split())


def key_tokens(folded_lower: str) -> list[str]:
    """Tokens of already folded, lower-cased text, abbreviations expanded."""
    text = folded_lower.replace("&", " and ").replace("'", "")
    tokens = [ABBREVIATIONS.get(t, t) for t in NON_WORD.sub(" ", text).split()]
    return [t for t in tokens if t not in DROP]


def name_key(text: str, transliterate: bool = False) -> str:
    """The comparison key of an institution name ("Univ. of Tübingen" -> "university of tubingen";
    with `transliterate`, German umlauts become ae/oe/ue first: "university of tuebingen")."""
    if transliterate:
        text = text.translate(TRANSLITERATE)
    tokens = key_tokens(fold(text).lower())
    while len(tokens) > 1 and tokens[-1] in LEGAL_SUFFIXES:
        tokens.pop()
    return " ".join(tokens)


# Words that make a segment look like an institution's name (for fuzzy matching).
INSTITUTION_WORDS = {
    "university", "universitat", "universite", "universidad", "universita", "universidade", "universiteit",
    "institute", "institut", "instituto", "istituto", "college", "school", "academy", "laboratory",
    "center", "hospital", "polytechnic", "politecnico", "polytechnique", "ecole", "hochschule", "foundation",
}
# Words that are also place names somewhere but never say where an institution is.
GENERIC_PLACE_WORDS = {"city", "park", "science", "technology", "research", "national", "central", "north",
                       "south", "east", "west", "new", "saint", "mount", "valley", "industrial", "medical"}
# A ROR name followed by one of these (or preceded by LEADS) is the start or end of a longer
# name we do not know ("Institute of Robotics and Mechatronics"): not a match.
CONNECTORS = {"and", "of", "for", "in", "on", "de", "at", "und", "fur", "di", "del", "des", "du", "la"}
LEADS = {"of", "for", "de", "and", "fur", "di", "del", "des", "du", "la"}

# University names in their own language and their English forms (name keys): the resolver
# reads a native label as the English name's university, the index adds the English form of a
# native name no organisation carries ("University of Sherbrooke" is the Université de Sherbrooke).
NATIVE_NAMES = [
    (re.compile(r"technische universitat (.+)"), ("technical university of {}",)),
    (re.compile(r"universitat (?!des |der )(.+)"), ("university of {}",)),
    (re.compile(r"universite (?:de |d |du )?(.+)"), ("university of {}",)),
    (re.compile(r"universita (?:degli studi )?(?:di )?(.+)"), ("university of {}",)),
    (re.compile(r"universidad (?:de )?(.+)"), ("university of {}",)),
    (re.compile(r"universiteit (?:van )?(.+)"), ("university of {}",)),
]

# The first word of each native form, as a name key starts with it.
NATIVE_FIRST_WORDS = tuple(sorted({pattern.pattern.split(" ", 1)[0] + " " for pattern, _ in NATIVE_NAMES}))

def english_forms(key: str) -> list[str]:
    """The English forms of a native university name key ("universite de sherbrooke" ->
    "university of sherbrooke"); empty for any other key."""
    if not key.startswith(NATIVE_FIRST_WORDS):  # most keys: one test instead of a regex each
        return []
    return [form.format(m.group(1)) for pattern, english in NATIVE_NAMES if (m := pattern.fullmatch(key))
            for form in english]
