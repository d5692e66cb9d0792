"""What a study's claims read from the store, each read once: the materialised venue-years of
its scope, their stored headline numbers (every China scope and placement), each paper's view
(countries and evidence), the papers' country sets by year (pipeline/reports/profiles.py, the
same sets `paperatlas country` and `trend` count), the mentions and the term catalogue the
numbers were computed with, and what the countries and the mentions stand on.

No Dagster here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import pandas as pd

from ...partitions import parse_partition_key
from .. import queries


def year_span(years: Iterable[int]) -> str:
    """`1987..1994, 1996, 2024..2025`: runs of consecutive years."""
    parts, run = [], []
    for year in sorted(set(years)):
        if run and year != run[-1] + 1:
            parts.append(str(run[0]) if len(run) == 1 else f"{run[0]}..{run[-1]}")
            run = []
        run.append(year)
    if run:
        parts.append(str(run[0]) if len(run) == 1 else f"{run[0]}..{run[-1]}")
    return ", ".join(parts)


def span(keys: Iterable[str]) -> str:
    """Venue-years in few words: `neurips-2010..2011, neurips-2016, icml-2018`."""
    by_venue: dict[str, list[int]] = {}
    for key in keys:
        pk = parse_partition_key(key)
        by_venue.setdefault(pk.venue, []).append(pk.year)
    return ", ".join(f"{venue}-{run}" for venue, years in by_venue.items() for run in year_span(years).split(", "))


@dataclass
class ScopeData:
    """The materialised venue-years a study stands on, under one placement and China scope."""

    store: Any
    keys: list[str]  # materialised, in the study's scope and years
    placement: str
    china_scope: str
    _views: dict[str, dict] = field(default_factory=dict)
    _mentions: dict[str, pd.DataFrame] = field(default_factory=dict)

    @cached_property
    def years(self) -> dict[str, int]:
        return {k: parse_partition_key(k).year for k in self.keys}

    def keys_in(self, years: Sequence[int] = ()) -> list[str]:
        """The venue-years of the given years (all of them when `years` is empty)."""
        return [k for k in self.keys if not years or self.years[k] in years]

    @cached_property
    def headlines(self) -> pd.DataFrame:
        """partition_key, china_scope, placement, number, papers, low, high, unplaced, denominator."""
        if not self.keys:
            return pd.DataFrame(columns=["partition_key", "china_scope", "placement", "number", "papers", "low",
                                         "high", "unplaced", "denominator"])
        return queries.study_headlines(self.store, self.keys)

    def headline(self, number: str, keys: Sequence[str], china_scope: str | None = None,
                 placement: str | None = None) -> dict[str, dict[str, int | None]]:
        """key -> papers, low, high, unplaced, denominator of one stored number."""
        h = self.headlines
        rows = h[(h["number"] == number) & (h["china_scope"] == (china_scope or self.china_scope))
                 & (h["placement"] == (placement or self.placement)) & h["partition_key"].isin(list(keys))]
        out = {}
        for r in rows.to_dict("records"):
            out[r["partition_key"]] = {c: None if pd.isna(r[c]) else int(r[c])
                                       for c in ("papers", "low", "high", "unplaced", "denominator")}
        return out

    def views(self, key: str) -> dict:
        if key not in self._views:
            from ..views import load_views

            self._views[key] = load_views(self.store, key)
        return self._views[key]

    def mentions(self, key: str) -> pd.DataFrame:
        if key not in self._mentions:
            self._mentions[key] = queries.paper_mentions(self.store, key)
        return self._mentions[key]

    @cached_property
    def sets_by_year(self) -> dict[int, list[set[str]]]:
        """year -> each paper's country set (the profiles' and `trend`'s sets)."""
        from ..profiles import year_sets

        return year_sets(self.store, self.keys, self.placement, self.china_scope) if self.keys else {}

    def sets_in(self, years: Sequence[int] = ()) -> dict[int, list[set[str]]]:
        return {y: s for y, s in self.sets_by_year.items() if not years or y in years}

    @cached_property
    def terms(self) -> pd.DataFrame:
        """The term catalogue the mentions were counted with (term, name, kind, origin_country, lab_country)."""
        return queries.stored_terms(self.store)

    def standing(self, keys: Sequence[str]) -> Counter:
        """What the papers' countries stand on: pdf, metadata, none (papers)."""
        out: Counter = Counter()
        for key in keys:
            out.update(v.placed_from for v in self.views(key).values())
        return out

    def text_read(self, keys: Sequence[str]) -> dict[str, int]:
        """On what the papers' mentions stand: full_text (a PDF read), abstract, title, none, papers."""
        from ...mentions.queries import text_basis as mention_basis

        return mention_basis(self.store, keys)


def country_basis(standing: Counter) -> tuple[str, str]:
    """(a short label, the counts) of what countries stand on: PDFs, metadata, nothing."""
    pdf, meta, none = standing.get("pdf", 0), standing.get("metadata", 0), standing.get("none", 0)
    label = ("nothing" if not pdf and not meta else "PDFs and metadata" if pdf and meta else
             "PDFs" if pdf else "metadata")
    detail = f"countries from PDFs for {pdf} papers, metadata for {meta}, nothing for {none}"
    return label, detail


def text_basis(read: dict[str, int], group: str) -> tuple[str, str]:
    """(label, detail) of what a mention number stands on: full text, or titles and abstracts."""
    pdf, abstract, title = read.get("full_text", 0), read.get("abstract", 0), read.get("title", 0)
    rest = f"the abstract of {abstract}, the title alone of {title}"
    if group == "abstract":
        return "abstracts", f"titles and abstracts: {rest}"
    if not pdf:
        return "abstracts only", f"no PDF was read: {rest}"
    return ("full text" if pdf == read.get("papers") else "full text and abstracts",
            f"the full text of {pdf} papers (their PDFs), {rest}")


def expand_scope(study_scope: Sequence[str], plan, years: tuple[int, int] | None = None) -> list[str]:
    """The venue-years a study's scope names, over the editions the sources plan knows (`venue-*`
    is every edition up to last year), kept to `years` (first, last) when given."""
    from ...partitions import VENUE_ALIASES, PartitionKeyError
    from .model import StudyError

    for text in study_scope:
        venue = VENUE_ALIASES.get(text[:-2], text[:-2]) if text.endswith("-*") else None
        if venue and venue not in plan.venues:
            raise StudyError(f"scope {text}: the sources plan does not know the venue {venue!r}, so it has no years "
                             f"to take; name them ({venue}-2016..2024)")
    try:
        keys, _ = plan.expand(list(study_scope))
    except PartitionKeyError as exc:
        raise StudyError(f"scope: {exc}") from exc
    if years:
        keys = [k for k in keys if years[0] <= parse_partition_key(k).year <= years[1]]
    return keys
