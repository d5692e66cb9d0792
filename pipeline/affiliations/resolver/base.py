"""What every rule family of the resolver shares, and what its callers read.

The answer (`Resolution`), a curated institution (`Institution`), one affiliation string
tokenised once (`_Text`), an institution found in it (`_Match`), the walk that finds the longest
names of a table in a word list (`_walk`, `prefixes_of`), and the constants: `RESOLVER_VERSION`
(stored with every resolved row), `CONFIDENCE` (each rule's), `MAX_AFFILIATION`. They sit apart
from the families so that each family module imports them and nothing else of the resolver.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field

from ..names import ABBREVIATIONS, DROP

RESOLVER_VERSION = "8"  # 8: a university is its own top-level parent (not its ministry or system); 7: prose and ordinary-word names resolve to nothing; sub-units yield to the named parent; top-level parents; printed addresses; unconfirmed .edu

# Confidence of each rule: how often such a decision agreed with labelled data (docs/resolver.md).
CONFIDENCE = {
    "override": 1.0,
    "location:country": 0.97,
    "institution": 0.95,
    "institution:ror": 0.93,
    "location:subdivision": 0.92,
    "location:us_state_code": 0.92,
    "location:city": 0.9,
    "location:region": 0.9,
    "location:address": 0.88,
    "institution:fuzzy": 0.85,
    "email:institution": 0.85,
    "email:lab": 0.85,
    "email:cctld": 0.8,
    "email:edu": 0.75,
    "institution:hq": 0.7,
    "location:in_name": 0.8,
    "legal_form": 0.65,
}

MAX_AFFILIATION = 2000  # characters; longer strings are not read (Resolver.resolve)

TOKEN_RE = re.compile(r"[0-9a-z]+(?:'[0-9a-z]+)*|&")
SEGMENT_GAP = re.compile(r"[,;()\[\]|/:]|\s[-\u2013]\s")


@dataclass(frozen=True)  # results are cached and shared: nobody may change one
class Resolution:
    country: str | None
    institution: str | None
    institution_id: str | None
    method: str
    confidence: float
    evidence: str | None  # the text that decided (place name, alias or domain)
    reason: str | None = None  # why it is unresolved
    countries: tuple[str, ...] = ()  # every country of the string's parts, headline first
    parts: tuple[Resolution, ...] = field(default=(), compare=False)
    # Other countries the string could hold: for a multinational named without a place, the
    # countries where it runs labs; else the countries other evidence in the string or the
    # e-mail domain points to. The country decision (pipeline.countries) reads them.
    alternatives: tuple[str, ...] = ()
    # What the e-mail domain alone says, whatever decided: (country, method) or None.
    email_country: str | None = None
    email_method: str | None = None
    # The matched organisation's top-level parent (ROR `relationships` of type parent, followed
    # to the root): the organisation itself when it has none. Institutions are counted by it.
    parent_ror_id: str | None = None
    parent_name: str | None = None

    @property
    def ror_id(self) -> str | None:
        iid = self.institution_id
        return iid if iid and iid.startswith("https://ror.org/") else None

    def as_dict(self) -> dict:
        out = asdict(self)
        out.pop("parts")
        out["countries"] = list(self.countries)
        out["alternatives"] = list(self.alternatives)
        return out

    def row(self) -> dict:
        """The columns of `resolved_affiliations` (and the input of pipeline.countries.decision)."""
        return {**self.as_dict(), "ror_id": self.ror_id, "parts": self.parts_json()}

    def parts_json(self) -> str | None:
        """Each part's decision, as JSON, when the string named several institutions."""
        if len(self.parts) < 2:
            return None
        keep = ("country", "institution", "institution_id", "method", "confidence", "evidence", "alternatives",
                "parent_ror_id", "parent_name")
        return json.dumps([{k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(p).items() if k in keep}
                           for p in self.parts if p.country], ensure_ascii=False)


@dataclass(frozen=True)
class Institution:
    id: str
    name: str
    country: str
    hq: bool
    labs: tuple[str, ...] = ()  # for hq companies: other countries where they run research labs
    lab_domains: tuple[tuple[str, str], ...] = ()  # (domain, country) of labs with their own domain
    regions: tuple[tuple[str, str], ...] = ()  # (region word, country of the company's lab there)


def prefixes_of(keys) -> set[str]:
    """Every proper word-prefix of the keys: "university of tokyo" gives "university" and
    "university of". `_walk` extends a candidate only while it is such a prefix."""
    out = set()
    for key in keys:
        words = key.split()
        for n in range(1, len(words)):
            out.add(" ".join(words[:n]))
    return out


def _walk(words: list[str], table: dict, prefixes: set[str], keep=None):
    """Longest names of `table` (name key -> value) found in the word list, left to right:
    (start, length, key, value). `keep(start, length, key)` may reject a candidate."""
    n = len(words)
    i = 0
    get = table.get
    while i < n:
        key = words[i]
        j = i
        hit = None
        while True:
            value = get(key)
            if value is not None and (keep is None or keep(i, j - i + 1, key)):
                hit = (i, j - i + 1, key, value)
            j += 1
            if j >= n or key not in prefixes:
                break
            key = key + " " + words[j]
        if hit:
            yield hit
            i += hit[1]
        else:
            i += 1


class _Text:
    """One affiliation string, tokenised once: words (abbreviations expanded, "the"
    dropped), their character spans, and the comma-separated segments they fall in."""

    __slots__ = ("folded", "tokens", "words", "seg_first", "seg_last", "segments", "whole_spans")

    def __init__(self, folded: str) -> None:
        lower = folded.lower()
        tokens = []
        bounds = [0]
        for m in SEGMENT_GAP.finditer(lower):
            bounds.append(m.start())
            bounds.append(m.end())
        bounds.append(len(lower))
        seg = -1
        abbreviations = ABBREVIATIONS
        for k in range(0, len(bounds), 2):
            opened = False
            for m in TOKEN_RE.finditer(lower, bounds[k], bounds[k + 1]):
                if not opened:
                    seg += 1
                    opened = True
                tok = m.group(0)
                if "'" in tok:
                    tok = tok.replace("'", "")
                tok = "and" if tok == "&" else abbreviations.get(tok, tok)
                if tok in DROP:
                    continue
                tokens.append((tok, m.start(), m.end(), seg))
        self.folded = folded
        self.tokens = tokens
        self.words = [t[0] for t in tokens]
        first: dict[int, int] = {}
        last: dict[int, int] = {}
        for i, t in enumerate(tokens):
            if t[3] not in first:
                first[t[3]] = i
            last[t[3]] = i
        self.seg_first = first
        self.seg_last = last
        segments = []
        for seg, i in first.items():
            words = [t for t in tokens[i:last[seg] + 1] if not t[0].isdigit()]
            if words:  # whole segments without postal codes: (start, end, key)
                segments.append((words[0][1], words[-1][2], " ".join(t[0] for t in words)))
        self.segments = segments
        self.whole_spans = {(tokens[i][1], tokens[last[seg]][2]) for seg, i in first.items()}

    def is_whole(self, i: int, length: int) -> bool:
        """Do words[i:i+length] make up a whole segment?"""
        seg = self.tokens[i][3]
        return self.tokens[i + length - 1][3] == seg and self.seg_first[seg] == i and self.seg_last[seg] == i + length - 1


@dataclass
class _Match:
    """An institution named in the string."""

    start: int  # character span in the folded string
    end: int
    orgs: tuple  # Institution objects (curated) or ROR org numbers
    curated: bool
    whole: bool  # the name is a whole segment of the string
    tokens: int
    text: str
    specificity: float = 0.0  # summed rarity of the name's words: higher is more specific
    multinational: bool = False  # a company with sites in several countries (curated hq)
    key: str = ""  # the name key matched (registry matches)
