"""Progress and warnings read the same everywhere: `run`'s progress has a line for every step
it ran, and `run`, `sources` and `errors` count the items a step set aside in the same words,
with the same plurals ("1 item kept with a warning", never "1 errors")."""

import json
import re

from paperatlas import cli
from paperatlas.pipeline.text import plural, set_aside


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_plural():
    assert [plural(n, "warning") for n in (0, 1, 2)] == ["0 warnings", "1 warning", "2 warnings"]
    assert plural(1, "entry", "entries") == "1 entry" and plural(3, "entry", "entries") == "3 entries"
    assert set_aside("warning", 1) == "1 item kept with a warning" and set_aside("error", 2) == "2 items left out"


def test_run_sources_and_errors_count_a_warning_alike(home, tmp_path, monkeypatch, capsys):
    base = tmp_path / "lists"
    base.mkdir()
    paper = {"id": "1", "title": "Paper", "author": "A One; B Two", "aff": "MIT; Tsinghua University",
             "aff_domain": "", "status": "Poster"}
    (base / "twinconf2017.json").write_text(json.dumps([paper, {**paper, "id": "2"}]))  # twice: one warning
    monkeypatch.setenv("PAPERATLAS_PAPERLISTS_BASE", str(base))

    code, out, err = run(capsys, "run", "twinconf-2017")
    assert code == 0, err
    # Every step the run started has its line when it ended, the report's included.
    started = re.findall(r"^  > (\w+)$", err, re.M)
    ended = re.findall(r"^  ok (\w+) \(", err, re.M)
    assert started == ended and "venue_year_report" in ended and "headlines" in ended, err
    assert "WARNING twinconf-2017 raw_papers: 1 item kept with a warning: " in err
    assert "1 warning (" in err  # the step's own line

    code, out, err = run(capsys, "sources", "twinconf-2017")
    assert code == 0, err
    assert "last read: paperlists gave 1 paper (0 merged, 1 added) from 1 document; 1 item set aside" in out, out
    assert "set aside: 1 item kept with a warning (all: `paperatlas errors twinconf-2017`)" in out, out
    assert not re.search(r"\b1 (errors|warnings|documents|papers|items)\b", out), out

    code, out, err = run(capsys, "errors", "twinconf-2017")
    assert code == 0 and "\twarning\t" in out and err.strip() == "1 row", (out, err)
