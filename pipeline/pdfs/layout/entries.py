"""Step 3, continued: affiliation lines grouped into entries (`Entry`).

Marked lines are read as running text, each marker starting an entry (`_flow_entries`); a
marker printed in the text's own size is found first (`_leading_markers`). Unmarked lines go
by column, a line joining the entry above when it wraps it (`_wraps`: a part of an institution
named above, an address line, a connector, a full line). `clean_affiliation` gives an entry's
text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .lines import GLUED_NUMBER, MARKER_CANON, SYMBOLS, Line, split_markers
from .roles import AFF_RE, COUNTRY_WORDS, POSTCODE_RE, _places, is_affiliation_text
from .zones import reading_order

CONNECTOR_END = re.compile(r"(?:,|;|&|-|\b(?:and|of|for|in|on|at|de|del|der|des|di|du|la|le|und|f\u00fcr|the|y|e))\s*$",
                           re.IGNORECASE)

# Words that cannot be an affiliation on their own: a line of only these wraps the one above.
FRAGMENT_WORDS = {"university", "universität", "universite", "université", "institute", "college", "school",
                  "laboratory", "laboratories", "lab", "labs", "technology", "sciences", "science", "research",
                  "inc", "ltd", "llc", "gmbh", "corp", "corporation", "company", "center", "centre", "engineering",
                  "of", "and", "the", "for", "studies", "academy", "group", "systems", "informatics", "biomedicine",
                  "department", "computing", "intelligence", "medicine", "hospital"}
CORRESPONDENCE = re.compile(r"\b(?:correspondence to|corresponding authors?|e-?mail)\s*:?.*$", re.IGNORECASE | re.DOTALL)


@dataclass
class Entry:
    text: str
    markers: list[str]
    lines: list[Line]

    @property
    def box(self) -> tuple[float, float, float, float]:
        return (min(ln.x0 for ln in self.lines), min(ln.y0 for ln in self.lines),
                max(ln.x1 for ln in self.lines), max(ln.y1 for ln in self.lines))


def clean_affiliation(text: str) -> str:
    text = re.sub(r"^\s*(?:address(?:es)?|affiliations?)\s*:\s*", "", text, flags=re.I)
    text = re.sub(r"^\s*(?:all\s+|the\s+)?authors?\s+(?:are\s+)?(?:from|at|with)\s+(?:the\s+)?", "", text, flags=re.I)
    text = CORRESPONDENCE.sub("", text)
    text = re.sub(r"\bfull list of author information\b.*$", "", text, flags=re.I | re.S)
    # "(forner@celct.it)", "{jiatang, junyan}@microsoft.com", "a.b@x.org"
    text = re.sub(r"\(\s*[^()]*@[^()]*\)|[{\[][^{}\[\]]*[}\]]\s*@[\w-]+(?:\.[\w-]+)+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+",
                  " ", text)
    text = " ".join(text.split()).strip(" ,;.:\u2022")
    text = re.sub(r"(?:[\s,]+(?:and|&))+$", "", text).strip(" ,;.:")  # "..., Switzerland and" before the next marker
    return text


def _flow_entries(aff_lines: list[Line]) -> list[Entry]:
    """Marked affiliations read as running text, rows top to bottom: each marker starts an
    entry, and text up to the next marker belongs to it (entries that wrap onto the next row,
    several entries on one row)."""
    items: list[list] = []  # [marker or None, text, lines, text of unmarked lines after the first]
    for ln in reading_order(aff_lines):
        fresh_line = True
        for text, marker in ln.pieces:
            if marker and text.strip():
                items.append([text.strip(), "", [ln], ""])
            elif text.strip():
                if not items or (fresh_line and items[-1][0] is None):
                    items.append([None, text, [ln], ""])
                else:
                    items[-1][1] += " " + text
                    if fresh_line:
                        items[-1][3] += " " + text
                    if ln not in items[-1][2]:
                        items[-1][2].append(ln)
            fresh_line = False
    # "¹Center for Language and Speech Processing &" / "²Human Language Technology Center" /
    # "Johns Hopkins University, Baltimore, MD, USA": the last line, unmarked, completes the
    # marked parts above it that end in a connector or name only a part of an institution.
    for k, item in enumerate(items):
        tail = item[3].strip()
        if not tail or not (INSTITUTION.search(tail) or _places().search(tail)):
            continue
        for before in reversed(items[:k]):
            own = before[1].strip()
            if before[0] is None or before[3] or not (CONNECTOR_END.search(own) or is_subunit(own)):
                break
            before[1] = own + " " + tail
    entries = []
    for marker, text, lines, _ in items:
        text = clean_affiliation(text)
        if is_affiliation_text(text):
            entries.append(Entry(text, split_markers(marker) if marker else [], lines))
    return entries


def _entries(aff_lines: list[Line], page_width: float = 612.0) -> list[Entry]:
    if any(m and t.strip() for ln in aff_lines for t, m in ln.pieces):
        return _flow_entries(aff_lines)
    # Unmarked lines in columns: a line continues the entry above it in its column when it
    # wraps it. The widest line of the column tells the column's width.
    entries: list[Entry] = []
    for ln in sorted(aff_lines, key=lambda x: (x.y0, x.x0)):
        text = ln.text
        markers: list[str] = []
        m = GLUED_NUMBER.match(text)
        if m:
            markers = [m.group(1)]
            text = text[m.end():]
        prev = None
        for e in reversed(entries):
            last = e.lines[-1]
            if last.x0 < ln.x1 and last.x1 > ln.x0 and -0.4 * ln.size <= ln.y0 - last.y1 < 1.2 * ln.size and last is not ln:
                prev = e
            if last.y1 < ln.y0 - 2 * ln.size:
                break
        if prev is not None and not markers:
            same = [o.width for o in aff_lines if o.width < 0.55 * page_width and o.x0 < ln.xc < o.x1]
            column = max(same) if ln.width < 0.55 * page_width and same else max(o.width for o in aff_lines)
            if _wraps(prev, ln, text, column):
                glue = ", " if is_address_line(text) and not prev.text.rstrip().endswith((",", "-")) else " "
                prev.text = prev.text.rstrip() + glue + text
                prev.lines.append(ln)
                continue
        entries.append(Entry(text, markers, [ln]))
    for e in entries:
        e.text = clean_affiliation(e.text)
    return [e for e in entries if is_affiliation_text(e.text)]


TAIL_WORDS = {"university", "universitat", "universität", "université", "universite", "institute", "institut",
              "inc", "ltd", "llc", "gmbh", "corp", "corporation", "laboratory", "laboratories", "lab", "labs",
              "research", "ai", "technology", "technologies", "sciences", "college", "center", "centre",
              "academy", "group", "hospital", "school", "foundation", "company", "polytechnique"}
INSTITUTION_HEADS = {"university", "universitat", "universite", "universidad", "universita", "institute", "institut",
                     "college", "school", "academy", "laboratory", "lab", "hospital", "center", "centre"}
HEAD_WORDS = {"department", "dept", "school", "university", "universitat", "universität", "université",
              "universidad", "universita", "università", "institute", "institut", "faculty", "college",
              "laboratory", "lab", "center", "centre", "division", "graduate", "key", "state", "national",
              "the", "max", "microsoft", "google", "amazon", "meta", "facebook", "ibm", "nvidia", "samsung"}
SUBUNIT = re.compile(r"^\s*(?:the\s+)?(?:department|dept\.?|school|faculty|cent(?:er|re)|laborator(?:y|ies)|lab|labs|"
                     r"division|group|program(?:me)?|chair|institute\s+(?:for|of)|d[ée]partement|departament[o]?|"
                     r"dipartimento|facult[ée]|facultad|fakult[äa]t|lehrstuhl|laboratoire|laboratorio)\b", re.IGNORECASE)
INSTITUTION = re.compile(r"\b(?:universit\w*|universidad|college|inc|ltd|corp\w*|gmbh|llc|hospital|academy|"
                         r"polytechn\w*|politecnico|ecole|école)\b", re.IGNORECASE)


def is_subunit(text: str) -> bool:
    """A part of an institution named without the institution or a place ("Center for
    Mind/Brain Sciences", "Department of Physics"): the line after it says whose it is."""
    return bool(SUBUNIT.match(text) and not INSTITUTION.search(text) and not _places().search(text)
                and not POSTCODE_RE.search(text))


COUNTRY_CODES = re.compile(r"(?<![\w.])(?:U\.?S\.?A\.?|U\.?K\.?|P\.?\s?R\.?\s?China|PRC)(?![\w])")


# A street: a number (or "One") then words ending in a street word, or a street word then words
# and a number, in the languages addresses are printed in ("51 avenue Jean Kuntzmann", "One
# Microsoft Way", "Via Tridente 42/14", "Hauptstraße 5", "Calle Mayor 12").
STREET = re.compile(
    r"^\s*(?:(?:\d+[A-Za-z]?(?:[-/]\d+)?|One|Two|Three)\s+(?:[\w.'-]+\s+){0,3}?(?:street|st\.?|avenue|ave\.?|"
    r"road|rd\.?|way|boulevard|blvd\.?|drive|dr\.?|lane|ln\.?|place|pl\.?|square|parkway|pkwy\.?|court|ct\.?|"
    r"highway|hwy\.?|circle|terrace|plaza|rue|avenue|all[ée]e|chemin|quai|via|viale|piazza|calle|avenida|rua|"
    r"strasse|straße|weg|platz|gasse|laan|straat|gatan|vej)\b|(?:rue|avenue|all[ée]e|chemin|quai|via|viale|piazza|"
    r"corso|calle|avenida|av\.|rua|carrer|ul\.|ulica)\s+(?:[\w.'-]+\s+){0,4}\d+|[\w-]*(?:stra(?:ss|ß)e|weg|platz|"
    r"gasse|laan|straat|gatan|vej)\s+\d+)", re.IGNORECASE)
# "Stanford, CA", "Baltimore, MD 21218", "Ithaca, NY 14853-7501": a city and a state code
STATE_ADDRESS = re.compile(r"^\s*[A-Z][\w.'-]*(?:\s+[A-Z][\w.'-]*){0,2},\s*[A-Z]{2}(?:\s+\d{5}(?:-\d{4})?)?"
                           r"(?:\s*,\s*(?:USA|U\.S\.A\.?|US|United States))?\s*$")


def is_address_line(text: str) -> bool:
    """A line that only says where ("Santiago, Chile", "Seattle, WA 98105, USA", "Lagos,
    Nigeria", "Stanford, CA", "One Microsoft Way"): the end of the affiliation above it, never
    one of its own."""
    if STREET.match(text) or (STATE_ADDRESS.match(text) and not AFF_RE.search(text)):
        return True
    words = text.replace(",", " ").split()
    if not 1 <= len(words) <= 6:
        return False
    unplaced = COUNTRY_CODES.sub(" ", _places().sub(" ", text))
    if AFF_RE.search(unplaced):
        return False
    last = re.sub(r"[\s,.]*(?:\d[\d -]*|[A-Z]\d[A-Z]\s?\d[A-Z]\d)?$", "", text).rstrip(". ")  # a trailing postcode
    last = re.sub(r"[\s,]+[A-Z]{2}$", "", last)  # and a state or province code ("Pittsburgh, PA", "Montréal, QC")
    ends = [m.end() for m in _places().finditer(last)] + [m.end() for m in COUNTRY_CODES.finditer(last)]
    if not ends or max(ends) != len(last):
        return False
    # What is left once places, postcodes and state codes are gone is at most a city's name.
    rest = re.sub(r"\b[A-Z]{2}\b|\b[A-Z]\d[A-Z]\s?\d[A-Z]\d\b|\d[\d -]*", " ", unplaced).replace(",", " ").split()
    return len(rest) <= 2


def _wraps(prev: Entry, ln: Line, text: str, column: float) -> bool:
    """Does `text` (line `ln`, the next in the column) continue the entry above rather than
    start another affiliation?"""
    if CONNECTOR_END.search(prev.text) or text[:1].islower():
        return True
    if is_subunit(prev.text) and not is_subunit(text):
        return True  # "Center for Mind/Brain Sciences" / "University of Trento, Italy"
    if is_address_line(text):
        return True  # "Universidad de Chile" / "Santiago, Chile"
    words = text.split()
    if not words:
        return False
    if all(w.lower().strip(".,") in FRAGMENT_WORDS for w in words):
        return True
    first = words[0].lower().strip(".")
    if first.rstrip(",") in TAIL_WORDS and (first.endswith(",") or len(words) == 1):
        return True  # "University, USA" / "Center, USA": the end of a name begun above
    # Text is broken only where the next word does not fit: when the first word of this
    # line would have fitted on the line above, the break was meant.
    last = prev.lines[-1]
    first_width = ln.width * len(words[0]) / max(len(text), 1)
    if last.width + 0.3 * ln.size + first_width < 0.97 * column:
        return False
    prev_words = prev.text.split()
    ending = prev_words[-1] if prev_words else ""
    if _places().fullmatch(f"{ending} {words[0].rstrip(',')}"):
        return True  # "Hong" / "Kong", "San" / "Francisco"
    lead = _places().match(text)
    if lead and text[lead.end():lead.end() + 1] == ",":
        return True  # "Sydney, NSW 2007, Australia": an address goes on, nothing starts with one
    segment = prev.text.rsplit(",", 1)[-1].lower()
    complete = (ending.lower().strip(".,") in TAIL_WORDS or _places().search(ending)
                or re.fullmatch(r"[A-Z]{2,6}\.?", ending)
                or any(w in INSTITUTION_HEADS for w in re.findall(r"[a-z]+", segment)))
    if not complete:
        return True  # "..., Central" / "South University"; "Indian" / "Institute of Science"
    if first.rstrip(",") in HEAD_WORDS:
        return False
    # "..., Tokyo" / "Metropolitan University": a city may begin a name, a country does not.
    return (len(words) <= 2 and words[-1].lower().strip(".,") in TAIL_WORDS
            and ending.lower().strip(".,") not in COUNTRY_WORDS)


GLUED_INSIDE = re.compile(r"(?<=\s)(\d{1,2})(?=[A-Z\u00c0-\u00de][a-z\u00e0-\u00ff])")
LEADING_TOKEN = re.compile(r"^\s*(\d{1,2}|[a-z]|[" + re.escape(SYMBOLS) + r"])(?:\s+|(?=[A-Z]))(?=\S)")


def _leading_markers(aff_lines: list[Line], marks: set[str]) -> None:
    """An affiliation line that starts with one of the names' markers set in the text's own
    size and face ("a Politecnico di Milano" under "Mehdi Elahi^a"; "1 Shaanxi ...") starts
    with that marker."""
    if not marks:
        return
    for ln in aff_lines:
        if not ln.pieces:
            continue
        if not ln.pieces[0][1]:
            m = LEADING_TOKEN.match(ln.pieces[0][0])
            if m and MARKER_CANON.get(m.group(1), m.group(1)) in marks:
                ln.pieces = [(m.group(1), True), (ln.pieces[0][0][m.end():], False)] + ln.pieces[1:]
        # "... CA, USA    2Preferred Networks, ...": a number glued to the next entry's first word
        pieces: list[tuple[str, bool]] = []
        for text, marker in ln.pieces:
            at = 0
            if not marker:
                for m in GLUED_INSIDE.finditer(text):
                    if m.group(1) in marks:
                        pieces.extend([(text[at:m.start(1)], False), (m.group(1), True)])
                        at = m.end(1)
            pieces.append((text[at:], marker))
        ln.pieces = [(t, m) for t, m in pieces if t]
