"""What a newcomer meets first: ranges of venue-years, help that teaches, `paperatlas ui` with
dagster dev's options, and output that says what happened and how long it took."""

import argparse
import json
import re
import sys
import time

import pytest

from paperatlas import cli


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def twoyears(home, tmp_path, monkeypatch):
    """twinconf 2017 and 2018: a venue the sources plan does not know, in a local paper list."""
    base = tmp_path / "lists"
    base.mkdir()
    for year, aff in ((2017, "MIT; Tsinghua University"), (2018, "Stanford University; Peking University")):
        (base / f"twinconf{year}.json").write_text(json.dumps([
            {"id": "1", "title": f"Paper of {year}", "author": "A One; B Two", "aff": aff,
             "aff_domain": "", "status": "Poster"},
            {"id": "2", "title": f"Paper of {year}", "author": "A One; B Two", "aff": aff,
             "aff_domain": "", "status": "Poster"},  # listed twice: merged, with a warning
            {"id": "3", "title": "Alone", "author": "C Three", "aff": "University of Toronto", "aff_domain": "",
             "status": "Poster"},
        ]))
    monkeypatch.setenv("PAPERATLAS_PAPERLISTS_BASE", str(base))
    return home


def test_ranges_every_year_and_the_trend(twoyears, capsys, tmp_path):
    started = time.monotonic()
    code, out, err = run(capsys, "run", "twinconf-2017..2018")
    took = time.monotonic() - started
    assert code == 0, err
    assert "[1/2] twinconf-2017" in err and "[2/2] twinconf-2018" in err
    # The command's own wall time, the reference data and the Dagster instance included.
    shown = float(re.search(r"materialised 2/2 venue-years in ([\d.]+)s", out).group(1))
    assert took - 0.3 <= shown <= took + 0.3, (shown, took)
    # A warning is named, not only counted.
    assert "WARNING twinconf-2017 raw_papers: 1 item kept with a warning: " in err and "lists this paper twice" in err

    code, out, _ = run(capsys, "trend", "twinconf", "--json")
    assert [(r["year"], r["papers"], r["us_cn_papers"]) for r in json.loads(out)] == [(2017, 2, 1), (2018, 2, 1)]

    code, out, _ = run(capsys, "report", "twinconf-*", "--json")
    assert code == 0 and [r["partition"] for r in json.loads(out)] == ["twinconf-2017", "twinconf-2018"]
    code, out, err = run(capsys, "report", "twinconf-2016..2018", "--json")
    assert [r["partition"] for r in json.loads(out)] == ["twinconf-2017", "twinconf-2018"]
    assert "skipped twinconf-2016 (not materialised)" in err
    code, out, _ = run(capsys, "report", "twinconf-2018", "--json")
    assert json.loads(out)["partition"] == "twinconf-2018"  # one venue-year: one object, as before
    code, _, err = run(capsys, "report", "twinconf-2017..2018", "--format", "html")
    assert code == 2 and "--out DIR" in err
    out_dir = tmp_path / "reports"
    assert run(capsys, "report", "twinconf-*", "--out", str(out_dir))[0] == 0
    assert (out_dir / "twinconf-2017" / "report.html").is_file()
    assert (out_dir / "twinconf-2018" / "review.html").is_file()

    code, out, err = run(capsys, "diff", "twinconf-*", "--json")
    assert code == 0 and json.loads(out) == [] and err.count("skipped twinconf-") == 2
    assert run(capsys, "run", "twinconf-2018")[0] == 0
    code, out, _ = run(capsys, "diff", "twinconf-*", "--json")
    assert [d["partition"] for d in json.loads(out)] == ["twinconf-2018"]
    code, _, err = run(capsys, "diff", "twinconf-*", "--from", "1")
    assert code == 2 and "one VENUE-YEAR" in err


def test_bad_ranges_and_unknown_years(home, capsys):
    code, _, err = run(capsys, "run", "neurips-2019..2017")
    assert code == 2 and "2019 comes after 2017" in err
    code, _, err = run(capsys, "run", "mylab-*")
    assert code == 2 and "no years of mylab are known" in err and "mylab-2020..2024" in err
    code, _, err = run(capsys, "report", "neurips-2010..2012")
    assert code == 2 and "no paperatlas store" in err


def test_partitions_add_takes_ranges_and_every_year_of_the_plan(home, capsys):
    code, out, err = run(capsys, "partitions", "add", "eccv-2018..2022", "nips-2019..2020")
    assert code == 0 and "added 5 venue-years" in out  # ECCV is held in even years only
    assert "skipped eccv-2019, eccv-2021 (the sources plan knows no edition that year)" in err
    code, out, _ = run(capsys, "partitions", "add", "iclr-*")
    added = int(re.search(r"added (\d+)", out).group(1))
    assert added == time.localtime().tm_year - 2013  # from its first edition, 2013, to last year
    _, out, _ = run(capsys, "partitions")
    assert "neurips-2020\t-" in out and "iclr-2013\t-" in out and "eccv-2019" not in out


def test_help_lists_each_command_once_and_says_where_data_lives(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    text = capsys.readouterr().out
    parser = cli.build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    section = text.split("commands:")[1].split("\n\n")[0]
    listed = [line.split()[0] for line in section.splitlines() if re.match(r"^  \S", line)]  # not wrapped lines
    assert listed == list(commands)  # once each, in one list
    assert "{" not in section
    for words in ("PAPERATLAS_HOME", "PAPERATLAS_PAPERLISTS_BASE", "PAPERATLAS_ROR_DUMP", "--pdfs cached"):
        assert words in text, words
    assert not text.startswith("The ")
    assert cli.main([]) == 2 and capsys.readouterr().out == text  # a bare `paperatlas` shows the same


def test_every_command_has_a_description_an_example_and_help_for_each_argument():
    parser = cli.build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    for name, sub in commands.items():
        assert sub.description and len(sub.description) > 60, name
        assert sub.epilog and f"paperatlas {name}" in sub.epilog.split("examples:")[1], name
        for action in sub._actions:
            assert action.help and action.help != argparse.SUPPRESS, (name, action.dest)


def test_ui_passes_dagster_dev_options_through(home, capsys, monkeypatch):
    calls = []
    monkeypatch.setattr("paperatlas.cli.ui.supervise", lambda argv: calls.append(argv) or 0)
    assert cli.main(["ui", "-p", "3001", "-h", "127.0.0.1", "--log-level", "debug"]) == 0
    assert cli.main(["ui", "--", "--port", "3002"]) == 0
    assert cli.main(["ui"]) == 0
    assert [c[c.index("paperatlas.definitions") + 1:] for c in calls] == [
        ["-p", "3001", "-h", "127.0.0.1", "--log-level", "debug"], ["--port", "3002"], []]
    assert calls[0][0] == sys.executable and calls[0][3] == "dev"  # this Python's dagster, whatever PATH holds
    with pytest.raises(SystemExit) as shown:
        cli.main(["ui", "--help"])
    assert shown.value.code == 0 and "-h/--host" in capsys.readouterr().out
    with pytest.raises(SystemExit) as refused:
        cli.main(["report", "neurips-2016", "-p", "3000"])  # elsewhere an unknown option is an error
    assert refused.value.code == 2 and "unrecognized arguments: -p 3000" in capsys.readouterr().err


def test_every_benchmark_and_test_finds_the_shared_data_through_paperatlas_shared(tmp_path):
    """`$PAPERATLAS_SHARED` names the data folder for all of them: benchmarks read it through
    benchmarks/shared_data.py, tests through conftest.SHARED, and nothing builds its own path."""
    import os
    import subprocess
    import sys

    from conftest import ROOT

    own = {"shared_data.py", "conftest.py", "test_first_hour.py"}
    for path in sorted([*ROOT.glob("benchmarks/*.py"), *ROOT.glob("tests/*.py")]):
        if path.name not in own:
            assert not re.search(r"""/ ["']shared["']""", path.read_text(encoding="utf-8")), path
    users = sorted(p.stem for p in ROOT.glob("benchmarks/*.py") if "SHARED" in p.read_text(encoding="utf-8")
                   and p.name != "shared_data.py")
    assert len(users) >= 8, users
    script = ("import importlib, json, sys; sys.path[:0] = ['benchmarks', '.']; "
              "print(json.dumps({m: str(importlib.import_module(m).SHARED) for m in sys.argv[1:]}))")
    done = subprocess.run([sys.executable, "-c", script, *users], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PAPERATLAS_SHARED": str(tmp_path)}, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout) == {m: str(tmp_path) for m in users}


def test_every_asset_says_what_a_row_is_and_shares_read_as_percentages(env):
    from conftest import materialise
    from dagster import AssetKey

    from paperatlas.assets.automation import ASSETS

    settings, defs, instance = env
    assert defs.resolve_job_def("terms_job").execute_in_process(instance=instance).success
    assert materialise(defs, instance, "neurips-2020").success
    assert defs.resolve_job_def("aggregates_job").execute_in_process(instance=instance).success
    shares = {}
    for assets_def in ASSETS:
        for key in assets_def.keys:
            event = instance.get_latest_materialization_event(key)
            assert event is not None, key
            meta = event.asset_materialization.metadata
            if "dagster/row_count" in meta:
                assert meta["rows_are"].value.startswith("one per "), key
            shares.update({f"{key.to_user_string()}.{k}": v.value for k, v in meta.items()
                           if k.endswith(("_share", "coverage"))})
    assert shares and all(re.fullmatch(r"(\d+\.\d%|<0\.1%|>99\.9%) \(\d[\d,]* of \d[\d,]* [a-z -]+\)", v)
                          for v in shares.values()), shares
    head = instance.get_latest_materialization_event(AssetKey("headlines")).asset_materialization.metadata
    assert head["us_cn_share"].value == "12.5% (1 of 8 papers)"


def test_the_forms_a_venue_year_argument_takes():
    from paperatlas.pipeline.partitions import PartitionKeyError, expand_partition_keys

    def every_year(venue):
        return [2019, 2020] if venue == "neurips" else []

    keys, skipped = expand_partition_keys(["nips-2018..neurips-2020", "nips-*", "ICML-2021", "neurips-2020"],
                                          every_year, lambda venue, year: year != 2019)
    assert keys == ["neurips-2018", "neurips-2020", "neurips-2019", "icml-2021"]
    assert skipped == []  # 2019, left out of the range, came back through neurips-*
    even = expand_partition_keys(["cvpr-2019..2021"], every_year, lambda v, y: y % 2 == 0)
    assert even == (["cvpr-2020"], ["cvpr-2019", "cvpr-2021"])
    for bad, says in (("neurips-2020..2018", "comes after"), ("neurips-2020..icml-2021", "one venue"),
                      ("icml-*", "no years of icml are known"), ("neurips-1900..1901", "out of range")):
        with pytest.raises(PartitionKeyError, match=says):
            expand_partition_keys([bad], every_year, lambda v, y: True)
