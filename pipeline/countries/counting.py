"""Counting papers by country: country pairs, edges, headlines and the yearly tables.

Each paper's countries come from `pipeline.countries.decision` (`paper_country_rows`, with
its whole and fractional counts); this module counts from them.

Definitions (docs/counting.md says why):

- A paper *has* a country when at least one of its authors is placed there.
- A paper is *international* when it has two or more countries; every unordered pair of its
  countries is an edge. An edge's fractional weight is the two countries' shares of the paper
  added (the Nature Index's bilateral collaboration score), so a US-CN paper written by three
  US authors and one CN author adds 1 to the whole count and 0.75 + 0.25 = 1 to the score, and
  a paper with a third country adds less than 1.
- China scope (reports only; storage keeps HK, MO, TW apart): pipeline/conventions.py.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd


def pairs_of(countries: Iterable[str]) -> list[tuple[str, str]]:
    """Every unordered pair of distinct countries, each as (smaller, larger)."""
    return list(combinations(sorted(set(countries)), 2))


def country_sets(paper_countries: pd.DataFrame | Iterable[Mapping[str, Any]]) -> dict[str, set[str]]:
    rows = paper_countries.to_dict("records") if isinstance(paper_countries, pd.DataFrame) else paper_countries
    sets: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        sets[row["paper_id"]].add(row["country"])
    return dict(sets)


EDGE_COLUMNS = ["partition_key", "venue", "year", "paper_id", "country_a", "country_b", "fractional"]


def edge_rows(paper_countries: pd.DataFrame | Iterable[Mapping[str, Any]]) -> list[dict]:
    rows = paper_countries.to_dict("records") if isinstance(paper_countries, pd.DataFrame) else list(paper_countries)
    meta = {r["paper_id"]: r for r in rows}
    shares: dict[str, dict[str, float]] = defaultdict(dict)
    for r in rows:
        shares[r["paper_id"]][r["country"]] = float(r.get("fractional") or 0.0)
    out = []
    for paper, countries in country_sets(rows).items():
        m = meta[paper]
        for a, b in pairs_of(countries):
            out.append({"partition_key": m["partition_key"], "venue": m.get("venue"), "year": m.get("year"),
                        "paper_id": paper, "country_a": a, "country_b": b,
                        "fractional": round(shares[paper][a] + shares[paper][b], 12)})
    return out


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


def in_order(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """`frame` sorted by `keys` (those it has), as a copy. Sums of floating-point columns
    depend on the order of their terms in the last bits, and a store returns rows in no
    promised order (a Delta table in file order, DuckDB in insertion order), so the yearly
    tables sort their inputs first: the same rows give the same numbers from any store."""
    present = [k for k in keys if k in frame.columns]
    if frame.empty or not present:
        return frame.copy()
    return frame.sort_values(present, kind="stable").reset_index(drop=True)


def yearly_tables(
    paper_countries: pd.DataFrame, country_edges: pd.DataFrame, summaries: pd.DataFrame,
    headline_numbers: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """Per venue and year, and per year across venues (venue 'all'): countries, pairs, each
    country's partners, the headline numbers and a summary.

    Trends: each country row carries the share of papers it had in the previous year present
    for the same venue, and the change in percentage points.

    Counted here in pandas from the rows themselves (a report's one venue-year); over the whole
    store the same counts come from the database (`pipeline/reports/queries.py`,
    `yearly_counts`) and `yearly_from_counts` finishes them alike."""
    return yearly_from_counts(yearly_counts(paper_countries, country_edges), summaries, headline_numbers)


COUNT_COLUMNS = {
    "countries": ["venue", "year", "country", "papers", "papers_fractional", "international_papers"],
    "pairs": ["venue", "year", "country_a", "country_b", "papers", "papers_fractional"],
    "countries_per": ["venue", "year", "countries"],
}


def yearly_counts(paper_countries: pd.DataFrame, country_edges: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """What the yearly tables count from `paper_countries` and `country_edges`, per venue and
    year and per year across venues ('all'), in key order (COUNT_COLUMNS):

    - countries: per country, its distinct papers (keyed by partition and paper id), its
      fractional papers added in (partition, paper) order, and its rows of papers with two or
      more countries;
    - pairs: per pair, its distinct papers and collaboration score added in (partition, paper)
      order;
    - countries_per: distinct countries.

    Rows without a venue count only across venues, rows without a year nowhere."""
    pc = in_order(paper_countries, ["partition_key", "paper_id", "country"])
    edges = in_order(country_edges, ["partition_key", "paper_id", "country_a", "country_b"])
    if pc.empty:
        pc = pd.DataFrame(columns=["partition_key", "venue", "year", "paper_id", "country", "fractional",
                                   "n_countries"])
    if edges.empty:
        edges = pd.DataFrame(columns=EDGE_COLUMNS)
    if "fractional" not in edges.columns:
        edges["fractional"] = float("nan")
    # Paper ids are unique within a partition, not across: key them by partition.
    pc["paper"] = pc["partition_key"].astype(str) + "/" + pc["paper_id"].astype(str)
    edges["paper"] = edges["partition_key"].astype(str) + "/" + edges["paper_id"].astype(str)
    pc_all, edges_all = with_all(pc), with_all(edges)
    countries_per = pc_all.groupby(["venue", "year"])["country"].nunique().rename("countries").reset_index()
    pc_all["international"] = pc_all["n_countries"] > 1
    country = pc_all.groupby(["venue", "year", "country"], as_index=False).agg(
        papers=("paper", "nunique"), papers_fractional=("fractional", "sum"),
        international_papers=("international", "sum"),
    )
    pairs = edges_all.groupby(["venue", "year", "country_a", "country_b"], as_index=False).agg(
        papers=("paper", "nunique"), papers_fractional=("fractional", "sum"))
    return {"countries": country, "pairs": pairs, "countries_per": countries_per}


def counted(raw: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """The counts of `yearly_counts` from what the database counted
    (`pipeline/reports/queries.py`, `yearly_counts`): each group's fractional papers added
    (`group_sums`), in COUNT_COLUMNS. Where nothing was counted, what pandas counts from no
    rows (the same empty frame, with its column types)."""
    none = yearly_counts(pd.DataFrame(), pd.DataFrame())
    out = {"countries_per": raw["countries_per"] if len(raw["countries_per"]) else none["countries_per"]}
    for name in ("countries", "pairs"):
        frame = raw[name].copy()
        frame["papers_fractional"] = group_sums(raw[f"{name}_fractional"], len(frame))
        out[name] = frame[COUNT_COLUMNS[name]] if len(frame) else none[name]
    return out


def group_sums(rows: Mapping[str, Any], groups: int) -> pd.Series:
    """The sum of `fractional` per group (0 to `groups` - 1) of the rows, each row counted in its
    group per venue (`by_venue`, -1 for none) and its group across venues (`across`), added
    exactly as `yearly_counts` adds them: pandas' compensated sum over the rows per venue, then
    across venues, each in the rows' order, NaN skipped; so the two agree to the last bit. One
    NaN more, which the sum skips, keeps pandas on that kernel (it adds groups that arrive
    sorted with `ufunc.reduceat` instead, uncompensated)."""
    def plain(column):
        return np.ma.filled(np.ma.asarray(rows[column]), -1 if column != "fractional" else np.nan)

    by_venue, across = plain("by_venue").astype(np.int64), plain("across").astype(np.int64)
    values = plain("fractional").astype(np.float64)
    placed = by_venue >= 0
    labels = np.concatenate([by_venue[placed], across, [0]])
    sums = pd.Series(np.concatenate([values[placed], values, [np.nan]])).groupby(labels).sum()
    return sums.reindex(range(groups), fill_value=0.0).reset_index(drop=True).astype("float64")


def with_all(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame`, then its rows again under venue 'all'."""
    everything = frame.copy()
    everything["venue"] = "all"
    return pd.concat([frame, everything], ignore_index=True)


def yearly_from_counts(counts: dict[str, pd.DataFrame], summaries: pd.DataFrame,
                       headline_numbers: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """The yearly tables (`yearly_tables`) from the counts (`yearly_counts`, or the same
    counted by the database), the partition summaries and the headline numbers."""
    summ_all = with_all(in_order(summaries, ["partition_key"]))
    totals = summ_all.groupby(["venue", "year"], as_index=False).agg(
        partitions=("partition_key", "nunique"), papers=("papers", "sum"),
        papers_with_country=("papers_with_country", "sum"), international_papers=("international_papers", "sum"),
    )
    summary = totals.merge(counts["countries_per"], on=["venue", "year"], how="left")
    summary["countries"] = summary["countries"].fillna(0).astype(int)
    summary["international_share"] = (
        summary["international_papers"] / summary["papers_with_country"].where(summary["papers_with_country"] > 0)
    ).fillna(0.0)

    country = counts["countries"].merge(totals[["venue", "year", "papers"]].rename(columns={"papers": "_total"}),
                                        on=["venue", "year"])
    country["share_of_papers"] = country["papers"] / country["_total"].where(country["_total"] > 0)
    country["international_share"] = country["international_papers"] / country["papers"].where(country["papers"] > 0)
    country = country.drop(columns="_total").sort_values(["venue", "country", "year"]).reset_index(drop=True)
    previous = country.groupby(["venue", "country"])[["year", "share_of_papers"]].shift(1)
    country["previous_year"] = previous["year"].astype("Int64")
    country["previous_share"] = previous["share_of_papers"]
    country["share_change_pp"] = (country["share_of_papers"] - country["previous_share"]) * 100
    country = country.sort_values(["venue", "year", "papers", "country"], ascending=[True, True, False, True])

    pairs = counts["pairs"].merge(totals[["venue", "year", "papers"]].rename(columns={"papers": "_total"}),
                                  on=["venue", "year"])
    pairs["share_of_papers"] = pairs["papers"] / pairs["_total"].where(pairs["_total"] > 0)
    pairs = pairs.drop(columns="_total").sort_values(["venue", "year", "papers", "country_a", "country_b"],
                                                     ascending=[True, True, False, True, True])
    partners = partner_table(pairs, country)
    for frame in (country, pairs, summary, partners):
        frame["year"] = frame["year"].astype(int)
    tables = {
        "yearly_country": country.reset_index(drop=True),
        "yearly_pairs": pairs.reset_index(drop=True),
        "yearly_partners": partners,
        "yearly_summary": summary[
            ["venue", "year", "partitions", "papers", "papers_with_country", "international_papers",
             "international_share", "countries"]
        ].reset_index(drop=True),
    }
    tables["yearly_headlines"] = yearly_headlines(headline_numbers)
    return tables


def partner_table(pairs: pd.DataFrame, country: pd.DataFrame) -> pd.DataFrame:
    """Each country's partners per venue and year, both directions of every pair: papers
    together, collaboration score, the share of the country's international papers, and rank."""
    columns = ["venue", "year", "country", "partner", "papers", "papers_fractional",
               "share_of_international", "rank"]
    if pairs.empty:
        return pd.DataFrame(columns=columns)
    forward = pairs.rename(columns={"country_a": "country", "country_b": "partner"})
    backward = pairs.rename(columns={"country_b": "country", "country_a": "partner"})
    both = pd.concat([forward, backward], ignore_index=True)[["venue", "year", "country", "partner", "papers",
                                                              "papers_fractional"]]
    both = both.merge(country[["venue", "year", "country", "international_papers"]], on=["venue", "year", "country"],
                      how="left")
    both["share_of_international"] = both["papers"] / both["international_papers"].where(both["international_papers"] > 0)
    both = both.sort_values(["venue", "year", "country", "papers", "partner"], ascending=[True, True, True, False, True])
    both["rank"] = both.groupby(["venue", "year", "country"]).cumcount() + 1
    return both[columns].reset_index(drop=True)


def yearly_headlines(headline_numbers: pd.DataFrame | None) -> pd.DataFrame:
    """The headline numbers summed per venue and year, and per year across venues ('all').
    `unplaced` is missing for a year when any of its venue-years was stored before it existed."""
    columns = ["venue", "year", "placement", "china_scope", "number", "label", "partitions", "papers", "low", "high",
               "unplaced", "denominator", "share", "low_confidence"]
    if headline_numbers is None or headline_numbers.empty:
        return pd.DataFrame(columns=columns)
    frame = in_order(headline_numbers, ["partition_key", "placement", "china_scope", "number"])
    if "placement" not in frame.columns:
        frame["placement"] = "hq"
    for bound in ("low", "high"):  # rows stored before intervals existed: the count itself
        frame[bound] = frame[bound].fillna(frame["papers"]) if bound in frame.columns else frame["papers"]
    frame["placement"] = frame["placement"].fillna("hq")
    if "unplaced" not in frame.columns:
        frame["unplaced"] = float("nan")
    everything = frame.copy()
    everything["venue"] = "all"
    frame = pd.concat([frame, everything], ignore_index=True)
    out = frame.groupby(["venue", "year", "placement", "china_scope", "number"], as_index=False, sort=False).agg(
        label=("label", "first"), partitions=("partition_key", "nunique"), papers=("papers", "sum"),
        low=("low", "sum"), high=("high", "sum"), unplaced=("unplaced", lambda u: u.sum(min_count=len(u))),
        denominator=("denominator", "sum"), low_confidence=("low_confidence", "sum"),
    )
    out["share"] = out["papers"] / out["denominator"].where(out["denominator"] > 0)
    out["year"] = out["year"].astype(int)
    return out[columns].sort_values(["venue", "year", "placement", "china_scope"], kind="stable").reset_index(drop=True)
