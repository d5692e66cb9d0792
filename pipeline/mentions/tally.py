"""From mentions to the published tables: papers mentioning a term per author country (the
WIRED figures), and the origin-of-tool x country-of-users matrix.

Definitions (docs/counting.md says why):

- *Abstract scope*: the paper's title and abstract. *Full-text scope*: title, abstract and
  body (the references are left out: citing a paper is not using its method). A paper whose
  PDF was not read has no body; its full-text scope is its title and abstract.
- A paper *mentions* a term in a scope when at least one match lies in that scope.
- `mentions_by_country`: for a term and a country, the papers with at least one author from the
  country that mention the term (whole counting), and the sum of the country's fractional
  shares of those papers (fractional counting). `papers_with_references` also counts papers
  that only cite it, for whoever asks for citations too.
- `tool_dependency`: for the country a tool comes from and a country of its users, the papers
  with at least one author from the user country that mention at least one tool from the origin
  country (whole), and the sum of the user country's shares of those papers (fractional). So
  per origin the fractional column sums to the number of papers using that origin's tools.
  Tools are counted by kind (library, model family, architecture) and for all kinds together,
  and by two notions of origin: the organisation's country and the country where the team
  that built it sat (Microsoft Research Asia built ResNet in Beijing).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from ..conventions import fold_countries
from .catalogue import Catalogue
from .scan import ScanResult

ABSTRACT_SCOPES = ("title", "abstract")
FULL_TEXT_SCOPES = ("title", "abstract", "body")
ALL_SCOPES = ("title", "abstract", "body", "references")
BASES = ("organisation", "lab")
ALL_KINDS = "all"


def mention_rows(partition_key: str, paper_id: str, scan: ScanResult, catalogue: Catalogue,
                 sources: Mapping[str, str]) -> list[dict]:
    """Rows of `paper_mentions` for one paper: one per term and scope, with the number of
    matches, the first match's surface form and snippet, and the distinct surface forms.
    `sources` says where each scope's text came from (metadata or pdf)."""
    rows = []
    for (term, scope), matches in sorted(scan.by_scope().items()):
        t = catalogue.by_id[term]
        forms = list(dict.fromkeys(m.surface for m in matches))
        rows.append({
            "partition_key": partition_key, "paper_id": paper_id, "term": term, "family": t.family,
            "kind": t.kind, "scope": scope, "source": sources.get(scope, "pdf"), "mentions": len(matches),
            "surface": matches[0].surface, "snippet": matches[0].snippet, "surfaces": forms[:10],
            "position": matches[0].start, "catalogue_version": catalogue.version,
        })
    return rows


def _records(frame: pd.DataFrame | Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return frame.to_dict("records") if isinstance(frame, pd.DataFrame) else list(frame)


def paper_shares(paper_countries, china_scope: str = "cn") -> dict[str, dict[str, float]]:
    """paper -> country -> fractional share, countries folded by the China scope."""
    shares: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for row in _records(paper_countries):
        (country,) = fold_countries([row["country"]], china_scope)
        shares[row["paper_id"]][country] += float(row["fractional"])
    return {p: dict(c) for p, c in shares.items()}


def mentioned(paper_mentions, scopes: tuple[str, ...]) -> dict[str, set[str]]:
    """term -> papers mentioning it in one of `scopes`."""
    out: dict[str, set[str]] = defaultdict(set)
    for row in _records(paper_mentions):
        if row["scope"] in scopes and row["mentions"] > 0:
            out[row["term"]].add(row["paper_id"])
    return out


def mentions_by_country(meta: Mapping[str, Any], paper_mentions, paper_countries, catalogue: Catalogue,
                        papers_with_text: set[str], china_scope: str = "cn") -> list[dict]:
    """Rows of `mentions_by_country`: every term mentioned in the venue-year x every country
    with at least one paper that mentions it (in either scope)."""
    shares = paper_shares(paper_countries, china_scope)
    country_papers: dict[str, set[str]] = defaultdict(set)
    for paper, by_country in shares.items():
        for country in by_country:
            country_papers[country].add(paper)
    abstract = mentioned(paper_mentions, ABSTRACT_SCOPES)
    full = mentioned(paper_mentions, FULL_TEXT_SCOPES)
    cited = mentioned(paper_mentions, ALL_SCOPES)
    rows = []
    for term in catalogue.ids():
        in_full, in_abstract, in_any = full.get(term, set()), abstract.get(term, set()), cited.get(term, set())
        if not in_any:
            continue
        t = catalogue.by_id[term]
        for country, papers in sorted(country_papers.items()):
            hit_full, hit_abstract, hit_any = papers & in_full, papers & in_abstract, papers & in_any
            if not hit_any:
                continue
            n = len(papers)
            rows.append({
                **meta, "term": term, "name": t.name, "kind": t.kind, "family": t.family,
                "origin_country": t.country, "country": country, "country_papers": n,
                "country_papers_with_text": len(papers & papers_with_text),
                "papers_abstract": len(hit_abstract), "papers_full_text": len(hit_full),
                "papers_with_references": len(hit_any),
                "share_abstract": len(hit_abstract) / n, "share_full_text": len(hit_full) / n,
                "fractional_abstract": round(sum(shares[p][country] for p in hit_abstract), 12),
                "fractional_full_text": round(sum(shares[p][country] for p in hit_full), 12),
                "china_scope": china_scope,
            })
    return rows


def tool_dependency(meta: Mapping[str, Any], paper_mentions, paper_countries, catalogue: Catalogue,
                    china_scope: str = "cn", scopes: tuple[str, ...] = FULL_TEXT_SCOPES) -> list[dict]:
    """Rows of `tool_dependency`: kind x basis x origin country x user country."""
    shares = paper_shares(paper_countries, china_scope)
    used = mentioned(paper_mentions, scopes)
    # (kind, basis, origin) -> paper -> terms
    by_origin: dict[tuple[str, str, str], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for term, papers in used.items():
        t = catalogue.by_id.get(term)
        if t is None:
            continue
        (origin,) = fold_countries([t.country], china_scope)
        (built_in,) = fold_countries([t.built_in], china_scope)
        for paper in papers:
            for kind in (t.kind, ALL_KINDS):
                by_origin[(kind, "organisation", origin)][paper].add(term)
                by_origin[(kind, "lab", built_in)][paper].add(term)
    rows = []
    for (kind, basis, origin), papers in sorted(by_origin.items()):
        users: dict[str, dict[str, Any]] = {}
        for paper, terms in papers.items():
            for country, share in shares.get(paper, {}).items():
                cell = users.setdefault(country, {"papers": 0, "fractional": 0.0, "terms": set()})
                cell["papers"] += 1
                cell["fractional"] += share
                cell["terms"] |= terms
        using = sum(1 for p in papers if p in shares)
        for country, cell in sorted(users.items()):
            rows.append({
                **meta, "kind": kind, "basis": basis, "origin_country": origin, "user_country": country,
                "papers": cell["papers"], "fractional": round(cell["fractional"], 12),
                "origin_papers": using, "terms": sorted(cell["terms"]), "china_scope": china_scope,
            })
    return rows


def dependency_matrix(rows: Iterable[Mapping[str, Any]], kind: str = ALL_KINDS, basis: str = "organisation",
                      value: str = "papers", top: int = 12) -> pd.DataFrame:
    """Origin countries (rows) x user countries (columns) for one kind and basis, the `top`
    user countries by total."""
    frame = pd.DataFrame([r for r in rows if r["kind"] == kind and r["basis"] == basis])
    if frame.empty:
        return pd.DataFrame()
    table = frame.pivot_table(index="origin_country", columns="user_country", values=value, aggfunc="sum", fill_value=0)
    keep = table.sum().sort_values(ascending=False).index[:top]
    table = table[keep]
    return table.loc[table.sum(axis=1).sort_values(ascending=False).index]
