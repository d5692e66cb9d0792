"""The decision: `Resolver`, composed of the rule families (`overrides`, `places`, `registry`,
`domains`, `fuzzy`), splits a string into the institutions it names and tries the rules on each
part in order (`_resolve_one`; the order and why it holds: the package docstring and
docs/resolver.md). Here too are the steps that weigh several families at once: which
institution decides (`_choose_institution`), place names that are part of an institution's
name (`_outside_names`), the other countries the evidence points to (`_other_countries`), and
the last rule, a company's legal form (`LEGAL_FORMS`).
"""

from __future__ import annotations

import functools
import re
from dataclasses import replace
from importlib import resources as importlib_resources

from ...models import load_yaml
from ..names import INSTITUTION_WORDS, fold, name_key
from ..ror import RorIndex
from .addresses import address_country
from .base import CONFIDENCE, MAX_AFFILIATION, Institution, Resolution, _Match, _Text
from .domains import EDU_METHOD, DomainRules
from .fuzzy import FuzzyRules
from .overrides import Override, OverrideRules
from .places import PlaceRules
from .prose import legal_form_in_place, prose_reason
from .registry import RegistryRules

# A place joined to an institution's name as its campus: "Rutgers University-New Brunswick".
CAMPUS_JOIN = re.compile(r"\s*(?:[-\u2010-\u2015]|\bat)\s*")
# A word broken by a hyphen at a line end: lower case after the hyphen ("Univer-sity").
BROKEN_WORD = re.compile(r"\b([A-Za-z]{2,})-([a-z]{2,})\b")
# Words of a segment naming a parent that only a fuzzy match finds ("Technical University Munich").
PARENT_WORDS = {"university", "universitat", "universite", "universidad", "universita", "universidade",
                "universiteit", "college", "academy", "polytechnic", "politecnico", "polytechnique", "hochschule"}
PART_SPLIT = re.compile(r"\s*[;|]\s*|\s+\+\s+|\s+/\s+")
AND_SPLIT = re.compile(r"\s+(?:and|&)\s+", re.IGNORECASE)
# Legal forms of companies that exist in one country's law (or overwhelmingly in one).
# "Inc." and "LLC" are US forms; "Co., Ltd." (East Asia), "Ltd", "AG" and "S.A." are shared
# by several countries and say nothing.
LEGAL_FORMS = [
    (re.compile(r"\bGmbH\b|\be\.\s?V\.(?!\w)", re.IGNORECASE), "DE"),
    (re.compile(r"\bs\.\s?r\.\s?o\.?(?!\w)", re.IGNORECASE), "CZ"),
    (re.compile(r"\bS\.\s?r\.\s?l\.?(?!\w)|\bS\.p\.A\.?(?!\w)|\bSrl\b"), "IT"),
    (re.compile(r"\bB\.\s?V\.?(?!\w)"), "NL"),
    (re.compile(r"\bPvt\.?\s*Ltd\b|\bPrivate Limited\b", re.IGNORECASE), "IN"),
    (re.compile(r"\bPte\.?\s*Ltd\b", re.IGNORECASE), "SG"),
    (re.compile(r"\bSdn\.?\s*Bhd\b", re.IGNORECASE), "MY"),
    (re.compile(r"\bPty\.?\s*Ltd\b", re.IGNORECASE), "AU"),
    (re.compile(r"\bOyj?\b"), "FI"),
    (re.compile(r"\bK\.K\.(?!\w)|\bKabushiki Kaisha\b"), "JP"),
    (re.compile(r"\bApS\b|\bA/S\b"), "DK"),
    (re.compile(r"\bAB\b(?!\s*[-&])"), "SE"),
    (re.compile(r"\bS\.A\.S\.?(?!\w)|\bSAS\b|\bSARL\b"), "FR"),
    (re.compile(r"\bS\.L\.(?!\w)"), "ES"),
    (re.compile(r"\bInc\b\.?|\bLLC\b|\bL\.L\.C\.(?!\w)|\bIncorporated\b"), "US"),
]

# Any of them: one search tells the common string, which holds none, from the rest.
ANY_LEGAL_FORM = re.compile("|".join(f"(?i:{p.pattern})" if p.flags & re.IGNORECASE else f"(?:{p.pattern})"
                                     for p, _ in LEGAL_FORMS))


def _load_yaml(name: str):
    with importlib_resources.files("paperatlas.pipeline").joinpath("data").joinpath(name).open("r", encoding="utf-8") as handle:
        return load_yaml(handle)


class Resolver(OverrideRules, PlaceRules, RegistryRules, DomainRules, FuzzyRules):
    """Affiliation string (+ the author's e-mail domain) -> `Resolution`. `__init__` builds each
    family's tables in turn (the gazetteer's after the places': it reads `_countries`); `resolve`
    is cached per (resolver, string, domain), so one resolver is built and shared."""

    def __init__(self, ror: RorIndex | None = None, overrides: list[Override] | None = None,
                 gazetteer: bool = True) -> None:
        self.ror = ror
        self._build_overrides(overrides)
        self._build_places(_load_yaml("places.yaml"))
        self._build_institutions(_load_yaml("institutions.yaml"))
        self._build_gazetteer(ror, gazetteer)
        self._fuzzy_blocks: dict[str, list[str]] | None = None
        self._fuzzy_vocab: dict[str, list[str]] = {}

    @functools.lru_cache(maxsize=300_000)
    def resolve(self, affiliation: str | None, email_domain: str | None = None) -> Resolution:
        if affiliation and len(affiliation) > MAX_AFFILIATION:
            # Not one affiliation (a pasted page, a hostile record); matching time grows faster
            # than its length, so only the e-mail domain is read.
            by_domain = self._resolve_one("", email_domain)
            return by_domain if by_domain.country else replace(
                by_domain, reason=f"longer than {MAX_AFFILIATION:,} characters: not one affiliation string")
        text = self._rejoin(fold(affiliation or ""))
        prose = prose_reason(text) if text else None
        if prose:
            # A sentence, a caption, a formula, a reference: no name in it counts (prose.py).
            # The e-mail domain is read alone, as for a string too long to be an affiliation.
            by_domain = self._resolve_one("", email_domain)
            return by_domain if by_domain.country else replace(by_domain, reason=f"not an affiliation: {prose}")
        pieces = [p for p in PART_SPLIT.split(text) if p and p.strip(" ,")] if text else []
        if len(pieces) <= 1:
            pieces = self._split_on_and(text) if text else []
        if len(pieces) <= 1:
            return self._resolve_one(text, email_domain)
        parts = tuple(self._resolve_one(p, email_domain) for p in pieces)
        resolved = [p for p in parts if p.country]
        if not resolved:
            return self._resolve_one(text, email_domain)
        head = resolved[0]
        countries = tuple(dict.fromkeys(c for p in resolved for c in p.countries))
        return replace(head, countries=countries, parts=parts)

    def _rejoin(self, text: str) -> str:
        """Join a word that a line break split in the PDF the string was copied from
        ("Mas-sachusetts Institute", "Kyoto Univer-sity"): when the two pieces joined make a
        word of institution or place names and they are not both words themselves (so
        "Multi-scale", "Bunkyo-ku" and "Yat-sen" stay as printed)."""
        if "-" not in text:
            return text
        vocabulary = self._vocabulary

        def join(m: re.Match) -> str:
            a, b = m.group(1).lower(), m.group(2)
            whole = a + b
            if whole in vocabulary and not (a in vocabulary and b in vocabulary):
                return m.group(1) + b
            return m.group(0)

        return BROKEN_WORD.sub(join, text)

    @functools.cached_property
    def _vocabulary(self) -> frozenset[str]:
        """Words of registry and curated institution names, and of place names."""
        words = set(self.ror.token_df) if self.ror is not None else set()
        for key in (*self._inst_ci, *self._places):
            words.update(key.split())
        return frozenset(words | INSTITUTION_WORDS)

    def _split_on_and(self, text: str) -> list[str]:
        """"Tsinghua University and Microsoft Research Asia" -> two parts, when the words on each
        side of "and" (up to the next comma) are exactly an institution's name; never inside a
        name ("University of Science and Technology") or a department ("School of EE and CS")."""
        cuts = []
        for m in AND_SPLIT.finditer(text):
            left_start = max(text.rfind(c, 0, m.start()) for c in ",;(") + 1
            right_ends = [i for i in (text.find(c, m.end()) for c in ",;)") if i >= 0]
            right_end = min(right_ends) if right_ends else len(text)
            left = text[left_start:m.start()].strip()
            right = text[m.end():right_end].strip()
            if self._is_institution_name(left) and self._is_institution_name(right):
                cuts.append((m.start(), m.end()))
        if not cuts:
            return [text]
        out, start = [], 0
        for s, e in cuts:
            out.append(text[start:s])
            start = e
        out.append(text[start:])
        return out

    def _is_institution_name(self, folded: str) -> bool:
        if not folded:
            return False
        return any(m.whole and m.tokens > 0 and m.start == 0 and m.end == len(folded)
                   for m in self._matches(_Text(folded)))

    def _resolve_one(self, folded: str, email_domain: str | None) -> Resolution:
        overridden = self._override(folded, email_domain)
        if overridden:
            return overridden
        text = _Text(folded)
        segments = text.segments
        mentions = self.locations(folded, text) if folded else []
        matches = self._matches(text) if folded else []
        mentions = self._outside_names(mentions, matches)
        dom = self.domain_evidence(email_domain)

        email_country, email_method = (dom[0], dom[1]) if dom else (None, None)

        def done(country, inst_name, inst_id, method, evidence, alternatives=None):
            if alternatives is None:  # what the rest of the evidence points to
                alternatives = self._other_countries(country, mentions, matches, email_country, folded)
            parent_id, parent_name = self._top_parent(inst_id, inst_name)
            return Resolution(country, inst_name, inst_id, method, CONFIDENCE[method], evidence,
                              countries=(country,), alternatives=tuple(sorted(set(alternatives) - {country})),
                              email_country=email_country, email_method=email_method,
                              parent_ror_id=parent_id, parent_name=parent_name)

        def located(country: str, level: str, text: str) -> Resolution:
            """A place decided: name the most specific institution found in that country."""
            ranked = [(m, orgs[0]) for m in sorted(matches, key=lambda m: (-m.specificity, m.start))
                      if (orgs := [o for o in m.orgs if self._org_country(o) == country])]
            if ranked:
                m, org = ranked[0]
                m, org = self._named_parent(m, org, [(p, o) for p, o in ranked[1:] if p.start >= m.end])
                return done(country, *self._org_named(org), f"location:{level}", text)
            return done(country, None, None, f"location:{level}", text)

        decided = self.decide_location(mentions)
        # 1. An explicit country.
        if decided and decided[1] == "country":
            return located(*decided[:3])

        # 2. A known institution in one country (or made so by the other evidence).
        chosen = self._choose_institution(matches, mentions, decided, dom, folded)
        if chosen:
            m, org = chosen
            parent = self._parent_by_fuzzy(m, org, text) if folded else None
            if parent:
                org, _key, seg = parent
                return done(self.ror.countries[org], self.ror.names[org], self.ror.ids[org], "institution:fuzzy", seg)
            name, iid = self._org_named(org)
            country = self._org_country(org)
            if country in ("HK", "MO") and decided and decided[0] == "CN" and decided[3] >= m.end:
                # A Hong Kong or Macau university's campus on the mainland, named after it as
                # in rule 1 ("The Chinese University of Hong Kong (Shenzhen)" is CN).
                return done("CN", name, iid, f"location:{decided[1]}", decided[2])
            return done(country, name, iid, "institution" if m.curated else "institution:ror", m.text)

        # 3. A state, province or city.
        if decided:
            return located(*decided[:3])

        # 3b. A printed postal address whose form belongs to one country (`addresses`).
        address = address_country(folded) if folded else None
        if address:
            return located(address[0], "address", address[1])

        # 4. A fuzzy match of an institution-looking segment. It is the weakest reading of a
        # name: an e-mail domain in another country wins over it ("Pioneer Center for AI" with a
        # dtu.dk address is Denmark's, not Pioneer Japan), and the match stays an alternative.
        fuzzy = self._fuzzy(segments) if folded and not matches else None
        fuzzy_country = self.ror.countries[fuzzy[0]] if fuzzy else None
        if fuzzy and (email_country is None or email_country == fuzzy_country):
            org, key, seg = fuzzy
            return done(fuzzy_country, self.ror.names[org], self.ror.ids[org], "institution:fuzzy", seg)

        # 5. A multinational named without a place: its headquarters.
        hq = self._headquarters(matches)
        if hq is not None:
            inst, text = hq
            region = self._region(inst, folded)
            if region:  # "Microsoft STC Asia": the company's lab in that region
                return done(region[1], inst.name, inst.id, "location:region", region[0])
            return done(inst.country, inst.name, inst.id, "institution:hq", text, inst.labs)

        # 6. The e-mail domain.
        if dom:
            country, method, name, iid, text = dom
            overruled = {fuzzy_country} if fuzzy_country else set()
            if method == EDU_METHOD:  # unconfirmed: the countries it may have been cut from
                overruled |= self.reserved_alternatives(email_domain)
            return done(country, name, iid, method, text,
                        self._other_countries(country, mentions, matches, email_country, folded) | overruled)
        clean = self._clean_domain(email_domain)
        inst, suffix = self.domain_institution(clean) if clean else (None, None)
        if inst is not None:  # a multinational's domain: headquarters, as a last resort
            return done(inst.country, inst.name, inst.id, "institution:hq", suffix, inst.labs)

        # 7. A place inside an institution's name.
        in_name = self._place_in_name(text) if folded else None
        if in_name:
            return done(in_name[0], None, None, "location:in_name", in_name[1])

        # 8. A company's legal form belongs to one country's company law ("GmbH", "Pvt. Ltd").
        for pattern, country in LEGAL_FORMS if ANY_LEGAL_FORM.search(folded) else ():
            m = self._legal_form(pattern, folded)
            if m:
                return done(country, None, None, "legal_form", m.group(0))
        if not folded and not email_domain:
            reason = "no affiliation and no e-mail domain"
        elif not folded:
            reason = f"no affiliation; e-mail domain {email_domain!r} names no country"
        elif any(len({self._org_country(o) for o in m.orgs}) > 1 for m in matches):
            names = sorted({m.text for m in matches})
            reason = f"institution name shared by organisations in several countries: {', '.join(names)}"
        else:
            reason = "no place, known institution or country-specific e-mail domain"
        return Resolution(None, None, None, "unresolved", 0.0, None, reason, email_country=email_country,
                          email_method=email_method)

    def _other_countries(self, country: str, mentions, matches, email_country: str | None, folded: str) -> set[str]:
        """Countries that evidence other than the deciding one points to: places in the
        string, institutions named (each country of a name several share), the e-mail domain,
        a company's legal form."""
        out = {m[2] for m in mentions}
        for m in matches:  # a name shared by organisations in several countries points to each
            if not m.multinational:
                out |= {self._org_country(o) for o in m.orgs} - {None}
        if email_country:
            out.add(email_country)
        for pattern, legal in LEGAL_FORMS if ANY_LEGAL_FORM.search(folded) else ():  # "ModelBest Inc.", .cn
            if self._legal_form(pattern, folded):
                out.add(legal)
        out.discard(country)
        return out

    @staticmethod
    def _legal_form(pattern: re.Pattern, folded: str) -> re.Match | None:
        """The first legal form of the pattern standing where legal forms stand: closing a
        name ("Acme Robotics, LLC"), not inside a phrase ("the LLC encoding"): prose.py."""
        if pattern.search(folded) is None:  # the common case, kept cheap
            return None
        return next((m for m in pattern.finditer(folded) if legal_form_in_place(folded, m.start(), m.end())), None)

    def _outside_names(self, mentions, matches):
        """Drop place names that are part of an institution's name in another country
        ("Beth Israel Deaconess Medical Center" is in the US)."""
        if not matches:
            return mentions
        kept = []
        for mention in mentions:
            inside = [m for m in matches if m.start <= mention[0] < m.end and m.tokens > 1]
            if inside and all(mention[2] not in {self._org_country(o) for o in m.orgs} for m in inside):
                continue
            kept.append(mention)
        return kept

    def _choose_institution(self, matches: list[_Match], mentions, decided, dom, folded: str = ""):
        """The institution that decides the country, or None. Each candidate must sit in one
        country, or be narrowed to one by the places in the string or the e-mail domain; a
        candidate found inside a longer segment, with a place below country level printed
        outside it, is dropped, unless the place is joined to the name as a campus ("Rutgers
        University-New Brunswick", "University of X at Y"): the place then decides (rule 3)
        and names the most specific institution in its country. That holds whether or not the
        place agrees with the candidate; letting agreeing candidates compete instead named a
        less specific one as often as a better one ("University of California" for "UCLA Vision
        Lab, University of California, Los Angeles"), and no country changed, so the measured
        rule stays. The rest are scored: the rarest word of the name (a proper noun such as
        "Cornell" beats "Center for Applied Mathematics"), agreement with the other
        evidence, a whole-segment match, the curated table. A sub-unit's name that wins must be
        consistent with an institution the string names after it (`_named_parent`)."""
        context = {m[2] for m in mentions}
        context_dom = {dom[0]} if dom else set()
        candidates = []
        for m in matches:
            if m.multinational:
                continue
            countries = {self._org_country(o) for o in m.orgs} - {None}
            if len(countries) == 1:
                org = m.orgs[0]
                country = next(iter(countries))
                consistent = country in context or country in context_dom
            else:
                narrowed = [o for o in m.orgs if self._org_country(o) in context]
                narrowed = narrowed or [o for o in m.orgs if self._org_country(o) in context_dom]
                if not narrowed or len({self._org_country(o) for o in narrowed}) != 1:
                    continue
                org = narrowed[0]
                country = self._org_country(org)
                consistent = True
            # A registry acronym ("DCST") stands for organisations in many countries, of which
            # the registry holds a few: an e-mail address in another country says it is another.
            if not m.curated and m.tokens == 0 and context_dom and country not in context_dom:
                continue
            if decided and not m.whole and not (m.start <= decided[3] < m.end) \
                    and not (folded and decided[3] >= m.end and CAMPUS_JOIN.fullmatch(folded[m.end:decided[3]])):
                continue
            score = (m.specificity + (2.0 if consistent else 0.0) + (1.0 if m.whole else 0.0)
                     + (0.5 if m.curated else 0.0))
            candidates.append(((score, -m.start), m, org))
        if not candidates:
            return None
        best = max(candidates, key=lambda c: c[0])
        later = [(m, org) for _, m, org in sorted(candidates, key=lambda c: c[0], reverse=True) if m.start >= best[1].end]
        return self._named_parent(best[1], best[2], later)

    def _generic(self, m: _Match) -> bool:
        """Is the registry name made of subject words only, none naming anything ("Institute of
        Virology", "Institute of Pathology")? Such names exist in many countries, and in many
        universities of one country."""
        self._ensure_fuzzy_blocks()
        return not any(self._anchor(w) for w in (m.key or name_key(m.text)).split())

    def _sub_unit(self, m: _Match, org) -> str | None:
        """How the match reads as a sub-unit's name, or None: "generic" (`_generic`), else
        "sub-unit" for a registry organisation with a parent or a registry name found inside a
        longer segment ("Epigenomics" in "Laboratory for Cellular Epigenomics")."""
        if m.curated or self.ror is None:
            return None
        if m.whole and self._generic(m):
            return "generic"
        return "sub-unit" if not m.whole or self.ror.parents[org] else None

    def _named_parent(self, m: _Match, org, later: list[tuple[_Match, object]]):
        """A registry name matched before an institution the string names after it in full (a
        whole segment or the curated table, not an acronym) must be that institution's registry
        child (ROR `relationships`, any depth); otherwise the named institution wins. In its
        country: "Kirby Institute, University of New South Wales" is the university while the
        registry does not make the institute its child; "Institute of Pathology, University of
        Würzburg" is not Munich's Pathologisches Institut. In another country only a sub-unit's
        name yields (`_sub_unit`: "Institute of Virology, Technical University Munich" is TUM,
        "Laboratory for Cellular Epigenomics, RIKEN" is RIKEN); two institutions of their own in
        two countries keep the best-scored first."""
        # A parent is named in full, and by the registry: a curated name without a ROR id is not
        # a registry parent to be a child of.
        later = [(p, o) for p, o in later if (p.curated and o.id.startswith("https://ror.org/"))
                 or (not p.curated and p.whole and p.tokens)]
        if not later or m.curated or self.ror is None:
            return m, org
        p, parent = later[0]  # the most likely of the institutions named after it
        if self._org_country(org) != self._org_country(parent) and self._sub_unit(m, org) is None:
            return m, org
        # Consistent with any institution named after it (itself named again, or its parent).
        if any(self._consistent(org, o, same_country=False) for _, o in later):
            return m, org
        return p, parent

    def _consistent(self, org, parent, same_country: bool = True) -> bool:
        if same_country and self._org_country(org) == self._org_country(parent):
            return True
        ror = self.ror
        a = org if not isinstance(org, Institution) else ror.org_of(org.id)
        b = parent if not isinstance(parent, Institution) else ror.org_of(parent.id)
        return a is not None and b is not None and ror.is_within(a, b)

    def _parent_by_fuzzy(self, m: _Match, org, text: _Text):
        """A sub-unit's registry match in one country followed by a segment that looks like an
        institution and that only a fuzzy match names ("Technical University Munich"): the
        named parent wins when the sub-unit is neither in its country nor its registry child.
        Such a parent names a university, college or academy (`PARENT_WORDS`): a near spelling
        of "CITI Lab" is no parent of INSA Lyon."""
        later = [seg for seg in text.segments if seg[0] >= m.end and PARENT_WORDS.intersection(seg[2].split())]
        if not later or self._sub_unit(m, org) is None:
            return None
        fuzzy = self._fuzzy(later)
        if fuzzy and not self._consistent(org, fuzzy[0]):
            return fuzzy
        return None


@functools.lru_cache(maxsize=1)
def default_resolver() -> Resolver:
    """The resolver without a ROR registry: curated tables, places and e-mail domains only."""
    return Resolver()
