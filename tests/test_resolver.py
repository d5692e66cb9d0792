import pytest

from paperatlas.pipeline.affiliations.resolver import OverridesError, Resolver, fold, load_overrides


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
        # A Hong Kong university's mainland campus, without a country printed.
        ("The Chinese University of Hong Kong (Shenzhen)", None, "CN", "location:city"),
        ("School of Data Science, CUHK-Shenzhen", None, "CN", "location:city"),
        ("The Chinese University of Hong Kong", None, "HK", "location:country"),
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
        # A word a line break split is joined; hyphenated names stay as printed.
        ("Mas-sachusetts Institute of Technology", None, "US", "institution"),
        ("Multi-scale Lab, Sun Yat-sen University", None, "CN", "institution"),
        # A university abroad with a .edu address is not in the US.
        ("Kriston AI Lab", "u.nus.edu", "SG", "email:institution"),
        ("Hanwha Vision", "skku.edu", "KR", "email:institution"),
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


@pytest.mark.parametrize(
    "affiliation, domain, country, method",
    [
        # Capital country codes after a company name.
        ("Alibaba Group US", "alibaba-inc.com", "US", "location:country"),
        # Accents PDF text keeps apart ("Montr ´eal") are joined back.
        ("´Ecole Polytechnique de Montr ´eal", None, "CA", "location:city"),
        # A campus in mainland China of a Hong Kong university.
        ("Hong Kong University of Science and Technology (Guangzhou)", None, "CN", "institution"),
        # Legal forms that belong to one country's company law.
        ("Proximity Robotics & Automation GmbH", None, "DE", "legal_form"),
        ("NavAjna Technologies Pvt. Ltd.", None, "IN", "legal_form"),
        # A naming convention of one research system.
        ("State Key Laboratory of Cognitive Intelligence", None, "CN", "institution"),
        # A footnote number glued to a word does not hide it.
        ("Idiap Research Institute, Switzerland2", None, "CH", "location:country"),
    ],
)
def test_more_rules(resolver, affiliation, domain, country, method):
    res = resolver.resolve(affiliation, domain)
    assert (res.country, res.method) == (country, method), res


def test_a_string_naming_institutions_in_two_countries_is_split(resolver):
    res = resolver.resolve("Tsinghua University; Stanford University", None)
    assert res.country == "CN" and res.countries == ("CN", "US")
    assert [p.institution for p in res.parts] == ["Tsinghua University", "Stanford University"]
    both = resolver.resolve("Peking University and Microsoft Research Cambridge", None)
    assert both.countries == ("CN", "GB")
    # "and" inside a name or a department does not split.
    one = resolver.resolve("School of Electrical Engineering and Computer Science, KAIST", None)
    assert one.countries == ("KR",) and not one.parts


def test_overrides_come_first(tmp_path):
    path = tmp_path / "overrides.yaml"
    path.write_text(
        "- {match: 'Horizon Robotics', country: CN, institution: Horizon Robotics, note: Beijing HQ}\n"
        "- {contains: 'masakhane', country: ZA}\n"
        "- {email_domain: 'airi.net', country: RU}\n"
        "- {match: 'Tsinghua University', country: HK}\n"
    )
    res = Resolver(overrides=load_overrides(path))
    assert (res.resolve("Horizon Robotics", None).country, res.resolve("Horizon Robotics", None).method) == ("CN", "override")
    assert res.resolve("Masakhane NLP", "inria.fr").country == "ZA"
    assert res.resolve("HSE", "lab.airi.net").country == "RU"
    # An override beats every other rule, even a known institution.
    assert res.resolve("tsinghua university", None).country == "HK"


@pytest.mark.parametrize(
    "text, error",
    [
        ("{match: x}", "a list of rules"),
        ("- {match: x, country: ZZ}", "not ISO 3166-1"),
        ("- {country: US}", "exactly one of"),
        ("- {match: a, contains: b, country: US}", "exactly one of"),
        ("- [1, 2]", "not a mapping"),
        ("- {match: 'unclosed", "not valid YAML"),
    ],
)
def test_bad_overrides_name_the_rule(tmp_path, text, error):
    path = tmp_path / "overrides.yaml"
    path.write_text(text)
    with pytest.raises(OverridesError, match=error):
        load_overrides(path)


def test_missing_overrides_file_means_none(tmp_path):
    assert load_overrides(tmp_path / "absent.yaml") == []


def test_the_resolver_gives_the_same_answers_whatever_the_hash_seed(tmp_path):
    """Set iteration order changes with each process's hash seed. The fuzzy matcher once took
    its rarest word and its near spellings in that order, so a string with a tie ("Sri
    Venkateswara College, DU") resolved in one process and not in another, and a backfill's
    numbers depended on which worker read which venue-year."""
    import os
    import subprocess
    import sys

    from conftest import ROOT, shared

    rows = shared("affiliations", "dev.jsonl").read_text(encoding="utf-8").splitlines()[3000:4000]
    strings = tmp_path / "strings.jsonl"
    strings.write_text("\n".join(rows) + "\n", encoding="utf-8")
    outputs = []
    for seed in ("1", "2"):
        out = tmp_path / f"out{seed}.jsonl"
        env = {**os.environ, "PYTHONHASHSEED": seed, "PAPERATLAS_HOME": str(tmp_path / f"home{seed}")}
        done = subprocess.run([sys.executable, "-m", "paperatlas.cli", "resolve", "--ror",
                               str(shared("ror", "ror-partial-v2.zip")), "--input", str(strings), "--output", str(out)],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        outputs.append(out.read_text(encoding="utf-8"))
    assert len(outputs[0].splitlines()) == 1000
    assert outputs[0] == outputs[1]
