"""A study: a published analysis written down as data, so that paperatlas can run it again.

A study is a YAML file (docs/studies.md): its `name` and `title`, the published `source`, the
`scope` (venue-years: `neurips-2024`, ranges `neurips-2014..2024`, `neurips-*`, or a venue the
sources plan defines by an OpenAlex filter), what the published study is known to have done
(`conventions`), the years it calls incomplete (`lag`), and its `claims`. A claim is one
published figure and how to compute ours: a `number` (a headline number such as `us_cn` or
`cn_transformer_full_text`, a `<cc>_<term>_<abstract|full_text>` for any term of the
catalogue, or a profile or tool number: `KINDS`), a `measure`, optional filters (`years`,
`country`, `partner`, `group`, `top`, `term`, `of`) and the `published` figure with its
`source` and `year`.

The built-in studies are the YAML files of the project's `studies/` folder (installed as
`paperatlas.studies`). This module only reads and checks them; pipeline/reports/studies/
evaluate.py computes the claims.

No Dagster here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from importlib import resources as importlib_resources
from pathlib import Path
from typing import Any

from ...models import read_yaml
from ...partitions import PartitionKeyError, is_pattern, parse_partition_key
from ..headlines import NUMBER_IDS

# Numbers a claim may name besides the headline numbers, with the measures each allows.
PROFILE_KINDS = {
    "country_papers": ("count", "share"),  # papers with an author in `country` (whole counting)
    "cross_border": ("count", "share"),  # of those, papers with another country too
    "pair": ("count", "share"),  # papers with authors in both `country` and `partner`
    "top_partners": ("list",),  # `country`'s `top` partners by joint papers
    "ranking": ("list",),  # countries (of `group`) ranked by cross-border papers
    "countries": ("count",),  # countries with at least one paper
}
TOOL_KINDS = {
    "tool_origin": ("list",),  # the country the catalogue gives as the term's origin
    "top_tools": ("share",),  # share of the `top` most named tools whose origin is `country`
}
KINDS = {**PROFILE_KINDS, **TOOL_KINDS}
TERM_NUMBER = re.compile(r"^(?P<country>[a-z]{2})_(?P<term>[a-z0-9][a-z0-9.+-]*)_(?P<group>abstract|full_text)$")
MEASURES = ("count", "share", "list")
BOUNDS = ("exact", "about", "at_least", "at_most")  # how the published figure is stated
DIRECTIONS = ("rising", "falling", "flat")
# What a study may say about the published study's method (docs/studies.md): each shows where
# ours may differ, and the known conventions are read their way too.
CONVENTION_KEYS = ("china_scope", "hong_kong_taiwan", "multinationals", "dual_affiliations", "text", "counting",
                   "min_pair")
SOURCE_KEYS = {"name", "title", "url", "date"}
STUDY_KEYS = {"name", "title", "source", "about", "scope", "lag", "conventions", "claims"}
CLAIM_KEYS = {"id", "claim", "number", "measure", "years", "country", "partner", "group", "top", "term", "of",
              "published", "bound", "direction", "source", "year", "url", "note", "min_pair"}
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


class StudyError(ValueError):
    """A study file that cannot be used: one line naming the file and the key."""


@dataclass(frozen=True)
class Claim:
    id: str
    claim: str
    number: str
    measure: str = "count"
    years: tuple[int, ...] = ()
    country: str | None = None
    partner: str | None = None
    group: str | None = None
    top: int | None = None
    term: str | None = None
    of: Any = None  # for a share: the number it is a share of; with a count: the published denominator
    published: Any = None  # a number, a list of ISO codes, or None (a claim without a figure)
    bound: str = "exact"
    direction: str | None = None  # what the published study says the series does
    source: str | None = None
    year: int | None = None  # the year the figure was published
    url: str | None = None
    note: str | None = None
    min_pair: int | None = None

    @property
    def kind(self) -> str:
        """`headline`, `term` (any term of the catalogue), or one of KINDS."""
        if self.number in NUMBER_IDS:
            return "headline"
        if self.number in KINDS:
            return self.number
        return "term"


@dataclass(frozen=True)
class Study:
    name: str
    title: str
    scope: tuple[str, ...]
    claims: tuple[Claim, ...]
    source: dict[str, str] = field(default_factory=dict)
    about: str = ""
    lag_years: tuple[int, ...] = ()
    lag_why: str = ""
    conventions: dict[str, Any] = field(default_factory=dict)
    path: str = ""
    builtin: bool = False

    def source_line(self) -> str:
        """The published study in one line: who, what, when."""
        parts = [self.source.get("name"), self.source.get("title"), self.source.get("date")]
        return ", ".join(str(p) for p in parts if p)


def _years(value: Any, where: str) -> tuple[int, ...]:
    """`2025`, `[2024, 2025]` or `"2014..2024"`."""
    if value is None:
        return ()
    if isinstance(value, str) and ".." in value:
        start, _, end = value.partition("..")
        if (not (start.strip().isdigit() and end.strip().isdigit()) or int(start) > int(end)
                or not 1950 <= int(start) <= int(end) <= 2100):
            raise StudyError(f"{where}: expected years as 2014..2024 (from 1950 to 2100), got {value!r}")
        return tuple(range(int(start), int(end) + 1))
    values = value if isinstance(value, list) else [value]
    out = []
    for v in values:
        if not isinstance(v, int) or isinstance(v, bool) or not 1950 <= v <= 2100:
            raise StudyError(f"{where}: expected years (e.g. [2024, 2025] or 2014..2024), got {value!r}")
        out.append(v)
    return tuple(sorted(set(out)))


def _code(value: Any, where: str) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z]{2}", value.strip()):
        raise StudyError(f"{where}: expected an ISO 3166-1 alpha-2 code such as CN, got {value!r}")
    return value.strip().upper()


def _text(value: Any, where: str, required: bool = False) -> str | None:
    if value is None and not required:
        return None
    if isinstance(value, date):  # YAML reads 2025-12-11 as a date
        value = value.isoformat()
    if not isinstance(value, (str, int, float)) or isinstance(value, bool) or not str(value).strip():
        raise StudyError(f"{where}: expected text, got {value!r}")
    return " ".join(str(value).split())


def _published(raw: Any, measure: str, where: str) -> Any:
    if raw is None:
        return None
    if measure == "list":
        values = raw if isinstance(raw, list) else [raw]
        return tuple(_code(v, where) for v in values)
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not math.isfinite(raw):
        raise StudyError(f"{where}: a {measure} is published as a number, got {raw!r}")
    if measure == "share" and not 0 <= raw <= 1:
        raise StudyError(f"{where}: a share is a fraction from 0 to 1 (3% is 0.03), got {raw!r}")
    return raw


def _mapping(raw: Any, keys: set[str], where: str, what: str) -> dict:
    """`raw` as a mapping with only `keys`; else a StudyError naming `where`."""
    if not isinstance(raw, dict):
        raise StudyError(f"{where}: {what}")
    unknown = set(raw) - keys
    if unknown:
        raise StudyError(f"{where}: unknown keys {sorted(unknown)} (known: {', '.join(sorted(keys))})")
    return raw


def parse_claim(raw: Any, where: str) -> Claim:
    _mapping(raw, CLAIM_KEYS, where, "a claim is a mapping with id, claim, number, …")
    cid = _text(raw.get("id"), f"{where}.id", required=True)
    where = f"{where} ({cid})"
    number = _text(raw.get("number"), f"{where}.number", required=True)
    measure = raw.get("measure", "list" if number in KINDS and KINDS[number] == ("list",) else "count")
    allowed = KINDS.get(number, ("count", "share"))
    if number not in NUMBER_IDS and number not in KINDS and not TERM_NUMBER.match(number):
        raise StudyError(f"{where}.number: {number!r} is not a headline number ({', '.join(NUMBER_IDS[:7])}, …), "
                         f"a <cc>_<term>_<abstract|full_text> number, or one of {', '.join(KINDS)}")
    if measure not in allowed:
        raise StudyError(f"{where}.measure: {measure!r} does not apply to {number} (use {' or '.join(allowed)})")
    claim = Claim(
        id=cid, claim=_text(raw.get("claim"), f"{where}.claim", required=True), number=number, measure=measure,
        years=_years(raw.get("years"), f"{where}.years"),
        country=_code(raw["country"], f"{where}.country") if raw.get("country") is not None else None,
        partner=_code(raw["partner"], f"{where}.partner") if raw.get("partner") is not None else None,
        group=_text(raw.get("group"), f"{where}.group"), term=_text(raw.get("term"), f"{where}.term"),
        top=_count(raw.get("top"), f"{where}.top", minimum=1),
        min_pair=_count(raw.get("min_pair"), f"{where}.min_pair", minimum=0),
        of=raw.get("of"), published=_published(raw.get("published"), measure, f"{where}.published"),
        bound=raw.get("bound", "exact"), direction=raw.get("direction"),
        source=_text(raw.get("source"), f"{where}.source"), year=_years(raw.get("year"), f"{where}.year")[0]
        if raw.get("year") is not None else None,
        url=_text(raw.get("url"), f"{where}.url"), note=_text(raw.get("note"), f"{where}.note"),
    )
    _check_claim(claim, where)
    return claim


def _count(value: Any, where: str, minimum: int) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise StudyError(f"{where}: expected a whole number of at least {minimum}, got {value!r}")
    return value


def _check_claim(c: Claim, where: str) -> None:
    if c.bound not in BOUNDS:
        raise StudyError(f"{where}.bound: {c.bound!r} is not one of {', '.join(BOUNDS)}")
    if c.direction is not None and c.direction not in DIRECTIONS:
        raise StudyError(f"{where}.direction: {c.direction!r} is not one of {', '.join(DIRECTIONS)}")
    if c.url is not None and not re.match(r"^https?://", c.url):
        raise StudyError(f"{where}.url: only http(s) links are kept, got {c.url!r}")
    needs = {"country_papers": ["country"], "cross_border": ["country"], "pair": ["country", "partner"],
             "top_partners": ["country"], "top_tools": ["country"], "tool_origin": ["term"]}.get(c.number, [])
    missing = [k for k in needs if getattr(c, k) is None]
    if missing:
        raise StudyError(f"{where}: {c.number} needs {' and '.join(missing)}")
    if c.measure == "share" and c.of is not None:
        if c.kind != "headline":
            raise StudyError(f"{where}.of: only a headline number's share may name its denominator; {c.number}'s "
                             "share is of its own (docs/studies.md)")
        if c.of not in NUMBER_IDS:
            raise StudyError(f"{where}.of: a share is of a headline number ({', '.join(NUMBER_IDS[:4])}, …), "
                             f"got {c.of!r}")
    if c.min_pair is not None and c.number not in ("top_partners", "pair"):
        raise StudyError(f"{where}.min_pair: applies to top_partners and pair only")
    if c.measure == "count" and c.of is not None and (not isinstance(c.of, int) or isinstance(c.of, bool)):
        raise StudyError(f"{where}.of: with a count, `of` is the published denominator (a whole number)")
    if c.number == "ranking" and c.top is None:
        raise StudyError(f"{where}: a ranking needs `top`")


def _scope(value: Any, where: str) -> tuple[str, ...]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values:
        raise StudyError(f"{where}: expected venue-years, e.g. [neurips-2024, neurips-2025] or [neurips-*]")
    out = []
    for v in values:
        text = str(v).strip().lower()
        try:
            if not is_pattern(text):
                text = parse_partition_key(text).key
        except PartitionKeyError as exc:
            raise StudyError(f"{where}: {exc}") from exc
        out.append(text)
    return tuple(dict.fromkeys(out))


def parse_study(data: Any, path: str, builtin: bool = False) -> Study:
    """The study in a YAML document already read; StudyError names `path` and the key."""
    _mapping(data, STUDY_KEYS, path, "a study is a mapping with name, title, scope and claims")
    name = _text(data.get("name"), f"{path}: name", required=True)
    if not NAME_RE.match(name):
        raise StudyError(f"{path}: name {name!r}: lowercase letters, digits and hyphens (it names files and assets)")
    source = _mapping(data.get("source") or {}, SOURCE_KEYS, f"{path}: source", "expected a mapping (name, "
                      "title, url, date)")
    source = {str(k): _text(v, f"{path}: source.{k}") for k, v in source.items() if v is not None}
    if source.get("url") and not re.match(r"^https?://", source["url"]):
        raise StudyError(f"{path}: source.url: only http(s) links are kept")
    lag = _mapping(data.get("lag") or {}, {"years", "why"}, f"{path}: lag", "expected a mapping with years and why")
    conventions = _mapping(data.get("conventions") or {}, set(CONVENTION_KEYS), f"{path}: conventions",
                           "expected a mapping of what the published study did")
    for key, value in conventions.items():
        if key == "min_pair":
            _count(value, f"{path}: conventions.min_pair", minimum=0)
        else:
            conventions[key] = _text(value, f"{path}: conventions.{key}")
    claims_raw = data.get("claims")
    if not isinstance(claims_raw, list) or not claims_raw:
        raise StudyError(f"{path}: claims: expected a list of claims")
    claims = tuple(parse_claim(c, f"{path}: claims[{i}]") for i, c in enumerate(claims_raw))
    seen: set[str] = set()
    for c in claims:
        if c.id in seen:
            raise StudyError(f"{path}: claim id {c.id!r} is used twice")
        seen.add(c.id)
    return Study(
        name=name, title=_text(data.get("title"), f"{path}: title", required=True),
        scope=_scope(data.get("scope"), f"{path}: scope"), claims=claims, source=source,
        about=_text(data.get("about"), f"{path}: about") or "",
        lag_years=_years(lag.get("years"), f"{path}: lag.years"),
        lag_why=_text(lag.get("why"), f"{path}: lag.why") or "", conventions=dict(conventions), path=path,
        builtin=builtin,
    )


def builtin_folder() -> Path:
    return Path(str(importlib_resources.files("paperatlas.studies")))


def builtin_studies() -> dict[str, Study]:
    """The studies shipped in `studies/`, by name."""
    out = {}
    for path in sorted(builtin_folder().glob("*.yaml")):
        study = load_file(path, builtin=True)
        out[study.name] = study
    return out


def load_file(path: str | Path, builtin: bool = False) -> Study:
    path = Path(path)
    try:
        data = read_yaml(path)
    except ValueError as exc:
        raise StudyError(f"{path}: {exc}") from exc
    return parse_study(data, str(path), builtin)


def load_study(name_or_file: str) -> Study:
    """A built-in study by name, or a study file (a path that exists, or ends in .yaml/.yml)."""
    path = Path(name_or_file).expanduser()
    if path.suffix.lower() in (".yaml", ".yml") or path.is_file():
        if not path.is_file():
            raise StudyError(f"{name_or_file}: no such study file")
        return load_file(path)
    known = builtin_studies()
    if name_or_file in known:
        return known[name_or_file]
    raise StudyError(f"no study named {name_or_file!r}; built in: {', '.join(known)} (or give a study file)")


def with_scope(study: Study, scope: Sequence[str]) -> Study:
    """The study on other venue-years: its claims, a scope of the user's. It is no longer the
    built-in study's asset (that one keeps its own scope and lineage)."""
    import dataclasses

    return dataclasses.replace(study, scope=_scope(list(scope), "--scope"), builtin=False)
