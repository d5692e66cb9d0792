"""Named groups of countries (`non-western`, `eu`, `g20`, `brics` ...): a data file, not code.

The built-in groups are `pipeline/data/country_groups.yaml`, each with its title, its members
(ISO 3166-1 alpha-2 codes, XK for Kosovo) or the group it is the complement of, and where the
definition comes from. The user's file (`PAPERATLAS_COUNTRY_GROUPS`, else
`$PAPERATLAS_HOME/country_groups.yaml` when present; pipeline/config.py says which) is laid
over it group by group, as the sources plan is (pipeline/sources/plan.py):

    groups:
      western:                 # replaces the built-in members, keeps its title and source
        members: [AT, BE, ..., IL]
      gulf:                    # a new group
        title: Gulf Cooperation Council
        members: [AE, BH, KW, OM, QA, SA]
        source: https://www.gcc-sg.org/

A file that cannot be used raises GroupError with one line naming the file and the key.

HK, MO and TW are codes of their own here, as the store keeps them; the China scopes
(pipeline/conventions.py) fold them into CN before a group is applied.

No Dagster here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources as importlib_resources
from pathlib import Path

from ..models import read_yaml

GROUP_KEYS = {"title", "members", "complement_of", "source", "note"}
# Codes pycountry does not hold that the project accepts: Kosovo's user-assigned code.
EXTRA_CODES = {"XK": "Kosovo"}
NAME_RE = re.compile(r"^[a-z][a-z0-9-]*$")


class GroupError(ValueError):
    """The groups file is not valid; the message names the file and the key."""


@dataclass(frozen=True)
class CountryGroup:
    name: str
    title: str
    members: frozenset[str]
    source: str
    note: str = ""


@lru_cache(maxsize=1)
def iso_codes() -> dict[str, str]:
    """Every ISO 3166-1 alpha-2 code with its common name (pycountry), and XK."""
    import pycountry

    names = {c.alpha_2: getattr(c, "common_name", None) or c.name for c in pycountry.countries}
    return {**names, **EXTRA_CODES}


# ISO's name -> the form a newspaper prints, where the two differ ("Russia", not "Russian
# Federation"); the rest are pycountry's common names.
READER_NAMES = {"RU": "Russia", "MO": "Macau", "TR": "Turkey", "CD": "DR Congo", "CG": "Republic of the Congo",
                "SY": "Syria", "LA": "Laos", "MD": "Moldova", "TZ": "Tanzania", "VE": "Venezuela", "BN": "Brunei",
                "PS": "Palestine", "KP": "North Korea", "FM": "Micronesia"}


def country_name(code: str) -> str:
    """The name a reader knows the country by (`TW` Taiwan, `KR` South Korea, `RU` Russia), or
    the code when unknown: reports, tables and sentences show names; JSON and CSV keys keep codes."""
    return READER_NAMES.get(code) or iso_codes().get(code, code)


def pair_name(a: str, b: str, sep: str = "\u2013") -> str:
    """"United States–China" for a pair of codes."""
    return f"{country_name(a)}{sep}{country_name(b)}"


def builtin_path() -> Path:
    return Path(str(importlib_resources.files("paperatlas.pipeline") / "data" / "country_groups.yaml"))


def _read(path: Path) -> dict:
    try:
        data = read_yaml(path) or {}
    except ValueError as exc:
        raise GroupError(f"{path}: the country groups file: {exc}") from exc
    if not isinstance(data, dict) or set(data) - {"groups"}:
        raise GroupError(f"{path}: expected a mapping with one key, `groups`")
    groups = data.get("groups") or {}
    if not isinstance(groups, dict):
        raise GroupError(f"{path}: `groups` must be a mapping of group names")
    return groups


def _members(value, where: str) -> frozenset[str]:
    if not isinstance(value, list) or not value:
        raise GroupError(f"{where}: expected a non-empty list of ISO 3166-1 alpha-2 codes, got {value!r}")
    known = iso_codes()
    if any(isinstance(v, bool) for v in value):  # YAML reads a bare NO (Norway) as false
        raise GroupError(f"{where}: holds {sorted({v for v in value if isinstance(v, bool)})} where a code "
                         "should be: YAML reads a bare NO as false, write Norway as \"NO\" in quotes")
    bad = [str(v) for v in value if not isinstance(v, str) or v not in known]
    if bad:
        raise GroupError(f"{where}: unknown ISO 3166-1 alpha-2 code(s) {', '.join(map(repr, bad))} "
                         "(upper case, e.g. US, GB, CN; XK for Kosovo)")
    return frozenset(value)


def _text(value, where: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, (str, int, float)):
        raise GroupError(f"{where}: expected text, got {value!r}")
    return str(value).strip()


def load_groups(user_file: str | Path | None = None) -> dict[str, CountryGroup]:
    """The built-in groups with `user_file` (when given) laid over them group by group, by name.
    A `user_file` that is not a file is a GroupError (the settings pass it only when set or
    present)."""
    files = [builtin_path()]
    if user_file is not None:
        path = Path(user_file).expanduser()
        if not path.is_file():
            raise GroupError(f"{path}: no such country groups file (PAPERATLAS_COUNTRY_GROUPS names it)")
        files.append(path)
    raw: dict[str, dict] = {}
    for path in files:
        for name, spec in _read(path).items():
            where = f"{path}: groups.{name}"
            if not isinstance(name, str) or not NAME_RE.match(name):
                raise GroupError(f"{where}: a group name is lower case letters, digits and hyphens")
            if not isinstance(spec, dict):
                raise GroupError(f"{where}: must be a mapping with title, members (or complement_of) and source")
            unknown = set(spec) - GROUP_KEYS
            if unknown:
                raise GroupError(f"{where}: unknown keys {sorted(unknown)} (known: {', '.join(sorted(GROUP_KEYS))})")
            if "members" in spec and "complement_of" in spec:
                raise GroupError(f"{where}: give members or complement_of, not both")
            merged = dict(raw.get(name, {}))
            for other in ("members", "complement_of"):
                if other in spec:
                    merged.pop("complement_of" if other == "members" else "members", None)
            merged.update(spec)
            merged["_where"] = where
            raw[name] = merged
    listed = {}
    for name, spec in raw.items():
        where = spec["_where"]
        if "members" in spec:
            listed[name] = _members(spec["members"], f"{where}.members")
        elif "complement_of" not in spec:
            raise GroupError(f"{where}: needs members (or complement_of)")
    groups = {}
    for name, spec in raw.items():
        where = spec["_where"]
        if name in listed:
            members = listed[name]
        else:
            other = spec["complement_of"]
            if other not in listed:
                hint = "a group defined by complement_of" if other in raw else "no such group"
                raise GroupError(f"{where}.complement_of: {other!r} is {hint}; name a group with members")
            members = frozenset(iso_codes()) - listed[other]
        groups[name] = CountryGroup(name, _text(spec.get("title"), f"{where}.title") or name, members,
                                    _text(spec.get("source"), f"{where}.source"),
                                    _text(spec.get("note"), f"{where}.note"))
    return dict(sorted(groups.items()))
