"""Collaboration analytics, the headline numbers, review samples, diffs and the report."""

import csv
import json

import duckdb
import pandas as pd
import pytest
from conftest import SHARED, materialise

from paperatlas import cli
from paperatlas.pipeline.conventions import CHINA_SCOPES, LOW_CONFIDENCE, PLACEMENTS
from paperatlas.pipeline.countries import counting
from paperatlas.pipeline.reports import diff as df
from paperatlas.pipeline.reports import headlines as hl
from paperatlas.pipeline.reports.review import build_review, low_confidence_rows, render_review_html, review_rows


def ev(position, affiliation, countries, method="institution", confidence=0.95, source="paperlists",
       email_domain=None, institution=None):
    return hl.Evidence(position, f"Author {position}", affiliation, email_domain, source, "ref",
                       tuple(countries), institution or affiliation, None, method, confidence, None)


def view(pid, *evidence, mentions=(), title=None):
    countries = frozenset(c for e in evidence for c in e.countries)
    return hl.PaperView(pid, title or f"Paper {pid}", None, bool(evidence), countries, frozenset(mentions),
                        tuple(evidence))


@pytest.fixture
def views():
    return {
        # US and mainland China, both solid; names the transformer in its abstract.
        "a": view("a", ev(1, "Tsinghua University", ["CN"]), ev(2, "Stanford University", ["US"]),
                  mentions=["transformer:abstract", "transformer:full_text"]),
        # US and Hong Kong; the US only from a company's headquarters (low confidence).
        "b": view("b", ev(1, "HKU", ["HK"]), ev(2, "Google Research", ["US"], "institution:hq", 0.7)),
        # Taiwan and mainland China.
        "c": view("c", ev(1, "National Taiwan University", ["TW"]), ev(2, "Peking University", ["CN"]),
                  mentions=["qwen:full_text"]),
        # US only; Llama in the body.
        "d": view("d", ev(1, "MIT", ["US"]), mentions=["llama:full_text"]),
        # CN only from an e-mail domain, plus a US author.
        "e": view("e", ev(1, None, ["CN"], "email:cctld", 0.8, email_domain="ict.ac.cn"), ev(2, "CMU", ["US"])),
        # No affiliation at all.
        "f": view("f"),
        # An affiliation that resolved to nothing.
        "g": view("g", ev(1, "Department of EECS", [], "unresolved", 0.0)),
    }


def test_members_under_each_china_scope(views):
    cn = hl.members(views, "cn")
    assert cn["papers"] == set("abcdefg")
    assert cn["papers_with_affiliation"] == set("abcdeg")
    assert cn["papers_with_country"] == set("abcde")
    assert cn["us"] == {"a", "b", "d", "e"} and cn["cn"] == {"a", "c", "e"}
    assert cn["us_cn"] == {"a", "e"}
    assert cn["international"] == {"a", "b", "c", "e"}
    assert cn["cn_transformer_abstract"] == {"a"} and cn["us_transformer_full_text"] == {"a"}
    assert cn["us_llama_full_text"] == {"d"} and cn["us_llama_abstract"] == set()
    assert cn["cn_qwen_full_text"] == {"c"} and cn["us_qwen_full_text"] == set()

    hk = hl.members(views, "cn+hk+mo")
    assert hk["us_cn"] == {"a", "b", "e"} and hk["cn"] == {"a", "b", "c", "e"}
    greater = hl.members(views, "greater")
    assert greater["international"] == {"a", "b", "e"}  # TW-CN is one country under `greater`
    with pytest.raises(ValueError, match="unknown China scope .prc.: choose one of cn"):
        hl.members(views, "prc")


def test_low_confidence_is_what_only_weak_rows_put_in(views):
    low = hl.low_confidence(views, "cn", 0.85)
    assert low["us_cn"] == {"e"}  # CN only from a .cn e-mail domain at 0.8
    assert low["cn"] == {"e"} and low["us"] == {"b"}  # e has a solid US author; b only a headquarters
    assert low["international"] == {"b", "e"}
    assert hl.low_confidence(views, "cn+hk+mo", 0.85)["us_cn"] == {"b", "e"}
    assert hl.low_confidence(views, "cn", 0.5)["us_cn"] == set()


def test_headline_rows_shares_and_denominators(views):
    rows = hl.headline_rows({"partition_key": "x-2020", "venue": "x", "year": 2020}, views)
    assert {r["china_scope"] for r in rows} == set(CHINA_SCOPES)
    assert len(rows) == 2 * 3 * len(hl.NUMBERS)  # placements x China scopes x numbers
    by = {(r["china_scope"], r["number"]): r for r in rows if r["placement"] == "hq"}
    us_cn = by[("cn", "us_cn")]
    assert (us_cn["papers"], us_cn["denominator"], us_cn["share"], us_cn["low_confidence"]) == (2, 7, 2 / 7, 1)
    coverage = by[("cn", "papers_with_country")]
    assert (coverage["papers"], coverage["denominator"]) == (5, 6)
    mention = by[("cn", "cn_transformer_abstract")]
    assert (mention["papers"], mention["denominator"]) == (1, 3)  # of the papers with a CN author
    assert by[("cn", "international")]["denominator"] == 5
    assert all(r["share"] is None or 0 <= r["share"] <= 1 for r in rows)
    assert all(r["low"] <= r["papers"] <= r["high"] for r in rows)
    table = hl.headline_table(rows)
    assert list(table.columns) == ["number", "label", *[f"{s} \u00b7 {p}" for p in ("hq", "coauthors")
                                                         for s in ("cn", "cn+hk+mo", "greater")]]
    assert table.set_index("number").loc["us_cn", "cn+hk+mo \u00b7 hq"] == "3 42.9%"


def test_samples_are_seeded_and_order_free():
    papers = [f"p{i}" for i in range(100)]
    one = hl.sample(papers, 10, 7, "neurips-2020", "us_cn", "cn")
    assert one == hl.sample(list(reversed(papers)), 10, 7, "neurips-2020", "us_cn", "cn")
    assert one != hl.sample(papers, 10, 8, "neurips-2020", "us_cn", "cn")
    assert one != hl.sample(papers, 10, 7, "neurips-2020", "cn", "cn")
    assert len(set(one)) == 10 and set(one) <= set(papers)
    assert sorted(hl.sample(papers[:3], 10, 7)) == papers[:3]
    assert hl.sample(papers, 0, 7) == []


def test_review_rows_carry_the_evidence(views):
    review = build_review(views, "x-2020", "cn", size=5, seed=1)
    assert review["us_cn"]["papers"] == 2 and sorted(review["us_cn"]["sample"]) == ["a", "e"]
    assert review["us_cn"]["low_confidence"] == ["e"]
    assert "papers" not in review  # nothing to check by hand
    rows = review_rows(views, {"us_cn": review["us_cn"]}, "cn")
    e_rows = [r for r in rows if r["paper_id"] == "e"]
    assert {r["countries"] for r in e_rows} == {"CN", "US"}
    cn_row = next(r for r in e_rows if r["countries"] == "CN")
    assert (cn_row["email_domain"], cn_row["rule"], cn_row["confidence"], cn_row["low_confidence"]) == (
        "ict.ac.cn", "email:cctld", 0.8, True)
    assert cn_row["from"] == "metadata (paperlists)" and cn_row["author_position"] == 1
    # Only the rows that put the paper in the number: not the unrelated countries.
    rows = review_rows(views, {"cn": review["cn"]}, "cn")
    assert {r["countries"] for r in rows} == {"CN"}
    low = low_confidence_rows(views, review, "cn")
    assert {(r["number"], r["paper_id"]) for r in low} >= {("us_cn", "e"), ("international", "b")}
    assert all(r["confidence"] < 0.85 for r in low)
    page = render_review_html(views, review, "x-2020", "cn", 1)
    assert "ict.ac.cn" in page and "email:cctld" in page and "data-id='us_cn|e'" in page
    assert "<script>" in page and "localStorage" in page
    # Countries by name for the reviewer, the codes as a tooltip.
    assert "<span title='CN'>China</span>" in page and "<td>CN</td>" not in page


def test_diff_names_the_papers_and_the_changed_rule(views):
    new = dict(views)
    new["a"] = view("a", ev(1, "Tsinghua University", ["SG"], "override", 1.0), ev(2, "Stanford University", ["US"]),
                    mentions=["transformer:abstract", "transformer:full_text"])
    new["h"] = view("h", ev(1, "Fudan University", ["CN"]), ev(2, "NYU", ["US"]))
    del new["g"]
    result = df.diff(views, new, "cn")
    by = {n["number"]: n for n in result["numbers"]}
    assert (by["us_cn"]["before"], by["us_cn"]["after"]) == (2, 2)  # a left, h entered: same count
    changes = {(c["change"], c["paper_id"]): c["why"] for c in by["us_cn"]["changes"]}
    assert set(changes) == {("left", "a"), ("entered", "h")}
    assert changes[("left", "a")] == [
        'author 1 "Tsinghua University" (metadata (paperlists)): CN by institution (Tsinghua University) '
        "-> SG by override (Tsinghua University)"]
    assert changes[("entered", "h")] == ["paper added to the venue-year"]
    assert by["papers"]["changes"][-1]["why"] == ["paper no longer in the venue-year"]
    assert by["cn_transformer_abstract"]["after"] == 0
    text = df.format_diff(result, "snapshot 1", "snapshot 2")
    assert "us_cn: 2 -> 2" in text and "- a" in text and "+ h" in text
    assert {r["paper_id"] for r in df.diff_rows(result)} >= {"a", "h", "g"}
    same = df.diff(views, views, "cn")
    assert same["changed_numbers"] == 0 and "no headline number changed" in df.format_diff(same, "1", "2")


def test_mention_change_is_explained(views):
    new = dict(views)
    new["d"] = view("d", ev(1, "MIT", ["US"]), mentions=["llama:full_text", "llama:abstract"])
    by = {n["number"]: n for n in df.diff(views, new)["numbers"]}
    assert by["us_llama_abstract"]["changes"][0]["why"] == ["now names llama in abstract"]


def test_snapshot_round_trip(views):
    """A snapshot's papers (headline_snapshots) and evidence (headline_snapshot_evidence: the
    decisions as read, Arrow to Arrow) give back the views; so does a snapshot taken before that
    table, with its evidence as JSON in its rows."""
    from dataclasses import asdict, replace

    from paperatlas.pipeline.countries.decision import decision_frame, from_columns
    from paperatlas.pipeline.store import Warehouse

    rows = df.snapshot_rows("x-2020", 3, views)
    assert all(r["evidence"] is None for r in rows)
    store = Warehouse(":memory:")
    decided = [replace(e, paper_id=pid) for pid, v in views.items() for e in v.evidence]
    decisions = store.framed("country_decisions", decision_frame("x-2020", decided))
    evidence = store.framed("headline_snapshot_evidence", df.snapshot_evidence("x-2020", 3, decisions))
    assert evidence.column("snapshot").to_pylist() == [3] * len(decided)
    back = df.views_from_snapshot(pd.DataFrame(rows), evidence)
    old = [dict(r, evidence=json.dumps([asdict(e) for e in views[r["paper_id"]].evidence])) for r in rows]
    before = df.views_from_snapshot(pd.DataFrame(old))
    for scope in CHINA_SCOPES:
        for restored in (back, before):
            assert hl.members(restored, scope) == hl.members(views, scope)
            assert hl.low_confidence(restored, scope) == hl.low_confidence(views, scope)
    assert back["e"].evidence == tuple(d for d in from_columns(decisions) if d.paper_id == "e")
    assert before["e"].evidence == views["e"].evidence and back["f"].evidence == ()


# -- counting: fractional edges, partners, trends -------------------------------------------


def _pc(rows):
    return pd.DataFrame([{"partition_key": k, "venue": k.split("-")[0], "year": int(k.split("-")[1]), "paper_id": p,
                          "country": c, "authors": 1, "fractional": f, "n_countries": n} for k, p, c, f, n in rows])


def test_fractional_edges_are_collaboration_scores():
    pc = _pc([("v-2020", "p", "US", 0.5, 3), ("v-2020", "p", "CN", 0.25, 3), ("v-2020", "p", "GB", 0.25, 3),
              ("v-2020", "q", "US", 0.75, 2), ("v-2020", "q", "CN", 0.25, 2)])
    edges = {(e["paper_id"], e["country_a"], e["country_b"]): e["fractional"] for e in counting.edge_rows(pc)}
    assert edges == {("p", "CN", "US"): 0.75, ("p", "GB", "US"): 0.75, ("p", "CN", "GB"): 0.5,
                     ("q", "CN", "US"): 1.0}


def test_yearly_partners_trends_and_headlines():
    pc = _pc([("v-2019", "p", "US", 0.5, 2), ("v-2019", "p", "CN", 0.5, 2), ("v-2019", "q", "US", 1.0, 1),
              ("v-2020", "r", "US", 0.5, 2), ("v-2020", "r", "GB", 0.5, 2), ("v-2020", "s", "CN", 1.0, 1),
              ("v-2020", "t", "US", 0.5, 2), ("v-2020", "t", "CN", 0.5, 2)])
    edges = pd.DataFrame(counting.edge_rows(pc))
    summaries = pd.DataFrame([
        {"partition_key": "v-2019", "venue": "v", "year": 2019, "papers": 2, "papers_with_country": 2,
         "international_papers": 1},
        {"partition_key": "v-2020", "venue": "v", "year": 2020, "papers": 4, "papers_with_country": 3,
         "international_papers": 2}])
    numbers = pd.DataFrame([
        {"partition_key": "v-2019", "venue": "v", "year": 2019, "china_scope": "cn", "number": "us_cn",
         "label": "US-CN", "papers": 1, "denominator": 2, "low_confidence": 0},
        {"partition_key": "w-2019", "venue": "w", "year": 2019, "china_scope": "cn", "number": "us_cn",
         "label": "US-CN", "papers": 1, "denominator": 8, "low_confidence": 1}])
    t = counting.yearly_tables(pc, edges, summaries, numbers)
    us = t["yearly_country"].set_index(["venue", "year", "country"])
    assert us.loc[("v", 2020, "US"), "previous_year"] == 2019
    assert us.loc[("v", 2020, "US"), "share_change_pp"] == pytest.approx((2 / 4 - 2 / 2) * 100)
    assert us.loc[("v", 2020, "US"), "international_share"] == 1.0
    assert pd.isna(us.loc[("v", 2019, "US"), "previous_year"])
    partners = t["yearly_partners"]
    us20 = partners[(partners["venue"] == "v") & (partners["year"] == 2020) & (partners["country"] == "US")]
    assert list(us20["partner"]) == ["CN", "GB"] and list(us20["rank"]) == [1, 2]
    assert list(us20["share_of_international"]) == [0.5, 0.5]
    pairs = t["yearly_pairs"].set_index(["venue", "year", "country_a", "country_b"])
    assert pairs.loc[("v", 2020, "CN", "US"), "papers_fractional"] == pytest.approx(1.0)
    heads = t["yearly_headlines"].set_index(["venue", "year", "number"])
    assert heads.loc[("all", 2019, "us_cn"), "papers"] == 2
    assert heads.loc[("all", 2019, "us_cn"), "share"] == pytest.approx(2 / 10)
    assert heads.loc[("all", 2019, "us_cn"), "low_confidence"] == 1


# -- end to end: run, report, review, diff ---------------------------------------------------


def _cli(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_report_folder_review_and_diff(home, capsys, tmp_path):
    assert _cli(capsys, "run", "neurips-2020")[0] == 0
    out_dir = tmp_path / "report"
    code, out, err = _cli(capsys, "report", "neurips-2020", "--out", str(out_dir), "--sample", "5")
    assert code == 0, err
    assert "US\u2013China co-authored papers" in out and "report written to" in err
    for name in ("report.md", "report.html", "report.json", "review.csv", "review.html", "low_confidence.csv",
                 "charts/us-cn-share-by-year.png", "charts/top-pairs.png", "charts/country-network.png",
                 "charts/top-partners.png", "tables/headline_numbers.parquet", "tables/pairs.csv"):
        assert (out_dir / name).stat().st_size > 0, name
    data = json.loads((out_dir / "report.json").read_text())
    assert data["us_cn_papers"] == 1 and data["headline"]["us_cn"]["cn+hk+mo"]["papers"] == 2
    assert data["review"]["us_cn"]["sample"] == ["p1"]
    with open(out_dir / "review.csv", newline="") as f:
        review = [r for r in csv.DictReader(f) if r["number"] == "us_cn"]
    assert {r["countries"] for r in review} == {"CN", "US"}
    assert {r["affiliation"] for r in review} >= {"Tsinghua University, Beijing, China"}
    first = next(r for r in review if r["affiliation"] == "Tsinghua University, Beijing, China")
    assert first["author_position"] == "1" and first["from"] == "metadata (paperlists)"
    assert all(r["rule"] and r["confidence"] for r in review)
    md = (out_dir / "report.md").read_text()
    assert "![network](charts/country-network.png)" in md and "| US\u2013China co-authored papers | 1" in md
    assert "data:image/png;base64," in (out_dir / "report.html").read_text()
    parquet = duckdb.connect().execute(
        "SELECT count(*), count(DISTINCT number) FROM read_parquet(?)",
        [str(out_dir / "tables" / "headline_numbers.parquet")]).fetchone()
    assert parquet == (2 * 3 * len(hl.NUMBERS), len(hl.NUMBERS))

    # The same store gives the same bytes.
    again = tmp_path / "again"
    assert _cli(capsys, "report", "neurips-2020", "--out", str(again), "--sample", "5")[0] == 0
    for name in ("report.md", "report.json", "review.csv", "low_confidence.csv", "charts/top-pairs.png"):
        assert (out_dir / name).read_bytes() == (again / name).read_bytes(), name

    # Countries, pairs and exports follow the China scope; storage does not.
    greater = tmp_path / "greater"
    assert _cli(capsys, "report", "neurips-2020", "--china-scope", "greater", "--out", str(greater))[0] == 0
    folded = pd.read_csv(greater / "tables" / "paper_countries.csv")
    assert not set(folded["country"]) & {"HK", "MO", "TW"} and "CN" in set(folded["country"])
    assert {"HK", "TW"} <= set(pd.read_csv(out_dir / "tables" / "paper_countries.csv")["country"])
    assert json.loads((greater / "report.json").read_text())["review"]["us_cn"]["papers"] == 2

    # Other formats on stdout.
    assert _cli(capsys, "report", "neurips-2020", "--format", "md")[1].startswith("# NeurIPS 2020")
    assert "<img" in _cli(capsys, "report", "neurips-2020", "--format", "html")[1]

    # The asset wrote the same report under $PAPERATLAS_HOME/reports/.
    assert (home / "reports" / "neurips-2020" / "review.html").exists()

    # A diff needs two materialisations.
    code, _, err = _cli(capsys, "diff", "neurips-2020")
    assert code == 2 and "a diff needs two" in err
    (home / "overrides.yaml").write_text('- {match: "Tsinghua University, Beijing, China", country: SG}\n')
    assert _cli(capsys, "run", "neurips-2020")[0] == 0
    code, out, _ = _cli(capsys, "diff", "neurips-2020")
    assert code == 0
    assert "us_cn: 1 -> 0" in out and "- p1" in out and "-> SG by override" in out
    assert 'author 1 "Tsinghua University, Beijing, China" (metadata (paperlists)): CN by' in out
    assert "input overrides_sha256" in out
    code, out, _ = _cli(capsys, "diff", "neurips-2020", "--json")
    result = json.loads(out)
    assert (result["from"], result["to"]) == (1, 2)
    assert {r["number"] for r in result["rows"] if r["paper_id"] == "p1"} >= {"us_cn", "cn"}
    assert _cli(capsys, "diff", "neurips-2020", "--list")[1].count("\n") == 2
    code, _, err = _cli(capsys, "diff", "neurips-2020", "--from", "9")
    assert code == 2 and "no such snapshot" in err

    # Numbers once: the diff's newest side and the report are the stored headline numbers.
    from paperatlas.pipeline.store import Warehouse

    store = Warehouse(home / "paperatlas.duckdb")
    stored = store.query("SELECT number, papers FROM headline_numbers WHERE partition_key = 'neurips-2020' "
                         "AND china_scope = 'cn' AND placement = 'hq'")
    stored = dict(zip(stored["number"], stored["papers"]))
    assert {n["number"]: n["after"] for n in result["numbers"]} == stored
    report = json.loads(_cli(capsys, "report", "neurips-2020", "--json")[1])
    searched = {k: v for k, v in stored.items() if not k.endswith("_full_text")}
    assert {k: v["cn"]["papers"] for k, v in report["headline"].items() if k in searched} == searched
    # No PDF read: the full-text counts would only repeat the abstract's, so they are null, saying why.
    full = [v["cn"] for k, v in report["headline"].items() if k.endswith("_full_text")]
    assert full and all(c["papers"] is None and "no PDFs read" in c["note"] for c in full)
    # A report never counts them again: without stored numbers it says what to run.
    store.delete_where("headline_numbers", "partition_key = ?", ["neurips-2020"])
    code, _, err = _cli(capsys, "report", "neurips-2020")
    assert code == 2 and err == ("paperatlas: neurips-2020 has no stored headline numbers; run "
                                 "`paperatlas run neurips-2020` again\n")


def test_report_refuses_a_folder_it_did_not_write(home, capsys, tmp_path):
    assert _cli(capsys, "run", "neurips-2020")[0] == 0
    precious = tmp_path / "mine"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    code, _, err = _cli(capsys, "report", "neurips-2020", "--out", str(precious))
    assert code == 2 and "not a paperatlas report folder" in err
    assert (precious / "notes.txt").read_text() == "keep me"


def test_headline_asset_checks(env):
    settings, defs, instance = env
    result = materialise(defs, instance, "neurips-2020")
    assert result.success
    checks = {c.check_name: c for c in result.get_asset_check_evaluations()
              if c.asset_key.to_user_string() == "headlines"}
    assert set(checks) == {"country_coverage_at_least_95pct", "no_duplicate_papers", "shares_within_bounds"}
    assert checks["no_duplicate_papers"].passed and checks["shares_within_bounds"].passed
    # p3's only affiliation ("Department of EECS", gmail.com) resolves nowhere: 6 of 7.
    coverage = checks["country_coverage_at_least_95pct"]
    assert not coverage.passed and coverage.metadata["coverage"].value == "85.7% (6 of 7 papers with affiliation data)"
    edges = next(c for c in result.get_asset_check_evaluations() if c.check_name == "edges_match_paper_countries")
    assert edges.passed and edges.metadata["wrong_fractional_weights"].value == 0
    mats = {m.asset_key.to_user_string(): m for m in result.asset_materializations_for_node("headlines")}
    meta = mats["headlines"].metadata
    assert meta["us_cn_papers"].value == 1 and meta["snapshot"].value == "snapshot 1"
    # What identifies the materialisation is text, which the UI does not plot by partition; the measures are numbers.
    assert meta["changed_numbers"].value == "first snapshot: nothing to compare with"
    assert {type(meta[k]).__name__ for k in ("snapshot", "changed_numbers")} == {"TextMetadataValue"}
    assert type(meta["us_cn_papers"]).__name__ == "IntMetadataValue"
    # The headline in words leads both assets' metadata, as it leads the report.
    sentence = meta["headline_sentence"].value
    assert list(meta).index("headline_sentence") < list(meta).index("papers")
    assert type(meta["headline_sentence"]).__name__ == "MarkdownMetadataValue"
    assert " NeurIPS 2020 papers " in sentence and "authors at both US and Chinese institutions" in sentence, sentence
    report = result.asset_materializations_for_node("venue_year_report")[0].metadata
    assert report["headline_sentence"].value.startswith(sentence.split(";")[0]), report["headline_sentence"]
    assert report["chart_country_network"].value.startswith("![country collaboration network](data:image/png;base64,")


def test_duplicate_papers_are_caught():
    from paperatlas.pipeline.reports.steps import duplicates as _duplicates

    papers = pd.DataFrame({"paper_id": ["1", "2", "2", "3", "4"],
                           "title": ["A paper", "B", "B", "A Paper ", "C"],
                           "authors": [["Ann Lee"], ["X"], ["X"], ["Ann  Lee"], ["Z"]]})
    ids, twins = _duplicates(papers)
    assert ids == ["2"] and twins == ["1", "3"]


def test_cli_defaults_follow_the_pipeline():
    parser = cli.build_parser()
    args = parser.parse_args(["report", "x-2020"])
    assert (args.seed, args.sample, args.min_confidence) == (hl.DEFAULT_SEED, hl.DEFAULT_SAMPLE, LOW_CONFIDENCE)


def test_neurips_2016_review_sample_backs_the_us_cn_count(home, capsys, tmp_path, monkeypatch):
    """On the shared paperlists file: every US-CN paper in the review sample has a US row and a
    CN row behind it, and the sample is the whole number when it is small."""
    base = SHARED / "paperlists"
    if not (base / "nips2016.json").exists() and not (base / "nips" / "nips2016.json").exists():
        pytest.skip(f"shared paperlists not available under {base}")
    monkeypatch.setenv("PAPERATLAS_PAPERLISTS_BASE", str(base))
    ror = SHARED / "ror" / "ror-partial-v2.zip"
    if ror.exists():
        monkeypatch.setenv("PAPERATLAS_ROR_DUMP", str(ror))
    assert _cli(capsys, "run", "neurips-2016")[0] == 0
    code, _, err = _cli(capsys, "report", "neurips-2016", "--out", str(tmp_path / "r"), "--sample", "50")
    assert code == 0, err
    data = json.loads((tmp_path / "r" / "report.json").read_text())
    assert data["papers"] == 570 and 10 <= data["us_cn_papers"] <= 40
    assert len(data["review"]["us_cn"]["sample"]) == data["us_cn_papers"]
    with open(tmp_path / "r" / "review.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["number"] == "us_cn"]
    per_paper = {}
    for r in rows:
        per_paper.setdefault(r["paper_id"], set()).update(r["countries"].split("/"))
    assert len(per_paper) == data["us_cn_papers"]
    assert all({"US", "CN"} <= cs for cs in per_paper.values())


# -- what the neurips-2016 hand check found ---------------------------------------------------


def _decide(rows, resolved):
    from paperatlas.pipeline.countries import decision

    aa = [{"partition_key": "x-2016", "paper_id": "p", "author_position": i, "affiliation": a, "email_domain": d,
           **extra} for i, a, d, extra in rows]
    return decision.decide(aa, resolved)


def _res(country, method="institution", institution=None, alternatives=(), confidence=None, **extra):
    return {"country": country, "method": method, "institution": institution, "alternatives": list(alternatives),
            "confidence": confidence if confidence is not None else (0.7 if method == "institution:hq" else 0.95),
            **extra}


MSR = _res("US", "institution:hq", "Microsoft", ["CN", "GB", "IN", "CA"])
PKU = _res("CN", institution="Peking University")


def test_placements_of_a_multinational_named_without_a_place():
    from paperatlas.pipeline.countries import decision

    resolved = {("PKU", None): PKU, ("USTC", None): _res("CN"), ("MSR", None): MSR}
    decided = _decide([(1, "PKU", None, {}), (2, "USTC", None, {}), (3, "MSR", None, {})], resolved)
    msr = decided[2]
    # hq: headquarters; coauthors: the lab where both other authors are; uncertain between them.
    assert msr.countries_for("hq") == ("US",) and msr.countries_for("coauthors") == ("CN",)
    assert msr.rule_for("coauthors")[:2] == ("institution:hq+coauthors", 0.6)
    assert msr.alternatives == ("CN", "US") and msr.uncertainty == "multinational" and msr.basis == "convention"
    assert decision.paper_countries(decided, "hq") == {"p": {"CN", "US"}}
    assert decision.paper_countries(decided, "coauthors") == {"p": {"CN"}}
    assert set(decision.possible_country_sets(decided)) == {frozenset({"CN"}), frozenset({"CN", "US"})}
    # Labs where no author of the paper is placed are no admissible reading; `any` admits them.
    alone = _decide([(1, "MSR", None, {}), (2, "Stanford", None, {})], {**resolved, ("Stanford", None): _res("US")})
    assert alone[0].alternatives == () and alone[0].uncertainty is None
    from paperatlas.pipeline.countries.decision import decide as raw_decide
    broad = raw_decide([{"paper_id": "p", "author_position": 1, "affiliation": "MSR", "email_domain": None}],
                       resolved, labs="any")
    assert broad[0].alternatives == ("CA", "CN", "GB", "IN", "US")
    # One co-author abroad is as likely an intern's university: coauthors does not move it.
    one = _decide([(1, "PKU", None, {}), (2, "MSR", None, {})], resolved)
    assert one[1].countries_for("coauthors") == ("US",) and one[1].alternatives == ("CN", "US")


def test_each_placement_is_a_reading_when_a_string_names_a_multinational_twice():
    """corl-2024: "Disney Research|Studios" is two parts, both Disney (US headquarters, a lab in
    Zurich) beside ETH authors. Under coauthors both parts move to CH; the interval must hold
    that reading, or the count falls outside [low, high]."""
    import json

    from paperatlas.pipeline.countries import decision

    disney = _res("US", "institution:hq", "Disney Research", ["CH"])
    twice = {**disney, "parts": json.dumps([{k: disney[k] for k in ("country", "method", "institution", "confidence",
                                                                   "alternatives")}] * 2)}
    google = _res("US", "institution:hq", "Google", ["CH", "GB"])
    mixed = {**disney, "parts": json.dumps([
        {k: disney[k] for k in ("country", "method", "institution", "confidence", "alternatives")},
        {**{k: google[k] for k in ("country", "method", "institution", "confidence")}, "alternatives": ["CH", "GB"]},
        {"country": "GB", "method": "institution", "institution": "UCL", "confidence": 0.95, "alternatives": []}])}
    resolved = {("Disney Research|Studios", None): twice, ("Disney|Google|UCL", None): mixed,
                ("ETH", None): _res("CH"), ("EPFL", None): _res("CH")}
    for string in ("Disney Research|Studios", "Disney|Google|UCL"):
        decided = _decide([(1, string, None, {}), (2, "ETH", None, {}), (3, "EPFL", None, {})], resolved)
        possible = set(decision.possible_country_sets(decided))
        for placement in PLACEMENTS:
            assert frozenset(decision.paper_countries(decided, placement)["p"]) in possible, (string, placement)
    twice_decided = _decide([(1, "Disney Research|Studios", None, {}), (2, "ETH", None, {}),
                             (3, "EPFL", None, {})], resolved)
    assert twice_decided[0].countries_for("coauthors") == ("CH",) and twice_decided[0].certain == ()


def test_evidence_decides_before_convention():
    resolved = {("MSR", None): MSR, ("PKU", None): PKU, ("USTC", None): _res("CN"),
                ("Microsoft Research Asia, Beijing, China", None): _res("CN", "location:country", "MSRA"),
                ("MSR", "msra.cn"): {**MSR, "email_country": "CN", "email_method": "email:lab"},
                ("MSR", "pku.edu.cn"): {**MSR, "email_country": "CN", "email_method": "email:institution"},
                ("Microsoft", None): MSR}
    # 1. a place another source prints for the same author
    printed = _decide([(1, "PKU", None, {}), (2, "MSR", None, {"counted": True, "source": "paperlists"}),
                       (2, "Microsoft Research Asia, Beijing, China", None,
                        {"counted": False, "decision": "other-source", "source": "openalex"})], resolved)
    assert [(d.countries, d.method, d.basis) for d in printed if d.author_position == 2] == \
        [(("CN",), "institution:printed", "printed place (another source)")]
    # 2. the OpenReview profile's country for the paper's year
    profile = _decide([(1, "Stanford", None, {}),
                       (2, "Microsoft", None, {"source": "openreview", "reference_countries": "CN"})],
                      {**resolved, ("Stanford", None): _res("US")})
    assert profile[1].countries == ("CN",) and profile[1].method == "institution:profile"
    # 3. a lab's own e-mail domain; a university's domain beside the company's name moves nothing
    lab = _decide([(1, "MSR", "msra.cn", {})], resolved)
    assert lab[0].countries == ("CN",) and lab[0].method == "institution:email"
    uni = _decide([(1, "MSR", "pku.edu.cn", {})], resolved)
    assert uni[0].countries == ("US",) and uni[0].method == "institution:hq"


def test_rows_whose_sources_disagree_or_are_weak_are_uncertain():
    resolved = {("A", None): _res("US"), ("B", None): _res("DE"),
                ("C", "x.fr"): _res("FR", "email:cctld", confidence=0.8, alternatives=["US"]),
                ("D", "y.de"): _res("DE", "email:cctld", confidence=0.8)}
    decided = _decide([(1, "A", None, {"counted": True}),
                       (1, "B", None, {"counted": False, "decision": "other-source", "source": "openalex"}),
                       (2, "C", "x.fr", {}), (3, "D", "y.de", {})], resolved)
    a, c, d = decided
    assert a.uncertainty == "sources disagree" and a.alternatives == ("DE", "US")
    assert c.uncertainty == "low confidence" and c.alternatives == ("FR", "US")
    assert d.uncertainty is None  # below the threshold, but nothing points elsewhere


def test_unresolved_rows_are_not_guessed():
    decided = _decide([(1, "???", None, {}), (2, "PKU", None, {})], {("PKU", None): PKU})
    assert decided[0].countries == () and decided[0].method == "unresolved" and decided[0].basis == "none"
    views = hl.build_views(pd.DataFrame([{"paper_id": "p", "title": "T"}]), decided)
    assert not views["p"].all_placed and views["p"].placed_from == "metadata"


def test_every_consumer_agrees_on_one_fixture():
    """paper_countries, the headline numbers (both placements, with bounds), the review trail,
    `papers` and extract-pdf's attribution all read the same decisions."""
    from paperatlas.pipeline.countries import decision
    from paperatlas.pipeline.reports import review
    from paperatlas.pipeline.reports.explain import paper_record

    resolved = {("PKU", None): PKU, ("USTC", None): _res("CN"), ("MSR", None): MSR, ("MIT", None): _res("US")}
    rows = [("p", 1, "PKU"), ("p", 2, "USTC"), ("p", 3, "MSR"), ("q", 1, "MIT"), ("q", 2, "PKU")]
    aa = [{"partition_key": "x-2016", "paper_id": p, "author_position": i, "affiliation": a, "email_domain": None}
          for p, i, a in rows]
    decided = decision.decide(aa, resolved)
    papers = pd.DataFrame([{"paper_id": "p", "title": "P"}, {"paper_id": "q", "title": "Q"}])
    views = hl.build_views(papers, decided)
    meta = {"partition_key": "x-2016", "venue": "x", "year": 2016}
    numbers = pd.DataFrame(hl.headline_rows(meta, views))
    for placement, expected in (("hq", {"p", "q"}), ("coauthors", {"q"})):
        pc = decision.paper_country_rows(decided, placement, {p: meta for p in ("p", "q")})
        from_pc = {p for p, cs in counting.country_sets(pc).items() if {"US", "CN"} <= cs}
        members = hl.members(views, "cn", placement=placement)["us_cn"]
        row = numbers[(numbers.placement == placement) & (numbers.china_scope == "cn") & (numbers.number == "us_cn")]
        records = {pid for pid in ("p", "q") if {"US", "CN"} <= set(paper_record(views[pid], "cn", placement)["countries"])}
        assert from_pc == members == records == expected
        assert int(row["papers"].iloc[0]) == len(expected)
        assert (int(row["low"].iloc[0]), int(row["high"].iloc[0])) == (1, 2)
    trail = review.build_review(views, "x-2016", "cn", 5, 1, placement="coauthors")
    assert trail["us_cn"]["sample"] == ["q"]


def test_verdicts_give_precision_and_go_stale_when_evidence_changes():
    from paperatlas.pipeline.reports import review

    resolved = {("PKU", None): PKU, ("MIT", None): _res("US")}
    aa = [{"paper_id": p, "author_position": i, "affiliation": a, "email_domain": None}
          for p, i, a in (("p", 1, "PKU"), ("p", 2, "MIT"), ("q", 1, "PKU"), ("q", 2, "MIT"))]
    from paperatlas.pipeline.countries import decision
    views = hl.build_views(pd.DataFrame([{"paper_id": "p", "title": "P"}, {"paper_id": "q", "title": "Q"}]),
                           decision.decide(aa, resolved))
    sha = {pid: review.evidence_digest("us_cn", views[pid], "cn") for pid in ("p", "q")}
    text = ("number,paper_id,china_scope,placement,evidence_sha256,verdict\n"
            f"us_cn,p,cn,hq,{sha['p']},right\nus_cn,q,cn,hq,{'0' * 64},wrong\nus_cn,q,cn,hq,,\n")
    got = review.precision(views, review.read_verdicts(text), "cn")["us_cn"]
    assert (got["right"], got["wrong"], got["stale"], got["reviewed"]) == (1, 0, 1, 1)
    low, high = review.wilson(1, 1)
    assert got["precision"] == 1.0 and low == pytest.approx(0.2065, abs=1e-3) and high == 1.0
    with pytest.raises(review.VerdictError, match="line 2"):
        review.read_verdicts("number,paper_id,verdict\nus_cn,p,maybe\n")


def test_edu_domains_on_records_abroad_are_ignored(tmp_path):
    from ror_fixture import ORGS, write_dump

    from paperatlas.pipeline.affiliations.reference import build_resolver

    # As in the real registry: Northeastern University (Shenyang) also lists Boston's neu.edu.
    orgs = [(r[0], r[1], r[2], r[3], r[4] + ["neu.edu"], *r[5:]) if r[0] == "03awzbc87" else r for r in ORGS]
    dump = write_dump(tmp_path / "ror.zip", orgs)
    resolver = build_resolver(str(dump), tmp_path / "cache", None)
    boston = resolver.resolve("College of Computer and Information Science, Northeastern University", "ccs.neu.edu")
    assert boston.country == "US"
    assert resolver.resolve("Northeastern University", "mail.neu.edu.cn").country == "CN"


def test_the_report_takes_the_stored_numbers_in_their_written_order(views):
    """`stored_numbers` gives the rows `headline_rows` wrote, whatever order the store returns
    them in, and refuses numbers it cannot stand on instead of counting them again."""
    from paperatlas.pipeline.reports.views import NUMBER_COLUMNS, ReportError, stored_numbers

    meta = {"partition_key": "x-2020", "venue": "x", "year": 2020}
    written = pd.DataFrame(hl.headline_rows(meta, views, snapshot=3))
    shuffled = pd.concat([written.sample(frac=1, random_state=7), written.assign(partition_key="y-2020")])
    got = stored_numbers(shuffled, "x-2020", len(views))
    pd.testing.assert_frame_equal(got, written[NUMBER_COLUMNS], check_dtype=False)
    with pytest.raises(ReportError, match="has no stored headline numbers"):
        stored_numbers(shuffled, "z-2020", len(views))
    with pytest.raises(ReportError, match="count 7 papers, the store now holds 8"):
        stored_numbers(written, "x-2020", len(views) + 1)
    with pytest.raises(ReportError, match="stored by an older paperatlas"):
        stored_numbers(written.assign(low=None), "x-2020", len(views))
