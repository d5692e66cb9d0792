"""A venue's US–China headline year by year, as `paperatlas trend` prints it.

One row per materialised year. The US–CN count, its interval, the papers its unplaced authors
could add (`us_cn_papers_unplaced`), its share and the international share come from
`headline_numbers`, which every venue-year stores under both placements and
every China scope, so they are the figures `paperatlas report` prints. Each country's top
partners are counted from `country_decisions` under the placement asked for (`paper_sets`: each
paper's set made in the database): the stored `paper_countries` hold only the placement a
venue-year was last materialised under.

`venue` may be `all`: every venue materialised, summed per year.

No Dagster here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from ..conventions import CHINA_SCOPE, CHINA_SCOPES, DEFAULT_PLACEMENT, PLACEMENT, ConventionError
from ..countries.groups import country_name
from ..models import missing
from . import queries
from .headlines import interval

ALL = "all"
DEFAULT_PARTNERS_OF = ("US", "CN")
# What each share of a row is of (the `*_of` convention: each `X_share` has its `X_share_of`).
SHARE_OF = {"us_cn_share": "papers", "international_share": "papers with a country"}
NUMBERS = ("papers_with_country", "international", "us_cn")  # read from headline_numbers


class TrendError(ValueError):
    """Nothing to show, or an option out of range: one line for the user."""


def partner_counts(sets: Iterable[set[str]], countries: Sequence[str]) -> dict[str, Counter]:
    """For each country asked for: in how many papers each other country appears beside it."""
    out = {c: Counter() for c in countries}
    for cs in sets:
        for c in countries:
            if c in cs:
                out[c].update(cs - {c})
    return out


# The stored column of `country_decisions` each placement reads a decision's countries from:
# `decision.from_row` reads both, and under coauthors `Decision.countries_for` gives the
# stored coauthor countries (none when there are none).
PLACED_COLUMN = {"hq": "countries", "coauthors": "coauthor_countries"}


def paper_sets(store, keys: Sequence[str], placement: str, scope: str, con=None) -> dict[str, list[set[str]]]:
    """Venue-year -> each of its papers' countries (a paper without a country has an empty set)
    under the placement, Hong Kong, Macau and Taiwan folded by the scope, from the stored
    `country_decisions` of `keys`. The database makes each paper's set and counts the papers
    per set; one set object stands for all the papers that have it (read them, never change them)."""
    counted = queries.country_set_counts(store, list(keys), PLACED_COLUMN[placement], CHINA_SCOPES[scope], con=con)
    out: dict[str, list[set[str]]] = {key: [] for key in keys}
    for key, countries, papers in zip(counted["partition_key"], counted["countries"], counted["papers"]):
        out[key].extend([set(countries)] * int(papers))
    return out


def trend_rows(store, venue: str, start: int | None = None, end: int | None = None,
               placement: str = DEFAULT_PLACEMENT, scope: str = "cn",
               partners_of: Sequence[str] = DEFAULT_PARTNERS_OF, top: int = 3) -> list[dict[str, Any]]:
    """One dict per materialised year of `venue` (or `all`) between `start` and `end`, oldest first."""
    try:
        PLACEMENT.check(placement)
        CHINA_SCOPE.check(scope)
    except ConventionError as exc:
        raise TrendError(str(exc)) from exc
    if start is not None and end is not None and start > end:
        raise TrendError(f"--from {start} is after --to {end}")
    with store.connect() as con:
        parts = queries.partitions_between(store, None if venue == ALL else venue, start, end, con=con)
        if parts.empty:
            known = queries.materialised_venues(store, con=con)
            span = "" if start is None and end is None else f" between {start or '…'} and {end or '…'}"
            raise TrendError(f"no year of {venue}{span} is materialised; materialised venues: "
                             f"{', '.join(known) or 'none'} (`paperatlas run {venue}-YEAR` adds one)")
        keys = parts["partition_key"].tolist()
        heads = queries.headline_counts(store, keys, NUMBERS, scope, placement, con=con)
        decided = paper_sets(store, keys, placement, scope, con=con)
    stored = {(r["partition_key"], r["number"]): r for r in heads.to_dict("records")}

    def number(key: str, name: str) -> tuple[int, int, int, int | None] | None:
        row = stored.get((key, name))
        if row is None:
            return None
        n = int(row["papers"])
        return (n, n if missing(row["low"]) else int(row["low"]), n if missing(row["high"]) else int(row["high"]),
                None if missing(row.get("unplaced")) else int(row["unplaced"]))

    def added(values: list[int | None]) -> int | None:  # None: a venue-year stored before the bound
        return None if any(v is None for v in values) else sum(values)

    rows = []
    for year, group in parts.groupby("year", sort=True):
        keys = list(group["partition_key"])
        found = {name: [number(k, name) for k in keys] for name in NUMBERS}
        total = {name: None if any(v is None for v in values) else tuple(map(added, zip(*values)))
                 for name, values in found.items()}  # None: a venue-year stored before placements existed
        sets = [s for k in keys for s in decided[k] if s]
        partners = partner_counts(sets, partners_of)
        papers = int(group["papers"].sum())
        us_cn, intl, placed = total["us_cn"], total["international"], total["papers_with_country"]
        rows.append({
            "venue": venue, "venues": sorted(set(group["venue"])), "year": int(year), "partitions": len(keys),
            "papers": papers,
            "papers_with_country": placed[0] if placed else None,
            "us_cn_papers": us_cn[0] if us_cn else None,
            "us_cn_papers_low": us_cn[1] if us_cn else None,
            "us_cn_papers_high": us_cn[2] if us_cn else None,
            "us_cn_papers_unplaced": us_cn[3] if us_cn else None,
            "us_cn_share": (us_cn[0] / papers if papers else 0.0) if us_cn else None,
            "us_cn_share_of": SHARE_OF["us_cn_share"],
            "international_papers": intl[0] if intl else None,
            "international_share": (intl[0] / placed[0] if placed[0] else None) if intl and placed else None,
            "international_share_of": SHARE_OF["international_share"],
            "top_partners": {c: [{"country": p, "papers": n} for p, n in
                                 sorted(partners[c].items(), key=lambda kv: (-kv[1], kv[0]))[:top]]
                             for c in partners_of},
            "placement": placement, "china_scope": scope,
        })
    return rows


def _pct(value: Any) -> str:
    return "–" if value is None else f"{value:.1%}"


def _partners(top: Mapping[str, list[dict]]) -> str:
    """Each country's top partners by name: "United States: Israel 8, Canada 6 · China: …"."""
    return " · ".join(f"{country_name(c)}: " + (", ".join(f"{country_name(p['country'])} {p['papers']}" for p in ps)
                                               or "–") for c, ps in top.items())


def format_text(rows: Sequence[Mapping[str, Any]]) -> str:
    """A table: year (and, for `all`, the venues summed that year), papers, US–CN with its
    interval and the papers its unplaced authors could add, its share of all papers, the
    international share of papers with a country, and the top partners, countries by name."""
    if not rows:
        return ""
    first = rows[0]
    across = first["venue"] == ALL
    where = "all venues materialised (summed)" if across else first["venue"]
    names = [", ".join(r.get("venues") or [r["venue"]]) for r in rows]
    width = max(len("venues"), *map(len, names))
    venues = f"{'venues':<{width}}  " if across else ""
    lines = [f"{where}: US–CN co-authored papers per year (placement {first['placement']}, "
             f"China scope {first['china_scope']})",
             f"{'year':>4}  {venues}{'papers':>6}  {'US–CN (low–high, +unplaced)':>27}  {'US–CN % of papers':>17}  "
             f"{'intl % of papers with a country':>31}  top partners"]
    for r, name in zip(rows, names):
        count = "–" if r["us_cn_papers"] is None else interval(r["us_cn_papers"], r["us_cn_papers_low"],
                                                               r["us_cn_papers_high"], r["us_cn_papers_unplaced"])
        venues = f"{name:<{width}}  " if across else ""
        lines.append(f"{r['year']:>4}  {venues}{r['papers']:>6}  {count:>27}  {_pct(r['us_cn_share']):>17}  "
                     f"{_pct(r['international_share']):>31}  {_partners(r['top_partners'])}")
    if any(r["us_cn_papers"] is None for r in rows):
        lines.append("– : the venue-year's headline was stored before placements existed; run it again")
    lines.append("US–CN %: of all papers (as WIRED reports it); intl %: papers with two or more countries, of the "
                 "papers with a country; (low–high): the count under every / some admissible reading of uncertain "
                 "rows, shown when they differ; +unplaced: papers outside it that would enter if their unplaced "
                 "authors were in the missing country (left out for a year stored before this bound existed)"
                 + ("; venues: the venues materialised that year, whose papers are summed" if across else ""))
    return "\n".join(lines)


def report_trend(yearly: pd.DataFrame, stored: pd.DataFrame, venue: str, scope: str) -> pd.DataFrame:
    """The report's US–CN trend from `counting.yearly_headlines` (`yearly`, one placement) of the
    stored rows it was summed from (`stored`: partition_key, venue, year): the venue's years,
    then those of all venues (`all`), each with `venues` (the venues summed that year) and
    `share_of` (what the share is of). The `all` rows are left out when, in every year, they count
    the venue's papers alone (no other venue is materialised in its years): they would repeat
    the venue's rows, and the chart would draw the same line twice."""
    columns = ["venue", "year", "venues", "papers", "low", "high", "unplaced", "denominator", "share", "share_of"]
    rows = yearly[(yearly["number"] == "us_cn") & (yearly["china_scope"] == scope)
                  & yearly["venue"].isin([venue, ALL])]
    named = stored.drop_duplicates(["partition_key"]).groupby("year")["venue"].agg(lambda v: ", ".join(sorted(set(v))))
    rows = rows.assign(venues=[venue if v != ALL else named.get(y, "") for v, y in zip(rows["venue"], rows["year"])],
                       share_of=SHARE_OF["us_cn_share"])
    others = rows[(rows["venue"] == ALL) & (rows["venues"] != venue)]
    if others.empty:
        rows = rows[rows["venue"] != ALL]
    order = rows["venue"].map({venue: 0, ALL: 1})
    return rows.assign(_order=order).sort_values(["_order", "year"], kind="stable")[columns].reset_index(drop=True)


def chart_frame(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """The rows as `charts.us_cn_share_by_year` reads them (years without a headline left out)."""
    kept = [r for r in rows if r["us_cn_papers"] is not None]
    return pd.DataFrame({
        "venue": [r["venue"] for r in kept], "year": [r["year"] for r in kept],
        "papers": [r["us_cn_papers"] for r in kept], "low": [r["us_cn_papers_low"] for r in kept],
        "high": [r["us_cn_papers_high"] for r in kept], "unplaced": [r["us_cn_papers_unplaced"] for r in kept],
        "denominator": [r["papers"] for r in kept],
        "share": [r["us_cn_share"] for r in kept],
    })
