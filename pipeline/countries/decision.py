"""The one place where the country an author-affiliation row counts for is decided.

Input: a paper's author-affiliation rows (every source's, counted or not, as `reconcile` and
`affiliations.explode` write them) and the resolver's answer for each (affiliation, e-mail
domain) pair. Output: one `Decision` per counted row, with the country it counts for under
each placement convention, the rule, its confidence, the evidence and, when the row could
hold another country, those `alternatives`. `paper_countries`, `country_edges`, the headline
numbers, the report, the review trail, `paperatlas diff`, `papers`, `explain` and
`extract-pdf --resolve` all read these decisions; nothing else decides a country.

Evidence before convention. For one author on one paper the strongest evidence decides:

1. a place printed in a source's string for that author (PDF page 1, OpenAlex raw strings,
   the proceedings): the resolver's `location:*` rules, or for a multinational named without
   a place in one string, a place another source prints for the same author
   (`institution:printed`);
2. the author's OpenReview profile entry valid in the paper's year: its institution's
   country (`institution:profile`);
3. an e-mail domain specific to the institution named, whose country is known: a curated lab
   domain (msra.cn), a company's country-code subdomain or domain (il.ibm.com, amazon.de)
   (`institution:email`). A university's domain beside a company's name says the author is
   also at the university, not where the company's lab is, and moves nothing;
   An unconfirmed `.edu`/`.gov`/`.mil` domain ("sustech.edu", which reads as the US) on a paper
   where another author's domain is the same name with one country code ("sustech.edu.cn")
   follows that country: the source cut it off (`email:edu+paper`);
4. only then a convention. For a multinational named without a place (the resolver's
   `institution:hq`) the run chooses the *placement*:
   - `hq` (default): its headquarters, as Paper Copilot, OpenAlex and Scopus do;
   - `coauthors`: the country of the paper's other authors, when at least two of them are
     placed by evidence, all in one country where the company runs a lab
     (`institution:hq+coauthors`).

Uncertain rows, whose country another admissible reading would change:
- `multinational`: a multinational named without a place and not placed by 1-3; it may sit at
  headquarters or in a country where it runs labs (`labs` in data/institutions.yaml) and where
  another author of the paper is placed by evidence (`labs="anchored"`, the default; `any`
  admits every lab);
- `sources disagree`: another source's string (or the source's own country) for the same
  author points only to other countries;
- `low confidence`: decided below the confidence threshold while other evidence in the string
  or the e-mail domain points elsewhere.

Each uncertain row holds exactly one of its alternatives; rows are independent. A headline
number's interval is then: `low`, the papers in it under every admissible choice; `high`, the
papers in it under some choice (`possible_country_sets`). Unresolved rows are never guessed:
they lower coverage instead.

No Dagster here.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow as pa

from ..affiliations.resolver.domains import EDU_METHOD, reserved_stem, tld_country
from ..affiliations.rows import agrees, as_list, source_countries
from ..conventions import DEFAULT_PLACEMENT, LAB_READING, LOW_CONFIDENCE
from ..models import clean, missing
from . import queries

MIN_OTHER_AUTHORS = 2  # one co-author abroad is as likely an intern's home university

HQ_RULE = "institution:hq"
COAUTHORS_RULE = "institution:hq+coauthors"
PRINTED_RULE = "institution:printed"
PROFILE_RULE = "institution:profile"
EMAIL_RULE = "institution:email"
CUT_DOMAIN_RULE = "email:edu+paper"
CONFIDENCE = {PRINTED_RULE: 0.9, PROFILE_RULE: 0.9, EMAIL_RULE: 0.85, COAUTHORS_RULE: 0.6, CUT_DOMAIN_RULE: 0.85}

MULTINATIONAL = "multinational"
DISAGREE = "sources disagree"
LOW = "low confidence"

OPENREVIEW = "openreview"
OTHER_VIEWS = {"other-source", "superseded"}  # the same author's rows that do not count
MAX_SETS = 20_000  # distinct country sets enumerated per paper before bounds turn conservative


def basis_of(method: str | None) -> str:
    """Which kind of evidence a rule stands on, as the report names it."""
    method = method or "unresolved"
    if method == "override":
        return "override"
    if method.startswith("location:"):
        return "printed place"
    if method == PRINTED_RULE:
        return "printed place (another source)"
    if method == PROFILE_RULE:
        return "OpenReview profile"
    if method.startswith("email:") or method == EMAIL_RULE:
        return "e-mail domain"
    if method in (HQ_RULE, COAUTHORS_RULE):
        return "convention"
    if method.startswith("institution"):
        return "institution"
    if method == "legal_form":
        return "legal form"
    return "none"


@dataclass(frozen=True, slots=True)
class Decision:
    """How one counted author-affiliation row was placed. The first twelve fields are those
    the review trail and snapshots always had; the rest default so that old snapshots load."""

    author_position: int | None
    author_name: str | None
    affiliation: str | None
    email_domain: str | None
    source: str | None  # which source's row (paperlists, pdf, openreview ...)
    source_ref: str | None
    countries: tuple[str, ...]  # under placement hq; empty when unresolved
    institution: str | None
    ror_id: str | None
    method: str | None  # the rule that decided (under hq)
    confidence: float | None
    reason: str | None
    evidence: str | None = None  # the text that decided
    basis: str | None = None  # printed place, OpenReview profile, e-mail domain, institution, convention ...
    coauthor_countries: tuple[str, ...] | None = None  # under placement coauthors (None: as `countries`)
    certain: tuple[str, ...] | None = None  # countries that hold under every reading (None: all)
    alternatives: tuple[str, ...] = ()  # the uncertain part's admissible countries; empty when certain
    uncertainty: str | None = None  # multinational, sources disagree, low confidence
    paper_id: str | None = None
    unit: Any = None  # author position, or ("unaligned", n) for rows tied to no author
    parent_ror_id: str | None = None  # the institution's top-level parent in ROR (itself when it has none)
    parent_name: str | None = None

    @property
    def key(self) -> tuple:
        return (self.author_position, self.affiliation, self.email_domain, self.source)

    @property
    def moved(self) -> bool:
        """Does the coauthors placement put this row elsewhere than headquarters?"""
        return self.coauthor_countries is not None and tuple(self.coauthor_countries) != tuple(self.countries)

    def countries_for(self, placement: str = DEFAULT_PLACEMENT) -> tuple[str, ...]:
        if placement == "coauthors" and self.coauthor_countries is not None:
            return tuple(self.coauthor_countries)
        return tuple(self.countries)

    def rule_for(self, placement: str = DEFAULT_PLACEMENT) -> tuple[str | None, float | None, str | None]:
        """(rule, confidence, reason) under a placement."""
        if placement == "coauthors" and self.moved:
            country = "/".join(self.coauthor_countries or ())
            return (COAUTHORS_RULE, CONFIDENCE[COAUTHORS_RULE],
                    f"{self.institution} runs research labs in {country}, and every other author of the paper "
                    f"placed by evidence is in {country}")
        return self.method, self.confidence, self.reason

    def fixed(self) -> tuple[str, ...]:
        return tuple(self.countries) if self.certain is None else tuple(self.certain)

    def as_row(self) -> dict:
        return {
            "paper_id": self.paper_id, "author_position": self.author_position, "author_name": self.author_name,
            "affiliation": self.affiliation, "email_domain": self.email_domain, "source": self.source,
            "source_ref": self.source_ref, "countries": list(self.countries),
            "coauthor_countries": list(self.countries_for("coauthors")), "certain": list(self.fixed()),
            "alternatives": list(self.alternatives), "uncertainty": self.uncertainty, "method": self.method,
            "confidence": self.confidence, "basis": self.basis, "evidence": self.evidence, "reason": self.reason,
            "institution": self.institution, "ror_id": self.ror_id,
            "parent_ror_id": self.parent_ror_id, "parent_name": self.parent_name,
            "unit": None if self.unit is None or isinstance(self.unit, int) else int(self.unit[1]),
        }


def from_row(row: Mapping[str, Any]) -> Decision:
    """A `country_decisions` row back to a Decision."""
    position = clean(row.get("author_position"))
    unit = int(position) if position is not None else ("unaligned", int(clean(row.get("unit")) or 0))
    return Decision(
        author_position=None if position is None else int(position), author_name=clean(row.get("author_name")),
        affiliation=clean(row.get("affiliation")), email_domain=clean(row.get("email_domain")),
        source=clean(row.get("source")), source_ref=clean(row.get("source_ref")),
        countries=tuple(as_list(row.get("countries"))), institution=clean(row.get("institution")),
        ror_id=clean(row.get("ror_id")), method=clean(row.get("method")),
        confidence=None if clean(row.get("confidence")) is None else float(row["confidence"]),
        reason=clean(row.get("reason")), evidence=clean(row.get("evidence")), basis=clean(row.get("basis")),
        coauthor_countries=tuple(as_list(row.get("coauthor_countries"))),
        certain=tuple(as_list(row.get("certain"))), alternatives=tuple(as_list(row.get("alternatives"))),
        uncertainty=clean(row.get("uncertainty")), paper_id=clean(row.get("paper_id")), unit=unit,
        parent_ror_id=clean(row.get("parent_ror_id")), parent_name=clean(row.get("parent_name")),
    )


# -- helpers ---------------------------------------------------------------------------------


def resolution_key(affiliation: Any, email_domain: Any) -> tuple[str | None, str | None]:
    return clean(affiliation), clean(email_domain)


def _position(row: Mapping[str, Any]) -> int | None:
    position = clean(row.get("author_position"))
    return None if position is None else int(position)


def _counted(row: Mapping[str, Any]) -> bool:
    counted = clean(row.get("counted"))
    return True if counted is None else bool(counted)


def decided(row: Mapping[str, Any]) -> bool:
    """Whether the row gets a decision: it counts and has a string or an e-mail domain."""
    return _counted(row) and bool(clean(row.get("affiliation")) or clean(row.get("email_domain")))


def _same_country(a: str, others: set[str]) -> bool:
    """Either side may fold HK, MO and TW into CN (sources do; our other strings do not), so a
    CN on one side does not contradict them on the other."""
    return agrees(a, others) or any(agrees(o, {a}) for o in others)


@dataclass
class _Slot:
    """One institution of a row (a string may name several) and how it was placed."""

    country: str
    method: str
    confidence: float
    evidence: str | None
    institution: str | None
    ror_id: str | None
    reason: str | None = None
    admissible: tuple[str, ...] = ()  # more than one: uncertain
    uncertainty: str | None = None
    coauthor_country: str | None = None
    parent_ror_id: str | None = None  # the institution's top-level parent in ROR (itself when none)
    parent_name: str | None = None


def _slots(res: Mapping[str, Any] | None) -> list[dict]:
    """The resolver's answer as one dict per part with a country."""
    if not res or clean(res.get("country")) is None:
        return []
    parts = clean(res.get("parts"))
    if isinstance(parts, str):
        try:
            parts = json.loads(parts)
        except ValueError:
            parts = None
    if isinstance(parts, list) and len(parts) > 1:
        out = []
        for p in parts:
            if p.get("country"):
                iid = p.get("institution_id") or ""
                out.append({**p, "ror_id": iid if iid.startswith("https://ror.org/") else None,
                            "email_country": clean(res.get("email_country")),
                            "email_method": clean(res.get("email_method"))})
        if out:
            return out
    return [{"country": res["country"], "method": clean(res.get("method")) or "unresolved",
             "confidence": float(clean(res.get("confidence")) or 0.0), "evidence": clean(res.get("evidence")),
             "institution": clean(res.get("institution")), "ror_id": clean(res.get("ror_id")),
             "alternatives": as_list(res.get("alternatives")), "email_country": clean(res.get("email_country")),
             "email_method": clean(res.get("email_method")), "parent_ror_id": clean(res.get("parent_ror_id")),
             "parent_name": clean(res.get("parent_name"))}]


def _place_multinational(slot: dict, printed: list[tuple[str, str, str]], profile: set[str]) -> _Slot:
    """Evidence 1-3 for a multinational named without a place, else headquarters."""
    hq = slot["country"]
    inst = slot.get("institution")
    admissible = tuple(sorted({hq, *slot.get("alternatives", ())}))
    base = dict(institution=inst, ror_id=slot.get("ror_id"), parent_ror_id=slot.get("parent_ror_id"),
                parent_name=slot.get("parent_name"))
    found = sorted({c for c, _, _ in printed if c in admissible})
    if len(found) == 1:
        c = found[0]
        source, text = next((s, t) for cc, s, t in printed if cc == c)
        return _Slot(c, PRINTED_RULE, CONFIDENCE[PRINTED_RULE], text,
                     reason=f"{inst} placed where {source or 'another source'} prints this author: {text}", **base)
    profiled = sorted(c for c in admissible if _same_country(c, profile)) if profile else []
    if len(profiled) == 1:
        c = profiled[0]
        return _Slot(c, PROFILE_RULE, CONFIDENCE[PROFILE_RULE], ",".join(sorted(profile)),
                     reason=f"{inst} placed by the author's OpenReview profile for the paper's year", **base)
    email, how = slot.get("email_country"), slot.get("email_method")
    if email in admissible and how == "email:lab" and len(admissible) > 1:
        return _Slot(email, EMAIL_RULE, CONFIDENCE[EMAIL_RULE], email,
                     reason=f"{inst} placed by the author's institution-specific e-mail domain ({email})", **base)
    narrowed = tuple(found or profiled or admissible)
    country = hq if hq in narrowed else narrowed[0]
    return _Slot(country, HQ_RULE, float(slot["confidence"]), slot.get("evidence"),
                 reason=f"{inst} named without a place: its headquarters ({hq})"
                 + (f"; it runs labs in {', '.join(c for c in narrowed if c != hq)}" if len(narrowed) > 1 else ""),
                 admissible=narrowed if len(narrowed) > 1 else (), uncertainty=MULTINATIONAL if len(narrowed) > 1 else None,
                 **base)


def _cut_domains(rows: Sequence[Mapping[str, Any]]) -> dict[str, set[str]]:
    """The paper's e-mail domains under a reserved US TLD with a country code after it, by
    registrable name ("sustech.edu" -> {"CN"} when any author of the paper has sustech.edu.cn)."""
    out: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        parsed = reserved_stem(clean(row.get("email_domain")))
        if parsed and parsed[1]:
            out[parsed[0]].add(tld_country(parsed[1]))
    return out


def _uncut(slot: dict, email_domain: str | None, cut: Mapping[str, set[str]]) -> dict:
    """A row placed in the US only by an unconfirmed `.edu`/`.gov`/`.mil` domain, on a paper
    that prints the same name with one country code for another author ("sustech.edu" beside
    "sustech.edu.cn"): the source cut the country code off, and that country is the author's."""
    if slot["method"] != EDU_METHOD or not cut:
        return slot
    parsed = reserved_stem(email_domain)
    countries = cut.get(parsed[0], set()) if parsed and not parsed[1] else set()
    if len(countries) != 1:
        return slot
    (country,) = countries
    return {**slot, "country": country, "method": CUT_DOMAIN_RULE, "confidence": CONFIDENCE[CUT_DOMAIN_RULE],
            "evidence": f"{parsed[0]}.{country.lower()} on the same paper", "alternatives": []}


def _place(slot: dict, threshold: float) -> _Slot:
    alternatives = tuple(c for c in slot.get("alternatives", ()) if c != slot["country"])
    low = float(slot["confidence"]) < threshold and bool(alternatives)
    return _Slot(slot["country"], slot["method"], float(slot["confidence"]), slot.get("evidence"),
                 slot.get("institution"), slot.get("ror_id"),
                 parent_ror_id=slot.get("parent_ror_id"), parent_name=slot.get("parent_name"),
                 admissible=tuple(sorted({slot["country"], *alternatives})) if low else (),
                 uncertainty=LOW if low else None)


# -- the decision ----------------------------------------------------------------------------


def decide(rows: Iterable[Mapping[str, Any]], resolutions: Mapping[tuple, Mapping[str, Any]],
           threshold: float = LOW_CONFIDENCE, labs: str = "anchored") -> list[Decision]:
    """Decisions for every counted row of every paper in `rows` (author_affiliations rows;
    rows without `counted` count). `resolutions` maps (affiliation, email_domain) to the
    resolver's answer (a resolved_affiliations row or `Resolution.as_dict()` with `parts`)."""
    by_paper: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        by_paper[row["paper_id"]].append(row)
    out: list[Decision] = []
    for paper in sorted(by_paper):
        out.extend(decide_paper(by_paper[paper], resolutions, threshold, labs))
    return out


def decide_paper(rows: Sequence[Mapping[str, Any]], resolutions: Mapping[tuple, Mapping[str, Any]],
                 threshold: float = LOW_CONFIDENCE, labs: str = "anchored") -> list[Decision]:
    """Decisions for one paper's counted rows (see the module docstring). `labs`: which lab
    countries of a multinational are admissible readings: `anchored` (default), those where
    another author of the paper is placed by evidence; `any`, every lab."""
    LAB_READING.check(labs)
    # What the author's other rows say: places other sources print, their countries, the profile.
    printed: dict[int, list[tuple[str, str, str]]] = defaultdict(list)
    others: dict[int, set[str]] = defaultdict(set)
    profile: dict[int, set[str]] = defaultdict(set)
    for row in rows:
        pos = _position(row)
        if pos is None:
            continue
        if row.get("source") == OPENREVIEW:
            profile[pos] |= source_countries(clean(row.get("reference_countries")))
        if _counted(row) or row.get("decision") not in OTHER_VIEWS:
            continue
        for slot in _slots(resolutions.get(resolution_key(row.get("affiliation"), row.get("email_domain")))):
            if slot["method"].startswith("location:"):
                printed[pos].append((slot["country"], row.get("source"), slot.get("evidence") or row.get("affiliation")))
            if slot["method"] != HQ_RULE:
                others[pos].add(slot["country"])

    counted = [r for r in rows if decided(r)]
    cut = _cut_domains(rows)
    drafts: list[tuple[Mapping[str, Any], Any, dict, list[_Slot]]] = []
    for n, row in enumerate(counted):
        pos = _position(row)
        unit = pos if pos is not None else ("unaligned", n)
        res = resolutions.get(resolution_key(row.get("affiliation"), row.get("email_domain"))) or {}
        slots = [_place_multinational(s, printed.get(pos, []), profile.get(pos, set())) if s["method"] == HQ_RULE
                 else _place(_uncut(s, row.get("email_domain"), cut), threshold) for s in _slots(res)]
        if len(slots) == 1 and not slots[0].admissible and pos is not None:
            theirs = set(others.get(pos, set())) | source_countries(clean(row.get("reference_countries")))
            mine = slots[0].country
            if theirs and not _same_country(mine, theirs):
                slots[0].admissible = tuple(sorted({mine, *theirs}))
                slots[0].uncertainty = DISAGREE
                slots[0].reason = f"another source places this author in {', '.join(sorted(theirs))}"
        drafts.append((row, unit, res, slots))

    anchors = {(unit, s.country) for _, unit, _, slots in drafts for s in slots if s.method != HQ_RULE}
    if labs == "anchored":
        # A lab abroad is an admissible reading only where another author of the paper is
        # placed by evidence: no source puts anyone of the paper near the others.
        for _, unit, _, slots in drafts:
            near = {c for u, c in anchors if u != unit}
            for s in slots:
                if s.uncertainty != MULTINATIONAL or s.country not in s.admissible:
                    continue
                kept = tuple(c for c in s.admissible if c == s.country or c in near)
                if len(kept) < 2:
                    s.admissible, s.uncertainty = (), None
                else:
                    s.admissible = kept

    # Placement coauthors: other authors placed by evidence, at least two, all in one country.
    countries = {c for _, c in anchors}
    if len(countries) == 1 and len({u for u, _ in anchors}) >= MIN_OTHER_AUTHORS:
        (target,) = countries
        for _, _, _, slots in drafts:
            for s in slots:
                if s.method == HQ_RULE and target != s.country and target in s.admissible:
                    s.coauthor_country = target

    out = []
    for row, unit, res, slots in drafts:
        base = dict(
            author_position=_position(row), author_name=clean(row.get("author_name")),
            affiliation=clean(row.get("affiliation")), email_domain=clean(row.get("email_domain")),
            source=clean(row.get("source")), source_ref=clean(row.get("source_ref")),
            paper_id=row.get("paper_id"), unit=unit,
        )
        if not slots:
            out.append(Decision(countries=(), institution=None, ror_id=None, method="unresolved", confidence=0.0,
                                reason=clean(res.get("reason")) or "not resolved", basis="none", **base))
            continue
        uncertain = next((s for s in slots if len(s.admissible) > 1), None)
        # A row holds one choice. The institution named twice ("Disney Research|Studios") is one
        # choice; another uncertain institution in the same string stays where it was decided
        # under every placement, so that each placement remains one of the row's readings.
        chosen = [s for s in slots if uncertain is not None and s.admissible == uncertain.admissible]
        for s in slots:
            if len(s.admissible) > 1 and not any(s is c for c in chosen):
                s.admissible, s.uncertainty, s.coauthor_country = (), None, None
        head = uncertain or slots[0]
        hq = tuple(dict.fromkeys(s.country for s in slots))
        co = tuple(dict.fromkeys(s.coauthor_country or s.country for s in slots))
        certain = tuple(dict.fromkeys(s.country for s in slots if not any(s is c for c in chosen)))
        out.append(Decision(
            countries=hq, institution=head.institution, ror_id=head.ror_id, method=head.method,
            parent_ror_id=head.parent_ror_id, parent_name=head.parent_name,
            confidence=head.confidence, reason=head.reason, evidence=head.evidence, basis=basis_of(head.method),
            coauthor_countries=co, certain=certain, alternatives=uncertain.admissible if uncertain else (),
            uncertainty=uncertain.uncertainty if uncertain else None, **base))
    return out


# -- what a paper counts for -----------------------------------------------------------------


def paper_countries(decisions: Iterable[Decision], placement: str = DEFAULT_PLACEMENT) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for d in decisions:
        out[d.paper_id].update(d.countries_for(placement))
    return dict(out)


def paper_country_rows(decisions: Iterable[Decision], placement: str = DEFAULT_PLACEMENT,
                       meta: Mapping[str, Mapping[str, Any]] | None = None) -> list[dict]:
    """Rows of `paper_countries` under a placement.

    Whole counting: a paper counts once for every country it has. Fractional counting (as the
    Nature Index does): each author with at least one placed row holds an equal share of the
    paper, split equally over that author's countries; rows tied to no author hold the share
    of one author each. A paper with any placed author sums to exactly 1."""
    units: dict[str, dict[Any, list[str]]] = defaultdict(dict)
    for d in decisions:
        units[d.paper_id].setdefault(d.unit, []).extend(d.countries_for(placement))
    out: list[dict] = []
    for paper in sorted(units):
        resolved_units = [c for c in units[paper].values() if c]
        if not resolved_units:
            continue
        share = 1.0 / len(resolved_units)
        fractional: Counter = Counter()
        authors: Counter = Counter()
        for unit_countries in resolved_units:
            for country in unit_countries:
                fractional[country] += share / len(unit_countries)
            for country in set(unit_countries):
                authors[country] += 1
        m = (meta or {}).get(paper, {})
        for country in sorted(fractional):
            out.append({
                "partition_key": m.get("partition_key"), "venue": m.get("venue"),
                "year": m.get("year"), "paper_id": paper, "country": country, "authors": authors[country],
                "fractional": round(fractional[country], 12), "n_countries": len(fractional), "placement": placement,
            })
    return out


def unplaced_authors(decisions: Iterable[Decision], authors: int | None = None) -> int:
    """How many of a paper's authors no evidence places (docs/counting.md, "Authors nobody can
    place"). The units are those of fractional counting: an author (by position), or an
    affiliation the source tied to no author. A unit is placed when any of its counted rows has a
    country (an uncertain row too: its readings are the interval's). Unplaced are:

    - units whose every decided row resolved to no country (string and e-mail domain alike);
    - with `authors` (the paper's authors as `paper_countries` counts them: the metadata's, or
      the PDF's when more), the authors with no decided row at all, neither affiliation string
      nor e-mail domain. When the paper's affiliations are tied to no author, those rows stand
      for its authors (each holds one author's share) and no author is added."""
    placed: dict[Any, bool] = {}
    for d in decisions:
        unit = d.unit if d.unit is not None else d.author_position  # snapshots before units
        placed[unit] = placed.get(unit, False) or bool(d.countries or d.alternatives)
    unplaced = sum(1 for ok in placed.values() if not ok)
    if authors is not None and all(isinstance(u, int) for u in placed):
        unplaced += max(0, int(authors) - len(placed))
    return unplaced


def possible_country_sets(decisions: Iterable[Decision]) -> tuple[frozenset[str], ...]:
    """Every set of countries the paper can have when each uncertain row takes one of its
    alternatives. Past MAX_SETS distinct sets, the two extremes stand in (the fewest and the
    most countries): still bounds, only wider."""
    decisions = list(decisions)
    fixed = frozenset(c for d in decisions for c in d.fixed())
    choices = [d.alternatives for d in decisions if len(d.alternatives) > 1]
    sets = {fixed}
    for alternatives in choices:
        sets = {s | {c} for s in sets for c in alternatives}
        if len(sets) > MAX_SETS:
            return (fixed, fixed | {c for a in choices for c in a})
    return tuple(sorted(sets, key=lambda s: (len(s), sorted(s))))


def describe(d: Decision, placement: str = DEFAULT_PLACEMENT) -> str:
    """One line: what the row says and why it counts where it does."""
    rule, confidence, reason = d.rule_for(placement)
    country = "/".join(d.countries_for(placement)) or "no country"
    text = d.affiliation or (f"@{d.email_domain}" if d.email_domain else "(nothing)")
    line = f'"{text}" -> {country} by {rule}'
    if confidence is not None:
        line += f" ({confidence:.2f})"
    if d.institution:
        line += f", {d.institution}"
    if reason:
        line += f": {reason}"
    if d.alternatives:
        line += f" [uncertain, {d.uncertainty}: could be {', '.join(d.alternatives)}]"
    return line


def _values(column) -> list:
    """An Arrow column as Python values; a list column as tuples (a NULL list is empty), cut
    from the flat values by the offsets rather than built one list at a time. Equal texts and
    equal tuples are one object each (a rule's reason, an institution, a country list repeat
    over thousands of rows): a scope's decisions in memory cost their distinct values once."""
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    if pa.types.is_string(column.type):
        out: list = []
        for chunk in chunks:
            encoded = chunk.dictionary_encode()
            words = encoded.dictionary.to_pylist()
            out.extend(None if i is None else words[i] for i in encoded.indices.to_pylist())
        return out
    if not pa.types.is_list(column.type):
        return column.to_pylist()
    out, shared = [], {}
    for chunk in chunks:
        values, offsets = _values(chunk.flatten()), chunk.offsets.to_pylist()
        base = offsets[0]
        for start, end in zip(offsets, offsets[1:]):
            items = tuple(values[start - base:end - base])
            out.append(shared.setdefault(items, items))
    return out


def from_columns(table) -> list[Decision]:
    """`country_decisions` rows (an Arrow table) as Decisions: what `from_row` gives for each
    row, column by column (NULL is None, a NULL list is empty)."""
    c = {name: _values(table.column(name)) for name in table.column_names}
    out = []
    for position, unit, confidence, *rest in zip(
            c["author_position"], c["unit"], c["confidence"], c["author_name"], c["affiliation"], c["email_domain"],
            c["source"], c["source_ref"], c["countries"], c["institution"], c["ror_id"], c["method"], c["reason"],
            c["evidence"], c["basis"], c["coauthor_countries"], c["certain"], c["alternatives"], c["uncertainty"],
            c["paper_id"], c["parent_ror_id"], c["parent_name"]):
        (name, affiliation, domain, source, ref, countries, institution, ror_id, method, reason, evidence, basis,
         coauthors, certain, alternatives, uncertainty, paper_id, parent_ror_id, parent_name) = rest
        out.append(Decision(
            author_position=position, author_name=name, affiliation=affiliation, email_domain=domain, source=source,
            source_ref=ref, countries=countries, institution=institution, ror_id=ror_id, method=method,
            confidence=None if missing(confidence) else float(confidence), reason=reason, evidence=evidence,
            basis=basis, coauthor_countries=coauthors, certain=certain, alternatives=alternatives,
            uncertainty=uncertainty, paper_id=paper_id,
            unit=position if position is not None else ("unaligned", int(unit or 0)),
            parent_ror_id=parent_ror_id, parent_name=parent_name))
    return out


def load_decisions(store, partition_key: str, con=None) -> list[Decision]:
    """The stored decisions of a venue-year (`country_decisions`), in paper and author order."""
    return from_columns(queries.decisions(store, partition_key, con=con))


def decision_rows(partition_key: str, decisions: Iterable[Decision]) -> list[dict]:
    """`country_decisions` rows."""
    return [{"partition_key": partition_key, **d.as_row()} for d in decisions]


PLAIN_FIELDS = ("uncertainty", "method", "confidence", "basis", "evidence", "reason", "institution", "ror_id",
                "parent_ror_id", "parent_name")


def decision_frame(partition_key: str, decisions: Sequence[Decision]) -> pd.DataFrame:
    """`pd.DataFrame(decision_rows(...))`, built column by column rather than row by row."""
    if not decisions:
        return pd.DataFrame()
    columns: dict[str, list] = {"partition_key": [partition_key] * len(decisions)}
    for name in ("paper_id", "author_position", "author_name", "affiliation", "email_domain", "source", "source_ref"):
        columns[name] = [getattr(d, name) for d in decisions]
    columns["countries"] = [list(d.countries) for d in decisions]
    columns["coauthor_countries"] = [list(d.countries_for("coauthors")) for d in decisions]
    columns["certain"] = [list(d.fixed()) for d in decisions]
    columns["alternatives"] = [list(d.alternatives) for d in decisions]
    for name in PLAIN_FIELDS:
        columns[name] = [getattr(d, name) for d in decisions]
    columns["unit"] = [None if d.unit is None or isinstance(d.unit, int) else int(d.unit[1]) for d in decisions]
    return pd.DataFrame(columns)
