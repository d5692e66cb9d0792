"""The headline numbers of a venue-year, the papers behind each, and what changed between two
materialisations.

Every number is a set of papers, computed by one function (`members`) from one view per paper
(`PaperView`): its countries, whether it has any affiliation text, the terms it names, and the
evidence (each author-affiliation row with the institution, rule and confidence that decided
its country). Counts, review samples, low-confidence lists and diffs all come from those sets,
so a count and the papers shown for it cannot disagree.

Definitions (the README repeats them):

- `papers`: every paper of the venue-year. `papers_with_affiliation`: papers with at least one
  affiliation string or e-mail domain (from the metadata or the PDF). `papers_with_country`:
  papers with at least one author resolved to a country.
- `international`: papers with two or more countries. `us`, `cn`: papers with at least one
  author from the country; `us_cn`: papers with both (its share is of all papers, as WIRED's
  141 of 5,290).
- `<cc>_<term>_<abstract|full_text>`: papers with an author from the country that name the
  term in the title or abstract, or anywhere but the references.
- China figures follow the China scope: `cn` (mainland only), `cn+hk+mo`, `greater`.
- A paper is *low confidence* for a number when it belongs to the number but would not if only
  affiliation rows resolved with confidence at or above the threshold (default 0.85) counted:
  e.g. a US-CN paper whose only CN evidence is an e-mail domain.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import pandas as pd

from . import coauthors
from .counting import CHINA_SCOPES, country_list, fold_countries, resolution_key
from .mentions.counting import ABSTRACT_SCOPES, FULL_TEXT_SCOPES
from .reconcile import PDF_SOURCE

WIRED_TERMS = ("transformer", "llama", "qwen")
TERM_NAMES = {"transformer": "the transformer", "llama": "Llama", "qwen": "Qwen"}
MENTION_GROUPS = {"abstract": ABSTRACT_SCOPES, "full_text": FULL_TEXT_SCOPES}
LOW_CONFIDENCE = 0.85
DEFAULT_SAMPLE = 20
DEFAULT_SEED = 2026
KEEP_SNAPSHOTS = 20


@dataclass(frozen=True)
class Number:
    id: str
    label: str
    countries: tuple[str, ...] = ()
    term: str | None = None
    group: str | None = None
    denominator: str = "papers"  # the number whose count divides this one for its share


def _numbers() -> list[Number]:
    out = [
        Number("papers", "papers", denominator="papers"),
        Number("papers_with_affiliation", "papers with an affiliation string or e-mail domain"),
        Number("papers_with_country", "papers with a resolved country", denominator="papers_with_affiliation"),
        Number("international", "international papers (two or more countries)", denominator="papers_with_country"),
        Number("us", "papers with a US author", ("US",)),
        Number("cn", "papers with a CN author", ("CN",)),
        Number("us_cn", "US-CN co-authored papers", ("US", "CN")),
    ]
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


@dataclass(frozen=True)
class Evidence:
    """One author-affiliation row and how its country was decided."""

    author_position: int | None
    author_name: str | None
    affiliation: str | None
    email_domain: str | None
    source: str | None  # metadata or pdf
    source_ref: str | None
    countries: tuple[str, ...]  # empty when unresolved
    institution: str | None
    ror_id: str | None
    method: str | None  # the rule that decided
    confidence: float | None
    reason: str | None

    @property
    def key(self) -> tuple:
        return (self.author_position, self.affiliation, self.email_domain, self.source)


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
    countries: frozenset[str]  # as stored: HK, MO, TW apart
    mentions: frozenset[str] = frozenset()  # "term:group"
    evidence: tuple[Evidence, ...] = ()
    snippets: dict[str, Mention] = field(default_factory=dict)  # "term:group" -> first match

    def folded(self, scope: str) -> set[str]:
        return fold_countries(self.countries, scope)

    def confident(self, scope: str, threshold: float) -> set[str]:
        """The countries left when only rows resolved with confidence >= threshold count."""
        return fold_countries(
            {c for e in self.evidence if (e.confidence or 0.0) >= threshold for c in e.countries}, scope)


# -- building the views ------------------------------------------------------------------------


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value) or value is pd.NA


def _clean(value: Any) -> Any:
    return None if _missing(value) else value


def build_views(
    papers: pd.DataFrame, author_affiliations: pd.DataFrame, resolved: pd.DataFrame,
    paper_countries: pd.DataFrame, paper_mentions: pd.DataFrame | None = None,
) -> dict[str, PaperView]:
    """One view per paper of a venue-year from its stored tables.

    `papers`: paper_id, title, pdf_url/source_ref; `author_affiliations`: the counted rows;
    `resolved`: the partition's resolved_affiliations; `paper_countries`: as stored;
    `paper_mentions`: as stored (optional)."""
    decided = {}
    for row in resolved.to_dict("records"):
        decided[resolution_key(row.get("affiliation"), row.get("email_domain"))] = row
    evidence: dict[str, list[Evidence]] = defaultdict(list)
    with_affiliation: set[str] = set()
    rows_of: dict[str, list] = defaultdict(list)
    for row in author_affiliations.to_dict("records"):
        aff, dom = _clean(row.get("affiliation")), _clean(row.get("email_domain"))
        if aff is None and dom is None:
            continue
        with_affiliation.add(row["paper_id"])
        r = decided.get(resolution_key(aff, dom), {})
        countries = country_list(r.get("country"), r.get("countries")) or []
        position = _clean(row.get("author_position"))
        rows_of[row["paper_id"]].append({"countries": countries, "method": _clean(r.get("method")),
                                         "institution": _clean(r.get("institution")),
                                         "unit": ("unaligned", len(rows_of[row["paper_id"]]))
                                         if position is None else int(position)})
        evidence[row["paper_id"]].append(Evidence(
            author_position=None if position is None else int(position),
            author_name=_clean(row.get("author_name")), affiliation=aff, email_domain=dom,
            source=_clean(row.get("source")), source_ref=_clean(row.get("source_ref")),
            countries=tuple(countries), institution=_clean(r.get("institution")), ror_id=_clean(r.get("ror_id")),
            method=_clean(r.get("method")) or "unresolved",
            confidence=None if _missing(r.get("confidence")) else float(r["confidence"]),
            reason=_clean(r.get("reason")),
        ))
    for pid, rows in rows_of.items():  # the paper-level rule, as paper_countries applies it
        for i, country in coauthors.moves(rows).items():
            e = evidence[pid][i]
            evidence[pid][i] = replace(e, countries=(country,), method=coauthors.RULE,
                                       confidence=coauthors.CONFIDENCE,
                                       reason=coauthors.reason(e.institution, country))
    countries: dict[str, set[str]] = defaultdict(set)
    for pid, country in paper_countries[["paper_id", "country"]].itertuples(index=False):
        countries[pid].add(country)
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
                        row["term"], group, row["scope"], _clean(row.get("surface")), _clean(row.get("snippet")),
                        _clean(row.get("source"))))
    views = {}
    for row in papers.to_dict("records"):
        pid = row["paper_id"]
        views[pid] = PaperView(
            paper_id=pid, title=_clean(row.get("title")), url=_clean(row.get("url")) or _clean(row.get("pdf_url")),
            has_affiliation=pid in with_affiliation, countries=frozenset(countries.get(pid, ())),
            mentions=frozenset(mentions.get(pid, ())),
            evidence=tuple(sorted(evidence.get(pid, ()), key=lambda e: (e.author_position is None,
                                                                        e.author_position or 0))),
            snippets=snippets.get(pid, {}),
        )
    return views


# -- membership --------------------------------------------------------------------------------


def _belongs(number: Number, countries: set[str], view: PaperView) -> bool:
    if number.id == "papers":
        return True
    if number.id == "papers_with_affiliation":
        return view.has_affiliation
    if number.id == "papers_with_country":
        return bool(countries)
    if number.id == "international":
        return len(countries) > 1
    if not set(number.countries) <= countries:
        return False
    return number.term is None or f"{number.term}:{number.group}" in view.mentions


def members(views: Mapping[str, PaperView], scope: str = "cn",
            threshold: float | None = None) -> dict[str, set[str]]:
    """number id -> the papers it counts, under a China scope. With `threshold`, only the
    affiliation rows resolved at that confidence or above count."""
    if scope not in CHINA_SCOPES:
        raise ValueError(f"unknown china scope {scope!r}; choose one of {', '.join(CHINA_SCOPES)}")
    out: dict[str, set[str]] = {n.id: set() for n in NUMBERS}
    for pid, view in views.items():
        countries = view.folded(scope) if threshold is None else view.confident(scope, threshold)
        for number in NUMBERS:
            if _belongs(number, countries, view):
                out[number.id].add(pid)
    return out


def low_confidence(views: Mapping[str, PaperView], scope: str = "cn", threshold: float = LOW_CONFIDENCE,
                   everyone: Mapping[str, set[str]] | None = None) -> dict[str, set[str]]:
    """number id -> papers that count only thanks to a row resolved below the threshold.
    `everyone`: `members(views, scope)` when the caller has it already."""
    everyone = members(views, scope) if everyone is None else everyone
    confident = members(views, scope, threshold)
    return {n: everyone[n] - confident[n] for n in everyone}


def headline_rows(meta: Mapping[str, Any], views: Mapping[str, PaperView],
                  threshold: float = LOW_CONFIDENCE, snapshot: int | None = None) -> list[dict]:
    """Rows of `headline_numbers`: every number under every China scope, with its share and
    the count of low-confidence papers behind it."""
    rows = []
    for scope in CHINA_SCOPES:
        sets = members(views, scope)
        low = low_confidence(views, scope, threshold, sets)
        for number in NUMBERS:
            n = len(sets[number.id])
            d = len(sets[number.denominator])
            rows.append({
                **{k: meta.get(k) for k in ("partition_key", "venue", "year")},
                "china_scope": scope, "number": number.id, "label": number.label, "papers": n,
                "denominator": d, "share": n / d if d else None, "low_confidence": len(low[number.id]),
                "snapshot": snapshot,
            })
    return rows


def headline_table(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Numbers as rows, China scopes as columns ("papers (share)")."""
    frame = pd.DataFrame(list(rows))
    if frame.empty:
        return pd.DataFrame(columns=["number", "label", *CHINA_SCOPES])

    def cell(r) -> str:
        if r["number"] in ("papers",) or pd.isna(r["share"]):
            return f"{int(r['papers'])}"
        return f"{int(r['papers'])} ({r['share']:.1%})"

    frame["cell"] = frame.apply(cell, axis=1)
    table = frame.pivot(index=["number", "label"], columns="china_scope", values="cell").reset_index()
    table["_order"] = table["number"].map({n: i for i, n in enumerate(NUMBER_IDS)})
    table = table.sort_values("_order").drop(columns="_order")
    return table[["number", "label", *[s for s in CHINA_SCOPES if s in table.columns]]].reset_index(drop=True)


# -- samples -------------------------------------------------------------------------------


def sample(papers: Iterable[str], size: int, seed: int, *salt: Any) -> list[str]:
    """A seeded random sample, the same for the same papers, seed and salt (partition, number,
    scope), whatever order the papers come in."""
    pool = sorted(papers)
    rng = random.Random("|".join(str(s) for s in (seed, *salt)))
    return rng.sample(pool, min(size, len(pool))) if size > 0 else []


def relevant_evidence(number: Number, view: PaperView, scope: str) -> list[Evidence]:
    """The rows that put the paper in the number: those resolved to one of its countries, or
    every resolved row for numbers about any country, or every row for the coverage numbers."""
    if number.id in ("papers", "papers_with_affiliation"):
        return list(view.evidence)
    resolved = [e for e in view.evidence if e.countries]
    if not number.countries:
        return resolved
    wanted = set(number.countries)
    return [e for e in resolved if fold_countries(e.countries, scope) & wanted]


# -- snapshots and diffs ---------------------------------------------------------------------


def snapshot_rows(partition_key: str, snapshot: int, views: Mapping[str, PaperView]) -> list[dict]:
    rows = []
    for pid, view in sorted(views.items()):
        rows.append({
            "partition_key": partition_key, "snapshot": snapshot, "paper_id": pid, "title": view.title,
            "url": view.url, "has_affiliation": view.has_affiliation, "countries": sorted(view.countries),
            "mentions": sorted(view.mentions),
            "evidence": json.dumps([asdict(e) for e in view.evidence], ensure_ascii=False),
        })
    return rows


def views_from_snapshot(rows: pd.DataFrame) -> dict[str, PaperView]:
    views = {}
    for row in rows.to_dict("records"):
        evidence = tuple(
            Evidence(**{**e, "countries": tuple(e["countries"])}) for e in json.loads(row["evidence"] or "[]"))
        views[row["paper_id"]] = PaperView(
            paper_id=row["paper_id"], title=_clean(row.get("title")), url=_clean(row.get("url")),
            has_affiliation=bool(row["has_affiliation"]), countries=frozenset(_list(row.get("countries"))),
            mentions=frozenset(_list(row.get("mentions"))), evidence=evidence,
        )
    return views


def _list(value: Any) -> list:
    if value is None or (isinstance(value, float) and value != value):
        return []
    return list(value)


def provenance(source: str | None) -> str:
    """Where an affiliation row came from, as a reviewer reads it."""
    if source == PDF_SOURCE:
        return "PDF page 1"
    return f"metadata ({source})" if source else "metadata"


def _describe(e: Evidence) -> str:
    who = f"author {e.author_position}" if e.author_position is not None else "unassigned"
    text = e.affiliation if e.affiliation else f"@{e.email_domain}"
    return f'{who} "{text}" ({provenance(e.source)})'


def _decision(e: Evidence) -> str:
    country = "/".join(e.countries) or "none"
    return f"{country} by {e.method}" + (f" ({e.institution})" if e.institution else "")


def explain(old: PaperView | None, new: PaperView | None) -> list[str]:
    """What changed in one paper between two snapshots, one line per change."""
    if old is None:
        return ["paper added to the venue-year"]
    if new is None:
        return ["paper no longer in the venue-year"]
    lines = []
    before = {e.key: e for e in old.evidence}
    after = {e.key: e for e in new.evidence}
    for key in sorted(set(before) | set(after), key=lambda k: tuple("" if v is None else str(v) for v in k)):
        b, a = before.get(key), after.get(key)
        if b is None:
            lines.append(f"{_describe(a)} added: {_decision(a)}")
        elif a is None:
            lines.append(f"{_describe(b)} removed (was {_decision(b)})")
        elif (b.countries, b.method, b.institution) != (a.countries, a.method, a.institution):
            lines.append(f"{_describe(a)}: {_decision(b)} -> {_decision(a)}")
    for m in sorted(new.mentions - old.mentions):
        lines.append(f"now names {m.replace(':', ' in ')}")
    for m in sorted(old.mentions - new.mentions):
        lines.append(f"no longer names {m.replace(':', ' in ')}")
    if not lines and old.countries != new.countries:
        lines.append(f"countries {','.join(sorted(old.countries)) or 'none'} -> {','.join(sorted(new.countries)) or 'none'}")
    return lines or ["no change in its evidence (a change of definition)"]


def diff(old: Mapping[str, PaperView], new: Mapping[str, PaperView], scope: str = "cn") -> dict[str, Any]:
    """Per number: the counts before and after, and each paper that entered or left, with why."""
    before, after = members(old, scope), members(new, scope)
    numbers = []
    for number in NUMBERS:
        entered = sorted(after[number.id] - before[number.id])
        left = sorted(before[number.id] - after[number.id])
        numbers.append({
            "number": number.id, "label": number.label, "before": len(before[number.id]),
            "after": len(after[number.id]),
            "changes": [
                {"change": change, "paper_id": pid,
                 "title": (new.get(pid) or old.get(pid)).title,
                 "why": explain(old.get(pid), new.get(pid))}
                for change, papers in (("entered", entered), ("left", left)) for pid in papers
            ],
        })
    return {"china_scope": scope, "numbers": numbers,
            "changed_numbers": sum(1 for n in numbers if n["before"] != n["after"] or n["changes"])}


def diff_rows(result: Mapping[str, Any]) -> list[dict]:
    """The diff flattened: one row per paper that entered or left a number."""
    return [
        {"number": n["number"], "before": n["before"], "after": n["after"], "change": c["change"],
         "paper_id": c["paper_id"], "title": c["title"], "why": "; ".join(c["why"])}
        for n in result["numbers"] for c in n["changes"]
    ]


def format_diff(result: Mapping[str, Any], old_label: str, new_label: str, limit: int = 20) -> str:
    lines = [f"{old_label} -> {new_label} (China scope: {result['china_scope']})"]
    for n in result["numbers"]:
        if n["before"] == n["after"] and not n["changes"]:
            continue
        lines.append(f"  {n['number']}: {n['before']} -> {n['after']}  ({n['label']})")
        for c in n["changes"][:limit]:
            sign = "+" if c["change"] == "entered" else "-"
            lines.append(f"    {sign} {c['paper_id']}  {(c['title'] or '')[:70]}")
            for why in c["why"]:
                lines.append(f"        {why}")
        if len(n["changes"]) > limit:
            lines.append(f"    ... {len(n['changes']) - limit} more (use --json for all)")
    if len(lines) == 1:
        lines.append("  no headline number changed")
    return "\n".join(lines)
