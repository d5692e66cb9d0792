"""Review files and what people read (issue 36, item 7 and two things also noted): a verdicts
file with a cell over the CSV reader's field limit, codes typed in capitals, 1,000 verdicts
stored in one write, review.html linking titles to local paths, and bidirectional controls in
data reversing what the pages and the terminal show."""

import csv
import json
import re

import pytest

from paperatlas import cli

BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def hostile(home, tmp_path, monkeypatch):
    """A venue-year read from a local folder whose name holds U+202E, with a title and an author
    holding bidirectional controls, a paper without any link (its url is the local list's path)
    and one whose PDF link is a relative path."""
    base = tmp_path / "lists\u202eevil"
    base.mkdir()
    us_cn = {"aff": "Stanford University; Tsinghua University", "aff_domain": "stanford.edu;tsinghua.edu.cn",
             "status": "Poster"}
    records = [
        {"id": "1", "title": "\u202eReversed title", "author": "D Four; E \u2066Five\u2069", **us_cn},
        {"id": "2", "title": "Web paper", "author": "G Seven; H Eight", "pdf": "https://example.org/2.pdf", **us_cn},
        {"id": "3", "title": "Local PDF", "author": "I Nine; J Ten", "pdf": "papers/3.pdf", **us_cn},
        {"id": "4", "title": "Plain paper", "author": "F Six", "aff": "University of Toronto",
         "aff_domain": "utoronto.ca", "status": "Poster"},
    ]
    (base / "hostconf2017.json").write_text(json.dumps(records))
    monkeypatch.setenv("PAPERATLAS_PAPERLISTS_BASE", str(base))
    return home


def _verdicts(path, rows, header=("number", "paper_id", "china_scope", "placement", "evidence_sha256", "verdict")):
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


def _review(capsys, tmp_path) -> list[dict]:
    out_dir = tmp_path / "report"
    assert run(capsys, "report", "hostconf-2017", "--out", str(out_dir))[0] == 0
    return list(csv.DictReader((out_dir / "review.csv").open()))


def test_a_cell_over_the_field_limit_names_the_file_and_line(hostile, capsys, tmp_path):
    bad = tmp_path / "review-verdicts.csv"
    _verdicts(bad, [["us_cn", "2", "cn", "hq", "", "right"], ["us_cn", "3", "cn", "hq", "", "right"],
                    ["us_cn", "4", "cn", "hq", "", "x" * 200_000]])
    code, out, err = run(capsys, "review", "import", "hostconf-2017", str(bad))
    assert code == 2 and err.count("\n") == 1, err
    assert "review-verdicts.csv line 4: a cell over 131,072 characters" in err, err
    assert "unexpected error" not in err and "Traceback" not in err


def test_codes_in_capitals_and_spaces_are_stored_as_the_report_reads_them(hostile, capsys, tmp_path):
    assert run(capsys, "run", "hostconf-2017")[0] == 0
    review = [r for r in _review(capsys, tmp_path) if r["number"] == "us_cn"]
    digests = {r["paper_id"]: r["evidence_sha256"] for r in review}
    assert set(digests) == {"1", "2", "3"}
    verdicts = tmp_path / "verdicts.csv"
    # As the issue found them: China scope and placement in capitals were stored, then never used.
    _verdicts(verdicts, [["us_cn", "1", "CN", "HQ", digests["1"].upper(), "Right"],
                         ["us_cn", "2", " Cn ", " Hq ", "", " WRONG "]])
    code, out, err = run(capsys, "review", "import", "hostconf-2017", str(verdicts))
    assert code == 0 and "2 verdicts" in out, err
    _, out, _ = run(capsys, "report", "hostconf-2017", "--json")
    reviewed = json.loads(out)["reviewed"]
    assert reviewed, "the verdicts were stored in a form the report does not read"
    assert (reviewed["us_cn"]["right"], reviewed["us_cn"]["wrong"], reviewed["us_cn"]["stale"]) == (1, 1, 0)
    # The number and the header's names are codes too.
    _verdicts(verdicts, [[" US_CN ", "3", "cn", "hq", digests["3"], "right"]],
              header=("Number", "paper_id", "China_Scope", "Placement", "evidence_sha256", "Verdict "))
    code, out, err = run(capsys, "review", "import", "hostconf-2017", str(verdicts))
    assert code == 0 and "1 verdict of" in out, err
    _, out, _ = run(capsys, "report", "hostconf-2017")
    assert "Reviewers checked 3 of the US\u2013China papers" in out

    # A value that is no code the report knows is named with its line and what is accepted.
    for cells, expected in ((["us_cn", "2", "mainland", "hq", "", "right"],
                             "line 2: china_scope 'mainland'; use cn, cn+hk+mo, greater"),
                            (["us_cn", "2", "cn", "HQ-ish", "", "right"],
                             "line 2: placement 'HQ-ish'; use hq, coauthors"),
                            (["us_cn", "2", "cn", "hq", "xyz", "right"], "line 2: evidence_sha256 'xyz' is no SHA-256"),
                            (["US-CN", "2", "cn", "hq", "", "right"], "line 2: unknown number 'US-CN'; use ")):
        _verdicts(verdicts, [cells])
        code, _, err = run(capsys, "review", "import", "hostconf-2017", str(verdicts))
        assert code == 2 and expected in err and err.count("\n") == 1, err


def _verdict_rows(n_papers: int) -> list[dict]:
    from paperatlas.pipeline.conventions import CHINA_SCOPES
    from paperatlas.pipeline.reports.review import REVIEWED

    return [{"number": number, "paper_id": f"p{i}", "china_scope": scope, "placement": "hq",
             "evidence_sha256": f"{i:064x}", "verdict": "ok"}
            for i in range(n_papers) for number in REVIEWED for scope in CHINA_SCOPES]


@pytest.mark.parametrize("kind", ["duckdb", "delta"])
def test_a_thousand_verdicts_are_stored_in_one_write(kind, tmp_path, monkeypatch):
    from datetime import datetime

    from paperatlas.pipeline.reports.review import store_verdicts

    if kind == "duckdb":
        from paperatlas.pipeline.store import Warehouse as Store

        store = Store(tmp_path / "db.duckdb")
    else:
        from paperatlas.pipeline.config import store_options
        from paperatlas.pipeline.store_delta import DeltaWarehouse as Store

        store = Store(str(tmp_path / "delta"), store_options())
    writes = []
    original = Store._replace_rows

    def spy(self, table, frame, where, params, con):
        if table == "review_verdicts":
            writes.append(len(frame))
            assert len(writes) == 1, "review_verdicts written more than once for one file"
        return original(self, table, frame, where, params, con)

    monkeypatch.setattr(Store, "_replace_rows", spy)
    rows = _verdict_rows(20)  # 20 papers x 17 numbers x 3 China scopes
    assert len(rows) >= 1000
    now = datetime(2026, 12, 7)
    assert store_verdicts(store, "hostconf-2017", rows, {}, "hq", "a.csv", now) == len(rows)
    assert writes == [len(rows)]
    # A second file replaces the verdicts it gives again (in one write too) and keeps the others.
    writes.clear()
    again = [{**r, "verdict": "wrong"} for r in rows if r["paper_id"] == "p3"]
    assert store_verdicts(store, "hostconf-2017", again, {}, "hq", "b.csv", now) == len(again)
    stored = store.query("SELECT paper_id, verdict, count(*) AS n FROM review_verdicts GROUP BY ALL ORDER BY ALL")
    assert stored["n"].sum() == len(rows)
    assert set(stored.loc[stored["paper_id"] == "p3", "verdict"]) == {"wrong"}
    assert set(stored.loc[stored["paper_id"] != "p3", "verdict"]) == {"ok"}


def test_pages_link_only_to_the_web_and_bidi_controls_reverse_nothing(hostile, capsys, tmp_path):
    assert run(capsys, "run", "hostconf-2017")[0] == 0
    out_dir = tmp_path / "report"
    assert run(capsys, "report", "hostconf-2017", "--out", str(out_dir))[0] == 0
    review_html = (out_dir / "review.html").read_text()
    hrefs = re.findall(r"href=['\"]([^'\"]*)['\"]", review_html)
    assert "https://example.org/2.pdf" in hrefs
    assert [h for h in hrefs if not h.startswith(("#", "http://", "https://"))] == []
    assert "evil" not in review_html and "papers/3.pdf" not in review_html  # no local path, as a link or text
    assert "Reversed title" in review_html and "Local PDF" in review_html  # shown, as text
    # Machine output keeps the data as it came.
    assert any("\u202eReversed title" == r["title"] for r in csv.DictReader((out_dir / "review.csv").open()))
    # What people read: the pages, the report printed (its inputs name the folder read), explain
    # (the title, the authors).
    shown = {name: (out_dir / name).read_text() for name in ("review.html", "report.html", "report.md")}
    for argv in (["report"], ["report", "--format", "html"], ["report", "--format", "md"], ["explain", "1"]):
        code, out, err = run(capsys, argv[0], "hostconf-2017", *argv[1:])
        assert code == 0, err
        shown[" ".join(argv)] = out
    assert "evil" in shown["report"] and "Reversed title" in shown["explain 1"] and "Five" in shown["explain 1"]
    assert [name for name, text in shown.items() if BIDI.search(text)] == []
    _, out, _ = run(capsys, "report", "hostconf-2017", "--json")
    assert "\u202e" in out  # JSON keeps it (escaped or not, the data is unchanged)


def test_study_page_escapes_without_bidi_controls():
    from paperatlas.pipeline.reports.studies import render

    assert render._link("file:///etc/passwd", "x") == "x"
    assert render._link("https://example.org/\u202ea", "\u202eReversed <b>") == \
        '<a href="https://example.org/a">Reversed &lt;b&gt;</a>'
