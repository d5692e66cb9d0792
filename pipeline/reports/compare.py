"""Venue-years or whole venues side by side, as `paperatlas compare` prints them.

Each item is a venue-year (`neurips-2016`), a whole venue (`neurips`: every materialised year of
it, summed) or `all` (every materialised venue-year, summed). Each gets one column, with the
same rows as the report's headline numbers (papers, with affiliation data, with a country,
international, US, China, US–China, and the papers naming a term in the title or abstract when
any item has one: the full-text counts need PDFs read, which `paperatlas report` says), read
from the stored `headline_numbers` under one placement and China scope, never counted again.

A whole venue's cells are sums over its venue-years. That is exact, not only a bound: a paper
belongs to one venue-year, so the venue-years hold disjoint papers, and every figure counts
papers by a property of each paper alone (`low`: in the number under every admissible reading
of its uncertain rows; `high`: under some reading; `unplaced`: outside it but brought in by its
unplaced authors). The union's count, low, high and unplaced bound are then the sums, as for the
sub-partitions of a venue-year (pipeline/reports/queries.py, FOLDED_HEADLINES). A share is
recomputed from the summed count and denominator, never averaged.

No Dagster here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..conventions import CHINA_SCOPE, PLACEMENT, ConventionError
from ..countries.groups import country_name
from ..countries.numbers import COUNTRY_NUMBERS
from ..models import missing
from ..partitions import VENUE_ALIASES, PartitionKeyError, parse_partition_key
from . import queries
from .headlines import BY_ID, NUMBER_IDS, TERM_NAMES, interval

COUNTRY_IDS = [n.id for n in COUNTRY_NUMBERS]
VENUE_RE = re.compile(r"[a-z][a-z0-9]*")  # a venue name as partition keys spell it
CHART_NUMBER = "us_cn"
ALL = "all"  # every materialised venue-year, summed


class CompareError(ValueError):
    """An item that is not a materialised venue-year or venue, or an option out of range: one line."""


@dataclass(frozen=True)
class Item:
    """One column: a venue-year, or a whole venue over its materialised years (`keys`)."""
    name: str
    venue: str
    keys: tuple[str, ...]
    years: tuple[int, ...]
    whole_venue: bool

    @property
    def kind(self) -> str:
        return "venue" if self.whole_venue else "venue-year"

    @property
    def label(self) -> str:
        """How a person reads the column: "neurips 2016", "neurips (3 years)"."""
        if not self.whole_venue:
            return f"{self.venue} {self.years[0]}"
        if self.venue == ALL:
            return f"all venues ({len(self.keys)} venue-year{'s' if len(self.keys) > 1 else ''})"
        return f"{self.venue} ({len(self.years)} year{'s' if len(self.years) > 1 else ''})"


@dataclass(frozen=True)
class Cell:
    papers: int
    low: int
    high: int
    unplaced: int | None  # None: a venue-year stored before this bound existed
    denominator: int
    share_of: str  # what the share is of, in words

    @property
    def share(self) -> float | None:
        return self.papers / self.denominator if self.denominator else None

    @property
    def degenerate(self) -> bool:
        """Nothing uncertain: the interval is the count itself and no unplaced author could add one."""
        return self.low == self.papers == self.high and not self.unplaced

    def text(self, with_share: bool = True) -> str:
        """"18 (16–18, +3 unplaced) 3.2%", or "570" when nothing is uncertain and no share is due."""
        count = interval(self.papers, self.low, self.high, self.unplaced)
        share = self.share
        return f"{count} {share:.1%}" if with_share and share is not None else count


@dataclass
class Comparison:
    placement: str
    china_scope: str
    items: list[Item]
    numbers: list[str]  # the rows, in the report's order
    cells: dict[tuple[str, str], Cell] = field(default_factory=dict)  # (item name, number) -> cell

    def cell(self, item: Item, number: str) -> Cell:
        return self.cells[(item.name, number)]


def china_name(scope: str) -> str:
    return {"cn": "China", "cn+hk+mo": "China, Hong Kong or Macau",
            "greater": "China, Hong Kong, Macau or Taiwan"}[scope]


def row_label(number: str, scope: str) -> str:
    """A number as a person reads it, countries by name."""
    us = country_name("US")
    place = {"US": f"the {us}" if us.startswith("United") else us, "CN": china_name(scope)}
    fixed = {"papers": "papers", "papers_with_affiliation": "papers with affiliation data",
             "papers_with_country": "papers with a country",
             "international": "international papers (two or more countries)",
             "us": f"papers with an author in {place['US']}", "cn": f"papers with an author in {place['CN']}",
             "us_cn": f"papers with authors in {place['US']} and {place['CN']}"}
    if number in fixed:
        return fixed[number]
    spec = BY_ID[number]
    where = "title or abstract" if spec.group == "abstract" else "full text"
    return f"papers with an author in {place[spec.countries[0]]} naming {TERM_NAMES[spec.term]} ({where})"


def share_of(number: str, scope: str) -> str:
    """What the number's share is of: its denominator's label ("papers", "papers with a country")."""
    return "papers" if BY_ID[number].denominator == "papers" else row_label(BY_ID[number].denominator, scope)


# -- the items -------------------------------------------------------------------------------


def resolve_items(raw: Sequence[str], materialised: Sequence[str],
                  missing_parts: Mapping[str, Sequence[str]] | None = None) -> list[Item]:
    """The items named, each once, in order: a venue-year among `materialised`, or a venue with
    its materialised years. Anything else is a CompareError naming it."""
    done: dict[str, list[int]] = {}
    for key in materialised:
        pk = parse_partition_key(key)
        done.setdefault(pk.venue, []).append(pk.year)
    items: dict[str, Item] = {}
    for text in raw:
        name = text.strip().lower()
        if "-" in name:
            try:
                pk = parse_partition_key(name)
            except PartitionKeyError as exc:
                raise CompareError(f"{exc}; or give a whole venue, such as 'neurips'") from exc
            if pk.is_part:
                raise CompareError(f"{pk}: compare takes venue-years and venues, not a sub-partition "
                                   f"(give {pk.scope})")
            if pk.year not in done.get(pk.venue, []):
                parts = (missing_parts or {}).get(pk.key)
                why = (f" is read as sub-partitions and {len(parts)} of them are not materialised" if parts
                       else " is not materialised yet")
                raise CompareError(f"{pk}{why}; run `paperatlas run {pk}` first")
            items.setdefault(pk.key, Item(pk.key, pk.venue, (pk.key,), (pk.year,), False))
            continue
        if not VENUE_RE.fullmatch(name):
            raise CompareError(f"{text!r} is neither a venue-year ('neurips-2016') nor a venue ('neurips')")
        if name == ALL:
            every = sorted(materialised, key=lambda k: (parse_partition_key(k).year, k))
            if not every:
                raise CompareError("no venue-year is materialised (`paperatlas run VENUE-YEAR` adds one)")
            items.setdefault(ALL, Item(ALL, ALL, tuple(every), tuple(sorted({y for ys in done.values() for y in ys})),
                                       True))
            continue
        venue = VENUE_ALIASES.get(name, name)
        years = sorted(done.get(venue, []))
        split = re.fullmatch(r"([a-z][a-z0-9]*?)(\d{4})", venue)
        if not years and split and split[1] in done:
            raise CompareError(f"no venue {venue} is materialised; a venue-year is written {split[1]}-{split[2]}")
        if not years:
            raise CompareError(f"no year of {venue} is materialised; materialised venues: "
                               f"{', '.join(sorted(done)) or 'none'} (`paperatlas run {venue}-YEAR` adds one)")
        items.setdefault(venue, Item(venue, venue, tuple(f"{venue}-{y}" for y in years), tuple(years), True))
    return list(items.values())


# -- the numbers -----------------------------------------------------------------------------


def compare(store, raw: Sequence[str], scope: str = "cn", placement: str = "hq") -> Comparison:
    """The items of `raw` side by side under one China scope and placement."""
    try:
        CHINA_SCOPE.check(scope)
        PLACEMENT.check(placement)
    except ConventionError as exc:
        raise CompareError(str(exc)) from exc
    with store.connect() as con:
        materialised = queries.materialised_keys(store, con=con)
        wanted = [r.strip().lower() for r in raw]
        unfinished = {}
        for name in wanted:
            try:
                key = parse_partition_key(name).key
            except PartitionKeyError:
                continue
            if key not in materialised:
                unfinished[key] = queries.missing_parts(store, key, con=con)
        items = resolve_items(raw, materialised, unfinished)
        keys = sorted({k for item in items for k in item.keys})
        stored = queries.headline_counts(store, keys, tuple(NUMBER_IDS), scope, placement, con=con)
    return comparison(stored, items, scope, placement)


def comparison(stored: pd.DataFrame, items: list[Item], scope: str, placement: str) -> Comparison:
    """The cells from the stored rows (partition_key, number, papers, low, high, unplaced) of
    the items' venue-years: summed per item (see the module docstring for why sums are exact)."""
    rows = {(r["partition_key"], r["number"]): r for r in stored.to_dict("records")}
    lacking = sorted({k for item in items for k in item.keys if (k, "papers") not in rows})
    if lacking:
        raise CompareError(f"{', '.join(lacking)}: no headline numbers stored under placement {placement}; "
                           f"run `paperatlas run {lacking[0]}` again")
    sums: dict[tuple[str, str], tuple[int, int, int, int | None]] = {}
    for item in items:
        for number in NUMBER_IDS:
            papers = low = high = 0
            unplaced: int | None = 0
            for key in item.keys:
                r = rows.get((key, number))
                if r is None:
                    raise CompareError(f"{key}: its headline numbers were stored by an older paperatlas; "
                                       f"run `paperatlas run {key}` again")
                n = int(r["papers"])
                papers += n
                low += n if missing(r["low"]) else int(r["low"])
                high += n if missing(r["high"]) else int(r["high"])
                unplaced = None if unplaced is None or missing(r.get("unplaced")) else unplaced + int(r["unplaced"])
            sums[(item.name, number)] = (papers, low, high, unplaced)
    out = Comparison(placement, scope, items, [])
    for item in items:
        for number in NUMBER_IDS:
            papers, low, high, unplaced = sums[(item.name, number)]
            denominator = sums[(item.name, BY_ID[number].denominator)][0]
            out.cells[(item.name, number)] = Cell(papers, low, high, unplaced, denominator, share_of(number, scope))
    out.numbers = [n for n in NUMBER_IDS if n in COUNTRY_IDS or (BY_ID[n].group == "abstract" and any(
        out.cells[(i.name, n)].high or out.cells[(i.name, n)].unplaced for i in items))]
    return out


# -- output ----------------------------------------------------------------------------------

NOTE = ("each cell: papers (low–high, +unplaced) share. low–high: the count under every / some admissible "
        "reading of uncertain rows, shown only when they differ; +unplaced: papers outside it that would enter if "
        "their unplaced authors were in the missing country, shown when any; the share is of the row's "
        "denominator (share of)")
SUMS = ("a whole venue sums its materialised venue-years: they hold different papers and every figure counts "
        "papers one by one, so counts, intervals and unplaced bounds add up exactly; shares are of the sums")


def format_text(result: Comparison) -> str:
    """Rows as the report's headline numbers, one column per item."""
    items = result.items
    header = ["", "share of", *(i.label for i in items)]
    body = []
    for number in result.numbers:
        cells = [result.cell(i, number) for i in items]
        body.append([row_label(number, result.china_scope), "" if number == "papers" else cells[0].share_of,
                     *(c.text(number != "papers") for c in cells)])
    widths = [max(len(r[c]) for r in [header, *body]) for c in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    lines = [f"compared under placement {result.placement}, China scope {result.china_scope}", line(header),
             *map(line, body), "", NOTE]
    venues = [i for i in items if i.whole_venue]
    for item in venues:
        summed = item.keys if item.venue == ALL else item.years
        lines.append(f"{item.label}: {', '.join(map(str, summed))}, summed")
    if venues:
        lines.append(SUMS)
    return "\n".join(lines)


def records(result: Comparison) -> list[dict[str, Any]]:
    """One record per item and number (the CSV's rows)."""
    out = []
    for item in result.items:
        for number in result.numbers:
            cell = result.cell(item, number)
            out.append({"item": item.name, "kind": item.kind, "venue_years": ";".join(item.keys), "number": number,
                        "label": row_label(number, result.china_scope), "papers": cell.papers, "low": cell.low,
                        "high": cell.high, "unplaced": cell.unplaced, "denominator": cell.denominator,
                        "share": cell.share, "share_of": cell.share_of,
                        "placement": result.placement, "china_scope": result.china_scope})
    return out


def to_json(result: Comparison) -> dict[str, Any]:
    """One object: the conventions, the rows, and per item its venue-years and every number
    with `share` and `share_of` (the denominator's name)."""
    return {
        "placement": result.placement, "china_scope": result.china_scope,
        "rows": [{"number": n, "label": row_label(n, result.china_scope),
                  "share_of": share_of(n, result.china_scope)} for n in result.numbers],
        "items": [{
            "item": item.name, "kind": item.kind, "label": item.label, "venue": item.venue,
            "years": list(item.years), "venue_years": list(item.keys),
            "numbers": {n: {"papers": c.papers, "low": c.low, "high": c.high, "unplaced": c.unplaced,
                            "denominator": c.denominator, "share": c.share, "share_of": c.share_of,
                            "text": c.text(n != "papers")}
                        for n in result.numbers for c in [result.cell(item, n)]},
        } for item in result.items],
        "note": NOTE, "sums": SUMS,
    }


def chart_frame(result: Comparison, number: str = CHART_NUMBER) -> pd.DataFrame:
    """One row per item for `charts.compare_chart`: item label, papers, low, high, unplaced,
    denominator (the number's counts; the chart draws their shares)."""
    cells = [result.cell(i, number) for i in result.items]
    return pd.DataFrame({"item": [i.label for i in result.items], "papers": [c.papers for c in cells],
                         "low": [c.low for c in cells], "high": [c.high for c in cells],
                         "unplaced": [c.unplaced for c in cells], "denominator": [c.denominator for c in cells]})
