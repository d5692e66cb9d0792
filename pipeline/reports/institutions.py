"""The institutions behind a headline number (`paperatlas institutions`, and the report's
section): which organisations the papers of a number come from, which pairs of them work
across the border, and how much of the number the table leaves unexplained.

What is counted, from the number's definition (pipeline/countries/numbers.py) and the
papers `members` puts in it (pipeline/reports/headlines.py), under one China scope and one
placement:

- The *sides* of a paper are the countries the number is about: its `countries` (`us_cn`: US
  and CN; `cn`, `cn_llama_abstract`: CN). For a number about no particular country
  (`papers`, `international` ...) they are all the paper's countries.
- An author-affiliation row stands for its *organisation*: the top-level parent recorded in
  ROR (`parent_ror_id`, `parent_name` of pipeline.countries.decision.Decision: Tsinghua for
  a Tsinghua laboratory, Microsoft for Microsoft Research Asia; a university is its own top-level
  organisation, so UC Berkeley is itself, not the University of California System:
  pipeline/affiliations/ror.py, `top_parent`), or the institution itself when no parent is recorded. Its country is the row's country under the placement,
  folded by the China scope (a Hong Kong university is CN under `cn+hk+mo`). A multinational
  placed in two countries is two rows of the table (Microsoft in the US, Microsoft in China).
- `institutions`: each organisation with the number of the number's papers where it is on a
  side (once per paper, however many of the paper's authors it has), and `share`, those papers
  over the papers in the number. Shares can add up to more than 100%: a paper can have several.
- `pairs`: two organisations in different countries on the same paper, both on a side for a
  number about two countries or more (`us_cn`: a US one and a CN one, in the number's order),
  a side's one with one abroad for a number about one country, any two for the others; with
  the papers that have both and their share of the number. The same organisation in two
  countries is a pair too (Alphabet in the UK and in the US): a collaboration across the border
  inside one company.
- `unattributed`: the papers of the number with a side that no row with an institution
  covers (a country known only from a place or an e-mail domain), or without any country: what
  the table does not explain.

Uncertain rows count where the placement puts them; the interval of the number is the
report's (`bounds`). No Dagster here; no SQL.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import product

import pandas as pd

from ..conventions import CHINA_SCOPE, DEFAULT_PLACEMENT, PLACEMENT, fold_countries
from .headlines import BY_ID, NUMBER_IDS, Evidence, PaperView, members

INSTITUTION_COLUMNS = ["institution", "ror_id", "country", "papers", "share"]
PAIR_COLUMNS = ["institution_a", "country_a", "institution_b", "country_b", "papers", "share"]
UNATTRIBUTED_COLUMNS = ["paper_id", "title", "missing"]
ROR_PREFIX = "https://ror.org/"


class InstitutionError(ValueError):
    """A number or convention that does not exist: one line for the user."""


@dataclass(frozen=True, order=True)
class Organisation:
    """The organisation a row stands for: `key` tells organisations apart (the parent's id,
    else the institution's, else its name), `name` as people read it."""

    key: str
    name: str
    ror_id: str | None


@dataclass
class InstitutionTable:
    number: str
    papers: int  # papers in the number
    institutions: pd.DataFrame  # INSTITUTION_COLUMNS, the first `top` (all when top is None)
    pairs: pd.DataFrame  # PAIR_COLUMNS, the first `top`
    unattributed: pd.DataFrame  # UNATTRIBUTED_COLUMNS: every paper the tables do not explain
    label: str = ""
    sides: tuple[str, ...] = ()  # the number's countries (empty: any country)
    scope: str = "cn"
    placement: str = DEFAULT_PLACEMENT
    top: int | None = None
    institutions_total: int = 0  # before `top`
    pairs_total: int = 0
    attributed: int = 0  # papers with an institution on every side


def organisation(e: Evidence) -> Organisation | None:
    """The top-level organisation of a row (its institution when no parent is recorded), or
    None when the row names no institution. `ror_id` only when the id is ROR's (curated
    institutions have ids of their own)."""
    name = e.parent_name or e.institution
    ident = e.parent_ror_id if e.parent_name or e.parent_ror_id else e.ror_id
    if not name:
        return None
    key = ident or f"name:{' '.join(name.casefold().split())}"
    return Organisation(key, name, ident if ident and ident.startswith(ROR_PREFIX) else None)


def combine_views(by_key: Mapping[str, Mapping[str, PaperView]]) -> dict[str, PaperView]:
    """The views of several venue-years as one mapping keyed `VENUE-YEAR/PAPER-ID` (paper ids
    are unique only within a venue-year); one venue-year keeps its own ids."""
    if len(by_key) == 1:
        return dict(next(iter(by_key.values())))
    return {f"{key}/{pid}": view for key, views in by_key.items() for pid, view in views.items()}


def _by_country(view: PaperView, scope: str, placement: str) -> dict[str, dict[str, Organisation]]:
    """country (folded) -> the organisations of the paper's rows placed there, by key (a country
    no row with an institution covers maps to an empty dict)."""
    out: dict[str, dict[str, Organisation]] = defaultdict(dict)
    for e in view.evidence:
        org = organisation(e)
        for country in fold_countries(e.countries_for(placement), scope):
            bucket = out[country]
            if org is not None:
                bucket.setdefault(org.key, org)
    return out


def _paper_pairs(sides: tuple[str, ...], wanted: list[str],
                 present: Mapping[str, Mapping[str, Organisation]]) -> set[tuple[str, str, str, str]]:
    """The cross-border pairs of one paper as (key, country, key, country), each once, in order:
    the number's order of sides (US before CN), a side before abroad, else by country."""
    rank = {c: i for i, c in enumerate(sides)}
    countries = sorted((c for c in present if present[c]), key=lambda c: (rank.get(c, len(rank)), c))
    found = set()
    for i, a in enumerate(countries):
        for b in countries[i + 1:]:
            if (len(sides) >= 2 and b not in wanted) or a not in wanted:
                continue  # two sides or more: both on a side; one side: a on it (sorted first)
            found.update((x, a, y, b) for x, y in product(present[a], present[b]))
    return found


def _names(rows: Counter) -> dict[str, str]:
    """An organisation key -> its most frequent name among the rows counted (ties by name)."""
    best: dict[str, tuple[int, str]] = {}
    for (key, name), n in rows.items():
        if key not in best or (-n, name) < (-best[key][0], best[key][1]):
            best[key] = (n, name)
    return {key: name for key, (_, name) in best.items()}


def institution_table(views: Mapping[str, PaperView], number: str = "us_cn", scope: str = "cn",
                      placement: str = DEFAULT_PLACEMENT, top: int | None = 10) -> InstitutionTable:
    """The institutions behind `number` (see the module docstring) among `views` (one
    venue-year's, or several through `combine_views`), the first `top` institutions and pairs
    (None: all), sorted by papers, then name, then country."""
    if number not in BY_ID:
        raise InstitutionError(f"unknown number {number!r}; the numbers are: {', '.join(NUMBER_IDS)}")
    try:
        CHINA_SCOPE.check(scope)
        PLACEMENT.check(placement)
    except ValueError as exc:
        raise InstitutionError(str(exc)) from exc
    if top is not None and top < 0:
        raise InstitutionError(f"top must be 0 or more, not {top}")
    spec = BY_ID[number]
    sides = tuple(dict.fromkeys(next(iter(fold_countries([c], scope))) for c in spec.countries))
    papers = sorted(members(views, scope, placement=placement)[number])
    per_org: Counter = Counter()  # (key, country) -> papers
    per_pair: Counter = Counter()  # (key, country, key, country) -> papers
    seen: dict[str, Organisation] = {}
    names: Counter = Counter()  # (key, name) -> papers, to name an organisation
    unattributed = []
    for pid in papers:
        view = views[pid]
        present = _by_country(view, scope, placement)
        wanted = [c for c in (sides or sorted(present)) if c in present]
        lacking = [c for c in (sides or wanted) if not present.get(c)]
        if lacking or not wanted:
            unattributed.append({"paper_id": pid, "title": view.title, "missing": lacking})
        for country in wanted:
            for key in present[country]:
                per_org[(key, country)] += 1
        for org in {o for orgs in present.values() for o in orgs.values()}:
            seen.setdefault(org.key, org)
            names[(org.key, org.name)] += 1
        per_pair.update(_paper_pairs(sides, wanted, present))
    named = _names(names)
    total = len(papers)
    institutions = _sorted(
        [{"institution": named[key], "ror_id": seen[key].ror_id, "country": country, "papers": n, "_key": key}
         for (key, country), n in per_org.items()], INSTITUTION_COLUMNS, ["institution", "country"], total)
    pairs = _sorted(
        [{"institution_a": named[a], "country_a": ca, "institution_b": named[b], "country_b": cb, "papers": n,
          "_key": f"{a} {b}"} for (a, ca, b, cb), n in per_pair.items()],
        PAIR_COLUMNS, ["institution_a", "institution_b", "country_a", "country_b"], total)
    return InstitutionTable(
        number=number, papers=total, label=spec.label, sides=sides, scope=scope, placement=placement, top=top,
        institutions=institutions.head(len(institutions) if top is None else top).reset_index(drop=True),
        pairs=pairs.head(len(pairs) if top is None else top).reset_index(drop=True),
        unattributed=pd.DataFrame(unattributed, columns=UNATTRIBUTED_COLUMNS),
        institutions_total=len(institutions), pairs_total=len(pairs), attributed=total - len(unattributed),
    )


def _sorted(rows: list[dict], columns: list[str], by: list[str], total: int) -> pd.DataFrame:
    """`columns` of the rows with `share` (papers / total), by papers descending, then `by`
    (case-folded, then as written), then the organisations' keys: ties always come out the same."""
    frame = pd.DataFrame(rows, columns=[c for c in columns if c != "share"] + ["_key"])
    order = [(-int(r["papers"]), *(str(r[c] or "").casefold() for c in by), *(str(r[c] or "") for c in by),
              r["_key"]) for r in rows]
    frame = frame.iloc[sorted(range(len(rows)), key=order.__getitem__)] if rows else frame
    frame = frame.assign(papers=frame["papers"].astype("int64"), share=[n / total for n in frame["papers"]])
    frame = frame[columns].reset_index(drop=True)
    text = [c for c in frame.columns if c not in ("papers", "share")]  # names, ids, codes: None when missing
    return frame.assign(**{c: frame[c].astype(object).where(frame[c].notna(), None) for c in text})
