"""Rule 0, `override`: the user's overrides file (`$PAPERATLAS_HOME/overrides.yaml`).

`load_overrides` reads and validates the file into `Override` rules (a bad file raises
`OverridesError` naming the rule); `OverrideRules` is the resolver's part that applies them.
They come first because they are the user's word on a string or a domain, and beat every
other rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pycountry

from ...models import read_yaml
from ..names import fold, name_key
from .base import CONFIDENCE, Resolution


@dataclass(frozen=True)
class Override:
    """One rule of the overrides file: `match` (the whole string, compared by name key),
    `contains` (a case-insensitive substring) or `email_domain` (the domain or a parent)."""

    match: str | None
    contains: str | None
    email_domain: str | None
    country: str
    institution: str | None
    note: str | None


class OverridesError(ValueError):
    pass


def load_overrides(path: Path | str | None) -> list[Override]:
    """Read and validate an overrides YAML file: a list of rules. Missing file -> no rules."""
    if path is None:
        return []
    path = Path(path)
    if not path.exists():
        return []
    try:
        entries = read_yaml(path) or []
    except ValueError as exc:
        raise OverridesError(f"{path}: {exc}") from exc
    if not isinstance(entries, list):
        raise OverridesError(f"{path}: expected a list of rules, got {type(entries).__name__}")
    rules = []
    for n, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise OverridesError(f"{path}: rule {n} is not a mapping")
        keys = [k for k in ("match", "contains", "email_domain") if entry.get(k)]
        if len(keys) != 1:
            raise OverridesError(f"{path}: rule {n} needs exactly one of match, contains, email_domain")
        country = str(entry.get("country") or "").upper()
        if not (len(country) == 2 and (pycountry.countries.get(alpha_2=country) or country == "XK")):
            raise OverridesError(f"{path}: rule {n}: country {entry.get('country')!r} is not ISO 3166-1 alpha-2")
        rules.append(Override(
            match=str(entry["match"]) if entry.get("match") else None,
            contains=str(entry["contains"]) if entry.get("contains") else None,
            email_domain=str(entry["email_domain"]).lower() if entry.get("email_domain") else None,
            country=country,
            institution=entry.get("institution"),
            note=entry.get("note"),
        ))
    return rules


class OverrideRules:
    """The override rule, mixed into `Resolver`. `_build_overrides` fills `overrides` and the
    lookups `_override` reads: `_override_match` (by name key), `_override_contains` (by
    case-insensitive substring) and `_override_domain` (by domain); the e-mail domain is cleaned
    by `DomainRules._clean_domain`."""

    def _build_overrides(self, overrides: list[Override] | None) -> None:
        self.overrides = list(overrides or [])
        self._override_match = {name_key(o.match): o for o in self.overrides if o.match}
        self._override_contains = [(fold(o.contains).lower(), o) for o in self.overrides if o.contains]
        self._override_domain = {o.email_domain: o for o in self.overrides if o.email_domain}

    def _override(self, folded: str, email_domain: str | None) -> Resolution | None:
        if not self.overrides:
            return None
        rule = self._override_match.get(name_key(folded)) if folded else None
        if rule is None and folded:
            lower = folded.lower()
            rule = next((o for needle, o in self._override_contains if needle in lower), None)
        if rule is None and email_domain:
            labels = (self._clean_domain(email_domain) or "").split(".")
            for i in range(len(labels) - 1):
                rule = self._override_domain.get(".".join(labels[i:]))
                if rule:
                    break
        if rule is None:
            return None
        evidence = rule.match or rule.contains or rule.email_domain
        return Resolution(rule.country, rule.institution, None, "override", CONFIDENCE["override"], evidence,
                          countries=(rule.country,))
