import pytest

from pipeline.resolver import Resolver, fold


@pytest.fixture(scope="module")
def resolver():
    return Resolver()


@pytest.mark.parametrize(
    "affiliation, domain, country, method",
    [
        ("Tsinghua University, Beijing, China", None, "CN", "location:country"),
        ("Dept. of CS, Stanford University, Stanford, CA 94305", None, "US", "institution"),
        ("Dept. of CS, Some College, Palo Alto, CA 94305", None, "US", "location:us_state_code"),
        ("Carnegie Mellon University Robotics Institute, PA, USA", None, "US", "location:country"),
        ("The University of Hong Kong, Hong Kong, China", None, "HK", "location:country"),
        ("Hong Kong Polytechnic University, Kowloon, Hong Kong SAR", None, "HK", "location:country"),
        ("The Chinese University of Hong Kong, Shenzhen, China", None, "CN", "location:country"),
        ("National Taiwan University, Taipei, Taiwan, R.O.C.", None, "TW", "location:country"),
        ("University of Macau, Macao, China", None, "MO", "location:country"),
        ("Western University, London, Ontario, Canada", None, "CA", "location:country"),
        ("Georgia Institute of Technology", None, "US", "location:subdivision"),
        ("KAIST, Daejeon, Republic of Korea", None, "KR", "location:country"),
        ("ETH Zürich", None, "CH", "institution"),
        ("Some Lab, Zürich", None, "CH", "location:city"),
        ("LIP6, CNRS and Inria", None, "FR", "institution"),
        ("Tsinghua University", None, "CN", "institution"),
        ("Microsoft Research", None, "US", "institution:hq"),
        ("Google DeepMind", None, "GB", "institution:hq"),
        ("Dept. of Computer Science†", "cs.sunysb.edu", "US", "email:edu"),
        ("Department of Computer Science", "cs.toronto.edu", "CA", "email:institution"),
        ("School of Informatics", "ed.ac.uk", "GB", "email:cctld"),
        (None, "mails.tsinghua.edu.cn", "CN", "email:institution"),
    ],
)
def test_rules(resolver, affiliation, domain, country, method):
    res = resolver.resolve(affiliation, domain)
    assert (res.country, res.method) == (country, method), res
    assert 0 < res.confidence <= 1
    assert res.evidence


def test_a_place_in_the_string_beats_the_email_domain(resolver):
    assert resolver.resolve("Inria, Paris, France", "stanford.edu").country == "FR"


def test_named_company_beats_an_email_of_another_affiliation(resolver):
    res = resolver.resolve("Microsoft Research", "pku.edu.cn")
    assert (res.country, res.institution, res.method) == ("US", "Microsoft", "institution:hq")


@pytest.mark.parametrize("domain", ["gmail.com", "qq.com", "163.com", "startup.io", "lab.ai", None])
def test_webmail_and_generic_domains_tell_nothing(resolver, domain):
    res = resolver.resolve("Department of EECS", domain)
    assert res.country is None and res.method == "unresolved" and res.confidence == 0
    assert res.reason


def test_unresolved_reasons(resolver):
    assert resolver.resolve(None, None).reason == "no affiliation and no e-mail domain"
    assert "gmail.com" in resolver.resolve("", "gmail.com").reason


def test_acronyms_match_in_capitals_only(resolver):
    assert resolver.resolve("MIT", None).country == "US"
    assert resolver.resolve("Zentrum mit Herz", None).country is None


def test_fold_removes_marks_and_accents():
    assert fold("Universit\u00e9 de Montr\u00e9al\u2020 *") == "Universite de Montreal"
