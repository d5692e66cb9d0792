"""Institution evidence (rules 2 and 5): the curated table (`data/institutions.yaml`, facts
written for paperatlas) and the ROR registry, matched in the string by name key, label, alias
or upper-case acronym (`_matches`). Each match carries its specificity (the rarity of the
name's words); a registry name must be plausible in its place (a one-word name is a whole
segment or a rare proper noun). A multinational named without a place is placed at its
headquarters (`_headquarters`).
"""

from __future__ import annotations

import collections
import functools
import math
import re

from ..names import CONNECTORS, INSTITUTION_WORDS, LEADS, english_forms, fold, name_key
from .base import Institution, _Match, _Text, _walk, prefixes_of
from .prose import named_as_name

# A registry word this common ends organisations' names (prose.named_as_name); on the partial
# dump (105,000 names) "ai" is in 90, "vision" 60, "model" 14, "process" 42.
ORG_WORD_NAMES = 50
ORG_WORD_HEADS = 5
ACRONYM_RE = re.compile(r"(?<![\w-])[A-Z][A-Z0-9&\-]{2,}(?![\w-])")


def _alternation(names: list[str]) -> str:
    ordered = sorted(set(names), key=len, reverse=True)
    return "|".join(re.escape(n) for n in ordered)


def _word_regex(names: list[str], flags: int = 0) -> re.Pattern:
    # Whole words: no letter or digit right before or after the name.
    return re.compile(r"(?<![\w])(?:" + _alternation(names) + r")(?![\w])", flags)


class RegistryRules:
    """Curated and registry institutions, mixed into `Resolver`. Reads `ror` (None without a
    registry); `_build_institutions` fills `_inst_ci`, `_inst_prefixes`, `_inst_cs`,
    `_inst_cs_re`, `_hq_by_ror_key` and `_inst_domain` (which `DomainRules` reads)."""

    def _build_institutions(self, entries: list[dict]) -> None:
        by_alias_ci: dict[str, Institution] = {}
        by_alias_cs: dict[str, Institution] = {}
        by_domain: dict[str, Institution] = {}
        self._hq_by_ror_key: dict[str, Institution] = {}
        for i, entry in enumerate(entries):
            ror_id = entry.get("ror")
            if not ror_id and self.ror is not None:
                found = [o for o in self.ror.orgs_for_name(name_key(entry["name"]))
                         if self.ror.countries[o] == entry["country"]]
                ror_id = self.ror.ids[found[0]] if len(found) == 1 else None
            inst = Institution(
                id=ror_id or f"pa:{i:04d}", name=entry["name"], country=entry["country"], hq=bool(entry.get("hq")),
                labs=tuple(entry.get("labs") or ()),
                lab_domains=tuple((str(d).lower(), str(c)) for d, c in (entry.get("lab_domains") or {}).items()),
                regions=tuple((str(r).lower(), str(c)) for r, c in (entry.get("regions") or {}).items()),
            )
            for alias in [entry["name"], *(entry.get("aliases") or [])]:
                alias = fold(str(alias))
                if alias.upper() == alias and any(c.isalpha() for c in alias):
                    by_alias_cs[alias] = inst  # acronyms match in capitals only
                else:
                    key = name_key(alias)
                    if key:
                        by_alias_ci[key] = inst
                if inst.hq:
                    self._hq_by_ror_key[name_key(alias)] = inst
            if inst.hq:
                self._hq_by_ror_key[name_key(entry["name"])] = inst
            for domain in [*(entry.get("domains") or []), *(d for d, _ in inst.lab_domains)]:
                by_domain[domain.lower()] = inst
        self._inst_ci = by_alias_ci
        self._inst_prefixes = prefixes_of(by_alias_ci)
        self._inst_cs = by_alias_cs
        self._inst_domain = by_domain
        self._inst_cs_re = _word_regex(list(by_alias_cs))
        self._org_key_memo: dict[int, tuple[str, str]] = {}
        self._specificity_memo: dict[str, float] = {}

    def _ror_matches(self, text: _Text) -> list[_Match]:
        ror = self.ror
        if ror is None or not text.tokens:
            return []
        tokens, folded = text.tokens, text.folded
        found: list[_Match] = []
        for i, length, key, orgs in _walk(text.words, ror.by_name, ror.prefixes, keep=self._keep_ror(text)):
            first, last = tokens[i], tokens[i + length - 1]
            orgs = self._english_namesake(key, orgs if isinstance(orgs, tuple) else (orgs,))
            if len(orgs) > 1:
                orgs = self._ordered(key, orgs, text)
            found.append(_Match(first[1], last[2], orgs if isinstance(orgs, tuple) else (orgs,),
                                False, text.is_whole(i, length), length, folded[first[1]:last[2]],
                                self._specificity(key), key in self._hq_by_ror_key, key))
        # Upper-case acronyms naming ROR organisations ("KTH", "EPFL"), as whole segments.
        for m in ACRONYM_RE.finditer(folded):
            orgs = ror.by_acronym.get(m.group(0))
            if orgs is not None and (m.start(), m.end()) in text.whole_spans:
                key = name_key(m.group(0))
                found.append(_Match(m.start(), m.end(), orgs if isinstance(orgs, tuple) else (orgs,),
                                    False, False, 0, m.group(0), 1.0, key in self._hq_by_ror_key, key))
        return found

    def _ordered(self, key: str, orgs: tuple, text: _Text) -> tuple:
        """Organisations sharing a name, the likeliest first: the one whose own name it is
        ("Anadolu University", not a university that once carried the name), then one whose
        city the string names."""
        words = set(text.words)
        return tuple(sorted(orgs, key=lambda o: (self._org_keys(o)[0] != key,
                                                 not set(self._org_keys(o)[1].split() or ["-"]) <= words, o)))

    def _org_keys(self, org: int) -> tuple[str, str]:
        """(name key, city key) of a registry organisation, computed once."""
        keys = self._org_key_memo.get(org)
        if keys is None:
            keys = self._org_key_memo[org] = (name_key(self.ror.names[org]), name_key(self.ror.cities[org] or ""))
        return keys

    def _english_namesake(self, key: str, orgs: tuple) -> tuple:
        """A university's name in its own language that ROR knows only as another university's
        label ("Universitat Freiburg" is a German label of Fribourg, CH) belongs to the
        university whose English name it translates to ("University of Freiburg", DE)."""
        forms = english_forms(key)
        ror = self.ror
        if not forms or any(name_key(ror.names[o]) == key for o in orgs):
            return orgs  # no native form, or the key is a primary name
        countries = {ror.countries[o] for o in orgs}
        for target in forms:
            named = ror.by_name.get(target)
            named = named if isinstance(named, tuple) else (named,) if named is not None else ()
            primary = tuple(o for o in named if name_key(ror.names[o]) == target)
            if primary and {ror.countries[o] for o in primary} - countries:
                return primary
        return orgs

    def _specificity(self, key: str) -> float:
        if self.ror is None:
            return float(len(key.split()))
        memo = self._specificity_memo
        found = memo.get(key)
        if found is None:
            df = self.ror.token_df
            total = len(self.ror.by_name)
            words = key.split()
            found = memo[key] = max(math.log(total / (1 + df.get(w, 0))) for w in words) + 0.1 * len(words)
        return found

    def _keep_ror(self, text: _Text):
        """The test a ROR name found at words[i:i+length] must pass to count."""
        words, tokens = text.words, text.tokens
        n = len(words)

        def keep(i: int, length: int, key: str) -> bool:
            first, last = tokens[i], tokens[i + length - 1]
            continues = (i + length < n and words[i + length] in CONNECTORS and tokens[i + length][3] == last[3]) or (
                i > 0 and words[i - 1] in LEADS and tokens[i - 1][3] == first[3])
            return not continues and self._plausible(key, length, text.is_whole(i, length),
                                                     text.folded[first[1]:last[2]])

        return keep

    def _plausible(self, key: str, length: int, whole: bool, text: str) -> bool:
        """Reject ROR names that are ordinary words inside a longer text: a one-word name must
        be a whole segment, or a rare proper noun (capitalised, in at most 3 ROR names)."""
        if length > 1:
            if whole:
                return True
            # Several words, all of them common in organisation names ("Research Center for
            # Humanities") say too little inside a longer text.
            df = self.ror.token_df
            return any(df.get(w, 0) < 60 and len(w) > 2 for w in key.split())
        if whole:
            return len(key) >= 5 and self.ror.token_df.get(key, 0) <= 20
        return len(key) >= 5 and text[:1].isupper() and self.ror.token_df.get(key, 0) <= 3

    def _curated_matches(self, text: _Text) -> list[_Match]:
        """Institutions of the curated table: names and aliases by name key (so "Max-Planck-
        Institute" finds "max planck institute"), upper-case acronyms as written."""
        tokens, folded = text.tokens, text.folded
        out = []
        for i, length, key, inst in _walk(text.words, self._inst_ci, self._inst_prefixes):
            first, last = tokens[i], tokens[i + length - 1]
            out.append(_Match(first[1], last[2], (inst,), True, text.is_whole(i, length), length,
                              folded[first[1]:last[2]], self._specificity(key) + 0.01, inst.hq))
        for m in self._inst_cs_re.finditer(folded):
            inst = self._inst_cs[m.group(0)]
            out.append(_Match(m.start(), m.end(), (inst,), True, (m.start(), m.end()) in text.whole_spans, 1,
                              m.group(0), self._specificity(name_key(m.group(0))) + 0.01, inst.hq))
        return out

    def _matches(self, text: _Text) -> list[_Match]:
        # A name that is an ordinary word ("Line", "Oracle", "Meta") counts only as a name (prose.py).
        return [m for m in self._curated_matches(text) + self._confirmed(self._ror_matches(text), text)
                if named_as_name(m.start, m.end, text, self._org_word)]

    WORD_ACRONYM = 100  # registry names holding the acronym as a word: it is an ordinary word ("CARE")

    def _confirmed(self, matches: list[_Match], text: _Text) -> list[_Match]:
        """A registry name made of place names only, or that is the city of the organisation it
        names (a city's own organisation: "Ville de Sherbrooke" is also "Sherbrooke"), is the
        place when the string holds an institution word elsewhere: dropped.
        Registry acronyms that are also a place ("USA", "UAE", "PRC", a city) or an ordinary
        word ("CARE") name that organisation only when the rest of the string agrees: its city
        or a word of its name that is neither an institution word nor a place appears outside the
        acronym. "..., Silver Spring, MD, USA" does not name the United States Army."""
        out = []
        institution_words = INSTITUTION_WORDS.intersection(text.words)
        for m in matches:
            if m.tokens and institution_words:
                # A city's own organisation ("Ville de Sherbrooke", whose name in the registry is
                # also just "Sherbrooke") is not what a string naming a university in that city names.
                key = m.key
                if not INSTITUTION_WORDS.intersection(key.split()):
                    if all(self._is_place_word(w) for w in key.split()):
                        continue  # only place names: "Ube, Japan" is not the company Ube (Japan)
                    m.orgs = tuple(o for o in m.orgs if self._org_keys(o)[1] != key)
                    if not m.orgs:
                        continue
            if m.tokens or m.curated:
                out.append(m)
                continue
            key = m.key
            if not (key in self._places or key in self._gazetteer
                    or self.ror.token_df.get(key, 0) >= self.WORD_ACRONYM):
                out.append(m)
                continue
            rest = {t[0] for t in text.tokens if t[2] <= m.start or t[1] >= m.end}
            orgs = tuple(o for o in m.orgs if self._agrees(o, rest))
            if orgs:
                m.orgs = orgs
                out.append(m)
        return out

    def _is_place_word(self, word: str) -> bool:
        return word in self._places or word in self._gazetteer or word in self.ror.city_orgs

    def _agrees(self, org: int, words: set[str]) -> bool:
        name, city = self._org_keys(org)
        if city and set(city.split()) <= words:
            return True
        own = [w for w in name.split() if w not in INSTITUTION_WORDS and w not in CONNECTORS
               and len(w) > 2 and w not in self._places]
        return any(w in words for w in own)

    def _org_word(self, word: str) -> bool:
        """A word organisations' names end in: an institution word, the last word of at least
        ORG_WORD_HEADS curated names ("research", "laboratory", "ai", "group"), or a word of at
        least ORG_WORD_NAMES registry names ("vision", "brain")."""
        return word in INSTITUTION_WORDS or word in self._name_heads or (
            self.ror is not None and self.ror.token_df.get(word, 0) >= ORG_WORD_NAMES)

    @functools.cached_property
    def _name_heads(self) -> frozenset[str]:
        heads = collections.Counter(key.rsplit(" ", 1)[-1] for key in self._inst_ci)
        return frozenset(w for w, n in heads.items() if n >= ORG_WORD_HEADS)

    def _org_country(self, org) -> str | None:
        return org.country if isinstance(org, Institution) else self.ror.countries[org]

    def _org_named(self, org) -> tuple[str, str]:
        if isinstance(org, Institution):
            return org.name, org.id
        return self.ror.names[org], self.ror.ids[org]

    def _top_parent(self, inst_id: str | None, inst_name: str | None) -> tuple[str | None, str | None]:
        """(id, name) of the institution's top-level parent in the registry; the institution
        itself when the registry gives it no parent (or does not hold it)."""
        if not inst_id:
            return None, None
        org = self.ror.org_of(inst_id) if self.ror is not None and self.ror.by_id else None
        if org is None:
            return inst_id, inst_name
        root = self.ror.top_parent(org)
        return self.ror.ids[root], self.ror.names[root]

    def _headquarters(self, matches: list[_Match]) -> tuple[Institution, str] | None:
        for m in sorted(matches, key=lambda m: (-m.specificity, not m.curated)):
            if m.curated and m.orgs[0].hq:
                return m.orgs[0], m.text
            if not m.curated:
                inst = self._hq_by_ror_key.get(name_key(m.text))
                if inst is not None:
                    return inst, m.text
        return None
