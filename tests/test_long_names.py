"""A long path never pushes the reason out of a line (issue 36, item 11): the reason comes
before the path, and where a line is shortened, the path is shortened, never the reason."""

from __future__ import annotations

import os

from paperatlas import cli
from paperatlas.pipeline.models import IngestError
from paperatlas.pipeline.text import item_reason, named


def _deep(tmp_path, length: int = 3000):
    """A folder whose path is about `length` characters (each part under NAME_MAX)."""
    folder = tmp_path
    n = 0
    while len(str(folder)) < length:
        folder = folder / f"a-rather-long-folder-name-{n:03d}"
        n += 1
    os.makedirs(folder)
    return folder


def test_a_corrupt_ror_dump_at_a_long_path_says_why_before_the_path(home, capsys, monkeypatch, tmp_path, ror_dump):
    bad = _deep(tmp_path) / "ror-v2.zip"
    data = ror_dump.read_bytes()
    bad.write_bytes(data[: len(data) * 2 // 3])
    monkeypatch.setenv("PAPERATLAS_ROR_DUMP", str(bad))
    code = cli.main(["run", "neurips-2020"])
    err = capsys.readouterr().err
    assert code == 2
    last = err.strip().splitlines()[-1]
    reason = last.find("corrupt or truncated")
    assert 0 <= reason < last.find(str(bad)), last[:300]
    assert last.index("PAPERATLAS_ROR_DUMP") < last.find(str(bad)), last[:300]  # the fix too
    assert last.startswith("paperatlas: could not load the reference data: ror_registry: the dump is corrupt")


def test_a_line_that_must_be_short_shortens_the_path_not_the_reason():
    path = "/data/" + "deep/" * 400 + "ror-v2.zip"
    reason = "the dump is corrupt or truncated (BadZipFile: File is not a zip file); download it again"
    line = item_reason(path, reason, 160)
    assert line.endswith(": " + reason) and line.startswith("…") and "ror-v2.zip" in line
    assert len(line) <= 160
    line = named([IngestError("reference", "ror_registry", path, reason)])
    assert reason in line and "ror-v2.zip" in line and len(line) < 200
    # a reason longer than the limit is still whole, with at least the end of the path
    long_reason = "x" * 300
    assert item_reason(path, long_reason, 160).endswith("ror-v2.zip: " + long_reason)


def test_errors_shows_no_bidi_control_that_would_reverse_the_line(home, capsys):
    from paperatlas.pipeline.config import load_settings
    from paperatlas.pipeline.store import Warehouse

    home.mkdir(parents=True, exist_ok=True)
    store = Warehouse(load_settings().database)
    store.record_errors("neurips-2020", "raw_papers", [
        IngestError("neurips-2020", "raw_papers", "paper \u202eevil\u2066", "title \u202dreads\u2069 backwards")])
    assert cli.main(["errors", "neurips-2020"]) == 0
    out = capsys.readouterr().out
    assert "paper evil" in out and "title reads backwards" in out
    assert not any(c in out for c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def test_run_s_summary_and_progress_show_no_bidi_control(home, capsys, monkeypatch, tmp_path):
    import json
    import shutil

    from conftest import PAPERLISTS

    lists = tmp_path / "lists"
    shutil.copytree(PAPERLISTS, lists)
    records = json.loads((lists / "icml2021.json").read_text())
    for n, record in enumerate(records):
        record["id"] = "\u202eevil"  # one id twice: the second is renamed, with a warning naming the id
        record["title"] = f"Title \u2066{n}\u2069 of a paper"
    (lists / "icml2021.json").write_text(json.dumps(records))
    monkeypatch.setenv("PAPERATLAS_PAPERLISTS_BASE", str(lists))
    assert cli.main(["run", "icml-2021"]) == 0
    err = capsys.readouterr().err
    assert "WARNING icml-2021 raw_papers" in err and "evil" in err, err
    assert not any(c in err for c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"), err
