"""Step 3, line roles in the header: e-mail lines, name lines (`is_name_like`), affiliation text
(`is_aff_like`, with the place names of `_places`) and lines that are neither (`_roles`,
`_role`). A byline's grades, degrees and leading "By" come off first (`_strip_credentials`).
"""

from __future__ import annotations

import re

from ..emails import find_emails
from .lines import GLUED_NUMBER, SYMBOLS, Line, _letters, names_text

EXCLUDE_RE = re.compile(
    r"\b(?:preprint|under review|equal contribution|contributed equally|corresponding author|"
    r"correspondence|conference on|proceedings|copyright|licensed|permission|work (?:was )?done|"
    r"internship|arxiv|https?://|www\.|code (?:and|is)|available at|submitted|accepted|published|"
    r"equal (?:\w+ )?(?:contribution|advising|supervision)|project lead|core contributors?|senior authors?|"
    r"(?:action |academic |handling )?editors?\s*:|communicated by|recommended for acceptance|"
    r"workshop|symposium|journal of|transactions on|vol\.|pages?\s+\d|ccs concepts|acm reference format|"
    r"additional key words)", re.IGNORECASE)
DATE_RE = re.compile(
    r"^\s*(?:(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2},?\s+\d{4}|"
    r"\d{1,2}\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{4}|\d{4}-\d{2}-\d{2})\s*$",
    re.IGNORECASE)
AFF_WORDS = (
    r"univ\w*|universi\w*|institut\w*|istituto|college|school|department|dept|faculty|lab|labs|laborator\w*|"
    r"research|center|centre|centro|academy|academia|akademie|inc|ltd|llc|gmbh|corp|corporation|company|co|"
    r"group|ai|technolog\w*|hospital|clinic|foundation|ministry|polytechn\w*|polite\w*|ecole|hochschule|"
    r"escola|scuola|fakult\w*|team|division|program|programme|graduate|campus|nlp|systems|networks|"
    r"sciences?|engineering|informatics|computing|studio|ventures|cnrs|inria|csiro|riken|kaist|kaust|epfl|"
    r"eth|mit|cmu|ucla|nyu|ntu|nus|ust|google|deepmind|microsoft|facebook|meta|amazon|aws|ibm|nvidia|openai|"
    r"apple|intel|adobe|alibaba|tencent|baidu|huawei|bytedance|samsung|sony|naver|kakao|salesforce|"
    r"uber|twitter|yahoo|netflix|snap|linkedin|qualcomm|siemens|bosch|nec|fujitsu|hitachi|toshiba|"
    r"xerox|honda|toyota|megvii|sensetime|jd|didi|kuaishou|meituan|xiaomi|oppo|vivo|lenovo|zhipu|"
    r"anthropic|cohere|mistral|hugging\s?face|allen|ai2|mila|vector|usa|u\.s\.a|uk|prc|p\.r\.\s?china"
)
AFF_RE = re.compile(r"(?<![\w-])(?:" + AFF_WORDS + r")(?![\w-])", re.IGNORECASE)
POSTCODE_RE = re.compile(r"\b\d{4,6}\b|\b[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}\b")
PARTICLES = {"van", "von", "der", "den", "de", "da", "di", "del", "della", "des", "du", "la", "le", "bin",
             "binti", "al", "el", "ibn", "y", "e", "dos", "das", "do", "ter", "ten", "zu", "af", "st."}
NAME_SPLIT = re.compile(r"\s*(?:,|;|\band\b|&|\u00b7|\u2022|\u22c5|\|)\s*|\s{3,}", re.IGNORECASE)  # wide gaps part names too
NAME_WORD = re.compile(r"^(?:[A-Z\u00c0-\u00de\u0100-\u024f][\w'\u2019.\-\u00b4\u02d8\u00a8`\u02c7\u0300-\u036f]*|[A-Z]\.|\(?[A-Z][a-z]*\)?|"
                       r"[a-z]{1,3}\.)$")

# What follows a name without being part of it: IEEE membership grades ("Senior Member, IEEE"),
# degrees and honours after a comma ("Ph.D.", "MD", "FRS"); "By" before a byline.
CREDENTIALS = re.compile(
    r"\s*,?\s*\b(?:(?:(?:Graduate\s+)?Student|Senior|Life)\s+)?(?:Member|Fellow)\s*,?\s*IEEE\b"
    r"|\s*,?\s*\bIEEE\s+(?:(?:Student|Senior|Life)\s+)?(?:Member|Fellow)\b"
    r"|\s*,\s*(?:Ph\.?\s?D|M\.?\s?D|M\.?\s?Sc|B\.?\s?Sc|M\.?\s?Eng|D\.?\s?Phil|MBA|MPH|FRS|FREng|FACM|FIEEE)\.?(?=[\s,;]|$)")

# ORCID marks some publishers set as text after a name ("Jane Roe iD", "Jane Roe ID").
ORCID_MARK = re.compile(r"(?<=\w)\s+(?:iD|ID)(?=\s*(?:,|$|\band\b))")
BYLINE = re.compile(r"^\s*by\s+(?=[A-Z])", re.IGNORECASE)


# -- places, for telling affiliation lines from name lines --------------------------------------
_PLACES: re.Pattern | None = None
COUNTRY_WORDS: set[str] = set()  # filled with the country names when _places() first runs


def _places() -> re.Pattern:
    """Country names (ISO and common variants) and US state names, as one word regex."""
    global _PLACES
    if _PLACES is None:
        import pycountry

        names = set()
        for c in pycountry.countries:
            for attr in ("name", "common_name"):
                value = getattr(c, attr, None)
                if value:
                    names.add(value.split(",")[0])
        COUNTRY_WORDS.update(n.lower() for n in names)
        COUNTRY_WORDS.update({"usa", "uk", "korea", "prc", "russia", "taiwan", "vietnam", "iran", "turkey", "uae"})
        names |= {"Korea", "South Korea", "Russia", "Taiwan", "Hong Kong", "Macau", "Macao", "Vietnam", "Iran",
                  "Czech Republic", "Turkey", "England", "Scotland", "Wales", "UAE", "KSA", "PR China",
                  "California", "Massachusetts", "Washington", "Pennsylvania", "Texas", "New York", "Illinois",
                  "Michigan", "Ontario", "Quebec", "Bavaria", "Beijing", "Shanghai", "Shenzhen", "Hangzhou",
                  "Tokyo", "Seoul", "Paris", "London", "Berlin", "Munich", "Zurich", "Toronto", "Montreal",
                  "Vancouver", "Sydney", "Melbourne", "Singapore", "Bangalore", "Delhi", "Mumbai",
                  "British Columbia", "New South Wales", "New Jersey", "New Mexico", "New Hampshire", "Rhode Island",
                  "North Carolina", "South Carolina", "North Dakota", "South Dakota", "West Virginia", "San Diego",
                  "Los Angeles", "Santa Barbara", "San Francisco", "Santa Cruz", "San Jose", "Abu Dhabi", "Tel Aviv",
                  "Kuala Lumpur", "Buenos Aires", "Rio de Janeiro", "Sao Paulo", "São Paulo", "Saint Petersburg",
                  "St. Petersburg", "Cape Town", "Ann Arbor", "Palo Alto", "Mountain View", "Santa Clara",
                  "Menlo Park", "College Park", "Chapel Hill", "Stony Brook", "Salt Lake City", "Las Vegas",
                  "New Delhi", "Hong Kong SAR", "Daejeon", "Pohang", "Kyoto", "Osaka", "Taipei", "Hsinchu",
                  "Nanjing", "Wuhan", "Guangzhou", "Chengdu", "Tianjin", "Hefei", "Xi'an", "Harbin", "Suzhou",
                  "Amsterdam", "Copenhagen", "Stockholm", "Helsinki", "Oslo", "Vienna", "Prague", "Warsaw",
                  "Barcelona", "Madrid", "Lisbon", "Milan", "Rome", "Turin", "Edinburgh", "Oxford", "Cambridge",
                  "Haifa", "Jerusalem", "Cairo", "Dubai", "Riyadh", "Doha", "Tehran", "Istanbul", "Ankara",
                  "Montréal", "Québec", "Quebec City", "Zürich", "München", "Köln", "Cologne", "Göttingen",
                  "Kraków", "Krakow", "Bogotá", "Medellín", "Genève", "Geneva", "Lausanne", "Trento", "Bolzano",
                  "Pittsburgh", "Seattle", "Boston", "Chicago", "Atlanta", "Redmond", "Baltimore", "Princeton",
                  "Hangzhou", "Lisbon", "Porto", "Tübingen", "Saarbrücken", "Darmstadt", "Heidelberg"}
        names -= {"Jersey", "Georgia", "Chad", "Jordan", "Guinea"}

        words = sorted((re.escape(n) for n in names), key=len, reverse=True)
        _PLACES = re.compile(r"(?<![\w-])(?:" + "|".join(words) + r")(?![\w-])")
    return _PLACES


def is_aff_like(text: str, ignoring: frozenset[str] | set[str] = frozenset()) -> bool:
    """Does `text` name an institution, a place or a postcode? Words in `ignoring` do not count."""
    if POSTCODE_RE.search(text):
        return True
    if not ignoring:
        return bool(AFF_RE.search(text) or _places().search(text))
    return any(m.group(0).lower() not in ignoring for pattern in (AFF_RE, _places()) for m in pattern.finditer(text))


# Closed-class words of running English (verbs "to be" and "to have", pronouns, modals,
# determiners that open a clause): an address has none of them, a sentence has them. Matched in
# lower case only, so "US" and "IT University" are not "us" and "it".
SENTENCE_FUNCTION = re.compile(
    r"(?<![\w-])(?:is|are|was|were|be|been|being|has|have|had|we|our|us|it|its|they|their|this|these|those|"
    r"that|which|who|whose|can|could|will|would|should|may|might|must|than|such|not|into|via|while|when|"
    r"where|how|what|there|both|each|very|using|used|uses|show|shows|shown|propose|proposes|proposed|"
    r"present|presents|achieve|achieves|obtain|obtains|outperforms?|trained|released|based|as|by)(?![\w-])")
# Lower-case words an affiliation does carry: connectors in the languages institutions are named in.
AFF_CONNECTORS = {"of", "for", "and", "the", "in", "at", "on", "de", "di", "du", "des", "del", "della", "delle",
                  "degli", "la", "le", "les", "y", "e", "und", "für", "fur", "zu", "da", "do", "dos", "das", "en",
                  "van", "von", "der", "den", "voor", "och", "i", "a", "d'", "l'", "am", "an", "al", "el", "per",
                  "sur", "et", "u", "z", "w", "na", "im", "bei", "an der", "st", "st."}
# Notes about authorship ("∗Equal contribution", "Equal Contributors", "Joint first authors",
# "listed in alphabetical order", "Corresponding author"): never an affiliation, whatever they
# sit beside.
AUTHORSHIP_NOTE = re.compile(
    r"\b(?:equal(?:ly)?\s+(?:\w+\s+)?contribut\w*|contribut\w*\s+equally|equal\s+(?:senior\s+)?"
    r"(?:authorship|advising|supervision|contributors?)|(?:joint|co-?)\s*(?:first|senior|last|corresponding)\s+"
    r"authors?|(?:first|senior|last|lead)\s+authors?|alphabetical(?:ly)?|(?:random(?:ly|ized)?|arbitrary)\s+"
    r"(?:author\s+)?order|order\w*\s+(?:is\s+)?(?:random\w*|alphabetical\w*)|corresponding\s+authors?|"
    r"correspondence|authors?\s+contributed|project\s+leads?|core\s+contributors?|these\s+authors)\b", re.IGNORECASE)


def is_prose(text: str) -> bool:
    """Does `text` read as a sentence (an abstract, the body, a footnote of the text) rather than
    an address? Two closed-class words of a clause, or one with three lower-case content
    words, or mostly lower-case content words."""
    text = re.sub(r"[{(\[][^{}()\[\]]*[})\]]\s*@\S+|\S+@\S+|https?://\S+|www\.\S+", " ", text)  # addresses
    words = re.findall(r"[^\W\d_][\w'\u2019-]*", text)
    if len(words) < 4:
        return False
    function = len(SENTENCE_FUNCTION.findall(text))
    lower = sum(1 for w in words if w[0].islower() and w.lower() not in AFF_CONNECTORS)
    return function >= 2 or (function >= 1 and lower >= 3) or (lower >= 5 and lower > 0.5 * len(words))


def is_note(text: str) -> bool:
    """A note about authorship, or a line of the kind `EXCLUDE_RE` names (dates, venues,
    "work done at"), rather than an affiliation."""
    return bool(EXCLUDE_RE.search(text) or AUTHORSHIP_NOTE.search(text))


def is_affiliation_text(text: str) -> bool:
    """The one test every affiliation string passes before it is kept, and so before it is
    resolved: letters, not a note, not prose."""
    if not re.search(r"[A-Z\u00c0-\u00de]", text) and not AFF_RE.search(text):
        return False  # no capital and no institution word: a fragment of a line ("studies")
    return _letters(text) >= 2 and not is_note(text) and not is_prose(text)


def _name_chunks(text: str) -> list[str]:
    return [c.strip(" .,;:") for c in NAME_SPLIT.split(text) if c.strip(" .,;:")]


# Words that name places or firms but are also given names or surnames ("Milan Vojnovic",
# "Paris Smaragdis", "Genevera Allen", "Mila Nikolova", "Ai Hua"): alone they do not make a
# line of names an affiliation (is_aff_like(text, NAME_AND_PLACE)).
NAME_AND_PLACE = frozenset({"milan", "paris", "israel", "india", "london", "sydney", "washington", "vienna", "cairo", "florence",
                  "victoria", "austin", "lincoln", "madison", "jackson", "houston", "denver", "allen", "mila", "ai",
                  "berlin", "santiago", "sofia", "adelaide", "regina", "hamilton", "vector", "snap", "vivo"})


def is_name_like(text: str) -> bool:
    if not text or any(ch.isdigit() for ch in text) or "@" in text or is_aff_like(text, NAME_AND_PLACE):
        return False
    chunks = _name_chunks(text)
    if not chunks:
        return False
    longest = 0
    for chunk in chunks:
        words = chunk.split()
        if not 1 <= len(words) <= 6:
            return False
        for w in words:
            if w.lower() in PARTICLES:
                continue
            if not NAME_WORD.match(w):
                return False
        longest = max(longest, len(words))
    return longest >= 2 or len(chunks) >= 2


def _roles(header: list[Line]) -> None:
    name_style = None
    previous: Line | None = None
    for ln in header:
        _role(ln, previous, name_style)
        if ln.role == "name" and name_style is None:
            name_style = ln.style()
        previous = ln
    # A bold, name-like line decides that names are bold: unbolded name-like lines are text.
    if any(ln.role == "name" and ln.bold for ln in header):
        for ln in header:
            if ln.role == "name" and not ln.bold:
                ln.role = "aff"
    # A name-like line beside a name line, in a slightly different size (three columns of
    # authors, one set a point smaller), is a name too.
    names = [ln for ln in header if ln.role == "name"]
    for ln in header:
        if ln.role == "aff" and is_name_like(ln.name_text) and any(
                abs(n.y0 - ln.y0) < 0.5 * n.size and abs(n.size - ln.size) <= 1.5 and n.bold == ln.bold for n in names):
            ln.role = "name"
    # Affiliation lines above the first name line (page headers, venue lines) are not the
    # author block's.
    first_name = min((ln.y0 for ln in header if ln.role == "name"), default=None)
    if first_name is not None:
        for ln in header:
            numbered = ln.pieces and ln.pieces[0][1] or GLUED_NUMBER.match(ln.text)
            if ln.role == "aff" and ln.y1 < first_name - 1 and not numbered:
                ln.role = "other"  # numbered affiliations printed before the names stay


GLUED_MARKS = re.compile(r"(?<=[A-Za-z\u00c0-\u024f])(\d{1,2}(?:\s?,\s?\d{1,2})*|[" + re.escape(SYMBOLS) + r"]+)(?=[\s,;]|$)")


def _glue_markers(ln: Line) -> bool:
    """Markers set in the names' own size and face ("Wei Li1,2, Tom Baker3"): when reading
    them as markers makes the line a line of names, it is one. Returns whether it did."""
    if not any(GLUED_MARKS.search(t) for t, m in ln.pieces if not m):
        return False
    pieces: list[tuple[str, bool]] = []
    for text, marker in ln.pieces:
        if marker:
            pieces.append((text, True))
            continue
        at = 0
        for m in GLUED_MARKS.finditer(text):
            pieces.extend([(text[at:m.start()], False), (m.group(1), True)])
            at = m.end()
        pieces.append((text[at:], False))
    pieces = [(t, m) for t, m in pieces if t]
    if not is_name_like(names_text(pieces)):
        return False
    ln.pieces = pieces
    return True


def _pair_names(ln: Line) -> bool:
    """A byline whose names are apart only by space ("Kaiming He Xiangyu Zhang Shaoqing Ren Jian
    Sun", when the PDF's gaps read as single spaces): six or more capitalised words, an even
    number, none a particle or an initial, with nothing else on the line, are read as
    first-name/surname pairs. Returns whether it did."""
    if len(ln.pieces) != 1 or ln.pieces[0][1]:
        return False
    words = ln.pieces[0][0].split()
    if len(words) < 6 or len(words) % 2 or len(words) > 16:
        return False
    if not all(NAME_WORD.match(w) and len(w) > 1 and not w.endswith(".") and w.lower() not in PARTICLES
               and w[1:].islower() for w in words):
        return False
    trial = ", ".join(" ".join(words[i:i + 2]) for i in range(0, len(words), 2))
    if not is_name_like(trial):
        return False
    ln.pieces = [(trial, False)]
    return True


def _name_with_email(ln: Line) -> bool:
    """ICML 2012-2015, JMLR: "Andriy Mnih      AMNIH@GATSBY.UCL.AC.UK" on one line. When the
    line without its addresses is a name, the addresses leave the line (kept in `own_emails`)."""
    found = find_emails(ln.raw)
    if not found:
        return False
    pieces = []
    for text, marker in ln.pieces:
        if not marker:
            text = re.sub(r"[{(\[<][^{}()\[\]<>@]*[})\]>]\s*@[\w.-]+|<?[\w.+'-]+@[\w.-]+>?", " ", text)
            text = re.sub(r"[(\[<{]\s*[)\]>}]", " ", text)  # "Ana Silva (ana@x.pt)": the brackets left
        pieces.append((text, marker))
    pieces = [(t, m) for t, m in pieces if t.strip()]
    if not pieces or not is_name_like(names_text(pieces)):
        return False
    ln.pieces = pieces
    ln.own_emails = found
    return True


def _role(ln: Line, previous: Line | None, name_style: tuple | None) -> None:
    text = ln.text
    if "@" in ln.raw and re.match(r"^\s*(?:e-?mails?|emails?\s+addresses?|contact)\s*:", ln.raw, re.I):
        ln.role = "email"  # "Email: Sofia Marin* - sofia@unige.ch; ..."
        return
    if "@" in ln.raw and _name_with_email(ln):
        text = ln.text
    if "@" in ln.raw:
        rest = ln.raw
        for e in find_emails(ln.raw):
            rest = rest.replace(e.split("@")[0], " ")
        rest = re.sub(r"\S*@\S*|[{}()\[\]|,;:<>]|e-?mail", " ", rest, flags=re.I)
        letters = _letters(rest)
        if letters < 4 or (letters < 0.35 * _letters(ln.raw) and not is_aff_like(rest)):
            ln.role = "email"
            return
    if is_note(text) and _without_notes(ln):
        text = ln.text  # "All authors from DeepMind, ∗Equal contributions, ‡Equal senior authorship"
    if _letters(text) < 2 or is_note(text) or DATE_RE.match(text) or \
            text.strip().lower() in ("and", "&"):
        ln.role = "other"
        return
    names = ln.name_text
    after_hyphen = previous is not None and previous.role == "name" and previous.text.endswith("-")
    if after_hyphen and names[:1].islower():
        names = names[:1].upper() + names[1:]  # "Paulo Ro-" / "cha⁹, Bogdan Sacaleanu¹⁰"
    if not is_name_like(names) and _glue_markers(ln):
        names = ln.name_text
    if not is_name_like(names) and _pair_names(ln):
        names = ln.name_text
    marked = any(m and t.strip() for t, m in ln.pieces[1:]) or (len(ln.pieces) > 1 and ln.pieces[-1][1])
    fragment = (name_style is not None and len(text.split()) == 1 and NAME_WORD.match(text) and not is_aff_like(text)
                and (ln.style() == name_style or marked))
    if is_name_like(names) or fragment:
        if name_style is None or ln.style() == name_style or (marked and ln.style()[0] >= name_style[0] - 0.6) \
                or ln.bold:
            ln.role = "name"
            return
    # Only a line that could be an address is affiliation text: a sentence (the abstract's first
    # line, a note of the text) is not, whatever it names.
    ln.role = "other" if is_prose(text) else "aff"


def _without_notes(ln: Line) -> bool:
    """A line of several parts apart by markers, some of them notes ("All authors from DeepMind,
    ∗Equal contributions, ‡Equal senior authorship"): the notes and their markers leave the line
    and the rest stays. Returns whether something that is not a note stayed."""
    parts: list[list[tuple[str, bool]]] = [[]]
    for text, marker in ln.pieces:
        if marker and parts[-1]:
            parts.append([])
        parts[-1].append((text, marker))
    kept = [p for p in parts if not is_note(" ".join(t for t, m in p if not m))]
    if len(parts) < 2 or not kept or len(kept) == len(parts):
        return False
    pieces = [piece for p in kept for piece in p]
    if pieces and not pieces[-1][1]:
        pieces[-1] = (pieces[-1][0].rstrip(" ,;"), False)
    ln.pieces = pieces
    return _letters(ln.text) >= 2


def _strip_credentials(ln: Line) -> None:
    """Take IEEE grades, degrees and a leading "By" out of a byline's words (markers stay)."""
    if not (CREDENTIALS.search(ln.raw) or BYLINE.match(ln.raw) or ORCID_MARK.search(ln.raw)):
        return
    pieces = []
    for k, (text, marker) in enumerate(ln.pieces):
        if not marker:
            text = ORCID_MARK.sub("", CREDENTIALS.sub("", text))
            if k == 0:
                text = BYLINE.sub("", text)
        if text:
            pieces.append((text, marker))
    ln.pieces = pieces or ln.pieces
