"""Evidence the resolver once took as decisive: an unconfirmed `.edu` domain (sources cut
`sustech.edu.cn` to `sustech.edu`), and a multinational's headquarters where the string prints
the author's postal address, and "Georgia" read as the US state beside Tbilisi."""

import pytest
from ror_fixture import write_dump

from paperatlas.pipeline.affiliations import ror
from paperatlas.pipeline.affiliations.resolver import Resolver
from paperatlas.pipeline.affiliations.resolver.addresses import address_country
from paperatlas.pipeline.countries import decision


@pytest.fixture(scope="module")
def resolver(tmp_path_factory):
    path = write_dump(tmp_path_factory.mktemp("ror") / "dump.zip")
    return Resolver(ror.load_index(path, tmp_path_factory.mktemp("cache")))


def test_an_unconfirmed_edu_domain_is_uncertain_with_the_countries_it_may_be_cut_from(resolver):
    # pku.edu.cn is Peking University's (the registry); "pku.edu" is that name cut short.
    cut = resolver.resolve(None, "stu.pku.edu")
    assert (cut.country, cut.method) == ("US", "email:edu")
    assert cut.confidence < 0.85 and cut.alternatives == ("CN",)
    # A .edu the registry holds for a US organisation is confirmed, and names it.
    confirmed = resolver.resolve(None, "cs.cmu.edu")
    assert (confirmed.country, confirmed.method, confirmed.alternatives) == ("US", "email:institution", ())
    # A .edu nobody holds under another country stays the US, with nothing to widen it.
    assert resolver.resolve(None, "cs.sunysb.edu").alternatives == ()


def _decide(rows, resolver):
    aa = [{"partition_key": "x-2020", "paper_id": "p", "author_position": i, "affiliation": a,
           "email_domain": d} for i, (a, d) in enumerate(rows, 1)]
    resolved = {(a, d): resolver.resolve(a, d).as_dict() for a, d in rows}
    return decision.decide(aa, resolved)


def test_a_cut_edu_domain_follows_the_same_name_with_a_country_code_on_the_paper(resolver):
    decided = _decide([(None, "sustech.edu"), (None, "mail.sustech.edu.cn"), (None, "cs.stanford.edu")], resolver)
    first = decided[0]
    assert first.countries == ("CN",) and first.method == "email:edu+paper" and first.basis == "e-mail domain"
    assert "sustech.edu.cn" in first.evidence and first.alternatives == ()
    assert decided[2].countries == ("US",)
    # Without the other author's domain it is the US, as before, and nothing is invented.
    alone = _decide([(None, "sustech.edu"), (None, "cs.stanford.edu")], resolver)
    assert alone[0].countries == ("US",) and alone[0].method == "email:edu"
    # Two country codes for one name on the paper: nothing says which; the row is left alone.
    two = _decide([(None, "x.edu"), (None, "x.edu.cn"), (None, "x.edu.au")], resolver)
    assert two[0].countries == ("US",) and two[0].method == "email:edu"


def test_the_uncertain_edu_row_widens_the_interval_to_china(resolver):
    decided = _decide([(None, "stu.pku.edu"), ("Tsinghua University, Beijing, China", None)], resolver)
    assert decided[0].uncertainty == "low confidence" and decided[0].alternatives == ("CN", "US")
    possible = set(decision.possible_country_sets(decided))
    assert possible == {frozenset({"US", "CN"}), frozenset({"CN"})}


@pytest.mark.parametrize("text, country", [
    ("IBM SEMEA Sud, Via Tridente 42/14, 70125 Bari", "IT"),
    ("Microsoft Research, 21 Station Road, Cambridge CB1 2FB", "GB"),
    ("Siemens AG, Otto-Hahn-Ring 6, 81739 Munchen", "DE"),
    ("Huawei Technologies, D-80992 Munich", "DE"),
    ("Google, CH-8002 Zurich", "CH"),
    ("Samsung AI Center, 101 College St, Toronto, ON M5G 1L7", "CA"),
    ("Instituto de Computacao, Av. Albert Einstein 1251, 13083-852 Campinas", "BR"),
    ("Criteo AI Lab, 32 rue Blanche, 75009 Paris", "FR"),
])
def test_postal_addresses_whose_form_belongs_to_one_country(text, country):
    assert address_country(text)[0] == country


@pytest.mark.parametrize("text", [
    # Digits that are no postal code of one country: a US room, a ZIP, a year, a phone number.
    "Vanderbilt University Medical Center, D-7235 Medical Center North, Nashville, TN, USA",
    "Stanford University, 353 Jane Stanley Hall, Stanford, CA 94305",
    "Department of Electrical Engineering 2, 10115 Springfield",
    "Amazon, 410 Terry Ave N, Seattle, WA 98109",
    "Tel. 555-1234, Building 12",
    "NeurIPS 2020 Workshop",
])
def test_digits_that_are_no_address_of_one_country(text):
    assert address_country(text) is None


def test_a_printed_address_beats_headquarters(resolver):
    res = resolver.resolve("IBM SEMEA Sud, Via Tridente 42/14, 70125 Bari", None)
    assert (res.country, res.method) == ("IT", "location:address")
    assert "70125" in res.evidence
    # Without the address the convention still applies.
    assert resolver.resolve("IBM Research", None).method == "institution:hq"
    # A known institution of one country outranks an address (it is printed for the institution).
    assert resolver.resolve("Tsinghua University, Via Roma 1, 00185 Roma", None).country == "CN"


def test_georgia_is_the_country_when_a_place_in_it_is_printed():
    # "Georgia" alone is the US state (places.yaml's not_countries); beside Tbilisi it is the country.
    curated = Resolver()
    assert curated.resolve("University of Georgia, Tbilisi, Georgia", None).country == "GE"
    assert curated.resolve("Georgia State University, Atlanta, Georgia", None).country == "US"
    assert curated.resolve("Department of Mathematics, Atlanta, Georgia", None).country == "US"
