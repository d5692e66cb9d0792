"""Finding catalogue terms in a paper's text, per scope (title, abstract, body, references).

The text is normalised first (NFKC, which also undoes ligatures; soft hyphens dropped; words
broken at a line end joined again). A match inside a URL or an e-mail address never counts
("github.com/facebookresearch/llama", "llama@example.org"). Every match keeps its surface form
("Qwen2.5-7B-Instruct") and a snippet of the text around it, for review.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from .catalogue import Catalogue, Start

SCOPES = ("title", "abstract", "body", "references")
# What the command line and `mentions_by_country` count unless told otherwise: a citation alone
# is not use.
DEFAULT_SCOPES = ("title", "abstract", "body")

# A hyphen at a line end with a letter after it; the letter before is checked apart, so that the
# regex starts with the hyphen and is searched for quickly (a leading class of letters made
# this the costliest step of reading a PDF's text after MuPDF itself).
_BROKEN_WORD = re.compile(r"[-\u2010]\n[ \t]*([^\W\d_])")
_LETTER = re.compile(r"[^\W\d_]")
_ABSTRACT = re.compile(r"(?im)^[ \t]*(?:abstract|a b s t r a c t)\b[ \t.:\u2014\u2013-]*")
_ABSTRACT_END = re.compile(
    r"(?m)^[ \t]*(?:(?:1|I)\.?[ \t]*\n?[ \t]*(?:Introduction|INTRODUCTION)\b|(?:Introduction|INTRODUCTION)[ \t]*$"
    r"|(?:Keywords|Key words|KEYWORDS|Index Terms|CCS Concepts)\b|(?:1|I)\.?[ \t]+[A-Z][A-Za-z\- ]{2,60}$)"
)
_REFERENCES = re.compile(
    r"(?im)^[ \t]*(?:\d{1,2}\.?[ \t]*|[IVX]{1,5}\.[ \t]*)?"
    r"(?:references|bibliography|literature cited|works cited|reference list)[ \t]*$"
)
_AFTER_REFERENCES = re.compile(
    r"(?m)^[ \t]*(?:[A-Z](?:\.\d+)*\.?[ \t]+)?(?:Appendix|APPENDIX|Appendices|Supplementary Materials?|"
    r"Supplemental Materials?|Technical Appendix|NeurIPS Paper Checklist|Paper Checklist|Checklist)\b"
    r"|\f\n[ \t]*(?:[^\n]{0,80}\n)?[ \t]*[A-H](?:\.\d+)?\.?[ \t]+[A-Z][A-Za-z\-]+(?:[ \t]+[A-Za-z\-]+){0,8}[ \t]*$"
)
MAX_ABSTRACT = 6000


def normalise(text: str) -> str:
    """NFKC (ligatures become letters), no soft hyphens, words broken over lines joined."""
    if not text.isascii():
        if not unicodedata.is_normalized("NFKC", text):
            text = unicodedata.normalize("NFKC", text)
        text = text.replace("\u00ad", "")

    def join(m: re.Match) -> str:
        start = m.start()
        if start == 0 or not _LETTER.match(text, start - 1):
            return m.group(0)  # "1-\n2", "(-\nx)": no word broken here
        after = m.group(1)
        # "Trans-\nformer" -> "Transformer"; "U-\nNet" keeps its hyphen.
        return after if after.islower() else "-" + after

    return _BROKEN_WORD.sub(join, text)


_DOMAIN = re.compile(
    r"(?:^|[^\w.-])(?:[\w-]+\.)+(?:com|org|io|net|ai|edu|dev|co|gov|cn|uk|de|fr|jp|info|me|app|page|ly)(?:$|[^\w-])",
    re.I,
)
_URL_END = "/._-~#?=&"


def _is_address(token: str) -> bool:
    return ("@" in token or "://" in token or token.lower().startswith("www.")
            or _DOMAIN.search(token) is not None)


def inside_address(text: str, start: int, end: int) -> bool:
    """Is text[start:end] part of a URL or an e-mail address (the whitespace-free token around
    it, or a URL broken over the line before)?"""
    ts = start
    while ts > 0 and not text[ts - 1].isspace():
        ts -= 1
    te = end
    n = len(text)
    while te < n and not text[te].isspace():
        te += 1
    if _is_address(text[ts:te]):
        return True
    # "https://github.com/huggingface/" + line break + "transformers"
    if ts > 0 and text[ts - 1] == "\n":
        ps = ts - 1
        while ps > 0 and not text[ps - 1].isspace():
            ps -= 1
        previous = text[ps:ts - 1]
        if previous and previous[-1] in _URL_END and ("://" in previous or previous.lower().startswith("www.")
                                                      or _DOMAIN.search(previous)):
            return True
    return False


def _lower(text: str) -> str:
    """Lower case with every character kept at its place ("İ".lower() is two characters)."""
    lower = text.lower()
    if len(lower) == len(text):
        return lower
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


# How far a pattern's match may start before its anchor, and end after it (an alias knows its
# own reach: Term.reach). A pattern is searched from a window's start to a little past its end
# (so that "GPT" at the edge still sees the "Q" of "GPTQ"), and only matches starting inside
# the window are taken.
_BACK, _AHEAD, _MARGIN = 48, 120, 40


def anchor_spots(catalogue: Catalogue, lower: str) -> dict[str, list[int]]:
    """Where each of the catalogue's anchors starts in `lower`, in order, overlaps included."""
    spots: dict[str, list[int]] = {}
    if catalogue.terms:
        for end, anchor in catalogue.anchor_finder.iter(lower):
            spots.setdefault(anchor, []).append(end - len(anchor) + 1)
    return spots


def _merged(stretches: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[list[int]] = []
    for s, e in sorted(stretches):
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    return [(s, e) for s, e in merged]


def _windows(spots: dict[str, list[int]], anchors: tuple[str, ...], length: int) -> list[tuple[int, int]]:
    """Stretches of a text of `length` around each occurrence of an anchor, merged where they overlap."""
    return _merged([(max(0, i - _BACK), min(length, i + len(anchor) + _AHEAD))
                    for anchor in anchors for i in spots.get(anchor, ())])


def _start_windows(spots: dict[str, list[int]], anchors: tuple[str, ...], reach: int) -> list[tuple[int, int]]:
    """Where a match of an alias can start: at most `reach` characters before an anchor."""
    return _merged([(max(0, i - reach), i + 1) for anchor in anchors for i in spots.get(anchor, ())])


def _searched(regex: re.Pattern, text: str, windows: list[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    """The spans of `regex` that start inside a window."""
    for ws, we in windows:
        for m in regex.finditer(text, ws, we + _MARGIN):
            s, e = m.span()
            if s >= we:
                break
            yield s, e


def _started(regex: re.Pattern, start: Start, text: str, windows: list[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    """The same spans as `_searched` over windows of starts: the alias's name alone is searched
    for (a few characters), the whole regex tried only where it matched, and the search goes on
    after each match as `finditer` does."""
    for ws, we in windows:
        end = we + _BACK + _AHEAD + _MARGIN  # room for a long version ("Qwen2.5-7B-Instruct-...")
        p = ws
        while p < we:
            found = start.core.search(text, p, we + start.reach)
            if found is None or found.start() >= we:
                break
            s = found.start()
            m = regex.match(text, s, end)
            if m is None:
                p = s + 1
                continue
            yield s, m.end()
            p = max(m.end(), s + 1)


@dataclass
class Sections:
    """Character ranges of the abstract and the references in a document's text; the rest is body."""

    abstract: tuple[int, int] | None = None
    references: tuple[int, int] | None = None

    def scope_at(self, pos: int) -> str:
        if self.abstract and self.abstract[0] <= pos < self.abstract[1]:
            return "abstract"
        if self.references and self.references[0] <= pos < self.references[1]:
            return "references"
        return "body"

    def lengths(self, total: int) -> dict[str, int]:
        a = self.abstract[1] - self.abstract[0] if self.abstract else 0
        r = self.references[1] - self.references[0] if self.references else 0
        return {"abstract": a, "references": r, "body": total - a - r}


def _last(pattern: re.Pattern, text: str, start: int) -> re.Match | None:
    found = None
    for found in pattern.finditer(text, start):
        pass
    return found


def find_sections(text: str) -> Sections:
    """Where the abstract and the reference list are, from their headings."""
    sections = Sections()
    head = _ABSTRACT.search(text, 0, min(len(text), 12000))
    if head:
        start = head.end()
        end_match = _ABSTRACT_END.search(text, start, min(len(text), start + MAX_ABSTRACT))
        if end_match:
            end = end_match.start()
        else:
            page_end = text.find("\f", start)
            end = page_end if 0 <= page_end - start <= MAX_ABSTRACT else min(len(text), start + MAX_ABSTRACT // 2)
        sections.abstract = (start, end)
    # The last heading counts. It is looked for in the second half first: most texts have it
    # there, and the whole text is searched only when they do not.
    refs = _last(_REFERENCES, text, len(text) // 2) or _last(_REFERENCES, text, 0)
    if refs is not None and refs.start() > (sections.abstract[1] if sections.abstract else 0):
        start = refs.start()
        after = _AFTER_REFERENCES.search(text, refs.end())
        sections.references = (start, after.start() if after else len(text))
    return sections


@dataclass
class Match:
    term: str
    scope: str
    start: int
    end: int
    surface: str
    snippet: str


@dataclass
class ScanResult:
    matches: list[Match] = field(default_factory=list)

    def counts(self, scopes: tuple[str, ...] | list[str] = DEFAULT_SCOPES) -> dict[str, int]:
        found = Counter(m.term for m in self.matches if m.scope in scopes)
        return dict(sorted(found.items()))

    def by_scope(self) -> dict[tuple[str, str], list[Match]]:
        out: dict[tuple[str, str], list[Match]] = {}
        for m in self.matches:
            out.setdefault((m.term, m.scope), []).append(m)
        return out


def snippet(text: str, start: int, end: int, width: int = 70) -> str:
    left = text[max(0, start - width):start]
    right = text[end:end + width]
    return " ".join(f"{left}[{text[start:end]}]{right}".split())


def find_terms(catalogue: Catalogue, text: str, scope_of=None, fixed_scope: str | None = None) -> list[Match]:
    """Every match of every term in normalised `text`, look-alikes refused, URLs and e-mails
    not read. Each match is given `fixed_scope` or `scope_of(position)`."""
    spots = anchor_spots(catalogue, _lower(text))
    found: list[Match] = []
    for term in catalogue.terms:
        if not any(a in spots for a in term.anchors):
            continue
        spans: set[tuple[int, int]] = set()
        wide = narrow = None
        for regex, start in zip(term.regexes, term.starts or (None,) * len(term.regexes)):
            if start is None:  # a pattern: searched over the windows around its anchors
                wide = wide if wide is not None else _windows(spots, term.anchors, len(text))
                candidates = _searched(regex, text, wide)
            else:
                narrow = narrow if narrow is not None else _start_windows(spots, term.anchors, term.reach)
                candidates = _started(regex, start, text, narrow)
            for s, e in candidates:
                if e == s or (s, e) in spans:
                    continue
                if any(r.refuses(text, s, e) for r in term.rejects) or inside_address(text, s, e):
                    continue
                spans.add((s, e))
        spans = sorted(spans, key=lambda se: (se[0], -(se[1] - se[0])))
        # Two aliases matching the same place ("Transformer", "Transformer-XL"): one mention,
        # the longest.
        last_end = -1
        for s, e in spans:
            if s < last_end:
                continue
            last_end = e
            scope = fixed_scope or (scope_of(s) if scope_of else "body")
            found.append(Match(term.id, scope, s, e, " ".join(text[s:e].split()), snippet(text, s, e)))
    shadowing = [(m.start, m.end, catalogue.by_id[m.term].shadows) for m in found if catalogue.by_id[m.term].shadows]
    if shadowing:
        found = [m for m in found
                 if not any(m.term in shadows and s <= m.start and m.end <= e for s, e, shadows in shadowing)]
    found.sort(key=lambda m: (m.start, m.term))
    return found


def scan_document(catalogue: Catalogue, title: str | None, text: str | None, abstract: str | None = None,
                  sections: Sections | None = None) -> ScanResult:
    """Mentions in a paper: its title, its abstract (when given apart from the text) and its text,
    whose abstract and references are located by `sections` (found from headings if not given)."""
    result = ScanResult()
    if title:
        result.matches += find_terms(catalogue, normalise(title), fixed_scope="title")
    if abstract:
        result.matches += find_terms(catalogue, normalise(abstract), fixed_scope="abstract")
    if text:
        sections = sections or find_sections(text)
        # When the abstract was given apart, the text's own copy of it is not counted twice.
        skip = sections.abstract if abstract else None
        for m in find_terms(catalogue, text, scope_of=sections.scope_at):
            if skip and skip[0] <= m.start < skip[1]:
                continue
            result.matches.append(m)
    return result
