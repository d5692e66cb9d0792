"""The PDF store: safe names, atomic streamed downloads, caps, retries, pacing, resume."""

import hashlib
import os
import time

import pytest
import requests
import responses
from pdf_builder import Page

from paperatlas.pipeline.http import HostPacer, HttpClient
from paperatlas.pipeline.pdfs.downloads import PdfItem, PdfStore, remove_stale_parts, safe_name

PK = "neurips-2020"
HOST = "https://papers.nips.cc/paper_files/paper/2020/file"


def pdf_bytes(tmp_path, title="A Paper") -> bytes:
    page = Page()
    page.centred(80, title, size=16, bold=True)
    page.centred(120, "Ada Lovelace", size=11)
    page.centred(134, "University of Oxford, United Kingdom", size=10)
    page.centred(200, "Abstract", size=11, bold=True)
    page.body(215)
    path = page.save(tmp_path / f"{hashlib.md5(title.encode()).hexdigest()}.pdf")
    return path.read_bytes()


def store(tmp_path, mode="download", **kw) -> PdfStore:
    http = HttpClient(None, timeout=5, retries=kw.pop("retries", 2), backoff_initial=0.01, backoff_max=0.02,
                      pacer=kw.pop("pacer", None))
    return PdfStore(tmp_path / "pdfs", http, mode=mode, **kw)


@pytest.mark.parametrize("paper_id", ["../../etc/passwd", "abs/2101.00001", "a b", "π-paper", ".hidden", "con", "", "x" * 300])
def test_safe_name_never_leaves_the_partition_folder(tmp_path, paper_id):
    s = PdfStore(tmp_path / "pdfs", None)
    path = s.path_for(PK, paper_id)
    assert path.parent == tmp_path / "pdfs" / PK
    name = path.name
    assert "/" not in name and "\\" not in name and not name.startswith(".") and len(name) <= 100
    assert set(name) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")


def test_safe_name_keeps_plain_ids_and_separates_lookalikes():
    assert safe_name("p1") == "p1" and safe_name("2020.acl-main.1") == "2020.acl-main.1"
    assert safe_name("a/b") != safe_name("a_b")
    assert safe_name("a/b") == safe_name("a/b")  # stable across runs


def test_bad_partition_key_is_refused(tmp_path):
    with pytest.raises(ValueError):
        PdfStore(tmp_path, None).path_for("../neurips-2020", "p1")


@responses.activate
def test_download_then_resume_without_network(tmp_path):
    body = pdf_bytes(tmp_path)
    responses.add(responses.GET, f"{HOST}/p1-Paper.pdf", body=body, content_type="application/pdf")
    items = [PdfItem("p1", f"{HOST}/p1-Paper.pdf"), PdfItem("p2", None)]
    seen = []
    first = store(tmp_path).collect(PK, items, on_progress=lambda n, total, r: seen.append((n, total, r.status)))
    assert [r.status for r in first] == ["downloaded", "no_link"]
    assert first[0].sha256 == hashlib.sha256(body).hexdigest() and first[0].bytes == len(body)
    assert open(first[0].path, "rb").read() == body
    assert sorted(seen) == [(1, 2, "no_link"), (2, 2, "downloaded")]
    # A second run finds the file in place and asks the network for nothing.
    second = store(tmp_path).collect(PK, items)
    assert second[0].status == "stored" and second[0].sha256 == first[0].sha256
    assert len(responses.calls) == 1
    assert not [p for p in (tmp_path / "pdfs" / PK).iterdir() if p.name.endswith(".part")]


@responses.activate
def test_retries_5xx_and_a_short_body(tmp_path):
    body = pdf_bytes(tmp_path)
    url = f"{HOST}/p1-Paper.pdf"
    responses.add(responses.GET, url, status=503)
    # A body cut short: fewer bytes than Content-Length announced.
    responses.add(responses.GET, url, body=body[: len(body) // 2], headers={"Content-Length": str(len(body))},
                  auto_calculate_content_length=False)
    responses.add(responses.GET, url, body=body)
    [record] = store(tmp_path, retries=3).collect(PK, [PdfItem("p1", url)])
    assert record.status == "downloaded" and record.bytes == len(body), record.error
    assert len(responses.calls) == 3


@responses.activate
def test_permanent_failures_are_not_retried_and_leave_no_file(tmp_path):
    responses.add(responses.GET, f"{HOST}/gone.pdf", status=404)
    responses.add(responses.GET, f"{HOST}/login.pdf", body=b"<!DOCTYPE html><html>Please sign in</html>",
                  content_type="text/html")
    responses.add(responses.GET, f"{HOST}/huge.pdf", body=b"%PDF-1.5\n" + b"0" * 5000)
    items = [PdfItem("gone", f"{HOST}/gone.pdf"), PdfItem("login", f"{HOST}/login.pdf"),
             PdfItem("huge", f"{HOST}/huge.pdf"), PdfItem("ftp", "ftp://example.org/x.pdf")]
    records = store(tmp_path, max_bytes=2000, retries=3).collect(PK, items)
    by_id = {r.paper_id: r for r in records}
    assert all(r.status == "failed" and r.path is None for r in records)
    assert "HTTP 404" in by_id["gone"].error and f"{HOST}/gone.pdf" in by_id["gone"].error
    assert "not a PDF" in by_id["login"].error and "text/html" in by_id["login"].error
    assert by_id["login"].error.startswith(f"{HOST}/login.pdf: ")
    assert "too large" in by_id["huge"].error
    assert "not an http(s) link" in by_id["ftp"].error
    assert len(responses.calls) == 3  # one request each: nothing retried
    assert list((tmp_path / "pdfs" / PK).iterdir()) == []  # no half file, no temporary file


@responses.activate
def test_announced_size_over_the_cap_is_refused_before_reading(tmp_path):
    responses.add(responses.GET, f"{HOST}/big.pdf", body=b"%PDF-1.5\n",
                  headers={"Content-Length": str(10**9)}, auto_calculate_content_length=False)
    [record] = store(tmp_path, max_bytes=10**6).collect(PK, [PdfItem("big", f"{HOST}/big.pdf")])
    assert record.status == "failed" and "1000.0 MB announced" in record.error


@responses.activate
def test_a_dead_host_is_given_up_after_a_few_papers(tmp_path):
    for n in range(8):
        responses.add(responses.GET, f"{HOST}/p{n}.pdf", body=requests.ConnectionError("unreachable"))
    items = [PdfItem(f"p{n}", f"{HOST}/p{n}.pdf") for n in range(8)]
    records = store(tmp_path, concurrency=1, retries=1, host_failure_limit=3).collect(PK, items)
    assert all(r.status == "failed" for r in records)
    assert sum("not tried" in r.error for r in records) == 5
    assert "papers.nips.cc" in records[-1].error and "ConnectionError" in records[-1].error
    assert len(responses.calls) == 3 * 2  # three papers, two attempts each


def test_cached_mode_never_downloads_and_counts_progress_once_per_paper(tmp_path):
    seen = []
    records = store(tmp_path, mode="cached").collect(
        PK, [PdfItem(f"p{n}", f"{HOST}/p{n}.pdf") for n in range(5)], on_progress=lambda n, total, r: seen.append(n))
    assert {r.status for r in records} == {"missing"} and all(r.error is None for r in records)
    assert seen == [1, 2, 3, 4, 5]


def test_a_stored_file_that_is_not_a_pdf_is_reported(tmp_path):
    s = store(tmp_path, mode="cached")
    path = s.path_for(PK, "p1")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"<html>oops</html>")
    [record] = s.collect(PK, [PdfItem("p1", f"{HOST}/p1.pdf")])
    assert record.status == "failed" and "not a PDF" in record.error and "delete it" in record.error


def test_local_files_are_read_in_place(tmp_path):
    body = pdf_bytes(tmp_path)
    good = tmp_path / "mine.pdf"
    good.write_bytes(body)
    bad = tmp_path / "notes.pdf"
    bad.write_text("not really")
    records = store(tmp_path, mode="off").collect(PK, [
        PdfItem("mine", local_path=str(good)), PdfItem("notes", local_path=str(bad)),
        PdfItem("gone", local_path=str(tmp_path / "gone.pdf"))])
    assert [r.status for r in records] == ["local", "failed", "failed"]
    assert records[0].path == str(good) and records[0].sha256 == hashlib.sha256(body).hexdigest()
    assert "notes.pdf" in records[1].error and "not a PDF" in records[1].error
    assert "gone.pdf" in records[2].error
    assert not (tmp_path / "pdfs" / PK).exists() or not any((tmp_path / "pdfs" / PK).iterdir())


def test_stale_temporary_files_are_cleaned(tmp_path):
    folder = tmp_path / PK
    folder.mkdir()
    old, fresh = folder / ".p1.pdf.abc.part", folder / ".p2.pdf.def.part"
    old.write_bytes(b"x")
    fresh.write_bytes(b"x")
    os.utime(old, (time.time() - 7 * 3600,) * 2)
    assert remove_stale_parts(folder) == 1
    assert not old.exists() and fresh.exists()


def test_pacer_spaces_requests_to_one_host(monkeypatch):
    clock = [100.0]
    sleeps = []
    monkeypatch.setattr("paperatlas.pipeline.http.time.monotonic", lambda: clock[0])
    monkeypatch.setattr("paperatlas.pipeline.http.time.sleep", lambda s: sleeps.append(s))
    pacer = HostPacer(rate=2.0)
    for _ in range(3):
        pacer.wait("https://a.org/x.pdf")
    pacer.wait("https://b.org/y.pdf")
    assert sleeps == [0.5, 1.0]  # a.org: 0, +0.5, +1.0; b.org not delayed
