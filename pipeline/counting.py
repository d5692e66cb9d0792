"""Counting papers by country: whole and fractional counts, country pairs, headlines.

Definitions (the README repeats them):

- A paper *has* a country when at least one of its authors has an affiliation resolved to it.
- Whole counting: a paper counts 1 for every country it has.
- Fractional counting (as the Nature Index does): each author with at least one resolved
  affiliation holds an equal share of the paper, split equally over that author's resolved
  affiliations. A paper with any resolved author thus sums to exactly 1. Affiliations that the
  source could not tie to an author each hold the share of one author.
- A paper is *international* when it has two or more countries; every unordered pair of its
  countries is an edge.
- China scope (reports only; storage keeps HK, MO, TW apart): `cn` counts mainland China only,
  `cn+hk+mo` folds Hong Kong and Macau into CN, `greater` also folds Taiwan.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from itertools import combinations
from typing import Any

import pandas as pd

CHINA_SCOPES = {
    "cn": {},
    "cn+hk+mo": {"HK": "CN", "MO": "CN"},
    "greater": {"HK": "CN", "MO": "CN", "TW": "CN"},
}


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value) or value is pd.NA


def resolution_key(affiliation: Any, email_domain: Any) -> tuple[str | None, str | None]:
    return (None if _is_missing(affiliation) else affiliation, None if _is_missing(email_domain) else email_domain)


def country_list(country: Any, countries: Any) -> list[str] | None:
    """The countries a resolved row counts for: every part's country when the string named
    several institutions (`countries`), else its one country; None when unresolved."""
    if _is_missing(country):
        return None
    many = [] if countries is None or (isinstance(countries, float) and countries != countries) else list(countries)
    return many if len(many) > 1 else [country]


def paper_country_rows(
    author_affiliations: Iterable[Mapping[str, Any]],
    countries: Mapping[tuple[str | None, str | None], str | None],
    paper_meta: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[dict]:
    """Rows of `paper_countries` from author-affiliation rows and their resolved countries.

    `countries` maps (affiliation, email_domain) to an ISO code, a list of codes (a string
    naming institutions in several countries: the affiliation's share is split over them) or
    None.
    `paper_meta` gives partition_key / venue / year per paper id.
    """
    # paper -> unit -> list of resolved countries (one per resolved affiliation row)
    units: dict[str, dict[Any, list[str]]] = defaultdict(dict)
    partition_of: dict[str, str] = {}
    for n, row in enumerate(author_affiliations):
        paper = row["paper_id"]
        partition_of[paper] = row["partition_key"]
        position = row.get("author_position")
        unit = ("unaligned", n) if _is_missing(position) else int(position)
        country = countries.get(resolution_key(row.get("affiliation"), row.get("email_domain")))
        bucket = units[paper].setdefault(unit, [])
        if isinstance(country, (list, tuple)):
            bucket.extend(country)  # a string naming institutions in several countries
        elif country:
            bucket.append(country)
    out: list[dict] = []
    for paper, by_unit in units.items():
        resolved_units = [c for c in by_unit.values() if c]
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
        meta = (paper_meta or {}).get(paper, {})
        for country in sorted(fractional):
            out.append({
                "partition_key": meta.get("partition_key", partition_of[paper]),
                "venue": meta.get("venue"),
                "year": meta.get("year"),
                "paper_id": paper,
                "country": country,
                "authors": authors[country],
                "fractional": round(fractional[country], 12),
                "n_countries": len(fractional),
            })
    return out


def pairs_of(countries: Iterable[str]) -> list[tuple[str, str]]:
    """Every unordered pair of distinct countries, each as (smaller, larger)."""
    return list(combinations(sorted(set(countries)), 2))


def country_sets(paper_countries: pd.DataFrame | Iterable[Mapping[str, Any]]) -> dict[str, set[str]]:
    rows = paper_countries.to_dict("records") if isinstance(paper_countries, pd.DataFrame) else paper_countries
    sets: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        sets[row["paper_id"]].add(row["country"])
    return dict(sets)


def edge_rows(paper_countries: pd.DataFrame | Iterable[Mapping[str, Any]]) -> list[dict]:
    rows = paper_countries.to_dict("records") if isinstance(paper_countries, pd.DataFrame) else list(paper_countries)
    meta = {r["paper_id"]: r for r in rows}
    out = []
    for paper, countries in country_sets(rows).items():
        m = meta[paper]
        for a, b in pairs_of(countries):
            out.append({"partition_key": m["partition_key"], "venue": m.get("venue"), "year": m.get("year"),
                        "paper_id": paper, "country_a": a, "country_b": b})
    return out


def fold_countries(countries: Iterable[str], scope: str = "cn") -> set[str]:
    if scope not in CHINA_SCOPES:
        raise ValueError(f"unknown china scope {scope!r}; choose one of {', '.join(CHINA_SCOPES)}")
    mapping = CHINA_SCOPES[scope]
    return {mapping.get(c, c) for c in countries}


def headline(
    sets: Mapping[str, set[str]], papers: int, scope: str = "cn", top: int = 10
) -> dict[str, Any]:
    """The headline figures of one venue-year under a China scope convention."""
    folded = {paper: fold_countries(cs, scope) for paper, cs in sets.items() if cs}
    country_papers: Counter = Counter()
    pair_papers: Counter = Counter()
    international = 0
    us_cn = 0
    for cs in folded.values():
        country_papers.update(cs)
        if len(cs) > 1:
            international += 1
            pair_papers.update(pairs_of(cs))
        if "US" in cs and "CN" in cs:
            us_cn += 1
    with_country = len(folded)
    return {
        "papers": papers,
        "papers_with_country": with_country,
        "country_papers": dict(sorted(country_papers.items(), key=lambda kv: (-kv[1], kv[0]))),
        "top_pairs": [[a, b, n] for (a, b), n in sorted(pair_papers.items(), key=lambda kv: (-kv[1], kv[0]))[:top]],
        "us_papers": country_papers.get("US", 0),
        "cn_papers": country_papers.get("CN", 0),
        "us_cn_papers": us_cn,
        "us_cn_share": us_cn / papers if papers else 0.0,
        "international_papers": international,
        "international_share": international / with_country if with_country else 0.0,
        "china_scope": scope,
    }


def partition_summary(
    partition_key: str, venue: str, year: int, papers: int, authors: int,
    affiliation_rows: int, resolved_rows: int, sets: Mapping[str, set[str]],
) -> dict:
    return {
        "partition_key": partition_key, "venue": venue, "year": year, "papers": papers,
        "papers_with_country": sum(1 for cs in sets.values() if cs),
        "international_papers": sum(1 for cs in sets.values() if len(cs) > 1),
        "authors": authors, "affiliation_rows": affiliation_rows, "resolved_rows": resolved_rows,
    }


def yearly_tables(
    paper_countries: pd.DataFrame, country_edges: pd.DataFrame, summaries: pd.DataFrame
) -> dict[str, pd.DataFrame]:
    """Per venue and year, and per year across venues (venue 'all'): countries, pairs, summary."""
    pc = paper_countries.copy()
    edges = country_edges.copy()
    summ = summaries.copy()
    if pc.empty:
        pc = pd.DataFrame(columns=["partition_key", "venue", "year", "paper_id", "country", "fractional", "n_countries"])
    if edges.empty:
        edges = pd.DataFrame(columns=["partition_key", "venue", "year", "paper_id", "country_a", "country_b"])
    # Paper ids are unique within a partition, not across: key them by partition.
    pc["paper"] = pc["partition_key"].astype(str) + "/" + pc["paper_id"].astype(str)
    edges["paper"] = edges["partition_key"].astype(str) + "/" + edges["paper_id"].astype(str)

    def with_all(frame: pd.DataFrame) -> pd.DataFrame:
        everything = frame.copy()
        everything["venue"] = "all"
        return pd.concat([frame, everything], ignore_index=True)

    pc_all, edges_all, summ_all = with_all(pc), with_all(edges), with_all(summ)
    totals = summ_all.groupby(["venue", "year"], as_index=False).agg(
        partitions=("partition_key", "nunique"), papers=("papers", "sum"),
        papers_with_country=("papers_with_country", "sum"), international_papers=("international_papers", "sum"),
    )
    countries_per = pc_all.groupby(["venue", "year"])["country"].nunique().rename("countries").reset_index()
    summary = totals.merge(countries_per, on=["venue", "year"], how="left")
    summary["countries"] = summary["countries"].fillna(0).astype(int)
    summary["international_share"] = (
        summary["international_papers"] / summary["papers_with_country"].where(summary["papers_with_country"] > 0)
    ).fillna(0.0)

    pc_all["international"] = pc_all["n_countries"] > 1
    country = pc_all.groupby(["venue", "year", "country"], as_index=False).agg(
        papers=("paper", "nunique"), papers_fractional=("fractional", "sum"),
        international_papers=("international", "sum"),
    )
    country = country.merge(totals[["venue", "year", "papers"]].rename(columns={"papers": "_total"}), on=["venue", "year"])
    country["share_of_papers"] = country["papers"] / country["_total"].where(country["_total"] > 0)
    country = country.drop(columns="_total").sort_values(["venue", "year", "papers", "country"], ascending=[True, True, False, True])

    pairs = edges_all.groupby(["venue", "year", "country_a", "country_b"], as_index=False).agg(papers=("paper", "nunique"))
    pairs = pairs.merge(totals[["venue", "year", "papers"]].rename(columns={"papers": "_total"}), on=["venue", "year"])
    pairs["share_of_papers"] = pairs["papers"] / pairs["_total"].where(pairs["_total"] > 0)
    pairs = pairs.drop(columns="_total").sort_values(["venue", "year", "papers"], ascending=[True, True, False])
    for frame in (country, pairs, summary):
        frame["year"] = frame["year"].astype(int)
    return {
        "yearly_country": country.reset_index(drop=True),
        "yearly_pairs": pairs.reset_index(drop=True),
        "yearly_summary": summary[
            ["venue", "year", "partitions", "papers", "papers_with_country", "international_papers",
             "international_share", "countries"]
        ].reset_index(drop=True),
    }
