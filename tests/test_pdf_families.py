"""Page 1 in each layout family real papers use (tests/pdf_families.py), the reading's
fallbacks (text tied to no author, a page read again, a page that gives nothing), and what
extract-pdf and the pipeline record about them."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from pdf_builder import Page
from pdf_families import FAMILIES

from paperatlas.cli import main
from paperatlas.pipeline.partitions import parse_partition_key
from paperatlas.pipeline.pdfs import layout
from paperatlas.pipeline.pdfs.extract import read_pdf, result_record, table_rows
from paperatlas.pipeline.pdfs.layout.assign import _analyse
from paperatlas.pipeline.pdfs.layout.lines import _rejoin_words
from paperatlas.pipeline.pdfs.steps import pdf_affiliations
from paperatlas.pipeline.store import Warehouse


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_each_layout_family_ties_authors_to_their_affiliations(family, tmp_path):
    path, want, former = FAMILIES[family](tmp_path / f"{family}.pdf")
    result = read_pdf(path)
    assert result.error is None
    page = result.page
    assert {a.name: a.affiliations for a in page.authors} == want
    assert [a.name for a in page.authors] == list(want)  # printed order
    assert [aff for _, aff in page.former] == former
    assert page.layout != "none" and page.reason is None
    # a former affiliation is recorded, never counted
    assert not any(f in a.affiliations for f in former for a in page.authors)
    assert not set(former) & set(page.unassigned)


def test_ieee_footnote_sentences():
    text = ("Manuscript received May 2, 2021. H. Li is with the Institute for Infocomm Research, A*STAR, "
            "Singapore 138632, and also with the University of New South Wales, Sydney, NSW 2052, Australia "
            "(e-mail: hli@i2r.a-star.edu.sg). B. Ma and K. A. Lee are with Huawei, Shenzhen, China. "
            "S.H. Gao was with Nankai University, Tianjin, China. The authors are with Acme Labs, Oslo, Norway.")
    current, former = layout.with_sentences(text)
    assert current == [
        ("H. Li", "Institute for Infocomm Research, A*STAR, Singapore 138632"),
        ("H. Li", "University of New South Wales, Sydney, NSW 2052, Australia"),
        ("B. Ma", "Huawei, Shenzhen, China"), ("K. A. Lee", "Huawei, Shenzhen, China"),
        ("*", "Acme Labs, Oslo, Norway")]
    assert former == [("S.H. Gao", "Nankai University, Tianjin, China")]
    assert layout.with_sentences("This work was done during an internship at Adobe Research.")[1] == \
        [(None, "Adobe Research")]


@pytest.mark.parametrize("line, names", [
    ("Pengkai Zhu , Student Member, IEEE, Hanxiao Wang, Member, IEEE, and Venkatesh Saligrama, Fellow, IEEE",
     ["Pengkai Zhu", "Hanxiao Wang", "Venkatesh Saligrama"]),
    ("By Haizhou Li, Senior Member IEEE, and Kong Aik Lee, Member IEEE", ["Haizhou Li", "Kong Aik Lee"]),
    ("Jane Roe, PhD, John Doe, M.D., and Ann Lee, FRS", ["Jane Roe", "John Doe", "Ann Lee"]),
    ("Milan Vojnovic, Paris Smaragdis and Genevera Allen", ["Milan Vojnovic", "Paris Smaragdis", "Genevera Allen"]),
    ("Xiaodong Huang iD , Xiaojian Hao iD , and Pan Pei iD", ["Xiaodong Huang", "Xiaojian Hao", "Pan Pei"]),
    ("John Smith, Jr., Mary Major and Ed Lee III", ["John Smith, Jr.", "Mary Major", "Ed Lee III"]),
])
def test_names_lose_grades_and_degrees_and_may_be_place_words(line, names, tmp_path):
    p = Page()
    p.centred(80, "A Title Set Large", 18, bold=True)
    p.centred(110, line, 10)
    p.centred(126, "University of Somewhere, Lisbon, Portugal", 9)
    p.centred(160, "Abstract", 11, bold=True)
    p.body(180, 20)
    page = read_pdf(p.save(tmp_path / "n.pdf")).page
    assert [a.name for a in page.authors] == names
    assert all(a.affiliations == ["University of Somewhere, Lisbon, Portugal"] for a in page.authors)


def test_affiliation_text_tied_to_no_author_still_gives_countries_with_a_reason(tmp_path):
    # Authors in a row, affiliations in a footnote nobody marks or names: the text is kept
    # for the paper, and the page says why no author got it.
    p = Page()
    p.centred(80, "Unmarked Footnote Affiliations", 16, bold=True)
    p.centred(110, "Ana Silva, Tom Baker, Li Wei", 11)
    p.centred(150, "Abstract", 11, bold=True)
    p.body(170, 40)
    # prose naming an institution is not an address
    p.run(72, 160, "Results for the Stanford University data in the appendix.", 10)
    p.run(72, 720, "University of Lisbon, Lisbon, Portugal", 7)
    p.run(72, 729, "Imperial College London, London, UK", 7)
    result = read_pdf(p.save(tmp_path / "f.pdf"))
    page = result.page
    assert [a.name for a in page.authors] == ["Ana Silva", "Tom Baker", "Li Wei"]
    assert all(not a.affiliations for a in page.authors)
    assert page.layout == "none" and "not tied to authors" in page.reason
    assert page.unassigned == ["University of Lisbon, Lisbon, Portugal", "Imperial College London, London, UK"]
    record = result_record(result, resolved=False)
    assert record["layout"] == "none" and record["layout_reason"] == page.reason
    assert record["unassigned_affiliations"] == page.unassigned
    doc, rows = table_rows("x-2024", "p1", result)
    assert doc["layout_reason"] == page.reason
    assert [r["affiliation"] for r in rows if r["author_position"] is None] == page.unassigned


def test_a_byline_set_as_large_as_the_title_is_found_on_a_second_reading(tmp_path):
    p = Page()
    p.centred(80, "Learning to Rank Without Labels", 13, bold=True)
    p.centred(104, "Maria Lopez, Kenji Ito and Sven Berg", 16)
    p.centred(124, "University of Tokyo, Tokyo, Japan", 9)
    p.centred(160, "Abstract", 11, bold=True)
    p.body(180, 30)
    path = p.save(tmp_path / "big.pdf")
    import pymupdf

    with pymupdf.open(path) as doc:
        data = doc[0].get_text("dict")
    assert not _analyse(data, relaxed=False).authors  # the byline was taken for the title
    page = layout.analyse(data)
    assert [a.name for a in page.authors] == ["Maria Lopez", "Kenji Ito", "Sven Berg"]
    assert all(a.affiliations == ["University of Tokyo, Tokyo, Japan"] for a in page.authors)


def nothing_page(path):
    p = Page()
    p.body(100, 40)  # text only: no title, no names, no affiliation
    return p.save(path)


def test_a_page_that_gives_nothing_is_a_warning_in_extract_pdf(tmp_path, capsys):
    out = tmp_path / "out.jsonl"
    assert main(["extract-pdf", str(nothing_page(tmp_path / "empty.pdf")), "--output", str(out), "--jobs", "1"]) == 0
    record = json.loads(out.read_text())
    assert record["authors"] == [] and record["error"] is None
    assert record["layout"] == "none" and "no author names and no affiliation" in record["layout_reason"]
    err = capsys.readouterr().err
    assert f"warning: {tmp_path / 'empty.pdf'}: page 1 gave no author and no affiliation" in err
    assert "1 of 1 PDFs gave no author and no affiliation" in err


def test_a_page_that_gives_nothing_is_an_ingest_warning_naming_the_file(tmp_path):
    store = Warehouse(tmp_path / "w.duckdb")
    pk = parse_partition_key("mine-2024")
    empty, good = nothing_page(tmp_path / "empty.pdf"), FAMILIES["lncs"](tmp_path / "lncs.pdf")[0]
    store.replace_partition("paper_pdfs", pk.key, pd.DataFrame([
        {"partition_key": pk.key, "paper_id": "e", "status": "local", "path": str(empty)},
        {"partition_key": pk.key, "paper_id": "g", "status": "local", "path": str(good)}]))
    outcome = pdf_affiliations(store, pk, 1, lambda line: None)
    errors = store.query("SELECT severity, item, reason FROM ingest_errors WHERE stage = 'pdf_affiliations'")
    assert errors.to_dict("records") == [{"severity": "warning", "item": f"e ({empty})",
                                          "reason": errors["reason"].iloc[0]}]
    assert "no author and no affiliation" in errors["reason"].iloc[0]
    assert outcome.metadata["pdfs_with_nothing"] == 1 and outcome.metadata["pdfs_read"] == 2
    docs = store.read_partition("pdf_documents", pk.key).set_index("paper_id")
    assert docs.loc["e", "layout"] == "none" and "no author" in docs.loc["e", "layout_reason"]
    assert docs.loc["g", "layout"] == "markers" and pd.isna(docs.loc["g", "layout_reason"])


def test_former_affiliations_are_stored_apart(tmp_path):
    path, _, former = FAMILIES["ieee_journal"](tmp_path / "i.pdf")
    result = read_pdf(path)
    doc, rows = table_rows("x-2024", "p", result)
    assert doc["former_affiliations"] == [f"T. Ruiz: {former[0]}"]  # "He was with": the sentence before's
    assert former[0] not in {r["affiliation"] for r in rows}
    record = result_record(result, resolved=False)
    assert record["former_affiliations"] == [{"author": "T. Ruiz", "affiliation": former[0]}]


@pytest.mark.parametrize("line", ["Ana Silva (ana.silva@ulisboa.pt)", "Ana Silva" + " " * 40 + "ANA.SILVA@ULISBOA.PT",
                                  "Ana Silva <ana.silva@ulisboa.pt>"])
def test_a_name_line_carrying_its_address(line, tmp_path):
    p = Page()
    p.centred(80, "A Title Set Large", 18, bold=True)
    p.run(72, 110, line, 10)
    p.run(72, 122, "University of Lisbon, Lisbon, Portugal", 9)
    p.centred(160, "Abstract", 11, bold=True)
    p.body(180, 20)
    page = read_pdf(p.save(tmp_path / "p.pdf")).page
    assert [(a.name, a.affiliations, a.email) for a in page.authors] == \
        [("Ana Silva", ["University of Lisbon, Lisbon, Portugal"], "ana.silva@ulisboa.pt")]


@pytest.mark.parametrize("pieces, joined", [
    ([("Institute for Infocomm Research, A", False), ("*", True), ("STAR, Singapore", False)],
     [("Institute for Infocomm Research, A*STAR, Singapore", False)]),
    ([("NLP", False), ("2", True), ("CT Lab, University of Macau", False)], [("NLP2CT Lab, University of Macau", False)]),
    ([("Wei Li", False), ("*", True), (", Tom Baker", False)], [("Wei Li", False), ("*", True), (", Tom Baker", False)]),
    ([("ANNA KOWALSKA", False), ("1", True), (" JONAS WEBER", False)],
     [("ANNA KOWALSKA", False), ("1", True), (" JONAS WEBER", False)]),
])
def test_a_marker_inside_a_word_is_part_of_it(pieces, joined):
    assert _rejoin_words(pieces) == joined
