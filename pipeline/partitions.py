"""Venue-year partition keys (`neurips-2018`) and their sub-partitions (`airesearch-2020-m03`).

A partition key is `<venue>-<year>`: the venue a lowercase identifier, the year four digits.
Any venue works without a code change; what paperatlas knows about venues (names, first
editions, refresh months, where each source finds them) lives in pipeline/data/sources.yaml.

A venue-year too large for one step (a year of all AI research in OpenAlex) is split into
sub-partitions: one per publication month, `<venue>-<year>-m<MM>`, and a month still too large
into one per OpenAlex subfield of its works' primary topic, `<venue>-<year>-m<MM>-s<id>`
(`-s0`: works without a primary topic; `-s<id>_<id>…`: small subfields of the month read
together), and a subfield of a month still too large into windows of publication days,
`<venue>-<year>-m<MM>-s<id>-d<DD>-<DD>` (both days included). Each sub-partition is an ordinary partition for every
per-partition step; its rows carry the venue and the year, so the yearly tables, reports and
studies of `<venue>-<year>` read all of them (`scope_of`, `SCOPE_SQL`).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

PARTITION_RE = re.compile(r"^(?P<venue>[a-z][a-z0-9]*)-(?P<year>\d{4})$")
# A sub-partition: a month of the year, optionally one subfield of that month, optionally days of it.
PART_RE = re.compile(r"^(?P<venue>[a-z][a-z0-9]*)-(?P<year>\d{4})-m(?P<month>0[1-9]|1[0-2])"
                     r"(?:-s(?P<subfield>\d{1,6}(?:_\d{1,6})*))?"
                     r"(?:-d(?P<first>0[1-9]|[12]\d|3[01])-(?P<last>0[1-9]|[12]\d|3[01]))?$")
# The venue-year at the start of a stored key, and a key that is a sub-partition (regular
# expressions that DuckDB and Python read alike).
SCOPE_PREFIX_RE = r"^[a-z][a-z0-9]*-[0-9]{4}"
PART_KEY_RE = SCOPE_PREFIX_RE + "-m"
# Rows of a venue-year: its own key or any of its sub-partitions' (parameters: the key twice).
SCOPE_SQL = "(partition_key = ? OR starts_with(partition_key, ? || '-'))"
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
    month: int | None = None  # a sub-partition: one publication month of the year
    subfield: str | None = None  # … and one OpenAlex subfield of that month ("0": no primary topic),
    # or several read together ("1705_1707": `subfields`)
    days: tuple[int, int] | None = None  # … and the publication days first..last of it (included)

    @property
    def key(self) -> str:
        return self.scope + (f"-m{self.month:02d}" if self.month else "") + (f"-s{self.subfield}" if self.subfield else "") \
            + (f"-d{self.days[0]:02d}-{self.days[1]:02d}" if self.days else "")

    @property
    def subfields(self) -> tuple[str, ...]:
        """The subfields the key reads: one, several (small ones packed together), or none."""
        return tuple(self.subfield.split("_")) if self.subfield else ()

    @property
    def scope(self) -> str:
        """The venue-year this key belongs to (itself when it is not a sub-partition)."""
        return f"{self.venue}-{self.year}"

    @property
    def is_part(self) -> bool:
        return self.month is not None

    def part(self, month: int, subfield: str | None = None, days: tuple[int, int] | None = None) -> PartitionKey:
        return PartitionKey(self.venue, self.year, month, subfield, days)

    def __str__(self) -> str:
        return self.key


def parse_partition_key(key: str) -> PartitionKey:
    """Parse `neurips-2016` (or a sub-partition, `airesearch-2020-m03`, `airesearch-2020-m03-s1702`);
    the error says what a valid key looks like."""
    text = key.strip().lower() if isinstance(key, str) else ""
    match = PARTITION_RE.match(text) or PART_RE.match(text)
    shown = key if not isinstance(key, str) or len(key) <= 60 else key[:60] + "…"
    if not match:
        raise PartitionKeyError(
            f"invalid venue-year {shown!r}: expected '<venue>-<year>' such as 'neurips-2016' "
            "(lowercase venue, four-digit year), or a sub-partition such as 'airesearch-2020-m03'"
        )
    if len(match["venue"]) > MAX_VENUE:
        raise PartitionKeyError(
            f"invalid venue-year {shown!r}: the venue name has {len(match['venue'])} characters, "
            f"at most {MAX_VENUE} are allowed")
    year = int(match["year"])
    if not 1950 <= year <= date.today().year + 1:
        raise PartitionKeyError(f"invalid venue-year {key!r}: year {year} is out of range")
    parts = match.groupdict()
    month = int(parts["month"]) if parts.get("month") else None
    subfield = "_".join(str(int(s)) for s in parts["subfield"].split("_")) if parts.get("subfield") else None
    days = (int(parts["first"]), int(parts["last"])) if parts.get("first") else None
    if days and not days[0] <= days[1] <= calendar.monthrange(year, month)[1]:
        raise PartitionKeyError(f"invalid venue-year {shown!r}: days {days[0]}-{days[1]} are not a window of "
                                f"{year}-{month:02d}")
    return PartitionKey(VENUE_ALIASES.get(match["venue"], match["venue"]), year, month, subfield, days)


def scope_of(key: str) -> str:
    """The venue-year a stored partition key belongs to: `airesearch-2020-m03-s1702` → `airesearch-2020`."""
    return parse_partition_key(key).scope


# `neurips-2010..2018` (or `neurips-2010..neurips-2018`) and `neurips-*`.
RANGE_RE = re.compile(r"^(?P<venue>[a-z][a-z0-9]*)-(?P<start>\d{4})\.\.(?:(?P<venue2>[a-z][a-z0-9]*)-)?(?P<end>\d{4})$")
EVERY_RE = re.compile(r"^(?P<venue>[a-z][a-z0-9]*)-\*$")


def is_pattern(text: str) -> bool:
    """Whether `text` names possibly several venue-years (a range or `venue-*`)."""
    text = text.strip().lower()
    return bool(RANGE_RE.match(text) or EVERY_RE.match(text))


def expand_partition_keys(raw: list[str], every_year: Callable[[str], list[int]],
                          has_year: Callable[[str, int], bool]) -> tuple[list[str], list[str]]:
    """The venue-years `raw` names, in order and without repeats, and the ones a range named
    that `has_year` rejects (a year without an edition, or not materialised).

    `neurips-2016` is itself; `neurips-2010..2018` every year from 2010 to 2018 that
    `has_year(venue, year)`; `neurips-*` the years `every_year(venue)` gives (an empty list is
    an error that says so). Venue aliases apply (`nips-*` is `neurips-*`)."""
    keys: list[str] = []
    skipped: list[str] = []
    for text in raw:
        clean = text.strip().lower()
        if match := RANGE_RE.match(clean):
            start, end = int(match["start"]), int(match["end"])
            if start > end:
                raise PartitionKeyError(f"invalid range {text!r}: {start} comes after {end}")
            first = parse_partition_key(f"{match['venue']}-{start}")
            last = parse_partition_key(f"{match['venue2'] or match['venue']}-{end}")
            if first.venue != last.venue:
                raise PartitionKeyError(f"invalid range {text!r}: a range covers the years of one venue")
            for year in range(first.year, last.year + 1):
                key = f"{first.venue}-{year}"
                (keys if has_year(first.venue, year) else skipped).append(key)
        elif match := EVERY_RE.match(clean):
            venue = parse_partition_key(f"{match['venue']}-2000").venue
            years = every_year(venue)
            if not years:
                raise PartitionKeyError(f"{text!r}: no years of {venue} are known; give them, e.g. {venue}-2020..2024")
            keys.extend(f"{venue}-{year}" for year in sorted(years))
        else:
            keys.append(parse_partition_key(text).key)
    return list(dict.fromkeys(keys)), [k for k in dict.fromkeys(skipped) if k not in keys]
