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
    assert re.search(r"^\[1/1\] twinconf-2017$", err, re.M) and re.search(r"^\[1/1\] ok twinconf-2017 \(", err, re.M)
    assert "WARNING twinconf-2017 raw_papers: 1 item kept with a warning: " in err
    assert "1 warning (" in err  # the step's own line

    code, out, err = run(capsys, "sources", "twinconf-2017")
    assert code == 0, err
    assert "last read: paperlists gave 1 paper (0 merged, 1 added) from 1 document; 1 item set aside" in out, out
    assert "set aside: 1 item kept with a warning (all: `paperatlas errors twinconf-2017`)" in out, out
    assert not re.search(r"\b1 (errors|warnings|documents|papers|items)\b", out), out

    code, out, err = run(capsys, "errors", "twinconf-2017")
    assert code == 0 and "\twarning\t" in out and err.strip() == "1 row", (out, err)


def test_runs_at_once_show_the_same_lines_labelled_once(home, tmp_path, monkeypatch, capfd):
    """With --jobs the runs go in processes of their own: every step still has its lines, each
    labelled with its venue-year once, and each venue-year its `[n/N] key` and `[n/N] ok key`."""
    base = tmp_path / "lists"
    base.mkdir()
    for year in (2017, 2018):
        (base / f"twinconf{year}.json").write_text(json.dumps([
            {"id": "1", "title": f"Paper of {year}", "author": "A One; B Two", "aff": "MIT; Tsinghua University",
             "aff_domain": "", "status": "Poster"}]))
    monkeypatch.setenv("PAPERATLAS_PAPERLISTS_BASE", str(base))
    capfd.readouterr()
    assert cli.main(["run", "twinconf-2017", "twinconf-2018", "--jobs", "2"]) == 0
    err = capfd.readouterr().err
    for n, key in enumerate(("twinconf-2017", "twinconf-2018"), start=1):
        started = re.findall(rf"^  {key} > (\w+)$", err, re.M)
        ended = re.findall(rf"^  {key} ok (\w+) \(", err, re.M)
        assert sorted(started) == sorted(ended) and "venue_year_report" in ended, err
        assert f"[{n}/2] {key}\n" in err and f"[{n}/2] ok {key} (" in err, err
        assert f"{key} {key}:" not in err, err  # a message that names its key is not labelled twice
        assert re.search(rf"^    {key}: ", err, re.M), err


def test_progress_lines_do_not_go_through_a_captured_descriptor_2(tmp_path):
    """While a run goes, Dagster points descriptor 2 at its compute-log file and copies it back
    with `tail -F`, which can drop the run's last lines: progress goes to the standard error
    kept before the run instead (in a fresh interpreter, whose descriptor 2 is its own)."""
    import subprocess
    import sys

    before, during = tmp_path / "terminal.txt", tmp_path / "captured.txt"
    script = f"""
import logging, os
os.dup2(os.open({str(before)!r}, os.O_WRONLY | os.O_CREAT), 2)  # the terminal
from paperatlas import progress
progress.keep_stderr()  # the command line, before its runs
os.dup2(os.open({str(during)!r}, os.O_WRONLY | os.O_CREAT), 2)  # a run's compute-log capture
record = logging.LogRecord("x", logging.INFO, "", 0, "m", None, None)
record.dagster_meta = {{"step_key": "venue_year_report", "orig_message": "report written", "dagster_event": None}}
progress._ProgressHandler().emit(record)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "    report written" in before.read_text() and "report written" not in during.read_text()
