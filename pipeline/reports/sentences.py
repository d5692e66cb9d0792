"""The headline of a venue-year in words, for the first paragraph of every report format and
the `headlines` / `venue_year_report` metadata in the UI.

Each sentence names its denominator ("18 of the 570 NeurIPS 2016 papers"), and says how far
the number could move only when it could: the interval when its low and high differ, the
placements when they disagree, and the papers unplaced authors could add when there are any.
Everything comes from the stored `headline_numbers` rows, never counted again here.

No Dagster here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from ..conventions import CHINA_SCOPES, DEFAULT_PLACEMENT, PLACEMENTS
from ..text import plural
from .headlines import BY_ID, TERM_NAMES, interval_parts

# What "Chinese" covers under each China scope, said where the sentence uses it.
SCOPE_WORDS = {
    "cn": "",
    "cn+hk+mo": " (Hong Kong and Macau counted as China)",
    "greater": " (Hong Kong, Macau and Taiwan counted as China)",
}
# Where each placement counts a multinational named without a place, in a clause.
PLACEMENT_WORDS = {
    "hq": "at its headquarters",
    "coauthors": "where its co-authors are",
}


def _pct(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "n/a"


def _n(x: Any) -> str:
    return f"{int(x):,}"


class Numbers:
    """The venue-year's headline rows under one China scope, by number and placement."""

    def __init__(self, numbers: pd.DataFrame, scope: str, placement: str):
        mine = numbers[numbers["china_scope"] == scope]
        self.rows: dict[tuple[str, str], Mapping[str, Any]] = {
            (r["placement"], r["number"]): r for r in mine.to_dict("records")}
        self.placement = placement

    def row(self, number: str, placement: str | None = None) -> Mapping[str, Any]:
        return self.rows.get((placement or self.placement, number),
                             {"papers": 0, "low": 0, "high": 0, "unplaced": 0, "denominator": 0})

    def count(self, number: str, placement: str | None = None) -> int:
        return int(self.row(number, placement)["papers"])


def _movement(nums: Numbers, number: str, what: str) -> list[str]:
    """The clauses that say how far a number could move: its interval (and what the placements
    give, when they differ), and what unplaced authors could add. Empty when nothing moves it."""
    row = nums.row(number)
    low, high, unplaced = int(row["low"]), int(row["high"]), int(row.get("unplaced") or 0)
    out = []
    if low != high:
        by = {p: nums.count(number, p) for p in PLACEMENTS}
        if len(set(by.values())) > 1:
            order = [nums.placement, *[p for p in PLACEMENTS if p != nums.placement]]
            placed = (f"{by[order[0]]:,} counting a multinational named without a place {PLACEMENT_WORDS[order[0]]}, "
                      + ", ".join(f"{by[p]:,} {PLACEMENT_WORDS[p]}" for p in order[1:]))
            out.append(f"{_n(low)} to {_n(high)} depending on how uncertain affiliations are read ({placed})")
        else:
            out.append(f"{_n(low)} to {_n(high)} depending on how uncertain affiliations are read")
    if unplaced:
        out.append(f"{_n(unplaced)} more could be {what if unplaced > 1 else what.replace('papers', 'a paper')}, "
                   "by authors no evidence places")
    return out


def _bounds(nums: Numbers, number: str) -> str:
    """"; 337–343, +2 unplaced" inside a count's parentheses, or "" when nothing moves it."""
    row = nums.row(number)
    parts = interval_parts(row["papers"], row["low"], row["high"], row.get("unplaced"), _n)
    return "; " + ", ".join(parts) if parts else ""


def headline_sentences(numbers: pd.DataFrame, venue_name: str, year: int, scope: str = "cn",
                       placement: str = DEFAULT_PLACEMENT) -> list[str]:
    """The headline in words: US–CN papers first, then what the countries stand on, then US,
    China and international papers, each with its denominator. `numbers` holds the venue-year's
    `headline_numbers` rows (any China scopes and placements; `scope` and `placement` choose)."""
    if scope not in CHINA_SCOPES:
        raise ValueError(f"unknown China scope {scope!r}")
    nums = Numbers(numbers, scope, placement)
    papers = nums.count("papers")
    where = f"{venue_name} {year}"
    if not papers:
        return [f"No paper of {where} is stored yet."]
    us_cn = nums.count("us_cn")
    lead = (f"{_n(us_cn)} of the {_n(papers)} {where} papers ({_pct(us_cn, papers)}) "
            f"{'has' if us_cn == 1 else 'have'} authors at both US and Chinese institutions{SCOPE_WORDS[scope]}")
    sentences = ["; ".join([lead, *_movement(nums, "us_cn", "such papers")]) + "."]

    with_aff, with_country = nums.count("papers_with_affiliation"), nums.count("papers_with_country")
    if not with_aff:
        sentences.append(f"None of the {_n(papers)} papers gives an affiliation or an e-mail domain, so no paper "
                         "counts in any country.")
        return sentences
    if with_country == with_aff:
        resolved = "it resolves" if with_aff == 1 else f"all {_n(with_aff)} resolve"
    else:
        resolved = (f"{_n(with_country)} of them ({_pct(with_country, with_aff)}{_bounds(nums, 'papers_with_country')})"
                    f" {_verb(with_country, 'resolves', 'resolve')}")
    cover = (f"{_n(with_aff)} of the {_n(papers)} papers ({_pct(with_aff, papers)}) "
             f"{_verb(with_aff, 'gives', 'give')} an affiliation or an e-mail domain, and {resolved} to a country")
    if papers - with_aff:
        rest = papers - with_aff
        cover += f"; the other {_n(rest)} {_verb(rest, 'gives none and counts', 'give none and count')} in no country"
    sentences.append(cover + ".")

    us, cn = nums.count("us"), nums.count("cn")
    sentences.append(f"{_n(us)} {'paper' if us == 1 else 'papers'} ({_pct(us, papers)} of all"
                     f"{_bounds(nums, 'us')}) {_verb(us, 'has', 'have')} a US author and {_n(cn)} ({_pct(cn, papers)}"
                     f"{_bounds(nums, 'cn')}) a Chinese one.")

    intl = nums.count("international")
    sentences.append(f"{_n(intl)} of the {_n(with_country)} {'paper' if with_country == 1 else 'papers'} with a "
                     f"country ({_pct(intl, with_country)}{_bounds(nums, 'international')}) "
                     f"{_verb(intl, 'has', 'have')} authors in two or more countries.")
    return sentences


def _verb(n: int, one: str, many: str) -> str:
    return one if n == 1 else many


def review_sentence(verdicts: Mapping[str, Mapping[str, Any]], number: str = "us_cn",
                    label: str = "US\u2013China papers") -> str | None:
    """What the imported review verdicts say about a number, in one sentence, or None when no
    current verdict covers it."""
    v = verdicts.get(number) or {}
    if not v.get("reviewed"):
        return None
    stale = (f" ({plural(v['stale'], 'more verdict')} {_verb(v['stale'], 'is', 'are')} stale: the evidence "
             "changed)" if v.get("stale") else "")
    return (f"Reviewers checked {v['reviewed']} of the {label}: precision {v['precision']:.0%} "
            f"({v['precision_low']:.0%}\u2013{v['precision_high']:.0%}, Wilson 95%), so about "
            f"{v['corrected']:.0f} ({v['corrected_low']:.0f}\u2013{v['corrected_high']:.0f}) are right{stale}.")


# The headline numbers in words, for the tables people read (the stored `label` is for machines).
NUMBER_WORDS = {
    "papers": "all papers",
    "papers_with_affiliation": "papers that give an affiliation or e-mail domain",
    "papers_with_country": "papers with a resolved country",
    "international": "international papers (two or more countries)",
    "us": "papers with a US author",
    "cn": "papers with a Chinese author",
    "us_cn": "US\u2013China co-authored papers",
}
# What a share is of, for the JSON's `*_of` fields (as `trend` and `compare` name it).
SHARE_OF = {
    "papers": "papers",
    "papers_with_affiliation": "papers with affiliation data",
    "papers_with_country": "papers with a country",
    "us": "papers with a US author",
    "cn": "papers with a Chinese author",
}
# What a share is of: the number that divides it (`Number.denominator`), in words.
OF_WORDS = {
    "papers": "of all papers",
    "papers_with_affiliation": "of papers with affiliation data",
    "papers_with_country": "of papers with a country",
    "us": "of papers with a US author",
    "cn": "of papers with a Chinese author",
}


def number_words(number: str) -> str:
    """A headline number in words: "papers with a Chinese author naming Llama (title or abstract)"."""
    if number in NUMBER_WORDS:
        return NUMBER_WORDS[number]
    n = BY_ID.get(number)
    if n is None or n.term is None:
        return number
    who = "a US" if n.countries == ("US",) else "a Chinese"
    where = "title or abstract" if n.group == "abstract" else "full text"
    return f"papers with {who} author naming {TERM_NAMES[n.term]} ({where})"
