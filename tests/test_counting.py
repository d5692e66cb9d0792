import pandas as pd
import pytest

from paperatlas.pipeline.affiliations.rows import explode
from paperatlas.pipeline.conventions import fold_countries
from paperatlas.pipeline.countries import decision
from paperatlas.pipeline.countries.counting import country_sets, edge_rows, pairs_of, yearly_tables
from paperatlas.pipeline.countries.numbers import count


def paper_country_rows(rows, countries):
    """paper_countries rows through the one country decision, from plain key -> country maps."""
    resolutions = {key: {"country": c, "method": "institution", "confidence": 0.95} if c else {"country": None}
                   for key, c in countries.items()}
    meta = {r["paper_id"]: {"partition_key": r["partition_key"]} for r in rows}
    return decision.paper_country_rows(decision.decide(rows, resolutions), "hq", meta)


def aa(paper, position, affiliation, domain=None, pk="x-2020"):
    return {"partition_key": pk, "paper_id": paper, "author_position": position,
            "affiliation": affiliation, "email_domain": domain}


def test_explode_keeps_authors_without_affiliation_and_unaligned_rows():
    papers = [
        {"partition_key": "x-2020", "paper_id": "a", "authors": ["A", "B"],
         "affiliations": [["U1", "U2"], []], "email_domains": [None, "b.edu"], "aligned": True},
        {"partition_key": "x-2020", "paper_id": "b", "authors": ["C", "D"], "affiliations": [[], []],
         "email_domains": ["c.edu", None], "unaligned_affiliations": ["U3", "U4", "U5"], "aligned": False},
    ]
    rows = explode(papers)
    got = [(r["paper_id"], r["author_position"], r["affiliation"], r["email_domain"]) for r in rows]
    assert got == [
        ("a", 1, "U1", None), ("a", 1, "U2", None), ("a", 2, None, "b.edu"),
        ("b", None, "U3", None), ("b", None, "U4", None), ("b", None, "U5", None),
    ]


def test_fractional_shares_split_by_author_then_affiliation():
    rows = [aa("p", 1, "hk"), aa("p", 1, "us"), aa("p", 2, "ca"), aa("p", 3, "kr"), aa("p", 4, "unknown")]
    countries = {("hk", None): "HK", ("us", None): "US", ("ca", None): "CA", ("kr", None): "KR", ("unknown", None): None}
    out = {r["country"]: r for r in paper_country_rows(rows, countries)}
    assert out["HK"]["fractional"] == pytest.approx(1 / 6)
    assert out["US"]["fractional"] == pytest.approx(1 / 6)
    assert out["CA"]["fractional"] == pytest.approx(1 / 3)
    assert sum(r["fractional"] for r in out.values()) == pytest.approx(1.0)
    assert {r["n_countries"] for r in out.values()} == {4}


def test_author_with_two_affiliations_in_one_country_counts_once():
    rows = [aa("p", 1, "a"), aa("p", 1, "b"), aa("p", 2, "c")]
    out = {r["country"]: r for r in paper_country_rows(rows, {("a", None): "US", ("b", None): "US", ("c", None): "DE"})}
    assert out["US"]["authors"] == 1 and out["US"]["fractional"] == pytest.approx(0.5)


def test_unaligned_affiliations_each_hold_one_share():
    rows = [aa("p", None, "a"), aa("p", None, "b"), aa("p", None, "c"), aa("p", None, "d")]
    countries = {("a", None): "FR", ("b", None): "FR", ("c", None): "GB", ("d", None): "DE"}
    out = {r["country"]: r["fractional"] for r in paper_country_rows(rows, countries)}
    assert out == {"DE": 0.25, "FR": 0.5, "GB": 0.25}


def test_paper_without_any_resolved_author_has_no_rows():
    assert paper_country_rows([aa("p", 1, None, "gmail.com")], {}) == []


def test_missing_values_from_pandas_match_none_keys():
    rows = [aa("p", 1, float("nan"), "mit.edu")]
    assert paper_country_rows(rows, {(None, "mit.edu"): "US"})[0]["country"] == "US"


def test_pairs_and_edges():
    assert pairs_of(["US", "CN", "US", "HK"]) == [("CN", "HK"), ("CN", "US"), ("HK", "US")]
    pc = [{"partition_key": "x", "venue": "x", "year": 2020, "paper_id": "p", "country": c} for c in ("US", "CN", "DE")]
    assert len(edge_rows(pc)) == 3


@pytest.mark.parametrize("scope, expected", [("cn", {"CN", "HK", "MO", "TW"}), ("cn+hk+mo", {"CN", "TW"}), ("greater", {"CN"})])
def test_china_scopes(scope, expected):
    assert fold_countries({"CN", "HK", "MO", "TW"}, scope) == expected


def test_unknown_scope_is_an_error():
    with pytest.raises(ValueError, match="unknown China scope 'mainland': choose one of cn, cn\\+hk\\+mo, greater"):
        fold_countries({"CN"}, "mainland")


def test_country_numbers_under_each_scope():
    sets = [{"US", "CN"}, {"US", "HK"}, {"TW", "CN"}, {"US"}, set()]
    ids = ["papers_with_country", "international", "us", "cn", "us_cn"]

    def under(scope):
        return count([fold_countries(s, scope) for s in sets], ids)

    assert under("cn") == {"papers_with_country": 4, "international": 3, "us": 3, "cn": 2, "us_cn": 1}
    assert under("cn+hk+mo")["us_cn"] == 2
    assert under("greater") == {"papers_with_country": 4, "international": 2, "us": 3, "cn": 3, "us_cn": 2}


def test_yearly_tables_across_venues():
    pc = pd.DataFrame([
        {"partition_key": "a-2020", "venue": "a", "year": 2020, "paper_id": "1", "country": "US", "fractional": 0.5, "n_countries": 2},
        {"partition_key": "a-2020", "venue": "a", "year": 2020, "paper_id": "1", "country": "CN", "fractional": 0.5, "n_countries": 2},
        {"partition_key": "b-2020", "venue": "b", "year": 2020, "paper_id": "1", "country": "US", "fractional": 1.0, "n_countries": 1},
    ])
    edges = pd.DataFrame(edge_rows(pc[pc.partition_key == "a-2020"]))
    summ = pd.DataFrame([
        {"partition_key": "a-2020", "venue": "a", "year": 2020, "papers": 4, "papers_with_country": 1, "international_papers": 1},
        {"partition_key": "b-2020", "venue": "b", "year": 2020, "papers": 1, "papers_with_country": 1, "international_papers": 0},
    ])
    t = yearly_tables(pc, edges, summ)
    allyear = t["yearly_country"].query("venue == 'all' and country == 'US'").iloc[0]
    assert allyear["papers"] == 2  # same paper id in two venues is two papers
    assert allyear["papers_fractional"] == pytest.approx(1.5)
    assert allyear["share_of_papers"] == pytest.approx(2 / 5)
    s = t["yearly_summary"].set_index("venue")
    assert s.loc["a", "international_share"] == 1.0 and s.loc["all", "papers"] == 5
    assert t["yearly_pairs"].query("venue == 'all'")[["country_a", "country_b", "papers"]].values.tolist() == [["CN", "US", 1]]


def test_yearly_tables_do_not_depend_on_the_order_rows_arrive_in():
    """A Delta store returns rows in file order, DuckDB in insertion order: the same rows must
    give the same yearly numbers, to the last bit (stored shares are rounded to 12 places, so
    their sums differ in the last bit when added in another order)."""
    shares = [round(j / k, 12) for k in range(2, 14) for j in range(1, k)]
    pc_rows, edge_rows_ = [], []
    for i in range(3000):
        pk, share = f"v{i % 3}-2020", shares[(i * 7) % len(shares)]
        pc_rows += [{"partition_key": pk, "venue": pk[:2], "year": 2020, "paper_id": str(i), "country": c,
                     "fractional": f, "n_countries": 2} for c, f in (("US", share), ("CN", round(1 - share, 12)))]
        edge_rows_.append({"partition_key": pk, "venue": pk[:2], "year": 2020, "paper_id": str(i), "country_a": "CN",
                           "country_b": "US", "fractional": round(1 - share / 3, 12)})
    pc, edges = pd.DataFrame(pc_rows), pd.DataFrame(edge_rows_)
    summ = pd.DataFrame([{"partition_key": f"v{k}-2020", "venue": f"v{k}", "year": 2020, "papers": 1000,
                          "papers_with_country": 1000, "international_papers": 1000} for k in range(3)])
    first = yearly_tables(pc, edges, summ)
    for seed in range(8):
        again = yearly_tables(pc.sample(frac=1, random_state=seed), edges.sample(frac=1, random_state=seed),
                              summ.sample(frac=1, random_state=seed))
        for name, frame in first.items():
            pd.testing.assert_frame_equal(again[name], frame, check_exact=True, obj=name)


def test_country_sets():
    assert country_sets([{"paper_id": "p", "country": "US"}, {"paper_id": "p", "country": "US"}]) == {"p": {"US"}}


def test_the_command_line_offers_every_convention_choice():
    """Every command with --china-scope or --placement offers exactly the conventions' choices."""
    import argparse

    from paperatlas import cli
    from paperatlas.pipeline.conventions import CHINA_SCOPES, PLACEMENTS

    commands = next(a for a in cli.build_parser()._actions if isinstance(a, argparse._SubParsersAction)).choices
    seen = {"--china-scope": 0, "--placement": 0}
    for parser in commands.values():
        for action in parser._actions:
            for option in set(action.option_strings) & set(seen):
                seen[option] += 1
                assert tuple(action.choices) == (tuple(CHINA_SCOPES) if option == "--china-scope" else PLACEMENTS)
    assert seen["--china-scope"] >= 5 and seen["--placement"] >= 6


# -- authors nobody can place bound every number (`<number>_unplaced`) -----------------------


def test_one_rule_says_which_papers_unplaced_authors_could_add_to_any_number():
    from paperatlas.pipeline.countries.numbers import COUNTRY_IDS, Number, could_belong

    us, cn, us_cn = COUNTRY_IDS["us"], COUNTRY_IDS["cn"], COUNTRY_IDS["us_cn"]
    intl, placed, with_aff = COUNTRY_IDS["international"], COUNTRY_IDS["papers_with_country"], \
        COUNTRY_IDS["papers_with_affiliation"]
    # One unplaced author beside a US author: could be US-CN; beside a CN author too.
    assert could_belong(us_cn, {"US"}, 1) and could_belong(us_cn, {"CN", "DE"}, 1)
    assert not could_belong(us_cn, {"US"}, 0)
    # Two unplaced authors and no country: could be US-CN; one and nothing else: US or CN, not both.
    assert could_belong(us_cn, set(), 2)
    assert not could_belong(us_cn, set(), 1) and could_belong(us, set(), 1) and could_belong(cn, set(), 1)
    assert not could_belong(us_cn, {"DE"}, 1) and could_belong(us_cn, {"DE"}, 2)
    # International needs two countries: one placed and one unplaced author, or two unplaced.
    assert could_belong(intl, {"US"}, 1) and could_belong(intl, set(), 2) and not could_belong(intl, set(), 1)
    assert could_belong(placed, set(), 1) and not could_belong(placed, set(), 0)
    # No country moves the coverage of affiliation data.
    assert not could_belong(with_aff, set(), 3, has_affiliation=False)
    # A paper without any affiliation data is outside coverage, and outside this bound.
    assert not could_belong(us, set(), 2, has_affiliation=False)
    assert not could_belong(us_cn, {"US"}, 1, has_affiliation=False)
    # A term number: the paper must name the term; its authors' countries never change that.
    llama = Number("cn_llama_abstract", "CN papers naming Llama", ("CN",), "llama", "abstract")
    assert could_belong(llama, {"US"}, 1, mentions={"llama:abstract"})
    assert not could_belong(llama, {"US"}, 5, mentions={"llama:full_text"})
    # A paper already in the number belongs whatever its unplaced authors are.
    assert could_belong(us_cn, {"US", "CN"}, 0)


def test_unplaced_authors_are_those_no_evidence_places():
    rows = [aa("p", 1, "Stanford University"), aa("p", 2, "Department of EECS", "gmail.com"), aa("p", 3, None),
            aa("q", 1, "MIT"), aa("q", 1, "nowhere"),
            aa("u", None, "MIT"), aa("u", None, "nowhere")]
    resolutions = {("Stanford University", None): {"country": "US", "method": "institution", "confidence": 0.95},
                   ("MIT", None): {"country": "US", "method": "institution", "confidence": 0.95},
                   ("Department of EECS", "gmail.com"): {"country": None, "reason": "no rule matched"},
                   ("nowhere", None): {"country": None}}
    decided = decision.decide(rows, resolutions)
    by = {p: [d for d in decided if d.paper_id == p] for p in ("p", "q", "u")}
    # Author 2's affiliation (and e-mail domain) resolved to no country; author 3 has no
    # affiliation at all, so no decision: only the paper's author count knows of them.
    assert decision.unplaced_authors(by["p"]) == 1
    assert decision.unplaced_authors(by["p"], authors=3) == 2
    # One placed affiliation places the author, whatever the others say.
    assert decision.unplaced_authors(by["q"], authors=1) == 0
    # Affiliations tied to no author stand for the authors: the unresolved one is unplaced,
    # and the authors without a row of their own are not counted again.
    assert decision.unplaced_authors(by["u"], authors=5) == 1
    assert decision.unplaced_authors([], authors=2) == 2  # no affiliation data at all
