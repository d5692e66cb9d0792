"""Authors nobody can place bound every headline number: `<number>_unplaced` beside the
interval, from the rule on hand-built views to every output that shows the interval."""

import json

import pandas as pd
import pytest
from conftest import PAPERLISTS, materialise
from test_reports import _cli, ev, view, views  # noqa: F401  (views: the shared fixture)

from paperatlas.pipeline.conventions import PLACEMENTS
from paperatlas.pipeline.reports import headlines as hl


def test_unplaced_authors_bound_every_number_beside_the_interval():
    unresolved = ev(2, "Department of EECS", [], "unresolved", 0.0, email_domain="gmail.com")
    google = hl.Evidence(1, "Author 1", "Google", None, "paperlists", "ref", ("US",), "Google", None,
                         "institution:hq", 0.7, None, certain=(), alternatives=("CN", "US"), uncertainty="multinational")

    def with_authors(v, n):
        v.authors = n
        return v

    views = {
        # A US author and one whose affiliation resolved nowhere: could be US-CN.
        "a": view("a", ev(1, "MIT", ["US"]), unresolved),
        # Two authors, nothing placed: one unresolved, one without any affiliation.
        "b": with_authors(view("b", ev(1, "Department of EECS", [], "unresolved", 0.0)), 2),
        # One author, unresolved, nothing else: could be US or CN, not US-CN.
        "c": with_authors(view("c", ev(1, "Department of EECS", [], "unresolved", 0.0)), 1),
        # Already US-CN: never counted, whatever its unplaced author is.
        "d": with_authors(view("d", ev(1, "MIT", ["US"]), ev(2, "PKU", ["CN"])), 3),
        # No affiliation data at all: outside coverage, so outside the bound.
        "e": with_authors(view("e"), 3),
        # A multinational at headquarters or at its CN lab, and an unplaced author.
        "f": view("f", google, unresolved),
        # Everyone placed.
        "g": with_authors(view("g", ev(1, "MIT", ["US"])), 1),
    }
    assert [views[p].unplaced for p in "abcdefg"] == [1, 2, 1, 1, 3, 1, 0]
    got = hl.unplaced(views, "cn")
    assert got["us_cn"] == {"a", "b", "f"}
    assert got["us"] == {"b", "c"} and got["cn"] == {"a", "b", "c"}  # f is in both under some reading
    assert got["international"] == {"a", "b", "f"}
    assert got["papers_with_country"] == {"b", "c"}  # the papers with affiliation data coverage misses
    assert got["papers"] == got["papers_with_affiliation"] == set()
    low, high = hl.bounds(views, "cn")
    assert all(not (got[n] & high[n]) for n in got)  # outside the interval, so high + unplaced bounds it

    rows = hl.headline_rows({"partition_key": "x-2020", "venue": "x", "year": 2020}, views)
    by = {(r["placement"], r["china_scope"], r["number"]): r for r in rows}
    for placement in PLACEMENTS:  # every placement is one reading: the bound is the same
        assert by[(placement, "cn", "us_cn")]["unplaced"] == 3
    assert by[("hq", "cn", "us_cn")]["papers"] == 1 and by[("hq", "cn", "us_cn")]["high"] == 1
    assert hl.interval(1, 1, 1, 3) == "1 (+3 unplaced)" and hl.interval(1, 1, 1) == "1"  # no degenerate interval
    assert hl.interval(2, 1, 2, 0) == "2 (1\u20132)" and hl.interval(2, 1, 3, 4) == "2 (1\u20133, +4 unplaced)"
    table = hl.headline_table(rows).set_index("number")
    assert table.loc["us_cn", "cn \u00b7 hq"] == "1 (+3 unplaced) 14.3%"
    assert table.loc["papers", "cn \u00b7 hq"] == "7"  # nothing uncertain, nothing to add: a bare count


def test_a_term_number_counts_unplaced_authors_only_where_the_term_is_named():
    unresolved = ev(2, "Department of EECS", [], "unresolved", 0.0)
    views = {"t": view("t", ev(1, "MIT", ["US"]), unresolved, mentions=["llama:full_text"]),
             "n": view("n", ev(1, "MIT", ["US"]), unresolved)}
    got = hl.unplaced(views, "cn")
    assert got["cn_llama_full_text"] == {"t"} and got["cn_llama_abstract"] == set()
    assert got["us_llama_full_text"] == set()  # already in


def test_stored_numbers_without_the_unplaced_bound_are_an_older_paperatlas(views):
    from paperatlas.pipeline.reports.views import ReportError, stored_numbers

    written = pd.DataFrame(hl.headline_rows({"partition_key": "x-2020", "venue": "x", "year": 2020}, views))
    assert stored_numbers(written, "x-2020", len(views))["unplaced"].dtype == "int64"
    for older in (written.drop(columns="unplaced"), written.assign(unplaced=None)):
        with pytest.raises(ReportError, match="stored by an older paperatlas, before placements, intervals and "
                                              "unplaced bounds; run `paperatlas run x-2020` again"):
            stored_numbers(older, "x-2020", len(views))


def test_the_unplaced_bound_shows_wherever_the_interval_does(home, monkeypatch, capsys, tmp_path):
    """Through the pipeline: two papers the fixture's unplaced authors could make US-CN, in the
    stored table, the headlines asset's metadata, the text, JSON, Markdown and HTML reports
    and the trend."""
    import shutil

    from dagster import DagsterInstance

    from paperatlas.definitions import build_definitions
    from paperatlas.pipeline.config import load_settings
    from paperatlas.pipeline.store import Warehouse

    base = tmp_path / "paperlists"
    shutil.copytree(PAPERLISTS, base)
    papers = json.loads((base / "nips" / "nips2020.json").read_text())
    extra = [("p8", "Li Wei; Ann Lee", "Tsinghua University, Beijing, China; Department of EECS",
              "tsinghua.edu.cn;gmail.com"),
             ("p9", "Bob Stone; Cy Dune", "Stanford University, Stanford, CA 94305; ", "stanford.edu;")]
    for pid, authors, aff, domains in extra:
        papers.append({**papers[0], "id": pid, "title": f"Paper {pid} <script>", "author": authors, "aff": aff,
                       "aff_domain": domains, "email": domains, "site": f"https://nips.cc/virtual/2020/poster/{pid}",
                       "pdf": f"https://papers.nips.cc/paper_files/paper/2020/file/{pid}-Paper.pdf"})
    (base / "nips" / "nips2020.json").write_text(json.dumps(papers))
    monkeypatch.setenv("PAPERATLAS_PAPERLISTS_BASE", str(base))
    defs = build_definitions(load_settings())
    instance = DagsterInstance.ephemeral()
    assert defs.resolve_job_def("reference_job").execute_in_process(instance=instance).success
    result = materialise(defs, instance, "neurips-2020")
    assert result.success

    meta = {k: getattr(v, "value", v) for k, v in
            result.asset_materializations_for_node("headlines")[0].metadata.items()}
    assert (meta["us_cn_papers"], meta["us_cn_papers_low"], meta["us_cn_papers_high"]) == (1, 1, 1)
    assert meta["us_cn_papers_unplaced"] == 2 and meta["us_cn_interval"] == "1 (+2 unplaced)"
    assert "1 (+2 unplaced)" in meta["headline"]
    report_meta = result.asset_materializations_for_node("venue_year_report")[0].metadata
    assert report_meta["us_cn_papers_unplaced"].value == 2

    stored = Warehouse(home / "paperatlas.duckdb").query(
        "SELECT placement, china_scope, number, unplaced FROM headline_numbers WHERE number IN ('us_cn', 'cn')")
    assert set(stored.loc[stored["number"] == "us_cn", "unplaced"]) == {2}
    # p3 (one author, placed nowhere), p9 (a US author and one without affiliation); p8 is CN.
    assert set(stored.loc[(stored["number"] == "cn") & (stored["china_scope"] == "cn"), "unplaced"]) == {2}

    code, out, err = _cli(capsys, "report", "neurips-2020")
    assert code == 0, err
    assert "US\u2013CN 1 (+2 unplaced)" in out
    data = json.loads(_cli(capsys, "report", "neurips-2020", "--json")[1])
    assert (data["us_cn_papers_low"], data["us_cn_papers_high"], data["us_cn_papers_unplaced"]) == (1, 1, 2)
    assert data["headline"]["us_cn"]["cn"]["unplaced"] == 2
    assert data["headline"]["us_cn"]["by_placement"]["coauthors"]["cn"]["unplaced"] == 2
    assert data["papers_with_unplaced_authors"] == 3  # p3, p8, p9
    assert "1 (+2 unplaced)" in _cli(capsys, "report", "neurips-2020", "--format", "md")[1]
    page = _cli(capsys, "report", "neurips-2020", "--format", "html")[1]
    assert "1 (+2 unplaced)" in page and "<script>" not in page
    trend = _cli(capsys, "trend", "neurips", "--json")[1]
    assert json.loads(trend)[0]["us_cn_papers_unplaced"] == 2
    assert "1 (+2 unplaced)" in _cli(capsys, "trend", "neurips")[1]
