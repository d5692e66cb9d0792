"""An institution is only the one the string names (issue 31, part 2).

Each class of error has a test built on a small registry in the ROR v2 dump shape
(tests/ror_fixture.py: `INSTITUTION_ORGS`, `INSTITUTION_RELATIONS`, the real records' names,
acronyms, places and relationships):
- a registry acronym that is also a country code or an ordinary word ("USA" is the United
  States Army's) needs the rest of the string to agree;
- a city's own organisation ("Ville de Sherbrooke") never stands in for a university named in
  the same string;
- a sub-unit's name matched in the registry must be consistent with the parent the string names
  (its registry child, or at least in its country), else the named parent wins;
- every resolved row records the matched organisation and its top-level parent (ROR
  `relationships` of type parent, followed to the root, cycles guarded).
The same examples on the shared partial registry close the file (skipped without it).
"""

from __future__ import annotations

import pytest
from conftest import shared
from ror_fixture import INSTITUTION_ORGS, INSTITUTION_RELATIONS, ORGS, record, write_dump

from paperatlas.pipeline.affiliations import ror
from paperatlas.pipeline.affiliations.resolver import Resolver
from paperatlas.pipeline.store import SCHEMA

ARMY = "https://ror.org/00afsp483"
SHERBROOKE_CITY = "https://ror.org/044sx9203"
SHERBROOKE_UNIVERSITY = "https://ror.org/00kybxq39"
VIROLOGY_SAS = "https://ror.org/04xrjem68"
SLOVAK_ACADEMY = "https://ror.org/03h7qq074"
TUM = "https://ror.org/02kkvpp62"
RIKEN = "https://ror.org/01sjwvz98"


@pytest.fixture(scope="module")
def resolver(tmp_path_factory):
    path = write_dump(tmp_path_factory.mktemp("ror") / "dump.zip", rows=ORGS + INSTITUTION_ORGS,
                      relations=INSTITUTION_RELATIONS)
    return Resolver(ror.load_index(path, tmp_path_factory.mktemp("cache")))


def test_an_acronym_that_is_a_country_needs_the_rest_of_the_string(resolver):
    """"USA" is the United States Army's acronym in the registry; at the end of an address it is
    the country, and the string names no institution the registry holds."""
    res = resolver.resolve("Food and Drug Administration, Silver Spring, MD, USA")
    assert res.country == "US" and res.ror_id != ARMY, res
    assert resolver.resolve("Silver Spring, MD, USA").ror_id is None
    # The rest of the string agrees: a word of the organisation's own name.
    res = resolver.resolve("Army Medical Department, USA")
    assert (res.country, res.ror_id) == ("US", ARMY), res
    # An acronym that is neither a place nor a word is still read as written.
    assert resolver.resolve("Department of Physics, MIT, Cambridge, MA").ror_id == "https://ror.org/042nb2s44"


def test_a_city_organisation_never_stands_in_for_the_university_named(resolver):
    """The registry also calls Ville de Sherbrooke just "Sherbrooke"; the string names the
    university (by the English form of its French name) and the city it is in."""
    for text in ("University of Sherbrooke, Sherbrooke, Canada", "University of Sherbrooke, Sherbrooke",
                 "Department of Chemistry, Université de Sherbrooke, Sherbrooke, QC, Canada"):
        res = resolver.resolve(text)
        assert (res.country, res.ror_id) == ("CA", SHERBROOKE_UNIVERSITY), (text, res)
    # The city's own organisation is still found by its own name.
    assert resolver.resolve("Ville de Sherbrooke, Sherbrooke, Canada").ror_id == SHERBROOKE_CITY


def test_a_sub_unit_yields_to_the_parent_the_string_names(resolver):
    """A sub-unit's name that the registry holds for another parent abroad is not the one the
    string means: the named parent wins. Its own parent keeps it."""
    res = resolver.resolve("Institute of Virology, Technical University Munich")
    assert (res.country, res.ror_id) == ("DE", TUM), res
    res = resolver.resolve("Laboratory for Cellular Epigenomics, RIKEN")
    assert (res.country, res.ror_id) == ("JP", RIKEN), res
    res = resolver.resolve("Institute of Virology, Slovak Academy of Sciences")
    assert (res.country, res.ror_id) == ("SK", VIROLOGY_SAS), res


def test_the_top_level_parent_is_recorded(resolver):
    res = resolver.resolve("Institute of Virology, Slovak Academy of Sciences, Bratislava, Slovakia")
    assert res.ror_id == VIROLOGY_SAS
    # Two levels up: the Biomedical Research Center, then the Academy.
    assert (res.parent_ror_id, res.parent_name) == (SLOVAK_ACADEMY, "Slovak Academy of Sciences")
    res = resolver.resolve("RIKEN Advanced Science Institute, Wako, Saitama, Japan")
    assert (res.ror_id, res.parent_ror_id) == ("https://ror.org/030vbmf58", RIKEN), res
    # An organisation without a parent is its own top-level parent.
    res = resolver.resolve("Technical University of Munich, Munich, Germany")
    assert (res.ror_id, res.parent_ror_id, res.parent_name) == (TUM, TUM, "Technical University of Munich")
    # Stored with every resolved row.
    row = res.row()
    assert (row["parent_ror_id"], row["parent_name"]) == (TUM, "Technical University of Munich")
    assert "parent_ror_id VARCHAR" in SCHEMA["resolved_affiliations"]
    assert "parent_name VARCHAR" in SCHEMA["resolved_affiliations"]


def test_a_parent_cycle_in_the_registry_ends(tmp_path):
    rows = [ror.flatten(record(r)) for r in INSTITUTION_ORGS[:3]]
    a, b = rows[0]["ror_id"], rows[1]["ror_id"]
    rows[0]["parents"], rows[1]["parents"] = [b], [a]
    index = ror.RorIndex.build(rows, "cycle")
    top = index.top_parent(index.org_of(a))
    assert index.ids[top] in (a, b)
    assert index.is_within(index.org_of(a), index.org_of(b))
    assert not index.is_within(index.org_of(a), index.org_of(rows[2]["ror_id"]))


def test_a_university_is_its_own_top_level_parent():
    """ROR gives Beijing Institute of Technology the ministry that runs it as parent, and UC
    Berkeley the University of California System: the institutions table would name those. The
    walk stops at a university; its sub-units still climb to it, and other organisations climb on."""
    rows = [ror.flatten(record(r)) for r in INSTITUTION_ORGS[:3]]
    university, ministry, lab = rows[0], rows[1], rows[2]
    university["types"], ministry["types"], lab["types"] = ["company", "education"], ["funder", "government"], \
        ["facility"]  # education among its types, not the first
    university["parents"], lab["parents"] = [ministry["ror_id"]], [university["ror_id"]]
    index = ror.RorIndex.build(rows, "university")
    assert index.ids[index.top_parent(index.org_of(university["ror_id"]))] == university["ror_id"]
    assert index.ids[index.top_parent(index.org_of(lab["ror_id"]))] == university["ror_id"]
    university["types"] = ["facility"]  # an institute of an academy climbs to the academy
    index = ror.RorIndex.build(rows, "institute")
    assert index.ids[index.top_parent(index.org_of(lab["ror_id"]))] == ministry["ror_id"]


@pytest.fixture(scope="module")
def partial_resolver(tmp_path_factory):
    dump = shared("ror", "ror-partial-v2.zip")
    return Resolver(ror.load_index(dump, tmp_path_factory.mktemp("cache")))


@pytest.mark.parametrize("text, country, ror_id", [
    ("Food and Drug Administration, Silver Spring, MD, USA", "US", None),
    ("University of Sherbrooke, Sherbrooke, Canada", "CA", SHERBROOKE_UNIVERSITY),
    ("Institute of Virology, Technical University Munich", "DE", TUM),
    ("Laboratory for Cellular Epigenomics, RIKEN", "JP", RIKEN),
])
def test_the_issue_examples_on_the_partial_registry(partial_resolver, text, country, ror_id):
    res = partial_resolver.resolve(text)
    assert (res.country, res.ror_id) == (country, ror_id), res


def test_the_top_level_parent_reaches_the_country_decision(tmp_path):
    """The decision every count reads carries the institution's top-level parent, and the stored
    row gives it back."""
    from paperatlas.pipeline.countries import decision

    resolved = {("Institute X, Some University", None): {
        "country": "DE", "method": "institution:ror", "confidence": 0.93, "institution": "Institute X",
        "ror_id": "https://ror.org/0child000", "parent_ror_id": "https://ror.org/0parent00",
        "parent_name": "Some University", "alternatives": []}}
    rows = [{"partition_key": "x-2020", "paper_id": "p", "author_position": 1,
             "affiliation": "Institute X, Some University", "email_domain": None}]
    (d,) = decision.decide(rows, resolved)
    assert (d.ror_id, d.parent_ror_id, d.parent_name) == ("https://ror.org/0child000", "https://ror.org/0parent00",
                                                         "Some University")
    assert decision.from_row(d.as_row()).parent_ror_id == "https://ror.org/0parent00"
