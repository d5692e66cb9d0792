"""Affiliation string (+ the author's e-mail domain) -> institution and country.

Evidence, strongest first; the first rule that decides wins and is recorded as `method`:

1. `location:country` / `location:subdivision` / `location:us_state_code` / `location:city`:
   a place printed in the string. The right-most country name wins (addresses end with the
   country); without one, the right-most subdivision, then the right-most city. When the
   country is China, a Hong Kong / Macau / Taiwan mention that is not followed by a mainland
   place keeps HK / MO / TW (HK, MO and TW are stored apart; reports may fold them).
2. `institution`: a known institution named in the string (`data/institutions.yaml`), for
   institutions in one country.
3. `institution:hq`: a multinational company named in the string without a place: its
   headquarters country. It ranks above the e-mail domain because the string names where the
   author works, while the address is often that of another affiliation (an intern's
   university, say); on the labelled development rows this order is right more often.
4. `email:institution`, `email:cctld`, `email:edu`: the e-mail domain: a known institution's
   domain, then the country-code top-level domain, then `.edu`/`.gov`/`.mil` for the US.
   Web-mail domains and generic-use country codes (.io, .ai, .co ...) tell nothing.

Anything else is unresolved, with the reason. This module has no Dagster imports.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import asdict, dataclass
from importlib import resources as importlib_resources

import pycountry
import yaml

RESOLVER_VERSION = "1"

# Confidence of each rule: how often such a decision is right, as a prior.
CONFIDENCE = {
    "location:country": 0.97,
    "location:subdivision": 0.93,
    "location:us_state_code": 0.93,
    "location:city": 0.9,
    "institution": 0.92,
    "email:institution": 0.88,
    "email:cctld": 0.85,
    "email:edu": 0.8,
    "institution:hq": 0.75,
}

WEBMAIL = {
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com",
    "yahoo.com", "ymail.com", "icloud.com", "me.com", "mac.com", "aol.com", "protonmail.com",
    "proton.me", "pm.me", "gmx.com", "gmx.net", "gmx.de", "web.de", "mail.com", "zoho.com",
    "yandex.com", "yandex.ru", "mail.ru", "qq.com", "foxmail.com", "163.com", "126.com",
    "yeah.net", "sina.com", "sina.cn", "sohu.com", "aliyun.com", "139.com", "naver.com",
    "hanmail.net", "daum.net", "rediffmail.com", "fastmail.com", "tutanota.com", "hey.com",
    "yahoo.co.jp", "yahoo.co.in", "yahoo.co.uk", "hotmail.co.uk", "outlook.jp", "orange.fr",
    "free.fr", "laposte.net", "libero.it", "seznam.cz", "wp.pl", "o2.pl", "inbox.ru",
    "example.com", "example.org", "example.edu", "acm.org", "ieee.org", "alumni.stanford.edu",
}
# Country-code TLDs sold for general use: they say nothing about where the owner is.
GENERIC_CCTLD = {"io", "ai", "co", "me", "tv", "ly", "cc", "ws", "fm", "gg", "to", "sh", "ac", "so", "la", "nu", "tk", "ml", "ga", "cf", "gq", "vc", "am", "im", "su", "eu"}
TLD_FIXUPS = {"uk": "GB"}
US_TLDS = {"edu", "gov", "mil"}

FOOTNOTE_MARKS = re.compile(r"[\u2020\u2021\u00a7\u00b6\u2016\u2225*#\u2217\u22c6\u2605\u2606\u00b9\u00b2\u00b3\u2070-\u209f]")
POSTAL_CODE = re.compile(r"\b\d{3}[\s-]?\d{2,4}(?:-\d{4})?\b")


def fold(text: str) -> str:
    """NFKC, then strip accents and footnote marks, collapse white space."""
    text = unicodedata.normalize("NFKC", text)
    text = FOOTNOTE_MARKS.sub(" ", text)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = text.replace("\u2019", "'").replace("`", "'").replace("\u00b4", "")
    return " ".join(text.split())


@dataclass(frozen=True)  # results are cached and shared: nobody may change one
class Resolution:
    country: str | None
    institution: str | None
    institution_id: str | None
    method: str
    confidence: float
    evidence: str | None  # the text that decided (place name, alias or domain)
    reason: str | None = None  # why it is unresolved

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Institution:
    id: str
    name: str
    country: str
    hq: bool


def _load_yaml(name: str):
    with importlib_resources.files("pipeline").joinpath("data").joinpath(name).open("r", encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _alternation(names: list[str]) -> str:
    ordered = sorted(set(names), key=len, reverse=True)
    return "|".join(re.escape(n) for n in ordered)


def _word_regex(names: list[str], flags: int = 0) -> re.Pattern:
    # Whole words: no letter or digit right before or after the name.
    return re.compile(r"(?<![\w])(?:" + _alternation(names) + r")(?![\w])", flags)


def _by_name(groups: dict[str, list[str]]) -> dict[str, str]:
    """{country code: [names]} -> {folded lower-case name: country code}."""
    return {fold(str(name)).lower(): code for code, names in groups.items() for name in names}


class Resolver:
    def __init__(self) -> None:
        places = _load_yaml("places.yaml")
        self._build_places(places)
        self._build_institutions(_load_yaml("institutions.yaml"))

    # -- tables -----------------------------------------------------------------------------
    def _build_places(self, places: dict) -> None:
        countries: dict[str, str] = {}
        for c in pycountry.countries:
            for attr in ("name", "common_name", "official_name"):
                value = getattr(c, attr, None)
                if value:
                    countries[fold(value).lower()] = c.alpha_2
        countries.update(_by_name(places["country_variants"]))
        for word in places.get("not_countries", []):
            countries.pop(word, None)
        self._countries = countries
        self._country_re = _word_regex(list(countries))
        self._subdivisions = _by_name(places["subdivisions"])
        self._subdivision_re = _word_regex(list(self._subdivisions))
        self._cities = _by_name(places["cities"])
        self._city_re = _word_regex(list(self._cities))

        states = "|".join(places["us_state_codes"])
        provinces = "|".join(places["ca_province_codes"])
        self._state_code_re = re.compile(r",\s*(" + states + r")(?:\s+\d{5}(?:-\d{4})?)?\s*(?=,|$|\))")
        self._province_code_re = re.compile(
            r",\s*(" + provinces + r")(?:\s+[A-Z]\d[A-Z]\s?\d[A-Z]\d)?\s*(?=,|$|\))"
        )

    def _build_institutions(self, entries: list[dict]) -> None:
        by_alias_ci: dict[str, Institution] = {}
        by_alias_cs: dict[str, Institution] = {}
        by_domain: dict[str, Institution] = {}
        for i, entry in enumerate(entries):
            inst = Institution(
                id=f"pa:{i:04d}", name=entry["name"], country=entry["country"], hq=bool(entry.get("hq"))
            )
            for alias in entry.get("aliases") or []:
                alias = fold(str(alias))
                if alias.upper() == alias and any(c.isalpha() for c in alias):
                    by_alias_cs[alias] = inst  # acronyms match in capitals only
                else:
                    by_alias_ci[alias.lower()] = inst
            for domain in entry.get("domains") or []:
                by_domain[domain.lower()] = inst
        self._inst_ci = by_alias_ci
        self._inst_cs = by_alias_cs
        self._inst_domain = by_domain
        self._inst_ci_re = _word_regex(list(by_alias_ci))
        self._inst_cs_re = _word_regex(list(by_alias_cs))

    # -- evidence ---------------------------------------------------------------------------
    def locations(self, folded: str) -> list[tuple[int, str, str, str]]:
        """Every place mention: (position, level, country, matched text)."""
        lower = folded.lower()
        found = []
        for m in self._country_re.finditer(lower):
            found.append((m.start(), "country", self._countries[m.group(0)], m.group(0)))
        for m in self._subdivision_re.finditer(lower):
            found.append((m.start(), "subdivision", self._subdivisions[m.group(0)], m.group(0)))
        for m in self._state_code_re.finditer(folded):
            found.append((m.start(1), "us_state_code", "US", m.group(1)))
        for m in self._province_code_re.finditer(folded):
            found.append((m.start(1), "us_state_code", "CA", m.group(1)))
        for m in self._city_re.finditer(lower):
            found.append((m.start(), "city", self._cities[m.group(0)], m.group(0)))
        # A name inside a longer match (e.g. "china" in "republic of china") is dropped.
        found.sort(key=lambda f: (f[0], -len(f[3])))
        kept: list[tuple[int, str, str, str]] = []
        for f in found:
            if kept and f[0] < kept[-1][0] + len(kept[-1][3]):
                continue
            kept.append(f)
        return kept

    @staticmethod
    def decide_location(mentions: list[tuple[int, str, str, str]]) -> tuple[str, str, str] | None:
        if not mentions:
            return None
        for level in ("country", "subdivision", "us_state_code", "city"):
            at_level = [m for m in mentions if m[1] == level]
            if at_level:
                pos, lvl, country, text = at_level[-1]
                break
        if country == "CN":
            greater = [m for m in mentions if m[2] in ("HK", "MO", "TW") or (m[2] == "CN" and m[1] != "country")]
            if greater and greater[-1][2] != "CN":
                _, lvl, country, text = greater[-1]
        return country, lvl, text

    def institutions_in(self, folded: str) -> list[tuple[int, Institution, str]]:
        found = [(m.start(), self._inst_ci[m.group(0)], m.group(0)) for m in self._inst_ci_re.finditer(folded.lower())]
        found += [(m.start(), self._inst_cs[m.group(0)], m.group(0)) for m in self._inst_cs_re.finditer(folded)]
        return found

    def domain_institution(self, domain: str) -> tuple[Institution | None, str | None]:
        """The known institution owning `domain` or a parent domain (cs.mit.edu -> mit.edu)."""
        labels = domain.strip().lower().strip(".").split(".")
        for i in range(len(labels) - 1):
            suffix = ".".join(labels[i:])
            if suffix in self._inst_domain:
                return self._inst_domain[suffix], suffix
        return None, None

    def domain_evidence(self, domain: str | None) -> tuple[str, str, Institution | None, str] | None:
        """(country, method, institution, evidence) from an e-mail domain, or None."""
        if not domain:
            return None
        domain = domain.strip().lower().strip(".")
        if "@" in domain:
            domain = domain.rsplit("@", 1)[1]
        if not domain or domain in WEBMAIL:
            return None
        inst, suffix = self.domain_institution(domain)
        if inst and not inst.hq:
            return inst.country, "email:institution", inst, suffix
        tld = domain.rsplit(".", 1)[-1]
        if tld in US_TLDS:
            return "US", "email:edu", None, domain
        if len(tld) == 2 and tld not in GENERIC_CCTLD:
            code = TLD_FIXUPS.get(tld, tld.upper())
            if pycountry.countries.get(alpha_2=code):
                return code, "email:cctld", None, domain
        return None

    # -- the decision -----------------------------------------------------------------------
    @functools.lru_cache(maxsize=200_000)
    def resolve(self, affiliation: str | None, email_domain: str | None = None) -> Resolution:
        folded = fold(affiliation or "")
        mentions = self.locations(folded) if folded else []
        insts = self.institutions_in(folded) if folded else []
        # The most specific institution named: the longest alias, right-most on ties.
        best_inst = max(insts, key=lambda f: (len(f[2]), f[0]))[1] if insts else None

        decided = self.decide_location(mentions)
        if decided:
            country, level, text = decided
            inst = best_inst if best_inst and best_inst.country == country else None
            return Resolution(
                country, inst.name if inst else None, inst.id if inst else None,
                f"location:{level}", CONFIDENCE[f"location:{level}"], text,
            )
        located = [f for f in insts if not f[1].hq]
        if located:
            pos, inst, text = max(located, key=lambda f: (len(f[2]), f[0]))
            return Resolution(inst.country, inst.name, inst.id, "institution", CONFIDENCE["institution"], text)
        if best_inst is not None:
            # A company named without a place: the string says where the author works, the
            # e-mail domain is often the address of another affiliation. Headquarters it is.
            return Resolution(
                best_inst.country, best_inst.name, best_inst.id, "institution:hq", CONFIDENCE["institution:hq"],
                best_inst.name,
            )
        dom = self.domain_evidence(email_domain)
        if dom:
            country, method, inst, text = dom
            return Resolution(
                country, inst.name if inst else None, inst.id if inst else None, method, CONFIDENCE[method], text
            )
        inst, suffix = self.domain_institution(email_domain) if email_domain else (None, None)
        if inst is not None:  # a multinational's domain: headquarters, as a last resort
            return Resolution(inst.country, inst.name, inst.id, "institution:hq", CONFIDENCE["institution:hq"], suffix)
        if not folded and not email_domain:
            reason = "no affiliation and no e-mail domain"
        elif not folded:
            reason = f"no affiliation; e-mail domain {email_domain!r} names no country"
        else:
            reason = "no place, known institution or country-specific e-mail domain"
        return Resolution(None, None, None, "unresolved", 0.0, None, reason)


@functools.lru_cache(maxsize=1)
def default_resolver() -> Resolver:
    return Resolver()
