"""The headline numbers of a venue-year and the papers behind each (what changed between two
materialisations: pipeline/reports/diff.py).

Every number is a set of papers, computed by one function (`members`) from one view per paper
(`PaperView`): its country decisions (pipeline.countries.decision: each counted row with the
institution, rule, confidence and alternatives that decided its country), whether it has any
affiliation text, and the terms it names. Counts, review samples, low-confidence lists and
diffs all come from those sets, so a count and the papers shown for it cannot disagree.

Definitions: pipeline/countries/numbers.py says what each country number counts; here:

- `<cc>_<term>_<abstract|full_text>`: papers with an author from the country that name the
  term in the title or abstract, or anywhere but the references.
- China figures follow the China scope: `cn` (mainland only), `cn+hk+mo`, `greater`.
- Every number is computed under each placement (`hq`, `coauthors`: pipeline.countries.decision)
  with its interval: `low`, the papers in it under every admissible reading of the uncertain
  rows; `high`, those in it under some reading. Both placements lie inside [low, high].
- `unplaced`, beside the interval: the papers outside the number under every reading (not in
  `high`) that would enter it under some reading if their unplaced authors, those no evidence
  places, were in the missing countries (`could_belong` in pipeline/countries/numbers.py). The
  number could reach `high + unplaced` with the evidence that is missing.
- A paper is *low confidence* for a number when it belongs to the number but would not if only
  affiliation rows resolved with confidence at or above the threshold (default 0.85) counted:
  e.g. a US-CN paper whose only CN evidence is an e-mail domain.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

import pandas as pd

from ..affiliations.reconcile import PDF_SOURCE
from ..conventions import CHINA_SCOPE, CHINA_SCOPES, DEFAULT_PLACEMENT, LOW_CONFIDENCE, PLACEMENTS, fold_countries
from ..countries.decision import Decision, possible_country_sets, unplaced_authors
from ..countries.numbers import COUNTRY_NUMBERS, Number, could_belong
from ..countries.numbers import belongs as belongs_by
from ..mentions.tally import ABSTRACT_SCOPES, FULL_TEXT_SCOPES
from ..models import clean, missing

WIRED_TERMS = ("transformer", "llama", "qwen")
TERM_NAMES = {"transformer": "the transformer", "llama": "Llama", "qwen": "Qwen"}
MENTION_GROUPS = {"abstract": ABSTRACT_SCOPES, "full_text": FULL_TEXT_SCOPES}
DEFAULT_SAMPLE = 20
DEFAULT_SEED = 2026


def _numbers() -> list[Number]:
    """The country numbers, then `<cc>_<term>_<abstract|full_text>` for the WIRED terms."""
    out = list(COUNTRY_NUMBERS)
    for term in WIRED_TERMS:
        for country in ("CN", "US"):
            for group, where in (("abstract", "title or abstract"), ("full_text", "full text")):
                out.append(Number(
                    f"{country.lower()}_{term}_{group}",
                    f"papers with a {country} author naming {TERM_NAMES[term]} ({where})",
                    (country,), term, group, denominator=country.lower(),
                ))
    return out


NUMBERS: list[Number] = _numbers()
NUMBER_IDS = [n.id for n in NUMBERS]
BY_ID = {n.id: n for n in NUMBERS}


Evidence = Decision  # one counted author-affiliation row and how its country was decided


@dataclass(frozen=True)
class Mention:
    term: str
    group: str  # abstract or full_text
    scope: str  # title, abstract or body
    surface: str | None
    snippet: str | None
    source: str | None


@dataclass
class PaperView:
    paper_id: str
    title: str | None
    url: str | None
    has_affiliation: bool
    countries: frozenset[str]  # under placement hq, as stored: HK, MO, TW apart
    mentions: frozenset[str] = frozenset()  # "term:group"
    evidence: tuple[Evidence, ...] = ()
    snippets: dict[str, Mention] = field(default_factory=dict)  # "term:group" -> first match
    authors: int | None = None  # the paper's authors as paper_countries counts them (None: not known)

    def countries_for(self, placement: str = DEFAULT_PLACEMENT) -> frozenset[str]:
        if placement == DEFAULT_PLACEMENT or not self.evidence:
            return self.countries
        return frozenset(c for e in self.evidence for c in e.countries_for(placement))

    def folded(self, scope: str, placement: str = DEFAULT_PLACEMENT) -> set[str]:
        return fold_countries(self.countries_for(placement), scope)

    def confident(self, scope: str, threshold: float, placement: str = DEFAULT_PLACEMENT) -> set[str]:
        """The countries left when only rows decided with confidence >= threshold count."""
        return fold_countries({c for e in self.evidence if (e.rule_for(placement)[1] or 0.0) >= threshold
                               for c in e.countries_for(placement)}, scope)

    @cached_property
    def _possible(self) -> tuple[frozenset[str], ...]:
        return possible_country_sets(self.evidence)

    def possible(self, scope: str) -> list[set[str]]:
        """Every country set the paper can have under the admissible readings of its uncertain
        rows (the paper's own set when it has none)."""
        if not self.uncertain:
            return [self.folded(scope)]
        return [fold_countries(s, scope) for s in self._possible] or [set()]

    @cached_property
    def unplaced(self) -> int:
        """How many of its authors no evidence places (pipeline.countries.decision.unplaced_authors)."""
        return unplaced_authors(self.evidence, self.authors)

    @property
    def uncertain(self) -> bool:
        return any(e.alternatives for e in self.evidence)

    @property
    def placed_from(self) -> str:
        """What placed the paper's authors: `pdf` (any row from page 1), `metadata`, or `none`."""
        placed = [e for e in self.evidence if e.countries]
        if any(e.source == PDF_SOURCE for e in placed):
            return "pdf"
        return "metadata" if placed else "none"

    @property
    def all_placed(self) -> bool:
        """Every author with affiliation data is placed (unresolved rows are not guessed)."""
        units: dict = {}
        for e in self.evidence:
            unit = e.unit if e.unit is not None else e.author_position  # snapshots before units
            units[unit] = units.get(unit, False) or bool(e.countries)
        return bool(units) and all(units.values())


# -- building the views ------------------------------------------------------------------------


def author_order(e: Evidence) -> tuple[bool, int]:
    """A paper's evidence in author order, rows with no author position last."""
    return e.author_position is None, e.author_position or 0


def build_views(papers: pd.DataFrame, decisions: Iterable[Decision],
                paper_mentions: pd.DataFrame | None = None) -> dict[str, PaperView]:
    """One view per paper of a venue-year: `papers` (paper_id, title, url), its country
    decisions (pipeline.countries.decision) and, optionally, its stored `paper_mentions`."""
    evidence: dict[str, list[Evidence]] = defaultdict(list)
    for d in decisions:
        evidence[d.paper_id].append(d)
    mentions: dict[str, set[str]] = defaultdict(set)
    snippets: dict[str, dict[str, Mention]] = defaultdict(dict)
    if paper_mentions is not None and len(paper_mentions):
        wired = paper_mentions[paper_mentions["term"].isin(WIRED_TERMS) & (paper_mentions["mentions"] > 0)]
        order = {"title": 0, "abstract": 1, "body": 2, "references": 3}
        rows = sorted(wired.to_dict("records"), key=lambda r: (r["paper_id"], r["term"], order.get(r["scope"], 9)))
        for row in rows:
            for group, scopes in MENTION_GROUPS.items():
                if row["scope"] in scopes:
                    key = f"{row['term']}:{group}"
                    mentions[row["paper_id"]].add(key)
                    snippets[row["paper_id"]].setdefault(key, Mention(
                        row["term"], group, row["scope"], clean(row.get("surface")), clean(row.get("snippet")),
                        clean(row.get("source"))))
    views = {}
    for row in papers.to_dict("records"):
        pid = row["paper_id"]
        authors = clean(row.get("n_authors"))
        rows = sorted(evidence.get(pid, ()), key=author_order)
        views[pid] = PaperView(
            paper_id=pid, title=clean(row.get("title")), url=clean(row.get("url")) or clean(row.get("pdf_url")),
            has_affiliation=bool(rows), countries=frozenset(c for e in rows for c in e.countries),
            mentions=frozenset(mentions.get(pid, ())), evidence=tuple(rows), snippets=snippets.get(pid, {}),
            authors=None if authors is None else int(authors),
        )
    return views


# -- membership --------------------------------------------------------------------------------


def belongs(number: Number, countries: set[str], view: PaperView) -> bool:
    """Whether the paper of `view`, with these folded countries, is in `number`."""
    return belongs_by(number, countries, view.has_affiliation, view.mentions)


@lru_cache(maxsize=1 << 16)
def _memberships(countries: frozenset[str], has_affiliation: bool, mentions: frozenset[str]) -> tuple[bool, ...]:
    """`belongs` for every number of NUMBERS, in order. It looks only at these three, and most
    papers share them with many others, so each distinct triple is decided once."""
    return tuple(belongs_by(number, countries, has_affiliation, mentions) for number in NUMBERS)


def memberships(countries: set[str], view: PaperView) -> tuple[bool, ...]:
    """`belongs(number, countries, view)` for every number of NUMBERS, in order."""
    return _memberships(frozenset(countries), bool(view.has_affiliation), frozenset(view.mentions))


def members(views: Mapping[str, PaperView], scope: str = "cn", threshold: float | None = None,
            placement: str = DEFAULT_PLACEMENT) -> dict[str, set[str]]:
    """number id -> the papers it counts, under a China scope and a placement. With
    `threshold`, only the rows decided at that confidence or above count."""
    CHINA_SCOPE.check(scope)
    by_flags: dict[tuple[bool, ...], list[str]] = defaultdict(list)
    for pid, view in views.items():
        countries = (view.folded(scope, placement) if threshold is None
                     else view.confident(scope, threshold, placement))
        by_flags[memberships(countries, view)].append(pid)
    out: dict[str, set[str]] = {n.id: set() for n in NUMBERS}
    for flags, papers in by_flags.items():
        for number, inside in zip(NUMBERS, flags):
            if inside:
                out[number.id].update(papers)
    return out


def readings(number: Number, view: PaperView, scope: str) -> tuple[bool, bool]:
    """(in the number under every admissible reading, under some reading)."""
    inside = [belongs(number, countries, view) for countries in view.possible(scope)]
    return all(inside), any(inside)


def bounds(views: Mapping[str, PaperView], scope: str = "cn") -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(low, high): number id -> the papers in it under every admissible reading of the
    uncertain rows, and those in it under some reading. Every placement is one reading, so
    each placement's count lies in [low, high]. (`readings` for every number at once.)"""
    CHINA_SCOPE.check(scope)
    low: dict[str, set[str]] = {n.id: set() for n in NUMBERS}
    high: dict[str, set[str]] = {n.id: set() for n in NUMBERS}
    by_flags: dict[tuple[tuple[bool, ...], ...], list[str]] = defaultdict(list)
    for pid, view in views.items():
        by_flags[tuple(memberships(countries, view) for countries in view.possible(scope))].append(pid)
    for each, papers in by_flags.items():
        for number, inside in zip(NUMBERS, zip(*each)):
            if all(inside):
                low[number.id].update(papers)
            if any(inside):
                high[number.id].update(papers)
    return low, high


def could_enter(number: Number, view: PaperView, scope: str) -> bool:
    """Outside the number under every admissible reading, inside it under some reading once its
    unplaced authors are placed: one of the papers of `<number>_unplaced`."""
    possible = view.possible(scope)
    if any(belongs(number, countries, view) for countries in possible):
        return False
    return bool(view.unplaced) and any(could_belong(number, countries, view.unplaced, view.has_affiliation,
                                                    view.mentions) for countries in possible)


def unplaced(views: Mapping[str, PaperView], scope: str = "cn") -> dict[str, set[str]]:
    """number id -> the papers of `<number>_unplaced` (`could_enter`) under a China scope. Like
    the interval it holds for every placement: each placement is one reading."""
    CHINA_SCOPE.check(scope)
    out: dict[str, set[str]] = {n.id: set() for n in NUMBERS}
    for pid, view in views.items():
        if not view.unplaced:
            continue
        for number in NUMBERS:
            if could_enter(number, view, scope):
                out[number.id].add(pid)
    return out


def low_confidence(views: Mapping[str, PaperView], scope: str = "cn", threshold: float = LOW_CONFIDENCE,
                   everyone: Mapping[str, set[str]] | None = None,
                   placement: str = DEFAULT_PLACEMENT) -> dict[str, set[str]]:
    """number id -> papers that count only thanks to a row decided below the threshold.
    `everyone`: `members(views, scope, placement=placement)` when the caller has it already."""
    everyone = members(views, scope, placement=placement) if everyone is None else everyone
    confident = members(views, scope, threshold, placement)
    return {n: everyone[n] - confident[n] for n in everyone}


def headline_rows(meta: Mapping[str, Any], views: Mapping[str, PaperView],
                  threshold: float = LOW_CONFIDENCE, snapshot: int | None = None) -> list[dict]:
    """Rows of `headline_numbers`: every number under every placement and China scope, with
    its share, its interval [low, high], the papers its unplaced authors could add to it
    (`unplaced`) and the count of low-confidence papers behind it."""
    rows = []
    for scope in CHINA_SCOPES:
        low, high = bounds(views, scope)
        missing_evidence = unplaced(views, scope)
        for placement in PLACEMENTS:
            sets = members(views, scope, placement=placement)
            weak = low_confidence(views, scope, threshold, sets, placement)
            for number in NUMBERS:
                n = len(sets[number.id])
                d = len(sets[number.denominator])
                rows.append({
                    **{k: meta.get(k) for k in ("partition_key", "venue", "year")},
                    "placement": placement, "china_scope": scope, "number": number.id, "label": number.label,
                    "papers": n, "low": len(low[number.id]), "high": len(high[number.id]),
                    "unplaced": len(missing_evidence[number.id]), "denominator": d,
                    "share": n / d if d else None, "low_confidence": len(weak[number.id]), "snapshot": snapshot,
                })
    return rows


def low_confidence_counts(views: Mapping[str, PaperView],
                          threshold: float) -> dict[tuple[str, str, str], int]:
    """(China scope, placement, number id) -> how many papers count only thanks to a row decided
    below `threshold`: the `low_confidence` column of `headline_rows` at another threshold."""
    out = {}
    for scope in CHINA_SCOPES:
        for placement in PLACEMENTS:
            weak = low_confidence(views, scope, threshold, placement=placement)
            out.update({(scope, placement, number): len(papers) for number, papers in weak.items()})
    return out


def interval(papers: Any, low: Any, high: Any, unplaced: Any = None) -> str:
    """"64 (55–66, +3 unplaced)": a count, the interval it could move in and the papers its
    unplaced authors could add; each part only when it says something. "570" when nothing is
    uncertain (low = papers = high, none unplaced): a degenerate interval is never printed."""
    parts = interval_parts(papers, low, high, unplaced)
    return f"{int(papers)} ({', '.join(parts)})" if parts else f"{int(papers)}"


def interval_parts(papers: Any, low: Any, high: Any, unplaced: Any = None, fmt=str) -> list[str]:
    """What `interval` puts in parentheses: ["55–66", "+3 unplaced"], each part only when it
    says something (empty when nothing moves the count); `fmt` writes each count."""
    parts = []
    if int(low) != int(papers) or int(high) != int(papers):
        parts.append(f"{fmt(int(low))}\u2013{fmt(int(high))}")
    if not missing(unplaced) and int(unplaced):
        parts.append(f"+{fmt(int(unplaced))} unplaced")
    return parts


def headline_table(rows: Iterable[Mapping[str, Any]], placements: Iterable[str] = PLACEMENTS,
                   scopes: Iterable[str] = tuple(CHINA_SCOPES)) -> pd.DataFrame:
    """Numbers as rows; a column per placement and China scope: "papers (low-high) share"."""
    frame = pd.DataFrame(list(rows))
    placements, scopes = list(placements), list(scopes)
    columns = [f"{s} \u00b7 {p}" for p in placements for s in scopes]
    if frame.empty:
        return pd.DataFrame(columns=["number", "label", *columns])
    if "placement" not in frame.columns:  # rows stored before placements existed
        frame = frame.assign(placement=DEFAULT_PLACEMENT, low=frame["papers"], high=frame["papers"])
    frame = frame[frame["placement"].isin(placements) & frame["china_scope"].isin(scopes)]

    def cell(r) -> str:  # "+N unplaced" when there are any
        more = r.get("unplaced")
        text = interval(r["papers"], r["low"], r["high"], None if missing(more) or not more else more)
        if r["number"] in ("papers",) or missing(r["share"]):
            return text
        return f"{text} {r['share']:.1%}"

    frame = frame.assign(cell=frame.apply(cell, axis=1),
                         column=frame["china_scope"] + " \u00b7 " + frame["placement"])
    table = frame.pivot(index=["number", "label"], columns="column", values="cell").reset_index()
    table["_order"] = table["number"].map({n: i for i, n in enumerate(NUMBER_IDS)})
    table = table.sort_values("_order").drop(columns="_order")
    return table[["number", "label", *[c for c in columns if c in table.columns]]].reset_index(drop=True)


# -- samples -------------------------------------------------------------------------------


def sample(papers: Iterable[str], size: int, seed: int, *salt: Any) -> list[str]:
    """A seeded random sample, the same for the same papers, seed and salt (partition, number,
    scope), whatever order the papers come in."""
    pool = sorted(papers)
    rng = random.Random("|".join(str(s) for s in (seed, *salt)))
    return rng.sample(pool, min(size, len(pool))) if size > 0 else []


def relevant_evidence(number: Number, view: PaperView, scope: str,
                      placement: str = DEFAULT_PLACEMENT) -> list[Evidence]:
    """The rows that put the paper in the number: those placed in one of its countries (or
    that could be, when uncertain), every placed row for numbers about any country, every row
    for the coverage numbers."""
    if number.id in ("papers", "papers_with_affiliation"):
        return list(view.evidence)
    resolved = [e for e in view.evidence if e.countries]
    if not number.countries:
        return resolved
    wanted = set(number.countries)
    return [e for e in resolved
            if fold_countries({*e.countries_for(placement), *e.alternatives}, scope) & wanted]


def provenance(source: str | None) -> str:
    """Where an affiliation row came from, as a reviewer reads it."""
    if source == PDF_SOURCE:
        return "PDF page 1"
    return f"metadata ({source})" if source else "metadata"
