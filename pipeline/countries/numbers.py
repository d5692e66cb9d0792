"""What each headline number counts, defined once.

A number is a set of papers. `belongs` says whether a paper is in it from the paper's
countries (folded by the China scope), whether it has any affiliation text, and the terms it
names. The country stage counts the country numbers from it (`count`, for its metadata); the
reports stage builds every headline number, with its interval and low-confidence papers, on
the same `belongs` (pipeline/reports/headlines.py). So "US-CN" means one thing everywhere.

Definitions:

- `papers`: every paper of the venue-year. `papers_with_affiliation`: papers with at least one
  affiliation string or e-mail domain. `papers_with_country`: papers with at least one author
  resolved to a country.
- `international`: papers with two or more countries. `us`, `cn`: papers with at least one
  author from the country; `us_cn`: papers with both (its share is of all papers, as WIRED's
  141 of 5,290).
- A number about a term (`cn_llama_abstract`) also needs the paper to name the term in that
  group of scopes (pipeline/reports/headlines.py defines those numbers).

Authors nobody can place bound every number too (`could_belong`): `<number>_unplaced` counts
the papers outside the number that would enter it if their *unplaced* authors (those no
evidence places: pipeline/countries/decision.py, `unplaced_authors`) were in the missing
countries, or in any other. One rule for every number: a paper with a US author and one
unplaced author could be US-CN; one with two unplaced authors and no country could be US-CN;
one with a single unplaced author and nothing else could be US or CN, not US-CN. A paper with
no affiliation data at all never counts there: it is outside coverage already
(`papers_with_affiliation`), and the report says how many such papers there are.

No Dagster here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations


@dataclass(frozen=True)
class Number:
    id: str
    label: str
    countries: tuple[str, ...] = ()
    term: str | None = None
    group: str | None = None
    denominator: str = "papers"  # the number whose count divides this one for its share


COUNTRY_NUMBERS: tuple[Number, ...] = (
    Number("papers", "papers", denominator="papers"),
    Number("papers_with_affiliation", "papers with an affiliation string or e-mail domain"),
    Number("papers_with_country", "papers with a resolved country", denominator="papers_with_affiliation"),
    Number("international", "international papers (two or more countries)", denominator="papers_with_country"),
    Number("us", "papers with a US author", ("US",)),
    Number("cn", "papers with a CN author", ("CN",)),
    Number("us_cn", "US-CN co-authored papers", ("US", "CN")),
)
COUNTRY_IDS = {n.id: n for n in COUNTRY_NUMBERS}


def belongs(number: Number, countries: set[str], has_affiliation: bool = True,
            mentions: Iterable[str] = frozenset()) -> bool:
    """Whether a paper with these (folded) countries, affiliation text or not, and these
    mentions ("term:group") is in `number`."""
    if number.id == "papers":
        return True
    if number.id == "papers_with_affiliation":
        return has_affiliation
    if number.id == "papers_with_country":
        return bool(countries)
    if number.id == "international":
        return len(countries) > 1
    if not set(number.countries) <= countries:
        return False
    return number.term is None or f"{number.term}:{number.group}" in mentions


def could_belong(number: Number, countries: set[str], unplaced: int, has_affiliation: bool = True,
                 mentions: Iterable[str] = frozenset()) -> bool:
    """Whether the paper would be in `number` for some country of each of its `unplaced`
    authors: one of the number's countries the paper lacks, any other country, or one it has
    already. Only what `belongs` looks at matters (which of the number's countries the paper
    has, and how many countries), so trying each subset of the missing countries beside each
    count of other countries tries every placing. A paper without affiliation data has no
    evidence to be missing: it stays as `belongs` has it (see the module docstring)."""
    mentions = frozenset(mentions)
    if belongs(number, countries, has_affiliation, mentions):
        return True
    if unplaced <= 0 or not has_affiliation:
        return False
    missing = [c for c in number.countries if c not in countries]
    for k in range(min(len(missing), unplaced) + 1):
        for chosen in combinations(missing, k):
            for others in range(unplaced - k + 1):
                if not countries and not chosen and not others:
                    continue  # an author placed somewhere gives a paper without countries one
                placed = set(countries) | set(chosen) | {f"?{i}" for i in range(others)}
                if belongs(number, placed, has_affiliation, mentions):
                    return True
    return False


def count(sets: Iterable[set[str]], ids: Sequence[str]) -> dict[str, int]:
    """How many of the papers' (folded) country sets are in each of the country numbers `ids`."""
    numbers = [COUNTRY_IDS[i] for i in ids]
    out = dict.fromkeys(ids, 0)
    for countries in sets:
        for number in numbers:
            out[number.id] += belongs(number, countries)
    return out
