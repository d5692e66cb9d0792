"""File names as bytes, control characters in names, colliding ids and the same PDF twice (issue
36, items 2-4). Each test builds its own hostile folder or paper list and runs offline."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from pdf_builder import Page

from paperatlas import cli

RED = "\x1b[31mred\x1b[0m"  # what a terminal would turn red


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _store():
    from paperatlas.pipeline.config import load_settings
    from paperatlas.pipeline.store import open_store

    return open_store(load_settings(), read_only=True)


def _pdf(folder: Path, name: bytes, title: str, scratch: Path) -> bytes:
    """A first page titled `title`, saved under the file name `name` (bytes: any a POSIX file
    system allows). MuPDF saves to an ordinary name; the file is then renamed."""
    p = Page()
    p.centred(90, title, 17, bold=True)
    p.runs(210, 130, [("Alice Chen", False), ("1", True), (", Bob Smith", False), ("2", True)], 12)
    p.runs(190, 150, [("1", True), ("Peking University, Beijing, China", False)], 9)
    p.runs(190, 162, [("2", True), ("University of Toronto, Toronto, Canada", False)], 9)
    p.centred(190, "Abstract", 12, bold=True)
    p.body(210)
    built = p.save(scratch / f"{hashlib.sha1(name).hexdigest()}.pdf")
    target = os.path.join(os.fsencode(folder), name)
    os.rename(built, target)
    with open(target, "rb") as fh:
        return fh.read()


def _local(home, capsys, tmp_path, names: dict[bytes, str], csv: str | None = None) -> Path:
    folder = tmp_path / "pdfs"
    folder.mkdir()
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    for name, title in names.items():
        _pdf(folder, name, title, scratch)
    if csv is not None:
        (folder / "papers.csv").write_text(csv)
    assert run(capsys, "add-folder", str(folder), "local-2024")[0] == 0
    return folder.resolve()


def _shown(*texts: str) -> None:
    """Nothing a terminal acts on, nothing UTF-8 cannot write."""
    for text in texts:
        assert "\x1b" not in text, text
        text.encode("utf-8")  # a lone surrogate raises


# -- the name codec ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", [
    b"plain.pdf", b"caf\xe9.pdf", "café.pdf".encode(), RED.encode() + b".pdf", b"a\\b.pdf", b"a\\xe9.pdf",
    b"\\\\x41\\", "\u0085nel\u009b.pdf".encode(), b"\xed\xa0\x80.pdf", b"tab\tand\nline\x7f.pdf", bytes(range(1, 256)),
])
def test_every_file_name_round_trips_through_its_text(name):
    from paperatlas.pipeline.filenames import os_path, path_bytes, path_text

    text = path_text(name)
    assert path_bytes(text) == name and os.fsencode(os_path(text)) == name
    _shown(text)
    assert not any(ord(c) < 32 or 0x7f <= ord(c) <= 0x9f for c in text), text
    assert path_text(os.fsdecode(name)) == text == path_text(Path(os.fsdecode(name)))


def test_names_show_as_written_with_only_odd_bytes_escaped():
    from paperatlas.pipeline.filenames import path_text

    assert path_text(b"/x/caf\xe9.pdf") == "/x/caf\\xe9.pdf"
    assert path_text("/x/café.pdf") == "/x/café.pdf"
    assert path_text(RED + ".pdf") == "\\x1b[31mred\\x1b[0m.pdf"
    assert path_text(b"a\\b") == "a\\\\b"


def test_scrub_paper_leaves_the_pdf_path_alone():
    from paperatlas.pipeline.models import Paper, scrub_paper

    paper = Paper("x-2024", "p", "x", 2024, f"Title {RED}", None, [], [], [], pdf_path=f"/tmp/{RED}.pdf")
    assert scrub_paper(paper) == ["title"]
    assert paper.pdf_path == f"/tmp/{RED}.pdf" and paper.title == "Title [31mred[0m"


# -- a local folder -----------------------------------------------------------------------------


@pytest.mark.parametrize("store", ["duckdb", "delta"])
def test_a_file_name_that_is_not_utf8_is_kept_and_its_pdf_read(home, capsys, tmp_path, monkeypatch, store):
    if store == "delta":
        pytest.importorskip("deltalake")
        monkeypatch.setenv("PAPERATLAS_STORE", "delta")
        monkeypatch.setenv("PAPERATLAS_STORE_URI", str(home / "delta"))
    folder = _local(home, capsys, tmp_path, {b"caf\xe9.pdf": "Latin One Names", b"plain.pdf": "Plain Names"})
    code, out, err = run(capsys, "run", "local-2024")
    assert code == 0 and "materialised 1/1" in out, err
    assert "surrogates not allowed" not in err and "CHECK FAILED" not in err
    store = _store()
    papers = store.records("SELECT paper_id, title, pdf_path FROM raw_papers ORDER BY paper_id")
    assert [(p["paper_id"], p["title"]) for p in papers] == [("caf\\xe9", "Latin One Names"), ("plain", "Plain Names")]
    assert papers[0]["pdf_path"] == f"{folder}/caf\\xe9.pdf"
    pdfs = store.records("SELECT paper_id, status, path, sha256 FROM paper_pdfs ORDER BY paper_id")
    assert [(p["paper_id"], p["status"]) for p in pdfs] == [("caf\\xe9", "local"), ("plain", "local")]
    assert pdfs[0]["path"] == f"{folder}/caf\\xe9.pdf"
    with open(os.path.join(os.fsencode(folder), b"caf\xe9.pdf"), "rb") as fh:
        assert pdfs[0]["sha256"] == hashlib.sha256(fh.read()).hexdigest()
    docs = store.records("SELECT paper_id, title, error FROM pdf_documents ORDER BY paper_id")
    assert [(d["paper_id"], d["title"], d["error"]) for d in docs] == [
        ("caf\\xe9", "Latin One Names", None), ("plain", "Plain Names", None)]
    code, out, err = run(capsys, "papers", "local-2024")
    assert code == 0 and "caf\\xe9" in out, err
    _shown(out, err)
    code, out, err = run(capsys, "report", "local-2024", "--json")
    assert code == 0 and json.loads(out)["papers"] == 2, err


def test_papers_csv_names_such_a_file_as_it_is_shown(home, capsys, tmp_path):
    _local(home, capsys, tmp_path, {b"caf\xe9.pdf": "Latin One Names", b"a\\xe9.pdf": "Backslash Names"},
           csv="file,title\ncaf\\xe9.pdf,Given Title\na\\xe9.pdf,Literal Backslash\n")
    code, out, err = run(capsys, "run", "local-2024")
    assert code == 0 and "materialised 1/1" in out, err
    papers = _store().records("SELECT paper_id, title FROM raw_papers ORDER BY paper_id")
    assert [(p["paper_id"], p["title"]) for p in papers] == [("a\\\\xe9", "Literal Backslash"),
                                                             ("caf\\xe9", "Given Title")]


def test_control_characters_in_a_file_name_lose_no_paper_and_reach_no_terminal(home, capsys, tmp_path):
    _local(home, capsys, tmp_path, {RED.encode() + b".pdf": "Colourful Names", b"plain.pdf": "Plain Names"})
    code, out, err = run(capsys, "run", "local-2024")
    assert code == 0 and "materialised 1/1" in out, err
    _shown(out, err)
    store = _store()
    red = "\\x1b[31mred\\x1b[0m"
    pdfs = store.records("SELECT paper_id, status, error FROM paper_pdfs ORDER BY paper_id")
    assert [(p["paper_id"], p["status"], p["error"]) for p in pdfs] == [(red, "local", None), ("plain", "local", None)]
    docs = store.records("SELECT paper_id, title FROM pdf_documents ORDER BY paper_id")
    assert [(d["paper_id"], d["title"]) for d in docs] == [(red, "Colourful Names"), ("plain", "Plain Names")]
    errors = store.records("SELECT item, reason FROM ingest_errors")
    assert not [e for e in errors if "cannot be stored" in e["reason"] or "\x1b" in e["item"] + e["reason"]], errors
    for command in (["papers", "local-2024"], ["errors", "local-2024"], ["report", "local-2024"]):
        code, out, err = run(capsys, *command)
        assert code == 0, err
        _shown(out, err)


@pytest.mark.parametrize("with_csv", [False, True])
def test_the_same_pdf_twice_in_a_folder_is_one_paper_with_a_warning(home, capsys, tmp_path, with_csv):
    folder = tmp_path / "pdfs"
    folder.mkdir()
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    same = _pdf(scratch, b"twice.pdf", "Twice Saved Paper", scratch)
    other = _pdf(scratch, b"other.pdf", "Same Size Paper", scratch)
    pad = len(same) - len(other)  # bytes after %%EOF: the same size, another paper
    same, other = same + b"\n" * max(0, -pad), other + b"\n" * max(0, pad)
    (folder / "b.pdf").write_bytes(same)
    (folder / "sub").mkdir()
    (folder / "sub" / "a.pdf").write_bytes(same)
    (folder / "d.pdf").write_bytes(other)
    _pdf(folder, b"c.pdf", "Another Paper", scratch)
    if with_csv:
        (folder / "papers.csv").write_text("file,title\nb.pdf,Bee\nsub/a.pdf,Ay\n")
    assert run(capsys, "add-folder", str(folder), "local-2024")[0] == 0
    code, out, err = run(capsys, "run", "local-2024")
    assert code == 0 and "materialised 1/1" in out and "CHECK FAILED" not in err, err
    store = _store()
    assert [r["paper_id"] for r in store.records("SELECT paper_id FROM raw_papers ORDER BY 1")] == ["b", "c", "d"]
    rows = store.records("SELECT item, reason, severity FROM ingest_errors WHERE stage = 'raw_papers'")
    assert rows == [{"item": "sub/a.pdf", "reason": "a duplicate of b.pdf (same content); this file is skipped",
                     "severity": "warning"}], rows
    assert [r["paper_id"] for r in store.records("SELECT paper_id FROM pdf_documents ORDER BY 1")] == ["b", "c", "d"]


def test_two_versions_of_one_paper_in_a_folder_are_one_paper_with_a_warning(home, capsys, tmp_path):
    """v1 and v2 of one paper (other bytes, the same title on page 1 and no authors to tell them
    apart) would be twins to `no_duplicate_papers` and fail the run: the first is kept."""
    folder = tmp_path / "pdfs"
    folder.mkdir()
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    v1 = _pdf(scratch, b"v1.pdf", "One Paper In Two Versions", scratch)
    (folder / "paper-v1.pdf").write_bytes(v1)
    (folder / "paper-v2.pdf").write_bytes(v1 + b"\n% revised\n")  # another file, another size
    _pdf(folder, b"other.pdf", "Another Paper", scratch)
    assert run(capsys, "add-folder", str(folder), "local-2024")[0] == 0
    code, out, err = run(capsys, "run", "local-2024")
    assert code == 0 and "materialised 1/1" in out and "CHECK FAILED" not in err, err
    store = _store()
    assert [r["paper_id"] for r in store.records("SELECT paper_id FROM raw_papers ORDER BY 1")] == ["other", "paper-v1"]
    rows = store.records("SELECT item, reason FROM ingest_errors WHERE stage = 'raw_papers'")
    assert [r["item"] for r in rows] == ["paper-v2.pdf"] and "the same title as paper-v1.pdf" in rows[0]["reason"]


@pytest.mark.parametrize("command", ["mentions", "extract-pdf"])
def test_the_file_commands_write_such_a_name_escaped_also_when_a_limit_stops_it(tmp_path, capsys, monkeypatch,
                                                                                command):
    """`mentions` and `extract-pdf` name each file in their JSON lines: escaped, as read_pdf
    does, also for a file a limit stopped (its result is made in the parent, not the worker)."""
    folder = tmp_path / "pdfs"
    folder.mkdir()
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    _pdf(folder, b"caf\xe9.pdf", "A Paper Filed Under An Old Name", scratch)
    for seconds in (None, "0.001"):  # read; then stopped by the time limit at once
        if seconds:
            monkeypatch.setenv("PAPERATLAS_PDF_SECONDS", seconds)
        out = tmp_path / f"{command}-{seconds}.jsonl"
        code = cli.main([command, str(folder), "--output", str(out)])
        err = capsys.readouterr().err
        assert code == 0, err
        lines = [json.loads(line) for line in out.read_bytes().decode("utf-8").splitlines()]
        assert [Path(line["file"]).name for line in lines] == ["caf\\xe9.pdf"], lines
        assert (lines[0]["error"] or "").startswith("pdf too complex" if seconds else ""), lines[0]["error"]
        _shown(err)


# -- colliding ids --------------------------------------------------------------------------------


def _hash8(title: str) -> str:
    return hashlib.sha1(title.lower().encode()).hexdigest()[:8]


@pytest.mark.parametrize("order", ["taken before", "taken after"])
def test_an_id_that_is_the_name_a_reused_id_gets_is_not_merged_away(home, capsys, tmp_path, monkeypatch, order):
    base = tmp_path / "lists"
    base.mkdir()
    paper = {"author": "A One; B Two", "aff": "MIT; Tsinghua University", "aff_domain": "mit.edu;tsinghua.edu.cn",
             "status": "Poster"}
    taken = f"x~{_hash8('Beta')}"
    records = [{**paper, "id": "x", "title": "Alpha"}, {**paper, "id": "x", "title": "Beta"},
               {**paper, "id": taken, "title": "Gamma"}]
    if order == "taken before":
        records = [records[0], records[2], records[1]]
    (base / "twinconf2017.json").write_text(json.dumps(records))
    monkeypatch.setenv("PAPERATLAS_PAPERLISTS_BASE", str(base))
    code, out, err = run(capsys, "run", "twinconf-2017")
    assert code == 0 and "CHECK FAILED" not in err, err
    store = _store()
    papers = store.records("SELECT paper_id, title FROM raw_papers ORDER BY title")
    moved = f"x~{hashlib.sha1(b'beta').hexdigest()[:12]}"  # the hash extended: its first name is taken
    assert [(p["paper_id"], p["title"]) for p in papers] == [("x", "Alpha"), (moved, "Beta"), (taken, "Gamma")]
    reasons = [r["reason"] for r in store.records("SELECT reason FROM ingest_errors WHERE stage = 'raw_papers'")]
    holder = 1 if order == "taken before" else 2
    assert reasons == [f"id reused for another title (record #0 has it), and {taken!r} is record #{holder}'s id; "
                       f"this paper is stored as {moved}"], reasons
    code, out, err = run(capsys, "report", "twinconf-2017", "--json")
    assert json.loads(out)["papers"] == 3


def test_a_reused_id_with_a_title_seen_under_another_id_is_kept():
    from paperatlas.pipeline.partitions import parse_partition_key
    from paperatlas.pipeline.sources.paperlists import parse_records

    taken = f"x~{_hash8('Beta')}"
    payload = json.dumps([{"id": "x", "title": "Alpha"}, {"id": "x", "title": "Beta"}, {"id": taken, "title": "Beta"},
                          {"id": "x", "title": "Beta"}]).encode()
    got = parse_records(payload, parse_partition_key("x-2024"), "list.json", "sha")
    assert [p.paper_id for p in got.papers] == ["x", f"x~{hashlib.sha1(b'beta').hexdigest()[:12]}", taken]
    assert [e.reason for e in got.errors][-1].startswith("duplicate record in list.json (same id and title)")


def test_merge_finds_a_free_id_when_the_renamed_one_is_taken():
    from paperatlas.pipeline.models import Paper
    from paperatlas.pipeline.sources.base import ParseResult
    from paperatlas.pipeline.sources.merge import merge

    def paper(pid, title, source):
        return Paper("x-2024", pid, "x", 2024, title, None, ["Ann Lee"], [[]], [None], source=source)

    first = ParseResult(papers=[paper("p", "One", "a"), paper("p~b", "Two", "a")])
    first.source = "a"
    second = ParseResult(papers=[paper("p", "Three", "b")])
    second.source = "b"
    merged, _, errors = merge("x-2024", [first, second])
    assert [(p.paper_id, p.title) for p in merged] == [("p", "One"), ("p~b", "Two"), ("p~b~2", "Three")]
    assert any("stored as p~b~2" in e.reason and "a:p~b" in e.reason for e in errors), [e.reason for e in errors]


def test_the_duplicates_check_still_fails_on_a_true_duplicate():
    import pandas as pd

    from paperatlas.pipeline.reports.steps import duplicates

    ids, twins = duplicates(pd.DataFrame({"paper_id": ["x", "x~1", "x~1"], "title": ["A", "B", "C"],
                                          "authors": [["Ann"], ["Bo"], ["Cy"]]}))
    assert ids == ["x~1"] and twins == []
