"""Affiliations read from the footnotes by name, not by marker or position: IEEE sentences ("K.
He and J. Sun are with Microsoft Research", `with_sentences`), Springer's name groups
(`_name_groups`) and ACM "Authors' addresses" (`_footnote_entries`); and matching a name
written there to an author of the byline (`_match_author`). Step 4 (assign.py) calls these.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..emails import ascii_tokens, find_emails
from .entries import CONNECTOR_END, Entry, clean_affiliation
from .lines import Line, _letters, split_markers
from .roles import EXCLUDE_RE, NAME_WORD, PARTICLES, _name_chunks, is_aff_like, is_affiliation_text, is_name_like

if TYPE_CHECKING:
    from .assign import Author

# "K. He and J. Sun are with Microsoft Research, ..."; "H. Li is with A, and also with B";
# "The authors are with ..."; "X was with ..." (a former affiliation).
WITH_RE = re.compile(r"\b(?P<verb>is|are|was|were)\s+(?:(?P<adv>now|also|currently|presently|formerly|previously|"
                     r"jointly)\s+)?(?:(?:affiliated|employed)\s+(?:with|at|by)|with|at)\s+(?:the\s+)?", re.IGNORECASE)


ALSO_WITH = re.compile(r",?\s*(?:and|as well as)\s+(?:is\s+|are\s+)?(?:also|now)\s+(?:with|at)\s+(?:the\s+)?", re.I)


VISIT_RE = re.compile(r"\b(?:is|are)\s+(?:currently\s+)?(?:an?\s+)?visiting(?:\s+(?:researcher|scholar|student|"
                      r"professor|scientist)s?)?\s+(?:at\s+|to\s+)?(?:the\s+)?[^.;]+?\s+from\s+(?:the\s+)?"
                      r"(?P<home>[^;()]+)", re.IGNORECASE)


ALL_AUTHORS = re.compile(r"^(?:the|all)\s+(?:other\s+)?authors?$", re.IGNORECASE)


# "Work done while at X", "during an internship at X": where an author was, not where they are.
FORMER_RE = re.compile(r"\b(?:(?:work|research|this)\s+(?:was\s+)?(?:partly\s+|partially\s+|mainly\s+)?"
                       r"(?:done|performed|conducted|carried out)\s+(?:while|when|during)\b[^.;]*?|"
                       r"during\s+(?:an?\s+|his\s+|her\s+|their\s+)?internships?|while\s+interning|"
                       r"while\s+(?:\w+\s+){0,4}?"
                       r"(?:was|were|being)\s+(?:an?\s+)?(?:intern|student|visitor|visiting)\w*|"
                       r"(?:was|were)\s+(?:an?\s+)?interns?)\s+(?:at|with)\s+(?:the\s+)?(?P<aff>[^.;()]{3,160})",
                       re.IGNORECASE)


CORRESPONDENCE_LABEL = re.compile(r"^\s*(?:correspondence|corresponding authors?)\s*:\s*(?:\S+@\S+\s*)*", re.I)


SENTENCE_WORDS = re.compile(r"\b(?:is|are|was|were|we|our|can|be|this|that|these|see|which|has|have|not|if|when|"
                            r"since|where|denotes?|refers?)\b")


SENTENCE_ABBREVIATIONS = {"dept", "univ", "inst", "st", "no", "ave", "rd", "blvd", "co", "corp", "mr", "dr", "prof",
                          "mt", "ft", "jr", "sr", "lab", "labs", "sci", "tech", "eng", "natl", "int", "intl"}


ADDRESSES = re.compile(r"^\s*authors?[\u2019']?s?\s+(?:addresses|address)\s*:\s*", re.IGNORECASE)


NAME_SUFFIX = re.compile(r"(?:Jr|Sr)\.?|I{2,3}|IV")


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
        # "... with UIC and worked on the project while interning at Google": a new clause ends it
        rest = re.split(r",?\s+(?:and|but|while|where)\s+(?=(?:is|was|has|had|worked|works|did|now|currently)\b)",
                        rest, maxsplit=1)[0]
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
        if not is_affiliation_text(text) or (SENTENCE_WORDS.search(text) and not is_aff_like(text)):
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
