"""Every PDF is read in a worker with limits (issue 36): a page built to make MuPDF work for
minutes is refused before MuPDF reads it, a reading past the time or memory limit is stopped,
and `raw_papers` opens no PDF itself. Each test builds its own hostile PDF."""

from __future__ import annotations

import sys
import time
import zlib
from pathlib import Path

import pymupdf
import pytest
from conftest import materialise, run_alone
from test_pdfs import marked_page

from paperatlas.pipeline import pool
from paperatlas.pipeline.pdfs.extract import read_pdf
from paperatlas.pipeline.pdfs.steps import read_first_pages
from paperatlas.pipeline.pool import Limits


def form_bomb(path: Path, levels: int = 10, fanout: int = 4, glyphs: int = 1, draw: bytes = b"/X Do") -> Path:
    """A valid PDF of a few KB whose page 1 draws a form that draws the next one `fanout` times,
    `levels` deep, down to a form that shows `glyphs` glyphs: fanout**levels times, each at its
    own place (10 x 4: 1,048,576, which took MuPDF 50 s and 2 GB). Page 1 also holds a title.
    `draw` is how a form draws the next: any spelling of `/X Do` MuPDF reads the same."""
    doc = pymupdf.open()
    page = doc.new_page(width=612, height=792)
    page.insert_text((72, 72), "A Title That Is Long Enough For Page One", fontsize=12)
    font = doc.get_new_xref()
    doc.update_object(font, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    child = None
    for level in range(levels + 1):
        xref = doc.get_new_xref()
        if child is None:
            resources, body = f"<< /Font << /F1 {font} 0 R >> >>", b"BT /F1 0.5 Tf 1 1 Td (%s) Tj ET" % (b"x" * glyphs)
        else:
            step = 600 / fanout ** ((level + 1) // 2)  # odd levels shift across, even ones down
            shift = "{} 0" if level % 2 else "0 {}"
            resources = f"<< /XObject << /X {child} 0 R >> >>"
            body = b" ".join(f"q 1 0 0 1 {shift.format(round(k * step, 4))} cm ".encode() + draw + b" Q"
                             for k in range(fanout))
        doc.update_object(xref, f"<< /Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources {resources} >>")
        doc.update_stream(xref, body)
        child = xref
    doc.xref_set_key(int(doc.xref_get_key(page.xref, "Resources")[1].split()[0]), "XObject", f"<< /B {child} 0 R >>")
    extra = doc.get_new_xref()
    doc.update_object(extra, "<< >>")
    doc.update_stream(extra, b"q /B Do Q")
    doc.xref_set_key(page.xref, "Contents", f"[{page.get_contents()[0]} 0 R {extra} 0 R]")
    doc.save(path, garbage=3, deflate=True)
    return path


# How else a content stream can say `/X Do`: the name with #xx escapes, a comment or a NUL (PDF
# whitespace) between the name and the operator.
SPELLINGS = [b"/X Do", b"/#58 Do", b"/X %a comment\nDo", b"/X\x00Do", b"/#58%c\r\x00 Do"]


@pytest.mark.parametrize("draw", SPELLINGS)
def test_a_form_bomb_is_refused_before_mupdf_reads_it(tmp_path, draw):
    bomb = form_bomb(tmp_path / "bomb.pdf", draw=draw)
    assert bomb.stat().st_size < 8000
    started = time.monotonic()
    result = read_pdf(bomb)
    assert time.monotonic() - started < 2  # 50 s and 2 GB before the budget
    assert result.error == ("pdf too complex: page 1 draws 1,398,101 form objects (nested forms); "
                            "the budget is 100,000")


def test_the_full_text_reader_checks_every_page(tmp_path):
    from paperatlas.pipeline.mentions.fulltext import read_fulltext

    doc = pymupdf.open(marked_page(tmp_path / "good.pdf"))
    doc.insert_pdf(pymupdf.open(form_bomb(tmp_path / "bomb.pdf")))  # the bomb is page 2
    doc.save(tmp_path / "two.pdf")
    started = time.monotonic()
    result = read_fulltext(tmp_path / "two.pdf")
    assert time.monotonic() - started < 2
    assert result.error.startswith("pdf too complex: page 2 draws 1,398,101 form objects")


def test_a_flood_of_text_operators_is_refused(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 72), "A Title That Is Long Enough For Page One", fontname="helv")
    # 300,000 one-glyph lines in about 1 KB of compressed content
    doc.update_stream(page.get_contents()[0], b"BT /helv 1 Tf 2 TL " + b"(x)' " * 300_000 + b"ET")
    doc.save(tmp_path / "flood.pdf", deflate=True)
    started = time.monotonic()
    result = read_pdf(tmp_path / "flood.pdf")
    assert time.monotonic() - started < 2
    assert result.error == "pdf too complex: page 1 shows text 300,000 times; the budget is 100,000"


def test_real_looking_pages_with_forms_are_read(tmp_path):
    """Forms nested a little, as figures embed them, stay well inside the budget."""
    good = read_pdf(form_bomb(tmp_path / "small.pdf", levels=3, fanout=4))
    assert good.error is None and good.page.title == "A Title That Is Long Enough For Page One"


EXTRACT_BOMB = """
import contextlib, io, json, resource, sys, time
from paperatlas.cli import main
out = io.StringIO()
started = time.monotonic()
with contextlib.redirect_stdout(out):
    code = main(["extract-pdf", *sys.argv[1:]])
took = time.monotonic() - started
workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024  # MB on Linux
print(json.dumps({"code": code, "lines": [json.loads(x) for x in out.getvalue().splitlines()],
                  "seconds": took, "worker_mb": workers}))
"""


def test_extract_pdf_prints_the_bomb_error_and_the_good_result_fast(tmp_path):
    good = marked_page(tmp_path / "good.pdf")
    bomb = form_bomb(tmp_path / "bomb.pdf")
    out = run_alone(EXTRACT_BOMB, str(bomb), str(good))
    assert out["code"] == 0 and out["seconds"] < 10
    by_file = {line["file"]: line for line in out["lines"]}
    assert by_file[str(bomb)]["error"].startswith("pdf too complex: page 1 draws 1,398,101 form objects")
    assert by_file[str(good)]["error"] is None and len(by_file[str(good)]["authors"]) == 3
    if sys.platform == "linux":
        assert out["worker_mb"] < 400  # 2 GB before


def test_the_time_limit_stops_a_worker_in_a_long_mupdf_call(tmp_path):
    """Four levels fewer than the bomb: under the budget, but about 3 s in one MuPDF call,
    which Python cannot interrupt. The worker is killed at the limit; the others are read."""
    slow = form_bomb(tmp_path / "slow.pdf", levels=8)
    goods = [str(marked_page(tmp_path / f"good{n}.pdf")) for n in range(3)]
    started = time.monotonic()
    results = list(read_first_pages([goods[0], str(slow), *goods[1:]], 2, limits=Limits(seconds=1)))
    took = time.monotonic() - started
    assert [r.file for r in results] == [goods[0], str(slow), *goods[1:]]
    assert results[1].error == ("pdf too complex: reading it took over 1 s (PAPERATLAS_PDF_SECONDS); "
                                "its worker was stopped. The other PDFs were read")
    assert all(r.error is None and len(r.page.authors) == 3 for r in results if r.file != str(slow))
    assert took < 2.9  # the slow file alone takes longer: it was stopped, not waited for


def font_bomb(path: Path, megabytes: int = 300) -> Path:
    """A valid PDF of about 300 KB whose page 1 sets text in an embedded font of 300 MB of zeros
    (compressed): MuPDF allocates all of it to load the font."""
    squeeze = zlib.compressobj(9)
    block = bytes(1 << 20)
    data = b"".join(squeeze.compress(block) for _ in range(megabytes)) + squeeze.flush()
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 72), "A Title That Is Long Enough For Page One", fontname="helv")
    file = doc.get_new_xref()
    doc.update_object(file, "<< >>")
    doc.update_stream(file, data, compress=0)
    doc.xref_set_key(file, "Filter", "/FlateDecode")
    descriptor = doc.get_new_xref()
    doc.update_object(descriptor, "<< /Type /FontDescriptor /FontName /Big /Flags 32 /FontBBox [0 0 1000 1000] "
                                  "/ItalicAngle 0 /Ascent 800 /Descent -200 /CapHeight 700 /StemV 80 "
                                  f"/FontFile2 {file} 0 R >>")
    font = doc.get_new_xref()
    doc.update_object(font, "<< /Type /Font /Subtype /TrueType /BaseFont /Big /FirstChar 32 /LastChar 126 "
                            f"/FontDescriptor {descriptor} 0 R >>")
    doc.xref_set_key(int(doc.xref_get_key(page.xref, "Resources")[1].split()[0]), "Font/Big", f"{font} 0 R")
    extra = doc.get_new_xref()
    doc.update_object(extra, "<< >>")
    doc.update_stream(extra, b"BT /Big 12 Tf 72 200 Td (Some more words in the big font) Tj ET")
    doc.xref_set_key(page.xref, "Contents", f"[{page.get_contents()[0]} 0 R {extra} 0 R]")
    doc.save(path)
    return path


@pytest.mark.skipif(sys.platform != "linux", reason="only Linux enforces RLIMIT_AS")
def test_the_memory_limit_turns_an_allocation_over_it_into_too_complex(tmp_path):
    heavy = font_bomb(tmp_path / "heavy.pdf")
    good = str(marked_page(tmp_path / "good.pdf"))
    results = list(read_first_pages([str(heavy), good], 1, limits=Limits(memory_mb=100)))
    assert results[0].error == ("pdf too complex: reading it needed over 100 MB (PAPERATLAS_PDF_MEMORY_MB). "
                                "The other PDFs were read")
    assert results[1].error is None and len(results[1].page.authors) == 3


def test_the_limits_are_settings(monkeypatch):
    from paperatlas.pipeline.config import load_settings
    from paperatlas.pipeline.pdfs.extract import pdf_limits

    assert pdf_limits(load_settings()) == Limits(seconds=60, memory_mb=1024)
    monkeypatch.setenv("PAPERATLAS_PDF_SECONDS", "5")
    monkeypatch.setenv("PAPERATLAS_PDF_MEMORY_MB", "300")
    assert pdf_limits(load_settings()) == Limits(seconds=5, memory_mb=300)
    monkeypatch.setenv("PAPERATLAS_PDF_SECONDS", "0")
    with pytest.raises(ValueError, match="PAPERATLAS_PDF_SECONDS='0'"):
        load_settings()


def test_raw_papers_opens_no_pdf_itself(tmp_path, monkeypatch):
    """A local folder's titles are read in the workers: with MuPDF broken in this process, they
    are still read."""
    from paperatlas.pipeline.partitions import parse_partition_key
    from paperatlas.pipeline.sources.local import read_local

    folder = tmp_path / "mine-2024"
    folder.mkdir()
    marked_page(folder / "a.pdf")

    def in_process(*args, **kwargs):
        raise AssertionError("a PDF was read in the step's own process")

    monkeypatch.setattr(pool, "start_method", lambda: "spawn")  # fresh workers: the patch is not theirs
    monkeypatch.setattr(pymupdf, "open", in_process)
    parsed = read_local(folder, parse_partition_key("mine-2024"))
    assert [p.title for p in parsed.papers] == ["Learning Robust Models from Few Labels"]


def test_a_local_folder_holding_a_bomb_keeps_the_paper_and_files_the_error(env):
    settings, defs, instance = env
    folder = Path(settings.local_dir) / "mine-2024"
    folder.mkdir(parents=True)
    form_bomb(folder / "bomb.pdf")
    marked_page(folder / "good.pdf")
    started = time.monotonic()
    result = materialise(defs, instance, "mine-2024")
    assert result.success and time.monotonic() - started < 60
    from paperatlas.pipeline.store import Warehouse

    store = Warehouse(settings.database)
    papers = store.read_partition("raw_papers", "mine-2024").set_index("paper_id")
    assert set(papers.index) == {"bomb", "good"}  # the bomb's paper is counted, without a title
    assert papers.loc["bomb", "title"] == "" and papers.loc["good", "title"] == "Learning Robust Models from Few Labels"
    errors = store.query("SELECT stage, item, severity, reason FROM ingest_errors WHERE partition_key = 'mine-2024'")
    rows = errors[errors["item"].str.contains("bomb")]
    pdf_rows = rows[rows["stage"] == "pdf_affiliations"]
    assert len(pdf_rows) == 1 and pdf_rows.iloc[0]["reason"].startswith("pdf too complex: page 1 draws 1,398,101")
    assert "no title" in rows[rows["stage"] == "raw_papers"].iloc[0]["reason"]
    summary = store.read_partition("partition_summary", "mine-2024").iloc[0]
    assert summary["papers"] == 2
