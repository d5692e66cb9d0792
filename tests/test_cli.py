import io
import json

import pytest

from paperatlas import cli


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_run_then_report(home, capsys):
    code, out, err = run(capsys, "run", "nips-2020", "icml-2021")
    assert code == 0, err
    assert "materialised 2/2 venue-years" in out
    assert "[1/2] neurips-2020" in err and "ok raw_papers" in err and "ok yearly_aggregates" in err

    code, out, _ = run(capsys, "report", "neurips-2020", "--json")
    report = json.loads(out)
    assert code == 0
    assert report["venue"] == "neurips" and report["year"] == 2020
    assert (report["papers"], report["papers_with_country"]) == (8, 6)
    assert report["country_papers"]["US"] == 3 and report["country_papers"]["HK"] == 1
    assert report["us_cn_papers"] == 1 and report["us_cn_share"] == pytest.approx(1 / 8)
    assert report["international_share"] == pytest.approx(5 / 6)
    assert ["CN", "TW", 1] in report["top_pairs"]

    _, out, _ = run(capsys, "report", "neurips-2020", "--json", "--china-scope", "cn+hk+mo")
    folded = json.loads(out)
    assert folded["us_cn_papers"] == 2 and "HK" not in folded["country_papers"]
    _, out, _ = run(capsys, "report", "neurips-2020", "--json", "--china-scope", "greater")
    assert "TW" not in json.loads(out)["country_papers"]

    code, out, _ = run(capsys, "report", "neurips-2020")
    assert code == 0 and "US\u2013China co-authored papers" in out

    code, out, _ = run(capsys, "partitions")
    assert "neurips-2020\tmaterialised" in out


def test_run_keeps_going_past_a_bad_partition(home, capsys):
    code, out, err = run(capsys, "run", "badconf-2020", "icml-2021")
    assert code == 1
    assert "materialised 1/2" in out
    assert "FAILED badconf-2020" in err and "not valid JSON" in err
    code, out, _ = run(capsys, "errors", "badconf-2020")
    assert "source paperlists" in out and "not valid JSON" in out


def test_bad_key_and_missing_partition(home, capsys):
    code, _, err = run(capsys, "run", "neurips2020")
    assert code == 2 and "invalid venue-year" in err
    run(capsys, "run", "icml-2021")
    code, _, err = run(capsys, "report", "neurips-2020")
    assert code == 2 and "not materialised yet" in err


def test_report_without_a_store(home, capsys):
    code, _, err = run(capsys, "report", "neurips-2020", "--json")
    assert code == 2 and "no paperatlas store" in err


def test_partitions_add(home, capsys):
    code, out, _ = run(capsys, "partitions", "add", "icml-2019", "cvpr-2017")
    assert code == 0 and "added 2" in out
    _, out, _ = run(capsys, "partitions", "list")
    assert "icml-2019\t-" in out and "cvpr-2017\t-" in out


def test_resolve_contract(home, capsys, monkeypatch):
    lines = [
        json.dumps({"affiliation": "Tsinghua University, Beijing, China", "email_domain": None, "id": 1}),
        "{not json",
        json.dumps({"affiliation": "Department of EECS", "email_domain": "gmail.com", "id": 3}),
        json.dumps([1, 2]),
        json.dumps({"affiliation": None, "email_domain": "cs.stanford.edu", "id": 5}),
    ]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
    code, out, err = run(capsys, "resolve")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == 5
    assert rows[0]["id"] == 1 and rows[0]["country"] == "CN" and rows[0]["method"] == "location:country"
    for key in ("country", "institution", "ror_id", "method", "confidence"):
        assert key in rows[0]
    # the home fixture points PAPERATLAS_ROR_DUMP at the test registry
    assert rows[0]["ror_id"] == "https://ror.org/03cve4549" and rows[0]["institution"] == "Tsinghua University"
    assert "not valid JSON" in rows[1]["error"] and rows[1]["line"] == 2
    assert rows[2]["country"] is None and rows[2]["reason"]
    assert "expected an object" in rows[3]["error"]
    assert rows[4]["country"] == "US"
    assert "2 of 5 lines" in err


def test_resolve_files(home, tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    dst = tmp_path / "out.jsonl"
    src.write_text(json.dumps({"affiliation": "ETH Zurich", "email_domain": "ethz.ch"}) + "\n")
    assert cli.main(["resolve", "--input", str(src), "--output", str(dst)]) == 0
    assert json.loads(dst.read_text())["country"] == "CH"


def test_resolve_with_a_named_registry_and_overrides(home, tmp_path, capsys, monkeypatch, ror_dump):
    overrides = tmp_path / "o.yaml"
    overrides.write_text("- {contains: 'lab x', country: NZ}\n")
    lines = [json.dumps({"affiliation": "Lund University", "email_domain": None}),
             json.dumps({"affiliation": "Lab X", "email_domain": None}),
             json.dumps({"affiliation": "Tsinghua University; Stanford University", "email_domain": None})]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
    code, out, _ = run(capsys, "resolve", "--ror", str(ror_dump), "--overrides", str(overrides))
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert (rows[0]["country"], rows[0]["ror_id"], rows[0]["method"]) == ("SE", "https://ror.org/012a77v79", "institution:ror")
    assert (rows[1]["country"], rows[1]["method"], rows[1]["confidence"]) == ("NZ", "override", 1.0)
    assert rows[2]["country"] == "CN" and rows[2]["countries"] == ["CN", "US"]
    monkeypatch.setattr("sys.stdin", io.StringIO(lines[0] + "\n"))
    code, out, _ = run(capsys, "resolve", "--ror", "none")
    row = json.loads(out)
    # no registry: no ROR id; the city in the name (Lund, Sweden) still speaks
    assert code == 0 and row["ror_id"] is None and (row["country"], row["method"]) == ("SE", "location:city")


def test_resolve_with_a_missing_registry_fails_clearly(home, capsys, tmp_path):
    code, _, err = run(capsys, "resolve", "--ror", str(tmp_path / "nope.zip"))
    assert code == 2 and "does not exist" in err


def test_parallel_runs_on_a_fresh_home_all_succeed(home):
    """Three `paperatlas run` processes at once: the store lock and the instance lock hold."""
    import os
    import subprocess
    import sys

    commands = [["run", "neurips-2020"], ["run", "icml-2021"], ["run", "neurips-2020", "icml-2021"]]
    procs = [
        subprocess.Popen([sys.executable, "-m", "paperatlas.cli", *c], env=os.environ.copy(),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for c in commands
    ]
    results = [p.communicate(timeout=300) for p in procs]
    for proc, (out, err) in zip(procs, results):
        assert proc.returncode == 0, err[-2000:]
    done = subprocess.run([sys.executable, "-m", "paperatlas.cli", "partitions"], env=os.environ.copy(),
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    listing = done.stdout
    assert "neurips-2020\tmaterialised" in listing and "icml-2021\tmaterialised" in listing


def test_a_failed_check_fails_the_command(home, capsys, monkeypatch):
    from paperatlas.pipeline.countries import decision

    real = decision.paper_country_rows

    def broken(*args, **kwargs):  # a bug that makes shares sum to 2
        rows = real(*args, **kwargs)
        for row in rows:
            row["fractional"] *= 2
        return rows

    monkeypatch.setattr(decision, "paper_country_rows", broken)
    code, _, err = run(capsys, "run", "icml-2021")
    assert code == 1
    assert "CHECK FAILED icml-2021: paper_countries.fractional_shares_sum_to_one" in err


# -- the numbers issue: placements, papers, explain, verdicts, repeats, safe output -----------


@pytest.fixture
def twinconf(home, tmp_path, monkeypatch):
    """A venue-year whose list carries a paper twice, a multinational named without a place, a
    title a spreadsheet would run and a javascript: PDF link."""
    base = tmp_path / "lists"
    base.mkdir()
    records = [
        {"id": "1", "title": "Dual Learning", "author": "A One; B Two; C Three",
         "aff": "Peking University; Peking University; Microsoft Research",
         "aff_domain": "pku.edu.cn;pku.edu.cn;microsoft.com", "status": "Poster"},
        {"id": "2", "title": '=HYPERLINK("http://evil.example","x")', "author": "D Four; E Five",
         "aff": "Stanford University; Tsinghua University", "aff_domain": "stanford.edu;tsinghua.edu.cn",
         "status": "Poster", "pdf": "javascript:alert(document.cookie)"},
        {"id": "3", "title": '=HYPERLINK("http://evil.example","x")', "author": "D Four; E Five",
         "aff": "Stanford University; Tsinghua University", "aff_domain": "stanford.edu;tsinghua.edu.cn",
         "status": "Poster"},
        {"id": "4", "title": "Plain paper", "author": "F Six", "aff": "University of Toronto",
         "aff_domain": "utoronto.ca", "status": "Poster"},
    ]
    (base / "twinconf2017.json").write_text(json.dumps(records))
    monkeypatch.setenv("PAPERATLAS_PAPERLISTS_BASE", str(base))
    return home


def test_a_paper_listed_twice_is_merged_with_a_warning(twinconf, capsys):
    code, out, err = run(capsys, "run", "twinconf-2017")
    assert code == 0, err
    assert "CHECK FAILED" not in err
    _, out, _ = run(capsys, "errors", "twinconf-2017")
    assert "lists this paper twice (as 2 and 3, same title and authors); merged into 2" in out
    _, out, _ = run(capsys, "report", "twinconf-2017", "--json")
    assert json.loads(out)["papers"] == 3


def test_placements_intervals_papers_and_explain(twinconf, capsys):
    assert run(capsys, "run", "twinconf-2017")[0] == 0
    _, out, _ = run(capsys, "report", "twinconf-2017", "--json")
    hq = json.loads(out)
    assert (hq["placement"], hq["us_cn_papers"], hq["us_cn_papers_low"], hq["us_cn_papers_high"]) == ("hq", 2, 1, 2)
    assert hq["us_cn_papers_by_placement"] == {"hq": 2, "coauthors": 1}
    assert hq["headline"]["us_cn"]["cn"]["low"] == 1 and hq["placed_from"] == {"pdf": 0, "metadata": 3, "none": 0}
    _, out, _ = run(capsys, "report", "twinconf-2017", "--json", "--placement", "coauthors")
    assert json.loads(out)["us_cn_papers"] == 1
    _, out, _ = run(capsys, "report", "twinconf-2017")
    assert "US\u2013CN 2 (1\u20132)" in out and "No PDFs were read" in out

    code, out, _ = run(capsys, "papers", "twinconf-2017")
    assert code == 0
    rows = list(__import__("csv").DictReader(io.StringIO(out)))
    by_id = {r["paper_id"]: r for r in rows}
    assert set(by_id) == {"1", "2", "4"}
    assert by_id["2"]["title"].startswith("'=")  # a spreadsheet shows it, never runs it
    assert (by_id["1"]["countries"], by_id["1"]["uncertain"]) == ("CN;US", "True")
    _, out, _ = run(capsys, "papers", "twinconf-2017", "--format", "jsonl", "--placement", "coauthors")
    first = json.loads(out.splitlines()[0])
    assert first["countries"] == ["CN"] and first["authors"][2]["rule"] == "institution:hq+coauthors"

    code, out, _ = run(capsys, "explain", "twinconf-2017", "dual", "learning")
    assert code == 0 and "institution:hq" in out and "what would move it" in out
    code, _, err = run(capsys, "explain", "twinconf-2017", "no such paper")
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err


def test_trend_per_year_under_each_placement(twinconf, capsys, tmp_path):
    lists = tmp_path / "lists"
    (lists / "twinconf2018.json").write_text(json.dumps([
        {"id": "9", "title": "Later work", "author": "G Seven; H Eight; I Nine",
         "aff": "MIT; Fudan University; University of Oxford", "aff_domain": "mit.edu;fudan.edu.cn;ox.ac.uk",
         "status": "Poster"},
        {"id": "10", "title": "Alone", "author": "J Ten", "aff": "Fudan University", "aff_domain": "fudan.edu.cn",
         "status": "Poster"},
    ]))
    code, _, err = run(capsys, "trend", "twinconf")
    assert code == 2 and "no paperatlas store" in err and err.count("\n") == 1
    assert run(capsys, "run", "twinconf-2017", "twinconf-2018")[0] == 0
    code, _, err = run(capsys, "trend", "otherconf")
    assert code == 2 and "no year of otherconf is materialised; materialised venues: twinconf" in err

    code, out, _ = run(capsys, "trend", "twinconf", "--json")
    assert code == 0
    rows = json.loads(out)
    assert [r["year"] for r in rows] == [2017, 2018]
    first, second = rows
    assert (first["papers"], first["us_cn_papers"], first["us_cn_papers_low"], first["us_cn_papers_high"]) == (3, 2, 1, 2)
    assert first["us_cn_share"] == pytest.approx(2 / 3) and first["placement"] == "hq"
    assert first["international_share"] == pytest.approx(2 / 3)  # papers 1 and 2 of the 3 with a country
    assert first["top_partners"]["US"] == [{"country": "CN", "papers": 2}]
    assert (second["us_cn_papers"], second["us_cn_share"]) == (1, pytest.approx(1 / 2))
    assert second["top_partners"]["CN"] == [{"country": "GB", "papers": 1}, {"country": "US", "papers": 1}]
    assert second["international_share"] == pytest.approx(1 / 2)

    _, out, _ = run(capsys, "trend", "twinconf", "--json", "--placement", "coauthors", "--to", "2017")
    (moved,) = json.loads(out)
    assert (moved["year"], moved["us_cn_papers"], moved["placement"]) == (2017, 1, "coauthors")
    assert moved["top_partners"]["US"] == [{"country": "CN", "papers": 1}]  # Microsoft placed with Peking

    chart = tmp_path / "out" / "trend.png"
    code, out, err = run(capsys, "trend", "twinconf", "--from", "2018", "--out", str(chart))
    assert code == 0 and chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and f"chart written to {chart}" in err
    assert "2018" in out and " 1 " in out and "(1\u20131" not in out and "50.0%" in out and "\n2017 " not in out
    code, _, err = run(capsys, "trend", "twinconf", "--from", "2019", "--to", "2018")
    assert code == 2 and "--from 2019 is after --to 2018" in err
    code, _, err = run(capsys, "trend", "twinconf", "--partners-of", "USA")
    assert code == 2 and "ISO alpha-2" in err


def test_review_verdicts_round_trip_and_bad_files(twinconf, capsys, tmp_path):
    import csv

    assert run(capsys, "run", "twinconf-2017")[0] == 0
    out_dir = tmp_path / "report"
    assert run(capsys, "report", "twinconf-2017", "--out", str(out_dir))[0] == 0
    html_text = (out_dir / "review.html").read_text()
    assert "javascript:" not in html_text
    review = list(csv.DictReader((out_dir / "review.csv").open()))
    assert any(r["title"].startswith("'=") for r in review)
    verdicts = tmp_path / "verdicts.csv"
    with verdicts.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["number", "paper_id", "china_scope", "placement", "evidence_sha256", "verdict"])
        seen = set()
        for r in review:
            if r["number"] == "us_cn" and r["paper_id"] not in seen:
                seen.add(r["paper_id"])
                writer.writerow([r["number"], r["paper_id"], r["china_scope"], r["placement"], r["evidence_sha256"],
                                 "right" if r["paper_id"] == "2" else "wrong"])
    code, out_import, err = run(capsys, "review", "import", "twinconf-2017", str(verdicts))
    assert code == 0, err
    _, out, _ = run(capsys, "report", "twinconf-2017", "--json")
    reviewed = json.loads(out)["reviewed"]["us_cn"]
    assert (reviewed["right"], reviewed["wrong"], reviewed["stale"], reviewed["precision"]) == (1, 1, 0, 0.5)
    # The import's message promises that the report shows it: the text report too, not only md/html.
    assert "`paperatlas report twinconf-2017` shows the reviewed precision" in out_import
    _, out, _ = run(capsys, "report", "twinconf-2017")
    assert "Reviewers checked 2 of the US\u2013China papers: precision 50%" in out
    # Under the other placement the paper by Microsoft Research is no US-CN paper: that verdict is stale.
    _, out, _ = run(capsys, "report", "twinconf-2017", "--json", "--placement", "coauthors")
    assert "us_cn" not in json.loads(out)["reviewed"]  # the verdicts were given under hq

    bad = tmp_path / "bad.csv"
    for text, expected in (("number,paper_id\nus_cn,2\n", "no column verdict"),
                           ("number,paper_id,verdict\nus_cn,2,maybe\n", "line 2: verdict 'maybe'"),
                           ("number,paper_id,verdict\nus_cn,999,right\n", "not in twinconf-2017")):
        bad.write_text(text)
        code, _, err = run(capsys, "review", "import", "twinconf-2017", str(bad))
        assert code == 2 and expected in err and "Traceback" not in err and err.count("\n") == 1, err
    _, out, _ = run(capsys, "errors", "twinconf-2017")
    assert "review import" in out and "bad.csv" in out


def test_a_bad_setting_is_one_line(home, capsys, monkeypatch):
    monkeypatch.setenv("PAPERATLAS_PLACEMENT", "head")
    code, _, err = run(capsys, "report", "neurips-2020")
    assert code == 2 and err == "paperatlas: PAPERATLAS_PLACEMENT='head': expected one of hq, coauthors\n"
