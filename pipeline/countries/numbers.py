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

No Dagster here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


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


def count(sets: Iterable[set[str]], ids: Sequence[str]) -> dict[str, int]:
    """How many of the papers' (folded) country sets are in each of the country numbers `ids`."""
    numbers = [COUNTRY_IDS[i] for i in ids]
    out = dict.fromkeys(ids, 0)
    for countries in sets:
        for number in numbers:
            out[number.id] += belongs(number, countries)
    return out
