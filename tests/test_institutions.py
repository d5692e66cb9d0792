"""The institutions behind a number (pipeline/reports/institutions.py, `paperatlas institutions`)
and the papers behind one (`paperatlas papers --number`, `--long`)."""

import csv
import io
import json

import pytest

from paperatlas import cli
from paperatlas.pipeline.countries.decision import Decision
from paperatlas.pipeline.reports.headlines import PaperView
from paperatlas.pipeline.reports.institutions import InstitutionError, combine_views, institution_table

STANFORD = "https://ror.org/00f54p054"
TSINGHUA = "https://ror.org/03cve4549"


def row(position, country, institution=None, ror_id=None, parent=None, parent_id=None, coauthors=None):
    return Decision(position, f"Author {position}", institution or "somewhere", None, "paperlists", None,
                    (country,), institution, ror_id, "institution", 0.95, None,
                    coauthor_countries=None if coauthors is None else (coauthors,),
                    parent_ror_id=parent_id, parent_name=parent)


def view(pid, *rows):
    return PaperView(pid, f"Paper {pid}", None, True, frozenset(c for r in rows for c in r.countries),
                     evidence=tuple(rows))


@pytest.fixture
def views():
    """Paper 1: two Stanford sub-units and Stanford itself, Tsinghua, Oxford. Paper 2: a Stanford
    sub-unit and a Chinese author placed by a place alone. Paper 3: US only. Paper 4: a Hong Kong
    university with MIT. Paper 5: Microsoft (placed in CN by its co-authors) with Peking."""
    return {
        "1": view("1", row(1, "US", "Stanford AI Lab", "https://ror.org/sail", "Stanford University", STANFORD),
                  row(2, "US", "Stanford Medicine", "https://ror.org/med", "Stanford University", STANFORD),
                  row(3, "US", "Stanford University", STANFORD, "Stanford University", STANFORD),
                  row(4, "CN", "Tsinghua University", TSINGHUA, "Tsinghua University", TSINGHUA),
                  row(5, "GB", "University of Oxford", "https://ror.org/oxf", "University of Oxford",
                      "https://ror.org/oxf")),
        "2": view("2", row(1, "US", "Stanford AI Lab", "https://ror.org/sail", "Stanford University", STANFORD),
                  row(2, "CN")),
        "3": view("3", row(1, "US", "Stanford University", STANFORD, "Stanford University", STANFORD)),
        "4": view("4", row(1, "HK", "University of Hong Kong", "https://ror.org/hku"),
                  row(2, "US", "MIT", "pa:0007", "MIT", "pa:0007")),
        "5": view("5", row(1, "US", "Microsoft", None, "Microsoft", "pa:0121", coauthors="CN"),
                  row(2, "CN", "Peking University", "https://ror.org/pku", "Peking University", "https://ror.org/pku"),
                  row(3, "CN", "Peking University", "https://ror.org/pku", "Peking University", "https://ror.org/pku"),
                  row(4, "US", "Cornell University", "https://ror.org/cor", "Cornell University",
                      "https://ror.org/cor")),
    }


def rows_of(frame):
    return [tuple(r) for r in frame.itertuples(index=False)]


def test_institutions_fold_to_the_parent_once_per_paper(views):
    table = institution_table(views, "us_cn", "cn", "hq", top=10)
    assert (table.number, table.papers) == ("us_cn", 3)  # papers 1, 2 and 5
    assert list(table.institutions.columns) == ["institution", "ror_id", "country", "papers", "share"]
    # Stanford: two sub-units and itself on paper 1, a sub-unit on paper 2: two papers, under its own name.
    assert rows_of(table.institutions) == [
        ("Stanford University", STANFORD, "US", 2, pytest.approx(2 / 3)),
        ("Cornell University", "https://ror.org/cor", "US", 1, pytest.approx(1 / 3)),
        ("Microsoft", None, "US", 1, pytest.approx(1 / 3)),  # a curated id is not a ROR id
        ("Peking University", "https://ror.org/pku", "CN", 1, pytest.approx(1 / 3)),
        ("Tsinghua University", TSINGHUA, "CN", 1, pytest.approx(1 / 3)),
    ]  # Oxford is on paper 1, but not on a side of US-CN
    assert rows_of(table.pairs) == [
        ("Cornell University", "US", "Peking University", "CN", 1, pytest.approx(1 / 3)),
        ("Microsoft", "US", "Peking University", "CN", 1, pytest.approx(1 / 3)),
        ("Stanford University", "US", "Tsinghua University", "CN", 1, pytest.approx(1 / 3)),
    ]
    assert rows_of(table.unattributed) == [("2", "Paper 2", ["CN"])]
    assert table.attributed == 2 and table.sides == ("US", "CN")


def test_china_scope_placement_and_top(views):
    # Hong Kong counts as China under cn+hk+mo: paper 4 joins, its university on the CN side.
    folded = institution_table(views, "us_cn", "cn+hk+mo", "hq", top=None)
    assert folded.papers == 4
    assert ("University of Hong Kong", "https://ror.org/hku", "CN", 1, pytest.approx(1 / 4)) in rows_of(
        folded.institutions)
    assert ("MIT", "US", "University of Hong Kong", "CN", 1, pytest.approx(1 / 4)) in rows_of(folded.pairs)
    # Under coauthors, Microsoft sits with its Chinese co-authors: a CN institution, no longer paired with Peking.
    moved = institution_table(views, "us_cn", "cn", "coauthors", top=None)
    assert ("Microsoft", None, "CN", 1, pytest.approx(1 / 3)) in rows_of(moved.institutions)
    assert ("Cornell University", "US", "Microsoft", "CN", 1, pytest.approx(1 / 3)) in rows_of(moved.pairs)
    assert not any(r[0] == "Microsoft" for r in rows_of(moved.pairs))
    # top cuts the tables, not the counts.
    two = institution_table(views, "us_cn", top=2)
    assert len(two.institutions) == 2 and two.institutions_total == 5 and two.pairs_total == 3
    assert list(two.institutions["institution"]) == ["Stanford University", "Cornell University"]


def test_numbers_about_one_country_or_none(views):
    cn = institution_table(views, "cn", top=None)
    assert cn.papers == 3 and set(cn.institutions["country"]) == {"CN"}
    # A CN institution with each one abroad, the CN side first.
    assert ("Tsinghua University", "CN", "University of Oxford", "GB", 1, pytest.approx(1 / 3)) in rows_of(cn.pairs)
    assert {r[1] for r in rows_of(cn.pairs)} == {"CN"}
    everyone = institution_table(views, "papers", top=None)
    assert everyone.papers == 5 and "University of Oxford" in set(everyone.institutions["institution"])
    assert rows_of(everyone.unattributed) == [("2", "Paper 2", ["CN"])]
    with pytest.raises(InstitutionError, match="unknown number 'usa'.*us_cn"):
        institution_table(views, "usa")


def test_several_venue_years_keep_their_papers_apart(views):
    both = combine_views({"conf-2019": views, "conf-2020": views})
    assert len(both) == 10 and "conf-2020/2" in both
    table = institution_table(both, "us_cn")
    assert table.papers == 6 and rows_of(table.institutions)[0][:4] == ("Stanford University", STANFORD, "US", 4)
    assert list(table.unattributed["paper_id"]) == ["conf-2019/2", "conf-2020/2"]


# -- on a materialised venue-year, through the command ------------------------------------------


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def instconf(home, tmp_path, monkeypatch):
    """instconf-2019 materialised, with a registry that knows the Slovak Academy's institutes and
    their parents: (1) Peking with Microsoft Research, (2) Stanford with Tsinghua, (3) two
    institutes of the Slovak Academy with Stanford, (4) Stanford alone, (5) a Chinese author
    placed by a place alone with Stanford, (6) no affiliation data."""
    from ror_fixture import INSTITUTION_ORGS, INSTITUTION_RELATIONS, ORGS, write_dump

    dump = write_dump(tmp_path / "ror" / "ror-parents-v2.zip", rows=ORGS + INSTITUTION_ORGS,
                      relations=INSTITUTION_RELATIONS)
    monkeypatch.setenv("PAPERATLAS_ROR_DUMP", str(dump))
    lists = tmp_path / "lists"
    lists.mkdir()
    papers = [
        ("1", "Dual Learning", "Peking University; Peking University; Microsoft Research",
         "pku.edu.cn;pku.edu.cn;microsoft.com"),
        ("2", "Pacific Learning", "Stanford University; Tsinghua University; Tsinghua University",
         "stanford.edu;tsinghua.edu.cn;tsinghua.edu.cn"),
        ("3", "Viruses", "Institute of Virology, Slovak Academy of Sciences, Bratislava, Slovakia; Biomedical "
         "Research Center of the Slovak Academy of Sciences, Bratislava, Slovakia; Stanford University",
         ";;stanford.edu"),
        ("4", "Only Stanford", "Stanford University", "stanford.edu"),
        ("5", "A Place Only", "Beijing, China; Stanford University", ";stanford.edu"),
        ("6", "No Affiliation", "", ""),
    ]
    (lists / "instconf2019.json").write_text(json.dumps([
        {"id": pid, "title": title, "author": "; ".join(f"Author {i}" for i in range(aff.count(";") + 1)),
         "aff": aff, "aff_domain": domains, "status": "Poster"} for pid, title, aff, domains in papers]))
    monkeypatch.setenv("PAPERATLAS_PAPERLISTS_BASE", str(lists))
    assert cli.main(["run", "instconf-2019"]) == 0
    return home


def test_institutions_command(instconf, capsys):
    capsys.readouterr()
    code, out, _ = run(capsys, "institutions", "instconf-2019", "--json")
    assert code == 0
    table = json.loads(out)
    assert (table["number"], table["papers"], table["venue_years"]) == ("us_cn", 3, ["instconf-2019"])
    got = [(r["institution"], r["country"], r["papers"]) for r in table["institutions"]]
    assert got == [("Stanford University", "US", 2), ("Microsoft", "US", 1), ("Peking University", "CN", 1),
                   ("Tsinghua University", "CN", 1)]
    assert table["institutions"][0]["share"] == pytest.approx(2 / 3)
    assert table["institutions"][0]["country_name"] == "United States"
    assert [(p["institution_a"], p["institution_b"], p["papers"]) for p in table["pairs"]] == [
        ("Microsoft", "Peking University", 1), ("Stanford University", "Tsinghua University", 1)]
    assert table["unattributed"] == [{"paper_id": "5", "title": "A Place Only", "missing": ["CN"]}]

    code, out, _ = run(capsys, "institutions", "instconf-2019")
    assert code == 0
    assert out.splitlines()[0].startswith("US\u2013CN co-authored papers, instconf 2019: 3")
    assert "Tsinghua University" in out and "China" in out and "United States" in out
    assert "Stanford University (United States) \u2013 Tsinghua University (China)" in out
    assert "1 of the 3 papers has no institution recorded" in out and "A Place Only" in out

    # Under coauthors, Microsoft counts where its co-authors are: one paper fewer.
    _, out, _ = run(capsys, "institutions", "instconf", "--json", "--placement", "coauthors")
    assert json.loads(out)["papers"] == 2
    # Two institutes of the Slovak Academy on one paper: the Academy, once.
    _, out, _ = run(capsys, "institutions", "instconf-2019", "--number", "international", "--csv", "--top", "0")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == ["institution", "ror_id", "country", "papers", "share"]
    academy = [r for r in rows if r["country"] == "SK"]
    assert [(r["institution"], r["papers"]) for r in academy] == [("Slovak Academy of Sciences", "1")]
    assert rows[0]["institution"] == "Stanford University" and rows[0]["papers"] == "3"

    code, _, err = run(capsys, "institutions", "instconf-2019", "--number", "usa")
    assert code == 2 and err.count("\n") == 1 and "unknown number 'usa'" in err and "us_cn" in err
    code, _, err = run(capsys, "institutions", "otherconf")
    assert code == 2 and "no year of otherconf is materialised; materialised venues: instconf" in err
    code, _, err = run(capsys, "institutions", "instconf-2018")
    assert code == 2 and "not materialised" in err and "Traceback" not in err


def test_papers_behind_a_number_one_row_per_author(instconf, capsys, tmp_path):
    capsys.readouterr()
    code, out, err = run(capsys, "papers", "instconf-2019", "--number", "us_cn")
    assert code == 0 and "3 of the 6 papers of instconf-2019 in us_cn" in err
    assert [r["paper_id"] for r in csv.DictReader(io.StringIO(out))] == ["1", "2", "5"]
    _, out, _ = run(capsys, "papers", "instconf-2019", "--number", "us_cn", "--placement", "coauthors",
                    "--format", "jsonl")
    assert [json.loads(line)["paper_id"] for line in out.splitlines()] == ["2", "5"]

    target = tmp_path / "authors.csv"
    code, _, err = run(capsys, "papers", "instconf-2019", "--number", "international", "--long", "--output",
                       str(target))
    assert code == 0 and "one row per author-affiliation row" in err
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert list(rows[0])[:7] == ["paper_id", "title", "author_position", "author_name", "affiliation",
                                 "email_domain", "institution"]
    assert {"parent_institution", "country", "rule", "confidence", "source"} <= set(rows[0])
    assert [r["paper_id"] for r in rows] == ["1", "1", "1", "2", "2", "2", "3", "3", "3", "5", "5"]
    virology = next(r for r in rows if r["affiliation"].startswith("Institute of Virology"))
    assert (virology["parent_institution"], virology["country"]) == ("Slovak Academy of Sciences", "SK")
    placed = next(r for r in rows if r["affiliation"] == "Beijing, China")
    assert (placed["institution"], placed["country"], placed["source"]) == ("", "CN", "paperlists")
    # Without --number, every paper: one row per author, and one for the paper without any.
    _, out, _ = run(capsys, "papers", "instconf-2019", "--long")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 13 and [(r["paper_id"], r["author_position"], r["country"]) for r in rows[-1:]] == [
        ("6", "", "")]
    code, _, err = run(capsys, "papers", "instconf-2019", "--number", "everything")
    assert code == 2 and err.count("\n") == 1 and "unknown number 'everything'" in err
