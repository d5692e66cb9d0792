"""PDFs in the asset graph: local folders, downloads (mocked), reconciliation with metadata."""

import re
import shutil

import pandas as pd
import pymupdf
import pytest
import responses
from conftest import materialise
from pdf_builder import Page
from test_pdfs import block_page, marked_page

from paperatlas.definitions import build_definitions
from paperatlas.pipeline.affiliations.reconcile import match_authors, name_match, reconcile
from paperatlas.pipeline.config import load_settings
from paperatlas.pipeline.partitions import parse_partition_key
from paperatlas.pipeline.sources.local import read_local
from paperatlas.pipeline.store import Warehouse

# -- reconciliation rules -----------------------------------------------------------------------

@pytest.mark.parametrize("a, b, how", [
    ("Wei Wang", "Wei Wang", "exact"),
    ("Wang Wei", "Wei Wang", "same words"),
    ("J. Smith", "John Smith", "initials"),
    ("José Pérez", "Jose Perez", "exact"),
    ("Jean-Pierre Dupont", "Jean Pierre Dupont", "exact"),
    ("Anna Müller", "Anna Mueller", "fuzzy"),
])
def test_names_that_match(a, b, how):
    assert name_match(a, b)[1] == how


@pytest.mark.parametrize("a, b", [("Wei Wang", "Wei Zhang"), ("J. Smith", "K. Smith"), ("Ana Silva", ""),
                                  ("John Smith", "John Smithson-Clarke")])
def test_names_that_do_not(a, b):
    assert name_match(a, b) == (0.0, "")


def test_each_name_is_used_once_best_first():
    assert match_authors(["Wei Wang", "Wei Wang Jr", "Ann Lee"], ["Ann Lee", "Wei Wang"]) == {
        0: (1, 100.0, "exact"), 2: (0, 100.0, "exact")}


def paper(**kw):
    base = {"partition_key": "x-2020", "paper_id": "p", "source": "paperlists", "source_ref": "f.json",
            "authors": ["Alice Chen", "Bob Smith", "Cy Young"], "affiliations": [["Stanford University"], ["MIT"], []],
            "email_domains": ["stanford.edu", None, None], "aligned": True, "unaligned_affiliations": []}
    return {**base, **kw}


def pdf(position, name, aff=None, index=1, email_domain=None):
    return {"paper_id": "p", "author_position": position, "author_name": name, "affiliation_index": index,
            "affiliation": aff, "email_domain": email_domain}


def decisions(rows):
    return [(r["source"], r["author_position"], r["affiliation"], r["decision"], r["counted"]) for r in rows]


def test_the_pdf_counts_for_authors_it_gives_affiliations():
    rows = reconcile([paper()], [
        pdf(1, "A. Chen", "Tsinghua University, Beijing", email_domain="tsinghua.edu.cn"),
        pdf(1, "A. Chen", "Stanford University", index=2, email_domain="tsinghua.edu.cn"),
        pdf(2, "Bob Smith"),  # on the page, no affiliation there
        pdf(3, "Zed Unknown", "Nowhere Institute"),  # no such metadata author
    ], {"p": "https://x.org/p.pdf"})
    assert decisions(rows) == [
        ("paperlists", 1, "Stanford University", "superseded", False),
        ("paperlists", 2, "MIT", "metadata", True),
        ("paperlists", 3, None, "metadata", True),
        ("pdf", 1, "Tsinghua University, Beijing", "pdf", True),
        ("pdf", 1, "Stanford University", "pdf", True),
        ("pdf", 2, None, "pdf-no-affiliation", False),
        ("pdf", None, "Nowhere Institute", "pdf-unmatched", False),
    ]
    first = rows[3]
    assert first["name_match"] == "initials 95" and first["email_domain"] == "tsinghua.edu.cn"
    assert first["source_ref"] == "https://x.org/p.pdf"


def test_without_a_pdf_the_metadata_counts():
    rows = reconcile([paper()], [])
    assert all(r["counted"] and r["decision"] == "metadata" for r in rows)


def test_a_paper_without_metadata_authors_takes_the_pdf_authors():
    rows = reconcile([paper(authors=[], affiliations=[], email_domains=[])],
                     [pdf(1, "Ann Lee", "KAIST"), pdf(2, "Bo Kim", email_domain="snu.ac.kr")])
    assert decisions(rows) == [("pdf", 1, "KAIST", "pdf", True), ("pdf", 2, None, "pdf", True)]


def test_unaligned_metadata_gives_way_to_a_pdf_that_ties_affiliations():
    unaligned = paper(aligned=False, affiliations=[], unaligned_affiliations=["Stanford University", "MIT"])
    kept = reconcile([unaligned], [pdf(1, "Alice Chen")])
    assert [r["decision"] for r in kept] == ["metadata", "metadata", "pdf-no-affiliation"]
    replaced = reconcile([unaligned], [pdf(2, "Bob Smith", "Harvard University")])
    assert [(r["decision"], r["counted"]) for r in replaced] == [
        ("superseded", False), ("superseded", False), ("pdf", True)]


def test_unassigned_pdf_text_counts_only_when_nothing_else_does():
    bare = paper(affiliations=[[], [], []], email_domains=[None, None, None])
    alone = reconcile([bare], [pdf(None, None, "ETH Zurich, Switzerland")])
    assert [r["decision"] for r in alone if r["source"] == "pdf"] == ["pdf-unassigned"]
    assert [r["counted"] for r in alone if r["source"] == "pdf"] == [True]
    extra = reconcile([paper()], [pdf(None, None, "ETH Zurich, Switzerland")])
    assert [(r["decision"], r["counted"]) for r in extra if r["source"] == "pdf"] == [("pdf-extra", False)]


# -- the local folder source --------------------------------------------------------------------

def local_folder(root):
    folder = root / "mine-2024"
    (folder / "sub").mkdir(parents=True)
    marked_page(folder / "marked.pdf")
    block_page(folder / "sub" / "blocks.pdf")
    shutil.copy(folder / "marked.pdf", folder / "other.pdf")
    pymupdf.open(folder / "marked.pdf").save(folder / "locked.pdf", encryption=pymupdf.PDF_ENCRYPT_AES_256,
                                             user_pw="secret", owner_pw="owner")
    (folder / "papers.csv").write_text(
        "file,title,year,paper_id\n"
        "marked.pdf,Our Own Title,2024,\n"
        "missing.pdf,Gone,2024,\n"
        "other.pdf,Wrong Year,2023,\n"
        "../escape.pdf,Out,2024,\n", encoding="utf-8")
    return folder


def test_local_folder_rows_and_errors(tmp_path):
    folder = local_folder(tmp_path)
    parsed = read_local(folder, parse_partition_key("mine-2024"))
    papers = {p.paper_id: p for p in parsed.papers}
    assert set(papers) == {"marked", "sub/blocks", "locked"}  # other.pdf's row was refused
    assert papers["marked"].title == "Our Own Title"
    assert papers["sub/blocks"].title == "Two Authors in Two Columns"  # read off page 1
    assert papers["marked"].pdf_path == str(folder.resolve() / "marked.pdf")
    assert all(p.source == "local" and p.authors == [] for p in papers.values())
    reasons = {e.item: e.reason for e in parsed.errors}
    assert "not found" in reasons["papers.csv line 3"]
    assert "mine-2023" in reasons["papers.csv line 4"] and "folder is mine-2024" in reasons["papers.csv line 4"]
    assert "outside" in reasons["papers.csv line 5"]


def test_a_csv_without_a_file_column_is_refused(tmp_path):
    from paperatlas.pipeline.sources.paperlists import SourceError

    folder = tmp_path / "mine-2024"
    folder.mkdir()
    (folder / "papers.csv").write_text("title,year\nA,2024\n")
    with pytest.raises(SourceError, match="no 'file' column"):
        read_local(folder, parse_partition_key("mine-2024"))


# -- through Dagster ----------------------------------------------------------------------------

def country_sets(store, key):
    pc = store.read_partition("paper_countries", key)
    return {pid: set(g["country"]) for pid, g in pc.groupby("paper_id")}


def test_a_local_folder_is_a_partition(env):
    settings, defs, instance = env
    local_folder(settings.local_dir)
    result = materialise(defs, instance, "mine-2024")
    assert result.success
    store = Warehouse(settings.database)
    pdfs = store.read_partition("paper_pdfs", "mine-2024").set_index("paper_id")
    assert set(pdfs["status"]) == {"local"} and pdfs["sha256"].notna().all()
    assert country_sets(store, "mine-2024") == {"marked": {"CN", "DE", "CL"}, "sub/blocks": {"HK", "IT"}}
    errors = store.query("SELECT stage, item, reason FROM ingest_errors WHERE partition_key = 'mine-2024'")
    by_stage = errors.groupby("stage")["reason"].apply(list).to_dict()
    assert any("encrypted" in r for r in by_stage["pdf_affiliations"])
    # three refused CSV rows, and a warning that locked.pdf has no readable title
    assert len(by_stage["raw_papers"]) == 4 and "no title" in by_stage["raw_papers"][-1]
    aa = store.read_partition("author_affiliations", "mine-2024")
    assert set(aa["source"]) == {"pdf"} and aa["counted"].all()
    summary = store.read_partition("partition_summary", "mine-2024").iloc[0]
    assert summary["papers"] == 3 and summary["authors"] == 5


PDF_HOST = "https://papers.nips.cc/paper_files/paper/2020/file"


def p1_page(path):
    p = Page()
    p.centred(90, "Cross-Pacific Learning", 17, bold=True)
    p.runs(210, 130, [("Alice Chen", False), ("1", True), (", Bob Smith", False), ("2", True)], 12)
    p.runs(190, 150, [("1", True), ("Peking University, Beijing, China", False)], 9)
    p.runs(190, 162, [("2", True), ("University of Toronto, Toronto, Canada", False)], 9)
    p.centred(190, "Abstract", 12, bold=True)
    p.body(210)
    return p.save(path).read_bytes()


@responses.activate
def test_downloaded_pdfs_override_the_metadata_and_failures_are_filed(env, monkeypatch, tmp_path):
    settings, _, instance = env
    monkeypatch.setenv("PAPERATLAS_PDFS", "download")
    monkeypatch.setenv("PAPERATLAS_PDF_RATE", "0")
    monkeypatch.setenv("PAPERATLAS_HTTP_RETRIES", "0")
    defs = build_definitions(load_settings())
    responses.add(responses.GET, f"{PDF_HOST}/p1-Paper.pdf", body=p1_page(tmp_path / "p1.pdf"),
                  content_type="application/pdf")
    responses.add(responses.GET, re.compile(re.escape(PDF_HOST) + r"/p\d+-Paper\.pdf"), status=404)
    assert materialise(defs, instance, "neurips-2020").success
    store = Warehouse(settings.database)
    # The metadata says Tsinghua and Stanford; page 1 of the paper says Peking and Toronto.
    assert country_sets(store, "neurips-2020")["p1"] == {"CN", "CA"}
    aa = store.query("SELECT * FROM author_affiliations WHERE partition_key = 'neurips-2020' AND paper_id = 'p1' "
                     "ORDER BY source, author_position")
    assert aa[["source", "decision", "counted"]].values.tolist() == [
        ["paperlists", "superseded", False], ["paperlists", "superseded", False],
        ["pdf", "pdf", True], ["pdf", "pdf", True]]
    assert aa.loc[aa["source"] == "pdf", "source_ref"].tolist() == [f"{PDF_HOST}/p1-Paper.pdf"] * 2
    # Other papers: 404, filed with the URL; their metadata still counts.
    errors = store.query("SELECT item, reason FROM ingest_errors WHERE stage = 'paper_pdfs'")
    assert len(errors) == 7 and errors["reason"].str.contains("HTTP 404").all()
    assert country_sets(store, "neurips-2020")["p5"] == {"US"}
    calls = len(responses.calls)
    assert materialise(defs, instance, "neurips-2020").success  # p1 is stored now: not fetched again
    assert len(responses.calls) == calls + 7
    pdfs = store.read_partition("paper_pdfs", "neurips-2020").set_index("paper_id")
    assert pdfs.loc["p1", "status"] == "stored"


def test_pdfs_off_leaves_the_metadata_alone(env, monkeypatch):
    settings, _, instance = env
    monkeypatch.setenv("PAPERATLAS_PDFS", "off")
    defs = build_definitions(load_settings())
    assert materialise(defs, instance, "neurips-2020").success
    store = Warehouse(settings.database)
    assert store.read_partition("paper_pdfs", "neurips-2020").empty
    aa = store.read_partition("author_affiliations", "neurips-2020")
    assert set(aa["decision"]) == {"metadata"} and aa["counted"].all()
    assert country_sets(store, "neurips-2020")["p1"] == {"CN", "US"}


def test_extraction_uses_a_process_pool_for_large_partitions(tmp_path):
    from paperatlas.pipeline.pdfs.steps import read_first_pages

    for n in range(30):
        marked_page(tmp_path / f"{n:02d}.pdf")
    paths = sorted(str(p) for p in tmp_path.glob("*.pdf"))
    done = []
    results = list(read_first_pages(paths, 2, done.append))
    assert [r.file for r in results] == paths and done == list(range(1, 31))
    assert all(len(r.page.authors) == 3 for r in results)
    assert pd.Series([r.error for r in results]).isna().all()


CRASH_ONE_PAGE = """
import json, os, signal, sys
from paperatlas.pipeline import pool
from paperatlas.pipeline.pdfs import steps
from paperatlas.pipeline.pdfs.extract import CRASHED, read_pdf

assert pool.start_method() == "fork"  # one thread here: the pool forks, as on the command line

def read_or_die(path):
    if path.endswith("05.pdf"):
        os.kill(os.getpid(), signal.SIGKILL)  # as a crash inside MuPDF would end the worker
    return read_pdf(path)

steps.read_pdf = read_or_die  # the forked workers see it
results = list(steps.read_first_pages(sys.argv[1:], 2))
print(json.dumps([{"file": r.file, "crashed": r.error == CRASHED,
                   "authors": len(r.page.authors) if r.page else None} for r in results]))
"""


def test_a_pdf_that_crashes_the_reader_costs_only_itself(tmp_path):
    from conftest import run_alone

    for n in range(30):
        marked_page(tmp_path / f"{n:02d}.pdf")
    paths = sorted(str(p) for p in tmp_path.glob("*.pdf"))
    results = run_alone(CRASH_ONE_PAGE, *paths)
    assert [r["file"] for r in results] == paths
    assert results[5]["crashed"]
    assert all(r["authors"] == 3 for n, r in enumerate(results) if n != 5)


def test_cli_add_folder_then_run(home, tmp_path, capsys):
    from paperatlas.cli import main

    corpus = tmp_path / "my corpus"
    corpus.mkdir()
    marked_page(corpus / "one.pdf")
    (corpus / "two.pdf").write_bytes(b"%PDF-1.7\nnot really a pdf")
    assert main(["add-folder", str(corpus), "lab-2024"]) == 0
    assert "2 PDFs" in capsys.readouterr().out
    assert main(["add-folder", str(corpus), "lab-2024"]) == 0  # again: nothing to do
    other = tmp_path / "other"
    other.mkdir()
    assert main(["add-folder", str(other), "lab-2024"]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["run", "lab-2024", "--pdfs", "off"]) == 0  # local files are read even with downloads off
    assert main(["errors", "lab-2024"]) == 0
    out = capsys.readouterr().out
    assert "pdf_affiliations" in out and "two" in out and "truncated" in out
    settings = load_settings()
    assert country_sets(Warehouse(settings.database), "lab-2024") == {"one": {"CN", "DE", "CL"}}
