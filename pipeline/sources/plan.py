"""The sources plan: the venues, which sources feed each venue-year, in which priority, and
where each source finds the venue. Built-in (pipeline/data/sources.yaml, the one file of venue
facts) with the user's file laid over it, so a new venue (a journal through OpenAlex, a
conference through OpenReview) or a new choice of sources for one year needs no code change.

    venues:
      neurips:
        years:
          2025: [virtual_site, openreview, proceedings]   # highest priority first
      naturemi:                                           # a venue the catalogue lacks
        name: Nature Machine Intelligence
        sources: [openalex]
        openalex: "primary_location.source.id:S2912241403"
        first_year: 2019
        refresh_month: 2
      naturemlq3:                                         # January to September of each year
        sources: [openalex]
        openalex: "primary_location.source.publisher_lineage:P4310319908,topics.subfield.id:1702"
        dates: "01-01..09-30"
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from importlib import resources as importlib_resources
from pathlib import Path

from ..models import read_yaml
from ..partitions import PARTITION_RE, PartitionKey
from .registry import PLANNED as SOURCES

VENUE_KEYS = {"name", "sources", "years", "first_year", "refresh_month", "parity", "watch", "paperlists",
              "virtual_site", "proceedings", "openreview", "openalex", "dates"}
DateWindow = tuple[str, str]  # ("MM-DD", "MM-DD"): the part of each year a venue covers, both days included
_DATES = re.compile(r"^(\d\d)-(\d\d)\.\.(\d\d)-(\d\d)$")


class PlanError(ValueError):
    """The sources file is not valid; the message names the file and the key."""


@dataclass(frozen=True)
class VenuePlan:
    key: str
    name: str
    sources: tuple[str, ...]
    years: dict[int, tuple[str, ...]] = field(default_factory=dict)
    first_year: int = 1900
    refresh_month: int = 12
    parity: int | None = None
    watch: bool = True
    paperlists: str | None = None  # its file name in paperlists, when not the venue key
    virtual_site: str | None = None
    proceedings: str | None = None
    openreview: tuple[str, ...] = ()
    openalex: str | None = None
    dates: DateWindow | None = None  # the OpenAlex window of each year; None: the whole year

    def sources_for(self, year: int) -> tuple[str, ...]:
        return self.years.get(year, self.sources)

    def has_edition(self, year: int) -> bool:
        return year >= self.first_year and (self.parity is None or year % 2 == self.parity)

    def editions(self, until_year: int | None = None) -> list[int]:
        """The years the venue was held, from its first edition to `until_year` (default: last year)."""
        last = until_year if until_year is not None else date.today().year - 1
        return [y for y in range(self.first_year, last + 1) if self.has_edition(y)]


@dataclass(frozen=True)
class SourcePlan:
    default: tuple[str, ...]
    venues: dict[str, VenuePlan]
    files: tuple[str, ...] = ()
    digest: str = ""

    def venue(self, venue: str) -> VenuePlan:
        """The venue's plan; a venue no file names reads the default sources (paperlists
        publishes many venues the files do not list)."""
        if venue in self.venues:
            return self.venues[venue]
        return VenuePlan(venue, venue.upper(), self.default, watch=False)

    def sources_for(self, pk: PartitionKey) -> tuple[str, ...]:
        return self.venue(pk.venue).sources_for(pk.year)

    def has_edition(self, venue: str, year: int) -> bool:
        """Whether the venue was held that year (a chart does not call a year without one missing)."""
        return self.venue(venue).has_edition(year)

    def all_venues(self) -> list[VenuePlan]:
        return [self.venues[v] for v in sorted(self.venues)]

    def catalogue_keys(self, until_year: int | None = None) -> list[str]:
        """Every venue-year of the plan's venues, from their first edition to `until_year`
        (default: last year)."""
        return [f"{v.key}-{y}" for v in self.all_venues() for y in v.editions(until_year)]

    def expand(self, raw: list[str]) -> tuple[list[str], list[str]]:
        """The venue-years `raw` names (`neurips-2016`, `neurips-2010..2018`, `neurips-*`) over the
        editions the plan knows, and those a range named that have no edition (`partitions.
        expand_partition_keys`). A venue the plan does not name has every year of a range, and no
        years for `venue-*` (PartitionKeyError)."""
        from ..partitions import expand_partition_keys

        def every_year(venue: str) -> list[int]:
            return self.venues[venue].editions() if venue in self.venues else []

        def has_year(venue: str, year: int) -> bool:
            return venue not in self.venues or self.venues[venue].has_edition(year)

        return expand_partition_keys(raw, every_year, has_year)

    def refresh_months(self) -> list[int]:
        """The months in which some venue's new year is re-read."""
        return sorted({v.refresh_month for v in self.all_venues()})

    def refresh_keys(self, month: int, year: int) -> list[str]:
        """Venue-years the yearly refresh re-reads in `month` of `year` (each venue in its month)."""
        return [f"{v.key}-{year}" for v in self.all_venues() if v.refresh_month == month and v.has_edition(year)]

    def next_years(self, existing: list[str], today: date | None = None) -> list[str]:
        """For each watched venue: the years after its newest partition up to this year, but
        never before last year (older years are published already, not news): the years a
        source may newly publish."""
        today = today or date.today()
        newest: dict[str, int] = {}
        for key in existing:
            match = PARTITION_RE.match(key)
            if match:
                newest[match["venue"]] = max(newest.get(match["venue"], 0), int(match["year"]))
        keys = []
        for venue in self.all_venues():
            if not venue.watch:
                continue
            start = max(newest.get(venue.key, 0) + 1, today.year - 1)
            keys.extend(f"{venue.key}-{y}" for y in range(start, today.year + 1) if venue.has_edition(y))
        return keys


def _sources(value, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise PlanError(f"{where}: expected a non-empty list of sources, got {value!r}")
    out = []
    for name in value:
        if name not in SOURCES:
            raise PlanError(f"{where}: unknown source {name!r} (known: {', '.join(SOURCES)})")
        if name in out:
            raise PlanError(f"{where}: source {name!r} listed twice")
        out.append(name)
    return tuple(out)


def _int(value, where: str, low: int, high: int) -> int:
    if not isinstance(value, int) or not low <= value <= high:
        raise PlanError(f"{where}: expected a whole number from {low} to {high}, got {value!r}")
    return value


def _dates(value, where: str) -> DateWindow:
    """"MM-DD..MM-DD": days that exist in every year (no 29 February), the first not after the last."""
    match = _DATES.match(value.strip()) if isinstance(value, str) else None
    if match:
        start_month, start_day, end_month, end_day = (int(g) for g in match.groups())
        try:
            start, end = date(2001, start_month, start_day), date(2001, end_month, end_day)
        except ValueError:
            start = end = None
        if start is not None and start <= end:
            return start.strftime("%m-%d"), end.strftime("%m-%d")
    raise PlanError(f"{where}: expected \"MM-DD..MM-DD\" (days of every year, the first not after the last, "
                    f"e.g. \"01-01..09-30\"), got {value!r}")


def _read(path: Path) -> dict:
    try:
        data = read_yaml(path) or {}
    except ValueError as exc:
        raise PlanError(f"{path}: the sources file: {exc}") from exc
    if not isinstance(data, dict):
        raise PlanError(f"{path}: expected a mapping with `default` and/or `venues`")
    unknown = set(data) - {"default", "venues"}
    if unknown:
        raise PlanError(f"{path}: unknown top-level keys {sorted(unknown)} (expected default, venues)")
    if not isinstance(data.get("venues") or {}, dict):
        raise PlanError(f"{path}: `venues` must be a mapping of venue names")
    return data


def builtin_path() -> Path:
    return Path(str(importlib_resources.files("paperatlas.pipeline") / "data" / "sources.yaml"))


def edition_test(user_file: str | Path | None = None):
    """(venue, year) -> whether the plan knows an edition of the venue that year, for charts
    that must not call a year without one missing (ECCV's even years); None when the plan
    cannot be read (a chart then treats every year as held)."""
    try:
        return load_plan(user_file).has_edition
    except PlanError:
        return None


def load_plan(user_file: str | Path | None = None) -> SourcePlan:
    """The built-in plan with `user_file` (when given and present) laid over it."""
    files = [builtin_path()]
    if user_file and Path(user_file).expanduser().is_file():
        files.append(Path(user_file).expanduser())
    default: tuple[str, ...] = ("paperlists",)
    raw: dict[str, dict] = {}
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.read_bytes())
        data = _read(path)
        if "default" in data:
            default = _sources(data["default"], f"{path}: default")
        for venue, spec in (data.get("venues") or {}).items():
            venue = str(venue).lower()
            if not PARTITION_RE.match(f"{venue}-2000"):
                raise PlanError(f"{path}: venue {venue!r} must be a lowercase name of letters and digits")
            if not isinstance(spec, dict):
                raise PlanError(f"{path}: venues.{venue} must be a mapping")
            unknown = set(spec) - VENUE_KEYS
            if unknown:
                raise PlanError(f"{path}: venues.{venue}: unknown keys {sorted(unknown)} (known: {', '.join(sorted(VENUE_KEYS))})")
            merged = {**raw.get(venue, {}), **spec}
            if "years" in spec and "years" in raw.get(venue, {}):
                merged["years"] = {**raw[venue]["years"], **spec["years"]}
            merged["_file"] = str(path)
            raw[venue] = merged
    venues = {}
    for venue, spec in raw.items():
        where = f"{spec.pop('_file')}: venues.{venue}"
        years = {}
        for year, chosen in (spec.get("years") or {}).items():
            year_int = _int(int(year) if str(year).isdigit() else year, f"{where}.years", 1950, 2100)
            years[year_int] = _sources(chosen, f"{where}.years.{year}")
        openreview = spec.get("openreview") or ()
        if isinstance(openreview, str):
            openreview = (openreview,)
        venues[venue] = VenuePlan(
            key=venue, name=str(spec.get("name") or venue.upper()),
            sources=_sources(spec["sources"], f"{where}.sources") if "sources" in spec else default,
            years=years,
            first_year=_int(spec["first_year"], f"{where}.first_year", 1900, 2100) if "first_year" in spec else 1900,
            refresh_month=_int(spec["refresh_month"], f"{where}.refresh_month", 1, 12) if "refresh_month" in spec else 12,
            parity=_int(spec["parity"], f"{where}.parity", 0, 1) if spec.get("parity") is not None else None,
            watch=bool(spec.get("watch", True)), paperlists=str(spec["paperlists"]) if spec.get("paperlists") else None,
            virtual_site=spec.get("virtual_site"), proceedings=spec.get("proceedings"),
            openreview=tuple(str(v) for v in openreview), openalex=spec.get("openalex"),
            dates=_dates(spec["dates"], f"{where}.dates") if spec.get("dates") is not None else None,
        )
        plan = venues[venue]
        for year, chosen in [(None, plan.sources), *plan.years.items()]:
            for name in ("openalex", "openalex_snapshot"):
                if name in chosen and not plan.openalex:
                    raise PlanError(f"{where}: uses {name}{' in ' + str(year) if year else ''} but sets no `openalex` filter")
            if "openreview" in chosen and not plan.openreview:
                raise PlanError(f"{where}: uses openreview{' in ' + str(year) if year else ''} but sets no `openreview` venue ids")
    return SourcePlan(default, venues, tuple(str(f) for f in files), digest.hexdigest())
