"""Country profiles, as Georgetown ETO's cross-border AI research tracker shows them: per year,
a country's papers, its cross-border papers, its share of all papers and its top partners; a
ranking of countries by cross-border papers (within a group, e.g. `non-western`); a pair's
joint papers year by year; and whether a series is rising.

Everything is counted from each paper's set of countries (`year_sets`): the stored
`country_decisions` under a placement, with Hong Kong, Macau and Taiwan folded by the China
scope, exactly as `paperatlas trend` counts its top partners (pipeline/reports/trend.py), so
the two agree. Whole counting: a paper counts once for each of its countries. A paper is
cross-border when it has two or more countries (after the China scope's folding: under
`greater` a CN–TW paper is domestic). ETO leaves out country pairs with fewer than 25 joint
papers a year; `min_pair` does the same, per year.

No Dagster here; the store is read through `queries.py`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from ..conventions import CHINA_SCOPE, PLACEMENT
from ..countries.groups import country_name
from . import queries
from .trend import paper_sets, partner_counts

# `direction`: a least-squares slope per year of at least this share of the series' mean is
# rising (or falling, below its negative); fewer than MIN_YEARS values are too few to say.
DIRECTION_THRESHOLD = 0.05
MIN_YEARS = 3


def year_sets(store, keys: Sequence[str], placement: str, scope: str) -> dict[int, list[set[str]]]:
    """Year -> each paper's countries, for every paper of the venue-years `keys` (a paper with
    no country has an empty set), from the stored `country_decisions` under the placement,
    folded by the China scope (as `trend.paper_sets`). The year is the one the venue-year's rows
    carry, so sub-partitions fold into their year; oldest first.

    One set object stands for all the papers that have it (`trend.paper_sets`): read them,
    never change them."""
    PLACEMENT.check(placement)
    CHINA_SCOPE.check(scope)
    keys = list(dict.fromkeys(keys))
    with store.connect() as con:
        years = queries.partition_years(store, keys, con=con)
        sets = paper_sets(store, [k for k in keys if k in years], placement, scope, con=con)
    out: dict[int, list[set[str]]] = {}
    for key, papers in sets.items():
        out.setdefault(years[key], []).extend(papers)
    return {year: out[year] for year in sorted(out)}


def _pairs(sets: Iterable[set[str]], country: str) -> Counter:
    """In how many papers each other country appears beside `country`: trend's partner counts."""
    return partner_counts(sets, (country,))[country]


def _top(counts: Mapping[str, int], top: int | None) -> list[dict[str, Any]]:
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [{"country": c, "papers": n} for c, n in (ordered if top is None else ordered[:top])]


def _kept(pairs: Counter, min_pair: int) -> dict[str, int]:
    return {c: n for c, n in pairs.items() if n >= min_pair}


def country_profile(sets_by_year: Mapping[int, Sequence[set[str]]], country: str, top: int = 5,
                    min_pair: int = 0) -> list[dict[str, Any]]:
    """One dict per year, oldest first: all papers, the country's papers (at least one author
    placed there), those of them with at least one other country (cross-border), both shares,
    the top `top` partners by joint papers (ties by code; partners with fewer than `min_pair`
    joint papers that year left out) and how many partners were left out."""
    rows = []
    for year in sorted(sets_by_year):
        sets = sets_by_year[year]
        mine = [cs for cs in sets if country in cs]
        cross = sum(1 for cs in mine if len(cs) > 1)
        pairs = _pairs(mine, country)
        kept = _kept(pairs, min_pair)
        rows.append({
            "year": int(year), "all_papers": len(sets), "papers": len(mine), "cross_border": cross,
            "share_of_papers": len(mine) / len(sets) if sets else 0.0,
            "share_cross_border": cross / len(mine) if mine else None,
            "partners": _top(kept, top), "pairs_below_minimum": len(pairs) - len(kept),
        })
    return rows


def partner_totals(sets_by_year: Mapping[int, Sequence[set[str]]], country: str, top: int | None = 5,
                   min_pair: int = 0) -> list[dict[str, Any]]:
    """The country's partners by joint papers summed over the years, ties by code; a pair
    counts in a year only with at least `min_pair` joint papers that year (as ETO does)."""
    total: Counter = Counter()
    for year in sorted(sets_by_year):
        total.update(_kept(_pairs(sets_by_year[year], country), min_pair))
    return _top(total, top)


def ranking(sets_by_year: Mapping[int, Sequence[set[str]]], members: Collection[str] | None = None,
            top: int | None = None, cross_border: bool = True) -> list[dict[str, Any]]:
    """Countries by their cross-border papers (or, with `cross_border=False`, all their papers)
    summed over the years, then by code; `members` keeps only a group's countries. Countries
    with none of what is ranked are left out. `rank` is the competition rank of the ranked
    count (two countries tied for 2nd are both 2, the next is 4); `top` keeps the first rows."""
    papers: Counter = Counter()
    cross: Counter = Counter()
    for sets in sets_by_year.values():
        for cs in sets:
            papers.update(cs)
            if len(cs) > 1:
                cross.update(cs)
    keep = None if members is None else set(members)
    ranked = cross if cross_border else papers
    order = sorted((c for c, n in ranked.items() if n > 0 and (keep is None or c in keep)),
                   key=lambda c: (-ranked[c], c))
    rows: list[dict[str, Any]] = []
    for i, c in enumerate(order):
        rank = rows[-1]["rank"] if rows and ranked[order[i - 1]] == ranked[c] else i + 1
        rows.append({"country": c, "papers": papers[c], "cross_border": cross[c], "rank": rank})
    return rows if top is None else rows[:top]


def pair_series(sets_by_year: Mapping[int, Sequence[set[str]]], a: str, b: str) -> list[dict[str, Any]]:
    """Per year, oldest first: the papers with both `a` and `b`, and their share of `a`'s
    cross-border papers (None when `a` has none that year)."""
    rows = []
    for year in sorted(sets_by_year):
        sets = sets_by_year[year]
        joint = sum(1 for cs in sets if a in cs and b in cs)
        cross = sum(1 for cs in sets if a in cs and len(cs) > 1)
        rows.append({"year": int(year), "papers": joint, "share_of_a": joint / cross if cross else None})
    return rows


def direction(values: Sequence[float | None], years: Sequence[int] | None = None) -> str:
    """"rising", "falling", "flat" or "too few years" for a series, one value per year (`years`:
    the years of the values, when they are not one apart).

    The rule: values that are None (a year with nothing to divide by) are left out; with fewer
    than MIN_YEARS (3) left, "too few years". Otherwise fit a least-squares line through them
    against their years and divide its slope by the mean of the values: a change per year of at
    least DIRECTION_THRESHOLD (5%) of the mean is rising, of at most -5% falling, else flat (as
    is a series whose mean is 0)."""
    xs_all = list(years) if years is not None else list(range(len(values)))
    points = [(float(x), float(v)) for x, v in zip(xs_all, values) if v is not None]
    n = len(points)
    if n < MIN_YEARS:
        return "too few years"
    mean_x, mean_y = sum(x for x, _ in points) / n, sum(y for _, y in points) / n
    if mean_y == 0:
        return "flat"
    slope = (sum((x - mean_x) * (y - mean_y) for x, y in points) / sum((x - mean_x) ** 2 for x, _ in points))
    relative = slope / abs(mean_y)
    if relative >= DIRECTION_THRESHOLD:
        return "rising"
    if relative <= -DIRECTION_THRESHOLD:
        return "falling"
    return "flat"


# -- text, as the command line prints it -------------------------------------------------------


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def _listed(partners: Sequence[Mapping[str, Any]]) -> str:
    return ", ".join(f"{p['country']} {p['papers']}" for p in partners) or "–"


def stands_on(keys: Sequence[str], limit: int = 12) -> str:
    """`on 2 venue-years: icml-2018, neurips-2016` (the list when short)."""
    keys = sorted(keys)
    listed = ": " + ", ".join(keys) if len(keys) <= limit else f" ({keys[0]} … {keys[-1]}; --json lists them)"
    return f"on {len(keys)} venue-year{'s' if len(keys) != 1 else ''}{listed}"


def names_line(codes: Iterable[str]) -> str:
    codes = sorted(set(codes))
    return "countries: " + ", ".join(f"{c} {country_name(c)}" for c in codes) if codes else ""


def format_profile(rows: Sequence[Mapping[str, Any]], country: str, totals: Sequence[Mapping[str, Any]],
                   keys: Sequence[str], placement: str, scope: str, min_pair: int) -> str:
    """The profile as a table, a row for all years together, the names of the codes shown and
    a footnote on what each column counts."""
    lines = [f"{country} {country_name(country)}: papers per year, whole counting (placement {placement}, "
             f"China scope {scope})", stands_on(keys),
             f"{'year':>5}  {'all papers':>10}  {f'{country} papers':>9}  {'share':>6}  {'cross-border':>12}  "
             f"{'share':>6}  top partners (joint papers)"]
    for r in rows:
        lines.append(f"{r['year']:>5}  {r['all_papers']:>10}  {r['papers']:>9}  {_pct(r['share_of_papers']):>6}  "
                     f"{r['cross_border']:>12}  {_pct(r['share_cross_border']):>6}  {_listed(r['partners'])}"
                     + (f" (+{r['pairs_below_minimum']} below {min_pair})" if r["pairs_below_minimum"] else ""))
    everything = sum(r["all_papers"] for r in rows)
    papers, cross = sum(r["papers"] for r in rows), sum(r["cross_border"] for r in rows)
    lines.append(f"{'all':>5}  {everything:>10}  {papers:>9}  {_pct(papers / everything if everything else None):>6}  "
                 f"{cross:>12}  {_pct(cross / papers if papers else None):>6}  {_listed(totals)}")
    shown = {p["country"] for r in rows for p in r["partners"]} | {p["country"] for p in totals}
    return "\n".join([*lines, *notes([names_line(shown),
              f"{country} papers: papers with at least one author placed in {country} (whole counting: a paper "
              f"counts once for each of its countries); share: of all papers of the venue-years, with or without a "
              f"country; cross-border: {country} papers with at least one other country, and their share of "
              f"{country} papers; partners: joint papers with each country"
              + (f", pairs with fewer than {min_pair} joint papers in a year left out (+N: how many)" if min_pair
                 else "")
              + f"; placement {placement}: {PLACEMENT.meanings[placement]}; China scope {scope}: "
              f"{CHINA_SCOPE.meanings[scope]}"])])


def notes(lines: Iterable[str], width: int = 100) -> list[str]:
    """Names and footnotes wrapped at `width` columns, each continued indented (empty ones left out)."""
    import textwrap

    return [part for line in lines if line
            for part in textwrap.wrap(line, width, subsequent_indent="  ", break_on_hyphens=False)]


def format_ranking(rows: Sequence[Mapping[str, Any]], keys: Sequence[str], placement: str, scope: str,
                   cross_border: bool, group: str | None, min_pair: int) -> str:
    """The ranking as a table (rows may carry `partners`), with the names and a footnote."""
    what = "cross-border papers" if cross_border else "papers"
    within = f" in group {group}" if group else ""
    lines = [f"countries{within} by {what}, whole counting (placement {placement}, China scope {scope})",
             stands_on(keys),
             f"{'rank':>4}  {'country':<24}  {'papers':>7}  {'cross-border':>12}  {'share':>6}  top partners"]
    for r in rows:
        name = f"{r['country']} {country_name(r['country'])}"
        lines.append(f"{r['rank']:>4}  {name[:24]:<24}  {r['papers']:>7}  {r['cross_border']:>12}  "
                     f"{_pct(r['cross_border'] / r['papers'] if r['papers'] else None):>6}  "
                     f"{_listed(r.get('partners') or [])}")
    if not rows:
        lines.append(f"  no country{within} has {what} here")
    shown = {p["country"] for r in rows for p in r.get("partners") or []} - {r["country"] for r in rows}
    return "\n".join([*lines, *notes([names_line(shown),
              f"ranked by {what} summed over the years, ties share a rank; papers: papers with at least one author "
              "placed in the country (whole counting); cross-border: of those, papers with at least one other "
              "country; share: cross-border of papers; top partners: joint papers over all years"
              + (f", pairs with fewer than {min_pair} joint papers in a year left out" if min_pair else "")
              + f"; placement {placement}: {PLACEMENT.meanings[placement]}; China scope {scope}: "
              f"{CHINA_SCOPE.meanings[scope]}"])])
