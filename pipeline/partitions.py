"""Venue-year partition keys (`neurips-2018`) and the catalogue of known venues.

A partition key is `<venue>-<year>`: the venue a lowercase identifier, the year four digits.
Any venue that paperlists publishes works without a code change; the catalogue below only
adds what the pipeline cannot guess: the paperlists file name when it differs from the
venue key, the first year the venue existed, and the month its proceedings are out (for the
yearly refresh schedule).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

PARTITION_RE = re.compile(r"^(?P<venue>[a-z][a-z0-9]*)-(?P<year>\d{4})$")


class PartitionKeyError(ValueError):
    pass


@dataclass(frozen=True)
class Venue:
    key: str
    name: str
    paperlists_name: str
    first_year: int
    # Month (1-12) after which the year's accepted papers are reliably published.
    refresh_month: int
    # Conferences held only in some years (ICCV: odd years, ECCV: even years).
    parity: int | None = None

    def has_edition(self, year: int) -> bool:
        if year < self.first_year:
            return False
        return self.parity is None or year % 2 == self.parity


# Facts about the venues: first edition and the month the proceedings appear.
VENUES: dict[str, Venue] = {
    v.key: v
    for v in [
        Venue("neurips", "NeurIPS", "nips", 1987, 12),
        Venue("icml", "ICML", "icml", 1980, 8),
        Venue("iclr", "ICLR", "iclr", 2013, 6),
        Venue("cvpr", "CVPR", "cvpr", 1983, 7),
        Venue("iccv", "ICCV", "iccv", 1987, 11, parity=1),
        Venue("eccv", "ECCV", "eccv", 1990, 11, parity=0),
        Venue("acl", "ACL", "acl", 1979, 9),
        Venue("emnlp", "EMNLP", "emnlp", 1996, 12),
        Venue("naacl", "NAACL", "naacl", 2000, 7),
        Venue("coling", "COLING", "coling", 1965, 11),
        Venue("aaai", "AAAI", "aaai", 1980, 4),
        Venue("ijcai", "IJCAI", "ijcai", 1969, 9),
        Venue("aistats", "AISTATS", "aistats", 2007, 6),
        Venue("uai", "UAI", "uai", 1985, 9),
        Venue("colm", "COLM", "colm", 2024, 11),
        Venue("corl", "CoRL", "corl", 2017, 12),
        Venue("icra", "ICRA", "icra", 1984, 7),
        Venue("iros", "IROS", "iros", 1988, 11),
        Venue("wacv", "WACV", "wacv", 1992, 3),
        Venue("kdd", "KDD", "kdd", 1995, 9),
        Venue("www", "WWW", "www", 1994, 6),
    ]
}


# Other names users type for a venue; keys are stored under the canonical name.
VENUE_ALIASES = {"nips": "neurips"}


@dataclass(frozen=True)
class PartitionKey:
    venue: str
    year: int

    @property
    def key(self) -> str:
        return f"{self.venue}-{self.year}"

    @property
    def venue_info(self) -> Venue:
        return VENUES.get(self.venue) or Venue(self.venue, self.venue.upper(), self.venue, 1900, 12)

    @property
    def paperlists_name(self) -> str:
        return self.venue_info.paperlists_name

    def __str__(self) -> str:
        return self.key


def parse_partition_key(key: str) -> PartitionKey:
    """Parse `neurips-2016`; the error says what a valid key looks like."""
    match = PARTITION_RE.match(key.strip().lower()) if isinstance(key, str) else None
    if not match:
        raise PartitionKeyError(
            f"invalid venue-year {key!r}: expected '<venue>-<year>' such as 'neurips-2016' "
            "(lowercase venue, four-digit year)"
        )
    year = int(match["year"])
    if not 1950 <= year <= date.today().year + 1:
        raise PartitionKeyError(f"invalid venue-year {key!r}: year {year} is out of range")
    return PartitionKey(VENUE_ALIASES.get(match["venue"], match["venue"]), year)


def catalogue_keys(until_year: int | None = None) -> list[str]:
    """Every venue-year the catalogue knows of, up to `until_year` (default: last year)."""
    last = until_year if until_year is not None else date.today().year - 1
    keys = []
    for venue in VENUES.values():
        for year in range(venue.first_year, last + 1):
            if venue.has_edition(year):
                keys.append(f"{venue.key}-{year}")
    return keys
