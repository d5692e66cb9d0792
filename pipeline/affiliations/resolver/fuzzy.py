"""Rule 4, `institution:fuzzy`: a segment that looks like an institution's name, matched to a
ROR name with rapidfuzz. Every distinctive word must be found, spelt nearly the same, on both
sides; the two must share an anchor (a word that names something rather than describes it);
words that tell namesakes apart (`NAME_KEEPERS`) may not be added or dropped; a US government
name is only ever placed in the US. Thresholds measured on labelled data: docs/resolver.md.
"""

from __future__ import annotations

import functools
import re

from ..names import CONNECTORS, GENERIC_PLACE_WORDS, INSTITUTION_WORDS
from ..ror import fuzzy_blocks, vocabulary_by_initial

# Words a fuzzy match must not add or drop: they tell namesakes apart.
NAME_KEEPERS = ("state", "national", "federal", "polytechnic", "technical", "medical", "normal", "international",
                "applied")
US_GOVERNMENT = re.compile(
    r"\b(?:naval|navy|army|air force|marine corps|nasa|noaa|nist|darpa|iarpa|nih|"
    r"national laborator(?:y|ies)|department of (?:energy|defense|veterans affairs|homeland security)|"
    r"national institutes of health|u ?s|united states)\b")


class FuzzyRules:
    """Fuzzy matching, mixed into `Resolver`. Reads `ror`, and `_places` and `_gazetteer` (filled
    by `PlaceRules._build_places` and `_build_gazetteer`); `_fuzzy_segment` fills `_fuzzy_blocks`
    and `_fuzzy_vocab` on first use (`Resolver.__init__` leaves them empty) from the registry's
    compiled blocks, else from its names. `_anchor` and `_fuzzy_segment` are cached per
    (resolver, argument)."""

    FUZZY_THRESHOLD = 90.0  # token_set_ratio of the whole name (measured: docs/resolver.md)
    FUZZY_WORD = 85.0  # each distinctive word must be found at least this similar

    COMMON_WORD = 300  # registry names a word may appear in and still tell one name from another

    def _distinctive(self, words) -> list[str]:
        return [w for w in words if w not in INSTITUTION_WORDS and w not in CONNECTORS and len(w) > 2
                and self.ror.token_df.get(w, 0) < self.COMMON_WORD]

    def _fuzzy(self, segments: list[tuple[int, int, str]]) -> tuple[int, str, str] | None:
        """(org, matched ROR name key, segment) for the best fuzzy match of a segment that looks
        like an institution's name, or None. Every distinctive word of the segment (not
        "university", "of" ...) must appear, spelt nearly the same, in the ROR name, so
        "Sharif University of Technology" never becomes "Shandong University of Technology"
        while "Ben Gurion University" finds "Ben-Gurion University of the Negev". The two must
        share an anchor (`_anchor`): a name made of subject words only ("Centre for Quantum
        Technologies", "Institute of Artificial Intelligence and Robotics") exists in many
        countries, and a near spelling of it is a guess."""
        if self.ror is None:
            return None
        for _start, _end, key in segments:
            words = key.split()
            if len(words) < 2 or not INSTITUTION_WORDS.intersection(words):
                continue
            hit = self._fuzzy_segment(key)
            if hit:
                return (*hit, key)
        return None

    RARE_WORD = 30  # registry names a word may appear in and still identify a place or name
    ANCHOR_COUNTRIES = 5  # a word in registry names of at most this many countries names something

    def _places_of(self, words) -> list[str]:
        """The place names among `words` that `_distinctive` leaves out as too common ("paris"),
        generic ones ("city", "north") excepted."""
        return [w for w in words if (w in self._places or w in self._gazetteer) and w not in GENERIC_PLACE_WORDS
                and w not in INSTITUTION_WORDS and self.ror.token_df.get(w, 0) >= self.COMMON_WORD]

    @functools.lru_cache(maxsize=20_000)
    def _anchor(self, word: str) -> bool:
        """Does `word` name something rather than describe it? A proper noun ("goethe",
        "sapienza", "pennsylvania") appears in registry names of few countries; a subject word
        ("quantum", "robotics", "mathematical", "global") in those of many. Measured on the
        partial ROR dump: proper nouns of correct fuzzy matches sit in 1-5 countries, the
        subject words of wrong ones in 11-40 (docs/resolver.md)."""
        names = self._fuzzy_blocks.get(word) if self._fuzzy_blocks else None
        if not names:
            return False
        countries = set()
        for name in names:
            countries.update(self.ror.countries[o] for o in self.ror.orgs_for_name(name))
            if len(countries) > self.ANCHOR_COUNTRIES:
                return False
        return True

    def _ensure_fuzzy_blocks(self) -> None:
        if self._fuzzy_blocks is None:
            self._fuzzy_blocks = self.ror.fuzzy_blocks or fuzzy_blocks(self.ror.by_name, self.ror.token_df)
            self._fuzzy_vocab = vocabulary_by_initial(self._fuzzy_blocks)

    @functools.lru_cache(maxsize=50_000)
    def _fuzzy_segment(self, key: str) -> tuple[int, str] | None:
        from rapidfuzz import fuzz, process

        self._ensure_fuzzy_blocks()
        distinctive = self._distinctive(key.split())
        if not distinctive:
            return None
        # A misspelt word ("Massachussets") is looked up by its nearest registry word of the
        # same first letter.
        lookup = []
        for w in sorted(set(distinctive)):  # sorted, not a set's order: that changes with each process's hash seed
            if w not in self._fuzzy_blocks:
                near = process.extractOne(w, self._fuzzy_vocab.get(w[0], ()), scorer=fuzz.ratio,
                                          score_cutoff=self.FUZZY_WORD)
                w = near[0] if near else None
            if w:
                lookup.append(w)
        if not lookup:
            return None
        rarest = min(lookup, key=lambda w: (len(self._fuzzy_blocks[w]), w))
        hits = process.extract(key, self._fuzzy_blocks[rarest], scorer=fuzz.token_set_ratio,
                               score_cutoff=self.FUZZY_THRESHOLD, limit=20)
        good = []
        key_words = key.split()
        us_government = US_GOVERNMENT.search(key) is not None
        for name, score, _ in hits:
            name_words = name.split()
            # A US government name ("Army Research Lab") is its own anchor: it is only ever
            # placed in the US (below).
            if not us_government and not any(w in name_words and self._anchor(w) for w in lookup):
                continue
            # Both ways: each distinctive word of the string is in the name, and the name's are
            # in the string, one excepted when a distinctive word is shared exactly ("University
            # of Marburg" is Philipps-Universität Marburg; "Institute of Computer Science" is
            # not the Czech Academy's). A place in the name counts however common it is: "Paris
            # Centre for Quantum Technologies" is not Singapore's Centre for Quantum Technologies.
            missing = [nw for nw in self._distinctive(name_words) + self._places_of(name_words)
                       if max(fuzz.ratio(nw, kw) for kw in key_words) < self.FUZZY_WORD]
            shared = any(w in name_words and self.ror.token_df.get(w, 0) <= self.RARE_WORD for w in distinctive)
            # "Kent State University" is not the University of Kent: a US state university's
            # "State" is part of its name, as is a campus or system word.
            if any((w in key_words) != (w in name_words) for w in NAME_KEEPERS):
                continue
            if all(max(fuzz.ratio(w, nw) for nw in name_words) >= self.FUZZY_WORD for w in distinctive) and \
                    (not missing or (len(missing) == 1 and shared)):
                good.append((score, name))
        if not good:
            return None
        top = max(score for score, _ in good)
        best = sorted(name for score, name in good if score == top)
        orgs = {o for name in best for o in self.ror.orgs_for_name(name)}
        countries = {self.ror.countries[o] for o in orgs}
        if len(countries) != 1:
            return None
        # A US government or military name ("Naval Research Laboratory", "... National
        # Laboratory") has namesakes abroad; a near spelling never places it there.
        if us_government and countries != {"US"}:
            return None
        return self.ror.orgs_for_name(best[0])[0], best[0]
