"""Venue-year partition keys (`neurips-2018`).

A partition key is `<venue>-<year>`: the venue a lowercase identifier, the year four digits.
Any venue works without a code change; what paperatlas knows about venues (names, first
editions, refresh months, where each source finds them) lives in pipeline/data/sources.yaml.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

PARTITION_RE = re.compile(r"^(?P<venue>[a-z][a-z0-9]*)-(?P<year>\d{4})$")
# A venue name becomes a folder and file names (PDFs, reports, local folders): keep it short.
MAX_VENUE = 40


class PartitionKeyError(ValueError):
    pass


# Other names users type for a venue; keys are stored under the canonical name.
VENUE_ALIASES = {"nips": "neurips"}


@dataclass(frozen=True)
class PartitionKey:
    venue: str
    year: int

    @property
    def key(self) -> str:
        return f"{self.venue}-{self.year}"

    def __str__(self) -> str:
        return self.key


def parse_partition_key(key: str) -> PartitionKey:
    """Parse `neurips-2016`; the error says what a valid key looks like."""
    match = PARTITION_RE.match(key.strip().lower()) if isinstance(key, str) else None
    shown = key if not isinstance(key, str) or len(key) <= 60 else key[:60] + "…"
    if not match:
        raise PartitionKeyError(
            f"invalid venue-year {shown!r}: expected '<venue>-<year>' such as 'neurips-2016' "
            "(lowercase venue, four-digit year)"
        )
    if len(match["venue"]) > MAX_VENUE:
        raise PartitionKeyError(
            f"invalid venue-year {shown!r}: the venue name has {len(match['venue'])} characters, "
            f"at most {MAX_VENUE} are allowed")
    year = int(match["year"])
    if not 1950 <= year <= date.today().year + 1:
        raise PartitionKeyError(f"invalid venue-year {key!r}: year {year} is out of range")
    return PartitionKey(VENUE_ALIASES.get(match["venue"], match["venue"]), year)
