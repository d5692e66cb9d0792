"""Reading a paper's first page: title, authors in order, their affiliations and e-mails.

Input is PyMuPDF's text dict of page 1 (spans with font, size, flags and position); nothing
here opens files. The steps, each a function below:

1. **Lines.** Horizontal lines only (the rotated arXiv stamp in the margin is skipped). A
   span is a *marker* when it is set as a superscript (flag, or clearly smaller than the
   line's text) and holds only digits, lower-case letters and footnote symbols, or when it
   holds only footnote symbols (* † ‡ § ¶ ♠ ♢ …) at any size.
2. **Zones.** The title is the largest type in the top of the page. The *header* runs from
   the title to the "Abstract" heading (or "Keywords", "Introduction", or else the first
   justified paragraph). *Footnotes* are lines at the foot of the page in smaller type than
   the body with no body text below them.
3. **Line roles in the header.** E-mail lines; name lines (lists of capitalised names with no
   institution word, in the type style of the first such line, or carrying markers); lines
   that are neither (dates, "Preprint", "Corresponding author") are dropped; the rest are
   affiliation text. Affiliation lines are grouped into entries: a leading marker (or a
   glued number, "1College of ...") starts one; a line continues the entry above when that
   entry is numbered, ends in a comma or a connecting word, or the line starts in lower case.
4. **Authors to affiliations.** When names carry markers that affiliation entries (in the
   header or the footnotes) also carry, markers decide; unmarked authors take the unmarked
   entries. Otherwise position decides: an entry belongs to the name line above it in its
   column (a "block"); an entry under several names of a row is shared by the row.
   Footnotes of the IEEE form ("A and B are with X") and ACM "Authors' addresses" are read
   by name.
5. **E-mails.** An address alone in an author's block is that author's; the rest go to the
   best-fitting name (local part vs. name: `flast`, `first.last`, `first`, ...).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from .emails import ascii_tokens, assign_emails, find_emails

SYMBOLS = "*\u2217\u22c6\u2605\u2020\u2021\u00a7\u00b6\u2016#\u2660\u2663\u2665\u2666\u2661\u2662\u2664\u2667\u266e\u271d\u2709"
SYMBOL_SET = set(SYMBOLS)
MARKER_RE = re.compile(r"^[\s,0-9a-z" + re.escape(SYMBOLS) + r"'\u2019.\-]{1,14}$")
MARKER_TOKEN = re.compile(r"\d{1,2}|[a-z]|[" + re.escape(SYMBOLS) + "]")
MARKER_CANON = {"\u2217": "*", "\u22c6": "*", "\u2605": "*"}
GLUED_NUMBER = re.compile(r"^(\d{1,2})(?=[A-Z\u00c0-\u00de])")

ABSTRACT_RE = re.compile(
    r"^\s*(?:a\s?b\s?s\s?t\s?r\s?a\s?c\s?t\b|summary\b|keywords\b|key\s?words\b|index terms\b|"
    r"(?:1|i)\.?\s*introduction\b|introduction$)", re.IGNORECASE)
EXCLUDE_RE = re.compile(
    r"\b(?:preprint|under review|equal contribution|contributed equally|corresponding author|"
    r"correspondence|conference on|proceedings|copyright|licensed|permission|work (?:was )?done|"
    r"internship|arxiv|https?://|www\.|code (?:and|is)|available at|submitted|accepted|published|"
    r"equal (?:\w+ )?(?:contribution|advising|supervision)|project lead|core contributors?|senior authors?|"
    r"(?:action |academic |handling )?editors?\s*:|communicated by|recommended for acceptance|"
    r"workshop|symposium|journal of|transactions on|vol\.|pages?\s+\d)", re.IGNORECASE)
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
STRONG_AFF = re.compile(r"\b(?:universit\w*|institut\w*|department|laborator\w*|college|school|inc|ltd)\b", re.I)
POSTCODE_RE = re.compile(r"\b\d{4,6}\b|\b[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}\b")
PARTICLES = {"van", "von", "der", "den", "de", "da", "di", "del", "della", "des", "du", "la", "le", "bin",
             "binti", "al", "el", "ibn", "y", "e", "dos", "das", "do", "ter", "ten", "zu", "af", "st."}
NAME_SPLIT = re.compile(r"\s*(?:,|;|\band\b|&|\u00b7|\u2022|\u22c5|\|)\s*|\s{3,}", re.IGNORECASE)  # wide gaps part names too
NAME_WORD = re.compile(r"^(?:[A-Z\u00c0-\u00de\u0100-\u024f][\w'\u2019.\-\u00b4\u02d8\u00a8`\u02c7\u0300-\u036f]*|[A-Z]\.|\(?[A-Z][a-z]*\)?|"
                       r"[a-z]{1,3}\.)$")
CONNECTOR_END = re.compile(r"(?:,|;|&|-|\b(?:and|of|for|in|on|at|de|del|der|des|di|du|la|le|und|f\u00fcr|the|y|e))\s*$",
                           re.IGNORECASE)
# Words that cannot be an affiliation on their own: a line of only these wraps the one above.
FRAGMENT_WORDS = {"university", "universität", "universite", "université", "institute", "college", "school",
                  "laboratory", "laboratories", "lab", "labs", "technology", "sciences", "science", "research",
                  "inc", "ltd", "llc", "gmbh", "corp", "corporation", "company", "center", "centre", "engineering",
                  "of", "and", "the", "for", "studies", "academy", "group", "systems", "informatics", "biomedicine",
                  "department", "computing", "intelligence", "medicine", "hospital"}
# "K. He and J. Sun are with Microsoft Research, ..."; "H. Li is with A, and also with B";
# "The authors are with ..."; "X was with ..." (a former affiliation).
WITH_RE = re.compile(r"\b(?P<verb>is|are|was|were)\s+(?:(?P<adv>now|also|currently|presently|formerly|previously|"
                     r"jointly)\s+)?(?:with|at)\s+(?:the\s+)?", re.IGNORECASE)
ALSO_WITH = re.compile(r",?\s*(?:and|as well as)\s+(?:is\s+|are\s+)?(?:also|now)\s+(?:with|at)\s+(?:the\s+)?", re.I)
VISIT_RE = re.compile(r"\b(?:is|are)\s+(?:currently\s+)?(?:an?\s+)?visiting(?:\s+(?:researcher|scholar|student|"
                      r"professor|scientist)s?)?\s+(?:at\s+|to\s+)?(?:the\s+)?[^.;]+?\s+from\s+(?:the\s+)?"
                      r"(?P<home>[^;()]+)", re.IGNORECASE)
ALL_AUTHORS = re.compile(r"^(?:the|all)\s+(?:other\s+)?authors?$", re.IGNORECASE)
# "Work done while at X", "during an internship at X": where an author was, not where they are.
FORMER_RE = re.compile(r"\b(?:(?:work|research|this)\s+(?:was\s+)?(?:partly\s+|partially\s+|mainly\s+)?"
                       r"(?:done|performed|conducted|carried out)\s+(?:while|when|during)\b[^.;]*?|"
                       r"during\s+(?:an?\s+|his\s+|her\s+|their\s+)?internships?|while\s+(?:\w+\s+){0,4}?"
                       r"(?:was|were|being)\s+(?:an?\s+)?(?:intern|student|visitor|visiting)\w*|"
                       r"(?:was|were)\s+(?:an?\s+)?interns?)\s+(?:at|with)\s+(?:the\s+)?(?P<aff>[^.;()]{3,160})",
                       re.IGNORECASE)
CORRESPONDENCE_LABEL = re.compile(r"^\s*(?:correspondence|corresponding authors?)\s*:\s*(?:\S+@\S+\s*)*", re.I)
SENTENCE_WORDS = re.compile(r"\b(?:is|are|was|were|we|our|can|be|this|that|these|see|which|has|have|not|if|when|"
                            r"since|where|denotes?|refers?)\b")
SENTENCE_ABBREVIATIONS = {"dept", "univ", "inst", "st", "no", "ave", "rd", "blvd", "co", "corp", "mr", "dr", "prof",
                          "mt", "ft", "jr", "sr", "lab", "labs", "sci", "tech", "eng", "natl", "int", "intl"}
ADDRESSES = re.compile(r"^\s*authors?[\u2019']?s?\s+(?:addresses|address)\s*:\s*", re.IGNORECASE)
CORRESPONDENCE = re.compile(r"\b(?:correspondence to|corresponding authors?|e-?mail)\s*:?.*$", re.IGNORECASE | re.DOTALL)


# What follows a name without being part of it: IEEE membership grades ("Senior Member, IEEE"),
# degrees and honours after a comma ("Ph.D.", "MD", "FRS"); "By" before a byline.
CREDENTIALS = re.compile(
    r"\s*,?\s*\b(?:(?:(?:Graduate\s+)?Student|Senior|Life)\s+)?(?:Member|Fellow)\s*,?\s*IEEE\b"
    r"|\s*,?\s*\bIEEE\s+(?:(?:Student|Senior|Life)\s+)?(?:Member|Fellow)\b"
    r"|\s*,\s*(?:Ph\.?\s?D|M\.?\s?D|M\.?\s?Sc|B\.?\s?Sc|M\.?\s?Eng|D\.?\s?Phil|MBA|MPH|FRS|FREng|FACM|FIEEE)\.?(?=[\s,;]|$)")
NAME_SUFFIX = re.compile(r"(?:Jr|Sr)\.?|I{2,3}|IV")
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


SPACED_ACCENT = re.compile(r"\s*([\u0300-\u0326\u0329-\u036f])\s*([A-Za-z])")
SPACED_CEDILLA = re.compile(r"([A-Za-z])\s*([\u0327\u0328])")


def nfkc(text: str) -> str:
    """NFKC, with accents TeX sets apart from their letter put back on it ("Montr ´eal",
    "O˘guz", "Franc¸ois" -> "Montréal", "Oğuz", "François")."""
    if text.isascii():
        return text
    text = unicodedata.normalize("NFKC", text)
    if SPACED_ACCENT.search(text) or SPACED_CEDILLA.search(text):
        text = SPACED_CEDILLA.sub(lambda m: unicodedata.normalize("NFC", m.group(1) + m.group(2)), text)
        text = SPACED_ACCENT.sub(lambda m: unicodedata.normalize("NFC", m.group(2) + m.group(1)), text)
    return text


# -- lines -------------------------------------------------------------------------------------
def names_text(pieces: list[tuple[str, bool]]) -> str:
    """The words with each marker, and each wide gap, read as a separator ("Fei He¹˒²,
    Naiyu Gao¹" -> "Fei He, Naiyu Gao"; "Chen Wei    Laura Fischer" -> "Chen Wei, Laura Fischer")."""
    joined = re.sub(r"\S\s{3,}(?=\S)", lambda m: m.group(0)[0] + ", ", "".join(t if not m else ", " for t, m in pieces))
    return " ".join(joined.split()).strip(" ,")


@dataclass
class Line:
    x0: float
    y0: float
    x1: float
    y1: float
    size: float
    bold: bool
    italic: bool
    mono: bool
    pieces: list[tuple[str, bool]]  # (text, is_marker) in order
    role: str = ""
    inline_aff: str | None = None  # ACM "NAME, affiliation" lines: the affiliation part
    own_emails: list[str] = field(default_factory=list)  # addresses printed on a name's own line

    @property
    def text(self) -> str:
        """The words, markers left out."""
        return " ".join("".join(t if not m else " " for t, m in self.pieces).split())

    @property
    def name_text(self) -> str:
        return names_text(self.pieces)

    @property
    def raw(self) -> str:
        return "".join(t for t, _ in self.pieces)

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def xc(self) -> float:
        return (self.x0 + self.x1) / 2

    def style(self) -> tuple[float, bool]:
        return (round(self.size * 2) / 2, self.bold)


def _letters(text: str) -> int:
    return sum(map(str.isalpha, text))


_SYMBOLS_AND_SEPARATORS = SYMBOLS + " ,"


def _is_marker(text: str, size: float, line_size: float, flags: int) -> bool:
    stripped = text.strip()
    if not stripped:
        return False
    if not stripped.strip(_SYMBOLS_AND_SEPARATORS):  # only symbols (and commas)
        return any(c in SYMBOL_SET for c in stripped)
    small = (flags & 1) or size <= 0.82 * line_size
    return bool(small and len(stripped) <= 14 and MARKER_RE.match(stripped)
                and any(c.isalnum() or c in SYMBOL_SET for c in stripped))


BOLD_FONT = re.compile(r"bold|[-,.]b$|-bd|black|heavy|semibold|\.B\b|-Bo", re.I)
_BOLD_FONTS: dict[str, bool] = {}


def _bold(span: dict) -> bool:
    if span.get("flags", 0) & 16:
        return True
    font = span.get("font", "")
    known = _BOLD_FONTS.get(font)
    if known is None:
        known = _BOLD_FONTS[font] = bool(BOLD_FONT.search(font)) if len(_BOLD_FONTS) < 4096 else False
    return known


def page_lines(page_dict: dict) -> list[Line]:
    lines: list[Line] = []
    for block in page_dict.get("blocks", ()):
        if block.get("type", 0) != 0:
            continue
        for raw in block.get("lines", ()):
            direction = raw.get("dir", (1, 0))
            if abs(direction[1]) > 0.1 or direction[0] < 0:
                continue  # rotated text: the arXiv stamp in the margin, vertical labels
            spans = [s for s in raw.get("spans", ()) if s.get("text")]
            if not spans:
                continue
            text_sizes = [s["size"] for s in spans if s["text"].strip()]
            if not text_sizes:
                continue
            line_size = max(text_sizes)
            is_marker = [_is_marker(s["text"], s["size"], line_size, s.get("flags", 0)) for s in spans]
            pieces: list[tuple[str, bool]] = []
            for s, marker in zip(spans, is_marker):
                if not s["text"].strip() and pieces and pieces[-1][1]:
                    marker = True  # a space inside a run of markers (" 1 2 3 *")
                if pieces and pieces[-1][1] == marker:
                    pieces[-1] = (pieces[-1][0] + s["text"], marker)
                else:
                    pieces.append((s["text"], marker))
            pieces = _rejoin_words(_symbols_apart(pieces))
            words = [s for s, marker in zip(spans, is_marker) if s["text"].strip() and not marker]
            main = words or spans
            size = max(s["size"] for s in main)
            if len(main) == 1:
                only = main[0]
                flags = only.get("flags", 0)
                bold, italic = _bold(only), bool(flags & 2)
                mono = bool(flags & 8) or "mono" in only.get("font", "").lower()
            else:
                weight = sum(len(s["text"]) for s in main) or 1
                bold = sum(len(s["text"]) for s in main if _bold(s)) / weight > 0.5
                italic = sum(len(s["text"]) for s in main if s.get("flags", 0) & 2) / weight > 0.5
                mono = sum(len(s["text"]) for s in main
                           if s.get("flags", 0) & 8 or "mono" in s.get("font", "").lower()) / weight > 0.5
            x0, y0, x1, y1 = raw["bbox"]
            lines.append(Line(x0, y0, x1, y1, size, bold, italic, mono, [(nfkc(t), m) for t, m in pieces]))
    return lines


_SYMBOL_RUN = re.compile("([" + re.escape(SYMBOLS) + "]+)")


def _symbols_apart(pieces: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
    """Footnote symbols set in the text's own size ("Jongchan Park*†²") are markers too."""
    out: list[tuple[str, bool]] = []
    for text, marker in pieces:
        parts = [text] if marker else _SYMBOL_RUN.split(text)
        for k, part in enumerate(parts):
            if not part:
                continue
            is_marker = marker or k % 2 == 1
            if out and out[-1][1] == is_marker:
                out[-1] = (out[-1][0] + part, is_marker)
            else:
                out.append((part, is_marker))
    return out


def _rejoin_words(pieces: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
    """A marker between two capitals with no space is part of the word: a superscript digit
    in a name ("NLP²CT Lab"), a symbol in one ("A*STAR", "A⋆STAR")."""
    out: list[tuple[str, bool]] = []
    i = 0
    while i < len(pieces):
        text, marker = pieces[i]
        nxt = pieces[i + 1] if i + 1 < len(pieces) else None
        inside = (marker and out and nxt is not None and not out[-1][1] and not nxt[1]
                  and out[-1][0][-1:].isupper() and nxt[0][:1].isupper() and out[-1][0][-1:].isascii())
        if inside and ((text.isdigit() and nxt[0][:1].isascii()) or (len(text) == 1 and text in SYMBOL_SET)):
            out[-1] = (out[-1][0] + text + nxt[0], False)
            i += 2
            continue
        out.append((text, marker))
        i += 1
    return out


def attach_stray_markers(lines: list[Line]) -> list[Line]:
    """A marker MuPDF put on a line of its own ("Pérez" then "³˒*" as a separate line, raised
    above the baseline) goes back to the end of the line it follows."""
    kept: list[Line] = []
    for ln in lines:
        raw = ln.raw.strip()
        if 0 < len(raw) <= 8 and MARKER_RE.match(raw) and any(c.isdigit() or c in SYMBOL_SET for c in raw):
            host = None
            for other in lines:
                if (other is not ln and other.size > ln.size * 1.15 and -12 <= ln.x0 - other.x1 < 3 and ln.x1 > other.x1
                        and ln.y0 < other.y1 and ln.y1 > other.y0):
                    host = other
                    break
            if host is not None:
                host.pieces.append((raw, True))
                host.x1 = max(host.x1, ln.x1)
                continue
        kept.append(ln)
    return kept


def body_size(lines: list[Line]) -> float:
    weights: dict[float, int] = {}
    for line in lines:
        key = round(line.size * 2) / 2
        weights[key] = weights.get(key, 0) + len(line.raw)
    return max(weights, key=weights.get) if weights else 10.0


def split_markers(text: str) -> list[str]:
    return [MARKER_CANON.get(t, t) for t in MARKER_TOKEN.findall(text)]


# -- line roles --------------------------------------------------------------------------------
def is_aff_like(text: str, ignoring: frozenset[str] | set[str] = frozenset()) -> bool:
    """Does `text` name an institution, a place or a postcode? Words in `ignoring` do not count."""
    if POSTCODE_RE.search(text):
        return True
    if not ignoring:
        return bool(AFF_RE.search(text) or _places().search(text))
    return any(m.group(0).lower() not in ignoring for pattern in (AFF_RE, _places()) for m in pattern.finditer(text))


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


# -- the result --------------------------------------------------------------------------------
@dataclass
class Author:
    name: str
    markers: list[str] = field(default_factory=list)
    affiliations: list[str] = field(default_factory=list)
    email: str | None = None


@dataclass
class FirstPage:
    title: str | None
    authors: list[Author]
    # Affiliation text found on the page that no author could be tied to.
    unassigned: list[str]
    emails: list[str]
    layout: str  # how authors were tied to affiliations: markers, blocks, shared, footnote, none
    # Why no author could be tied to an affiliation (layout "none"), in words; None otherwise.
    reason: str | None = None
    # "Work done while at X", "during an internship at X", "X was with Y": (name or None, place).
    # Recorded, never counted.
    former: list[tuple[str | None, str]] = field(default_factory=list)


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
    text = CORRESPONDENCE.sub("", text)
    text = re.sub(r"\bfull list of author information\b.*$", "", text, flags=re.I | re.S)
    text = re.sub(r"\(\s*[^()]*@[^()]*\)|[\w.+-]+@[\w-]+(?:\.[\w-]+)+", " ", text)  # "(forner@celct.it)"
    text = " ".join(text.split()).strip(" ,;.:\u2022")
    text = re.sub(r"(?:[\s,]+(?:and|&))+$", "", text).strip(" ,;.:")  # "..., Switzerland and" before the next marker
    return text


# -- zones -------------------------------------------------------------------------------------
def _title(lines: list[Line], height: float, body: float) -> tuple[list[Line], float]:
    top = [ln for ln in lines if ln.y0 < 0.45 * height and _letters(ln.text) >= 3]
    if not top:
        return [], 0.0
    biggest = max(ln.size for ln in top)
    if biggest < body + 0.9:
        return [], 0.0
    ordered = sorted(top, key=lambda ln: (ln.y0, ln.x0))
    chosen: list[Line] = []
    for ln in ordered:
        if ln.size >= biggest - 0.6:
            if chosen and ln.y0 - chosen[-1].y1 > 1.5 * biggest:
                break
            if chosen and (ln.bold, ln.italic) != (chosen[0].bold, chosen[0].italic):
                break  # names set in the title's size but another face (ICASSP: bold title, italic names)
            chosen.append(ln)
        elif chosen:
            break
    return chosen, max(ln.y1 for ln in chosen)


def _header_end(lines: list[Line], start: float, height: float) -> float:
    after = sorted((ln for ln in lines if ln.y0 >= start - 1), key=lambda ln: (ln.y0, ln.x0))
    for ln in after:
        if ABSTRACT_RE.match(ln.text) and len(ln.text) < 400:
            # half a line up: the other column's first line may sit a little higher
            return ln.y0 - 0.6 * ln.size
    for a, b in zip(after, after[1:]):
        if (abs(a.x0 - b.x0) < 1.5 and a.width > 200 and b.y0 > a.y0 and len(a.text) > 50 and len(b.text) > 40
                and "@" not in a.raw + b.raw and not STRONG_AFF.search(a.text)):
            return a.y0 - 0.5
    return min(height, start + 0.35 * height)


def _footnotes(lines: list[Line], height: float, body: float) -> list[Line]:
    # The body's size is read off the lower half: a long abstract in small type up top
    # (IEEE journals) must not make the footnotes look like body text.
    body = max(body, body_size([ln for ln in lines if ln.y0 > 0.5 * height and len(ln.text) > 30]))
    low = [ln for ln in lines if ln.y0 > 0.55 * height and ln.size <= body - 0.6 and not ln.text.isdigit()]
    # Running footers (journal name, page number) in the last few percent do not count as text below.
    big = [ln for ln in lines if ln.size > body - 0.6 and 0.5 * height < ln.y0 < 0.93 * height]
    keep = []
    for ln in low:
        below = any(b.y0 > ln.y1 - 1 and b.x0 < ln.x1 and b.x1 > ln.x0 and not b.text.strip().isdigit() for b in big)
        if not below:
            keep.append(ln)
    return keep  # in the page's own reading order


# -- header analysis ---------------------------------------------------------------------------
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
    if _letters(text) < 2 or EXCLUDE_RE.search(text) or DATE_RE.match(text) or \
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
    ln.role = "aff"


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
        if _letters(text) >= 2 and not EXCLUDE_RE.search(text):
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
    return [e for e in entries if _letters(e.text) >= 2 and not EXCLUDE_RE.search(e.text)]


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


def is_address_line(text: str) -> bool:
    """A line that only says where ("Santiago, Chile", "Seattle, WA 98105, USA", "Lagos,
    Nigeria"): the end of the affiliation above it, never one of its own."""
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


def reading_order(lines: list[Line]) -> list[Line]:
    """Rows top to bottom (lines whose tops are within half a line of the row's first),
    each row left to right."""
    rows: list[list[Line]] = []
    for ln in sorted(lines, key=lambda x: x.y0):
        if rows and ln.y0 - rows[-1][0].y0 < 0.5 * max(ln.size, rows[-1][0].size):
            rows[-1].append(ln)
        else:
            rows.append([ln])
    return [ln for row in rows for ln in sorted(row, key=lambda x: x.x0)]


@dataclass(eq=False)
class Block:
    """Name lines stacked in one column (a name that wraps, or a group of names)."""
    lines: list[Line]

    @property
    def x0(self) -> float:
        return min(ln.x0 for ln in self.lines)

    @property
    def x1(self) -> float:
        return max(ln.x1 for ln in self.lines)

    @property
    def y0(self) -> float:
        return min(ln.y0 for ln in self.lines)

    @property
    def y1(self) -> float:
        return max(ln.y1 for ln in self.lines)

    @property
    def size(self) -> float:
        return max(ln.size for ln in self.lines)

    @property
    def xc(self) -> float:
        return (self.x0 + self.x1) / 2


def _name_blocks(name_lines: list[Line]) -> list[Block]:
    blocks: list[Block] = []
    for ln in sorted(name_lines, key=lambda x: (x.y0, x.x0)):
        for b in blocks:
            last = b.lines[-1]
            if -0.3 * ln.size <= ln.y0 - last.y1 < 0.8 * ln.size and _overlap((last.x0, last.x1), (ln.x0, ln.x1)) > 0:
                b.lines.append(ln)
                break
        else:
            blocks.append(Block([ln]))
    rows: list[list[Block]] = []
    for b in sorted(blocks, key=lambda b: b.y0):
        if rows and b.y0 - rows[-1][0].y0 < 0.5 * b.size:
            rows[-1].append(b)
        else:
            rows.append([b])
    return [b for row in rows for b in sorted(row, key=lambda b: b.x0)]


def _names(name_lines: list[Line], flow: bool) -> list[tuple[Author, object]]:
    """Authors in printed order, each with what owns their affiliations by position: their
    line when names flow in rows with markers, else their column block."""
    if flow:
        sequences = [(reading_order(name_lines), None)]
    else:
        sequences = [(b.lines, b) for b in _name_blocks(name_lines)]
    out: list[tuple[Author, object]] = []
    for ordered, block in sequences:
        carry = ""
        for idx, ln in enumerate(ordered):
            owner = block if block is not None else ln
            chunks: list[list] = []  # [text, markers]: a marker closes the name before it
            current = carry
            carry = ""
            for text, marker in ln.pieces:
                if marker:
                    if current.strip(" ,;"):
                        chunks.append([current, split_markers(text)])
                    elif chunks:
                        chunks[-1][1].extend(split_markers(text))
                    current = ""
                    continue
                current += text
            tail = current
            if tail.strip():
                pieces = NAME_SPLIT.split(tail)
                following = ordered[idx + 1] if idx + 1 < len(ordered) else None
                head = _name_chunks(following.name_text)[:1] if following is not None else []
                if (following is not None and head and not re.search(r"(?:,|;|\band)\s*$", tail)
                        and 0 < following.y0 - ln.y0 < 2.5 * ln.size
                        and (len(pieces[-1].split()) == 1 or len(head[0].split()) == 1)):
                    # a name broken across lines ("... Songfang" / "Huang²"; "Paulo Ro-" / "cha⁹")
                    carry = pieces[-1].rstrip()
                    if carry.endswith("-") and head[0][:1].islower():
                        carry = carry[:-1]
                    elif not carry.endswith("-"):
                        carry += " "
                    tail = tail[: len(tail) - len(pieces[-1])]
                chunks.append([tail, []])
            for text, markers in chunks:
                names = _name_chunks(text)
                for k, name in enumerate(names):
                    name = re.sub(r"^(?:and|by)\s+", "", name, flags=re.I).strip()
                    if name and NAME_SUFFIX.fullmatch(name) and out:
                        out[-1][0].name += ", " + name + ("." if name in ("Jr", "Sr") else "")  # "John Smith, Jr."
                        out[-1][0].markers.extend(m for m in markers if m not in out[-1][0].markers)
                        continue
                    if name:
                        mk = markers if k == len(names) - 1 else []
                        out.append((Author(name, list(dict.fromkeys(mk))), owner))
        if carry.strip():
            out.append((Author(carry.strip(" ,;"), []), block if block is not None else ordered[-1]))
    return out


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    return min(a[1], b[1]) - max(a[0], b[0])


def _by_position(named: list[tuple[Author, Line]], entries: list[Entry]) -> list[Entry]:
    """Tie each entry to the name line(s) above it in its column; returns the entries no
    name line could take."""
    name_lines: list[Line] = []
    for _, ln in named:
        if ln not in name_lines:
            name_lines.append(ln)
    owners: dict[int, list[Entry]] = {id(ln): [] for ln in name_lines}
    loose = []
    for e in entries:
        x0, y0, x1, _ = e.box
        above = [ln for ln in name_lines if ln.y0 < y0 + 1]
        if not above:
            loose.append(e)
            continue
        overlapping = [ln for ln in above if _overlap((ln.x0, ln.x1), (x0, x1)) > 0]
        row_y = max(ln.y0 for ln in overlapping or above)
        row = [ln for ln in above if abs(ln.y0 - row_y) < 0.6 * ln.size]
        hits = [ln for ln in row if _overlap((ln.x0, ln.x1), (x0, x1)) > 0]
        if len(hits) >= 2:
            hits = row  # under several names of the row: a shared affiliation, the row's
        elif not hits and row:
            hits = [min(row, key=lambda ln: abs(ln.xc - (x0 + x1) / 2))]
        hits = hits + _stacked_rows(row, above, entries, (x0, x1))
        for ln in hits:
            owners[id(ln)].append(e)
    # A row where some names got an entry under several names and others got none: the
    # entry is the row's.
    for ln in name_lines:
        if owners[id(ln)]:
            continue
        row = [o for o in name_lines if abs(o.y0 - ln.y0) < 0.6 * ln.size and owners[id(o)]]
        shared = [e for o in row for e in owners[id(o)] if sum(1 for r in row if e in owners[id(r)]) >= 2]
        if shared:
            owners[id(ln)] = list(dict.fromkeys(shared))
    for author, ln in named:
        author.affiliations = [e.text for e in owners[id(ln)]]
    return loose


def _without_side_bar(header: list[Line], lines: list[Line], title: list[Line], end: float,
                      width: float) -> list[Line]:
    """A side bar beside the title block (PeerJ, some journals: dates, editor, licence) is not
    the author block's: when the title and the text below it start at the same indented edge,
    lines wholly left of that edge are dropped."""
    if not title:
        return header
    edge = min(ln.x0 for ln in title)
    if edge < 0.2 * width or sum(1 for ln in lines if ln.y0 > end and abs(ln.x0 - edge) < 3) < 5:
        return header
    return [ln for ln in header if ln.x1 > edge - 3]


def _stacked_rows(row: list[Line], above: list[Line], entries: list[Entry], span: tuple[float, float]) -> list[Line]:
    """Rows of names stacked right above `row` with no affiliation between them share the
    entry under the stack (ICLR: twelve names in three rows, one affiliation below)."""
    out: list[Line] = []
    top = min(ln.y0 for ln in row)
    size = max(ln.size for ln in row)
    while True:
        higher = [ln for ln in above if ln.y1 <= top + 0.3 * size and ln not in row and ln not in out]
        if not higher:
            return out
        y = max(ln.y0 for ln in higher)
        next_row = [ln for ln in higher if abs(ln.y0 - y) < 0.6 * ln.size]
        bottom = max(ln.y1 for ln in next_row)
        if top - bottom > 1.2 * size or any(bottom - 1 < e.box[1] < top for e in entries):
            return out
        touching = [ln for ln in next_row if _overlap((ln.x0, ln.x1), span) > 0]
        if not touching:
            return out
        out.extend(next_row if len(touching) >= 2 or len(next_row) == 1 else touching)
        top = min(ln.y0 for ln in next_row)


def analyse(page_dict: dict) -> FirstPage:
    """Page 1's title, authors, affiliations and e-mails. When the first reading finds no
    author, the page is read again with fewer assumptions (no title taken from lines that
    look like names, no end to the author block at a gap): a byline set larger than the
    title, or an author block below a teaser, is still found."""
    page = _analyse(page_dict, relaxed=False)
    if page.authors:
        return page
    again = _analyse(page_dict, relaxed=True)
    return again if again.authors else page


def _analyse(page_dict: dict, relaxed: bool) -> FirstPage:
    width = page_dict.get("width", 612.0)
    height = page_dict.get("height", 792.0)
    lines = attach_stray_markers([ln for ln in page_lines(page_dict) if 0 <= ln.x0 < width and 0 <= ln.y0 < height])
    if not lines:
        return FirstPage(None, [], [], [], "none", "no text lines on page 1")
    body = body_size(lines)
    title_lines, title_end = _title(lines, height, body)
    if relaxed:
        ordered = sorted(title_lines, key=lambda x: (x.y0, x.x0))
        # a byline set as large as the title: a list of names, or a name under the title's first line
        title_lines = [ln for k, ln in enumerate(ordered) if not (is_name_like(ln.name_text) and (
            k > 0 or re.search(r",|\band\b|&", ln.name_text)))]
        title_end = max((ln.y1 for ln in title_lines), default=0.0)
    title = " ".join(ln.text for ln in sorted(title_lines, key=lambda x: (x.y0, x.x0))) or None
    start = title_end if title_lines else 0.0
    end = _header_end(lines, start + 1, height)
    header = sorted((ln for ln in lines if start - 1 <= ln.y0 < end and ln not in title_lines),
                    key=lambda x: (x.y0, x.x0))
    header = _without_side_bar(header, lines, title_lines, end, width)
    # The author block is compact: a gap of four body lines ends it.
    for a, b in zip(header, header[1:]):
        if b.y0 - a.y1 > 4 * body and not relaxed:
            header = [ln for ln in header if ln.y0 <= a.y0]
            break
    for ln in header:
        _strip_credentials(ln)
    _acm_inline(header)
    _roles(header)
    emails: list[str] = []
    for ln in header:
        if ln.role == "email" or "@" in ln.raw or ln.own_emails:
            emails.extend(e for e in ln.own_emails + find_emails(ln.raw) if e not in emails)
    name_lines = [ln for ln in header if ln.role == "name"]
    aff_lines = [ln for ln in header if ln.role == "aff"]
    # Names carrying markers flow in rows (a name may wrap to the next row); otherwise each
    # column of name lines is a block with the affiliations under it.
    flow = any(m and t.strip() for ln in name_lines for t, m in ln.pieces)
    named = _names(name_lines, flow)
    authors = [a for a, _ in named]
    _leading_markers(aff_lines, {m for a in authors for m in a.markers})
    entries = _entries(aff_lines, width)
    inline = {" ".join(ln.text.split()): ln.inline_aff for ln in header if ln.inline_aff}

    foot = _footnotes(lines, height, body)
    foot += _marked_notes(lines, foot, height, {m for a in authors for m in a.markers})
    text_lines = [ln for ln in lines if ln.y0 > 0.4 * height and len(ln.text) > 40]
    two_columns = sum(ln.width < 0.5 * width for ln in text_lines) > 0.7 * max(len(text_lines), 1)
    foot = _foot_order(foot, width, two_columns)
    foot_entries, by_name, foot_emails, former = _footnote_entries(foot)
    emails.extend(e for e in foot_emails if e not in emails)
    by_name.extend(_name_groups(foot, authors))

    unassigned: list[str] = []
    author_marks = {m for a in authors for m in a.markers}
    marked = [e for e in entries + foot_entries if e.markers and set(e.markers) & author_marks]
    layout = "none"
    if marked:
        layout = "markers"
        unmarked = [e for e in entries if not e.markers]
        for a in authors:
            affs = [e.text for e in marked if set(e.markers) & set(a.markers)]
            if not affs and unmarked:
                affs = [e.text for e in unmarked]
            a.affiliations = list(dict.fromkeys(affs))
        used = {e.text for a in authors for e in marked if e.text in a.affiliations} | {e.text for e in unmarked}
        unassigned = [e.text for e in entries if e.text not in used]
    elif entries:
        layout = "blocks"
        loose = _by_position(named, entries)
        if all(not a.affiliations for a in authors) and entries:
            layout = "shared"
            for a in authors:
                a.affiliations = [e.text for e in entries]
            loose = []
        unassigned = [e.text for e in loose]
    elif foot_entries and authors:
        layout = "footnote"
        unassigned = [e.text for e in foot_entries if not e.markers]
    for a in authors:  # ACM journals: "NAME, affiliation" on the name's own line
        if a.name.strip(" ,") in inline:
            a.affiliations = list(dict.fromkeys([inline[a.name.strip(" ,")], *a.affiliations]))
            layout = layout if layout != "none" else "blocks"
    for name, aff in by_name:
        if name == "*":
            for a in authors:
                if aff not in a.affiliations:
                    a.affiliations.append(aff)
            layout = layout if layout != "none" or not authors else "footnote"
            if not authors:
                unassigned.append(aff)
            continue
        target = _match_author(authors, name)
        if target is not None:
            if aff not in target.affiliations:
                target.affiliations.append(aff)
            layout = layout if layout != "none" else "footnote"
        else:
            unassigned.append(aff)
    # Authors still without an affiliation take the unmarked shared ones when there is one.
    if authors and len(unassigned) == 1 and all(not a.affiliations for a in authors):
        for a in authors:
            a.affiliations = list(unassigned)
        unassigned = []
    for ln in header:
        if ln.role == "other":
            former.extend((None, clean_affiliation(m["aff"])) for m in FORMER_RE.finditer(ln.text))
    reason = None
    if not any(a.affiliations for a in authors):
        layout = "none"
        if not unassigned:
            unassigned = _loose_affiliations(lines, title_lines, header, foot, height)
        reason = _why_none(authors, unassigned)

    fixed = {} if flow else _block_emails(named, header)
    for i, (a, _) in enumerate(named):  # one name and one address on the same line
        line = next((ln for ln in name_lines if ln.own_emails and len(ln.own_emails) == 1
                     and " ".join(ln.text.split()).strip(" ,") == a.name.strip(" ,")), None)
        if line is not None:
            fixed[i] = line.own_emails[0]
    mapping = assign_emails([a.name for a in authors], emails, fixed)
    for i, a in enumerate(authors):
        a.email = mapping.get(i)
        a.name = _clean_name(a.name)
    formers = list(dict.fromkeys((n, a) for n, a in former if _letters(a) >= 3))
    return FirstPage(title, authors, list(dict.fromkeys(unassigned)), emails, layout, reason, formers)


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


def _why_none(authors: list[Author], loose: list[str]) -> str:
    if not authors and not loose:
        return "no author names and no affiliation text found on page 1"
    if not authors:
        return "no author names found; the page's affiliation text gives the paper's countries"
    if not loose:
        return "author names found, but no affiliation text on page 1 (the e-mail domains may still speak)"
    return "affiliation text found, but not tied to authors; it gives the paper's countries"


PROSE_WORDS = re.compile(r"\b(?:the|a|an|to|in|for|with|by|from|that|which|on|as|be|can|these|its)\b")


def _loose_affiliations(lines: list[Line], title: list[Line], header: list[Line], foot: list[Line],
                        height: float) -> list[str]:
    """Affiliation-looking lines anywhere above the abstract or in the footnotes, when the
    author block gave none: short lines naming an institution (a university, an institute, a
    department, a company with its legal form) or an institution word and a place."""
    out: list[str] = []
    seen = {id(ln) for ln in title}
    pool = [ln for ln in lines if ln.y0 < 0.4 * height and id(ln) not in seen] + foot
    for ln in sorted(pool, key=lambda x: (x.y0, x.x0)):
        text = clean_affiliation(ln.text)
        if not 6 <= len(text) <= 160 or EXCLUDE_RE.search(text) or ABSTRACT_RE.match(text):
            continue
        if (re.search(r"\b(?:we|our|this paper|in this|is|are|was|were|has|have)\b", text) or text[:1].islower()
                or text.endswith("-") or len(PROSE_WORDS.findall(text)) >= 2):
            continue  # a line of the text, not an address
        if STRONG_AFF.search(text) or (AFF_RE.search(text) and _places().search(text)):
            out.append(text)
    return out


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


def _clean_name(name: str) -> str:
    name = re.sub(r"\s+", " ", name).strip(" ,;:*")
    return name


def _acm_inline(header: list[Line]) -> None:
    """ACM journals print "KYLE LO, Allen Institute for AI, USA" on one line: a name in
    capitals, then the affiliation. Split such lines into a name line and its affiliation."""
    for ln in header:
        m = re.match(r"^([A-Z][A-Z.\-' ]+[A-Z]\.?)\s*,\s*(.+)$", ln.text)
        if m and len(m.group(1).split()) >= 2 and is_aff_like(m.group(2)):
            ln.pieces = [(m.group(1), False)]
            ln.inline_aff = clean_affiliation(m.group(2))
            ln.role = ""


def _block_emails(named: list[tuple[Author, Line]], header: list[Line]) -> dict[int, str]:
    """An address printed alone in the column under a single-name line is that author's."""
    fixed: dict[int, str] = {}
    per_line: dict[int, list[int]] = {}
    for i, (_, ln) in enumerate(named):
        per_line.setdefault(id(ln), []).append(i)
    name_lines = {id(ln): ln for _, ln in named}
    for ln in header:
        if ln.role != "email":
            continue
        found = find_emails(ln.raw)
        if len(found) != 1:
            continue
        above = [n for n in name_lines.values() if n.y0 < ln.y0 and _overlap((n.x0, n.x1), (ln.x0, ln.x1)) > 0]
        if not above:
            continue
        owner = max(above, key=lambda n: n.y0)
        others = [n for n in name_lines.values() if abs(n.y0 - owner.y0) < 0.6 * owner.size and n is not owner
                  and _overlap((n.x0, n.x1), (ln.x0, ln.x1)) > 0]
        indexes = per_line[id(owner)]
        if len(indexes) == 1 and not others:
            fixed[indexes[0]] = found[0]
    return fixed


def _marked_notes(lines: list[Line], foot: list[Line], height: float, marks: set[str]) -> list[Line]:
    """Affiliation notes set in the body's own size (word processors): lines in the lower part
    of the page that start with one of the names' markers and name an institution."""
    if not marks:
        return []
    out = []
    for ln in lines:
        if ln.y0 <= 0.55 * height or ln in foot or not ln.pieces or not ln.pieces[0][1]:
            continue
        if set(split_markers(ln.pieces[0][0])) & marks and is_aff_like(ln.text) and not SENTENCE_WORDS.search(ln.text):
            out.append(ln)
    return out


def _foot_order(foot: list[Line], width: float, two_columns: bool) -> list[Line]:
    """Footnote lines column by column, each column in rows (justified footnotes are split
    word by word across a row; a raised marker sits a little above its row)."""
    if not foot:
        return []
    if not two_columns:
        return reading_order(foot)
    left = [ln for ln in foot if ln.x1 <= 0.56 * width]
    right = [ln for ln in foot if ln.x0 >= 0.44 * width and ln not in left]
    if len(left) + len(right) < len(foot):
        return reading_order(foot)
    return reading_order(left) + reading_order(right)


def _who(before: str) -> list[str] | None:
    """The names a "... is with" sentence is about, read backwards from the verb ("2013. H. Li"
    -> ["H. Li"]); ["*"] for "The authors"; None when the words before are not names."""
    words = before.split()
    if any(ALL_AUTHORS.match(" ".join(words[-n:]).strip(" ,")) for n in (2, 3) if len(words) >= n):
        return ["*"]
    taken: list[str] = []
    for w in reversed(words):
        core = w.strip(",;:()")
        if not core:
            continue
        initials = re.fullmatch(r"(?:[A-Z]\.?-?){1,3}\.?", core) and "." in core
        if not (initials or core.lower() in ("and", "&") or core.lower() in PARTICLES
                or (NAME_WORD.match(core) and not core.endswith(".") and core.lower() not in ("the", "all"))):
            break
        taken.append(w.strip("()"))
    while taken and taken[-1].lower() in ("and", "&"):
        taken.pop()
    names = _name_chunks(" ".join(reversed(taken)))
    return names or None


def _sentence_end(text: str) -> int:
    """Where the sentence that starts `text` ends (a full stop before a capital that does not
    close an abbreviation or an initial), or the end of `text`."""
    for m in re.finditer(r"\.\s+(?=[A-Z(0-9])|\(?\s*e-?mail\b|\s\(\s*\S+@|\bcorrespond", text, re.IGNORECASE):
        if m.group(0).startswith("."):
            word = re.findall(r"[\w-]+$", text[:m.start()])
            if word and (len(word[0]) == 1 or word[0].lower() in SENTENCE_ABBREVIATIONS):
                continue
        return m.start()
    return len(text)


def with_sentences(text: str) -> tuple[list[tuple[str, str]], list[tuple[str | None, str]]]:
    """(name, affiliation) pairs and former (name or None, affiliation) pairs from running
    footnote text in the IEEE form; "*" as a name stands for every author."""
    current: list[tuple[str, str]] = []
    former: list[tuple[str | None, str]] = []
    for m in FORMER_RE.finditer(text):
        former.append((None, clean_affiliation(m["aff"])))
    for m in VISIT_RE.finditer(text):  # "J. Poulin is visiting Université de Montréal from Ecole Polytechnique"
        names = _who(text[:m.start()])
        home = clean_affiliation(m["home"][:_sentence_end(m["home"])])
        if names and names != ["*"] and _letters(home) >= 3:
            current.extend((name, home) for name in names)
    matches = list(WITH_RE.finditer(text))
    last: list[str] = []
    for k, m in enumerate(matches):
        names = _who(text[:m.start()])
        if names and len(names) == 1 and names[0].lower() in ("he", "she", "they", "both"):
            names = last  # "T. Ruiz is with A. He was with B."
        if not names:
            continue
        last = names
        rest = text[m.end():]
        if k + 1 < len(matches):
            rest = rest[:matches[k + 1].start() - m.end()]
        rest = rest[:_sentence_end(rest)]
        affs = [clean_affiliation(re.sub(r"\(.*?@.*?\)", "", a)) for a in ALSO_WITH.split(rest)]
        affs = [a for a in affs if _letters(a) >= 3]
        was = m["verb"].lower() in ("was", "were") or (m["adv"] or "").lower() in ("formerly", "previously")
        for name in names:
            for aff in affs:
                (former.append((name, aff)) if was else current.append((name, aff)))
    return current, former


def _name_groups(foot: list[Line], authors: list[Author]) -> list[tuple[str, str]]:
    """Springer journals: in the foot of the first column, a line of the authors' names (by
    initials, "K. Chen · L. Wu (✉)"), then their address, then the next group. A group counts
    only when every name on its line is one of the page's authors."""
    pairs: list[tuple[str, str]] = []
    names: list[str] = []
    address: list[str] = []

    def close() -> None:
        text = clean_affiliation(" ".join(a if CONNECTOR_END.search(a) else a + "," for a in address))
        if names and _letters(text) >= 3:
            pairs.extend((n, text) for n in names)

    for ln in foot:
        text = re.sub(r"\((?:\u2709|corresponding author|corresponding)\)", " ", ln.text, flags=re.I)
        chunks = _name_chunks(text)
        if authors and chunks and is_name_like(text) and all(_match_author(authors, c) for c in chunks):
            close()
            names, address = chunks, []
            continue
        if not names:
            continue
        if "@" in text or EXCLUDE_RE.search(text) or re.match(r"^\s*(?:e-?mail|url|orcid)\b", text, re.I):
            continue
        if (SENTENCE_WORDS.search(text) or not is_aff_like(text)) and not (address and CONNECTOR_END.search(address[-1])):
            close()
            names, address = [], []
            continue
        address.append(text.strip())
    close()
    return pairs


def _footnote_entries(foot: list[Line]
                      ) -> tuple[list[Entry], list[tuple[str, str]], list[str], list[tuple[str | None, str]]]:
    """Marked affiliation entries, (name, affiliation) pairs, e-mails and former affiliations
    from footnote lines in reading order (`_foot_order`)."""
    entries: list[Entry] = []
    by_name: list[tuple[str, str]] = []
    former: list[tuple[str | None, str]] = []
    emails: list[str] = []
    pieces: list[tuple[str, bool, Line]] = []
    for ln in foot:
        first = ln.pieces[0][0] if ln.pieces and not ln.pieces[0][1] else ""
        if first.lstrip()[:1] in ("\u2022", "\u25cf") or first.strip() == "-":
            pieces.append(("\u2022", True, ln))
            rest = [(first.lstrip()[1:], False)] + ln.pieces[1:]
        else:
            rest = ln.pieces
        for t, m in rest:
            pieces.append((t, m, ln))
        pieces.append((" ", False, ln))
    # Split the running footnote text into (marker, text) items.
    items: list[list] = []
    for t, m, ln in pieces:
        if m and t.strip():
            items.append([t.strip(), "", [ln]])
        elif items:
            items[-1][1] += t
            if ln not in items[-1][2]:
                items[-1][2].append(ln)
        elif t.strip():
            items.append([None, t, [ln]])
    for marker, text, lns in items:
        text = re.sub(r"(\w)- (?=[a-z])", r"\1", " ".join(text.split()))  # words hyphenated at a line end
        emails.extend(e for e in find_emails(text) if e not in emails)
        if ADDRESSES.match(text):
            for part in ADDRESSES.sub("", text).split(";"):
                chunks = [c.strip() for c in part.split(",") if c.strip()]
                chunks = [c for c in chunks if "@" not in c and not re.fullmatch(r"[\w.-]+\.[a-z]{2,4}\.?", c)]
                if len(chunks) >= 2:
                    by_name.append((chunks[0], clean_affiliation(", ".join(chunks[1:]))))
            continue
        current, gone = with_sentences(text)
        former.extend(gone)
        if current:
            by_name.extend(current)
            continue
        if gone or marker == "\u2022" or not marker:
            continue
        # BMC and other open-access journals: "* Correspondence: a@b.org" then the corresponding
        # author's affiliation.
        text = CORRESPONDENCE_LABEL.sub("", text)
        text = clean_affiliation(text)
        if EXCLUDE_RE.search(text) or (SENTENCE_WORDS.search(text) and not is_aff_like(text)):
            continue  # a footnote of the text ("Since A can be stochastic, A(D) is a set")
        if _letters(text) >= 2:
            entries.append(Entry(text, split_markers(marker), lns))
    return entries, by_name, emails, former


def _name_key(name: str) -> tuple[str, str]:
    """(surname, first initial) of a name, accents folded."""
    tokens = [t for t in ascii_tokens(name) if t not in ("jr", "sr", "ii", "iii", "iv")]
    if not tokens:
        return "", ""
    return tokens[-1], tokens[0][0]


def _match_author(authors: list[Author], name: str) -> Author | None:
    last, initial = _name_key(name)
    if not last:
        return None
    hits = [a for a in authors if _name_key(a.name)[0] == last]
    if len(hits) > 1:
        hits = [a for a in hits if _name_key(a.name)[1] == initial] or hits[:1]
    return hits[0] if hits else None
