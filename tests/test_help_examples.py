"""Every example in `paperatlas COMMAND --help` runs, as written, and exits 0.

The examples are taken from the parser (`build_parser()`: each command's epilog, as
`paperatlas/cli/options.py: command` writes it), so a command added later is covered without
touching this file. They run in process (`paperatlas.cli.main`) in a sandbox laid out the way
the README's are: the working folder has `../shared/data/paperlists` (the fixture paper lists,
with neurips-2016) and `../shared/data/ror/ror-partial-v2.zip` (the fixture registry) beside it,
`~` is a folder holding the files the examples name (`~/papers/lab-2024`,
`~/Downloads/verdicts.csv`), and the environment reads the same lists and registry offline.

The shell the examples are written for is read as far as they use it: `A=B` before the command
(set for that command), `cmd && cmd`, `echo '...' | paperatlas ...` (stdin), `paperatlas ... |
head -1` (stdout cut to its first line), `~` and quotes.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shlex
import shutil
from pathlib import Path

import pytest
from conftest import PAPERLISTS

from paperatlas import cli
from paperatlas.cli.parser import build_parser

# Examples that cannot run in a test, each with why. Keep this short: an example that fails
# for another reason is to be fixed, not listed.
NOT_RUN = {
    "paperatlas ui": "starts the Dagster UI and keeps it running (tests/test_ui_process.py starts and stops it)",
    "paperatlas ui -p 3000 -h 127.0.0.1": "as `paperatlas ui`, on a fixed port",
    "PAPERATLAS_EXECUTOR=celery paperatlas worker --name w1@%h": "a Celery worker needs a broker "
                                                                 "(tests/test_celery.py)",
    "PAPERATLAS_EXECUTOR=celery paperatlas worker --concurrency 2": "as the first worker example",
    "paperatlas snapshot-index": "reads an OpenAlex snapshot (PAPERATLAS_OPENALEX_SNAPSHOT; "
                                 "tests/test_openalex_snapshot.py)",
    "paperatlas snapshot-index airesearch": "as `paperatlas snapshot-index`",
}


def examples() -> list[tuple[str, list[str]]]:
    """(command, its examples) for every command `paperatlas --help` lists, in its order;
    a command with subcommands contributes theirs too."""
    found = []

    def walk(parser: argparse.ArgumentParser, name: str) -> None:
        epilog = parser.epilog or ""
        lines = epilog.split("examples:\n", 1)[1].splitlines() if "examples:\n" in epilog else []
        found.append((name, [line.strip() for line in lines if line.strip()]))
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub_name, sub in action.choices.items():
                    walk(sub, f"{name} {sub_name}".strip())

    walk(build_parser(), "")
    return [(name, lines) for name, lines in found if name]


COMMANDS = examples()


def test_every_command_has_examples():
    assert COMMANDS, "no commands found in the parser"
    missing = [name for name, lines in COMMANDS if not lines]
    assert not missing, f"commands without examples in their --help: {missing}"
    unknown = set(NOT_RUN) - {line for _, lines in COMMANDS for line in lines}
    assert not unknown, f"NOT_RUN names examples no command has any more: {sorted(unknown)}"


def _write_pdf(path: Path, title: str, authors: list[tuple[str, str]]) -> Path:
    from pdf_builder import Page

    page = Page()
    page.centred(90, title, 17, bold=True)
    page.runs(150, 130, [part for n, (name, _) in enumerate(authors, start=1)
                         for part in ((("" if n == 1 else ", ") + name, False), (str(n), True))], 12)
    for n, (_, aff) in enumerate(authors, start=1):
        page.runs(170, 138 + 12 * n, [(str(n), True), (aff, False)], 9)
    page.centred(200, "Abstract", 12, bold=True)
    page.body(220, sentence="We train a transformer in PyTorch and compare it with Llama on standard benchmarks.")
    path.parent.mkdir(parents=True, exist_ok=True)
    return page.save(path)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory, ror_dump):
    """The folders and settings the examples run in (see the module's docstring)."""
    root = tmp_path_factory.mktemp("examples")
    # The sandbox's own folder where the README's examples look (../shared/data beside the working
    # folder), holding the fixtures: not the shared data folder (conftest.SHARED).
    work, home, data = root / "work", root / "user", root.joinpath("shared", "data")
    shutil.copytree(PAPERLISTS, data / "paperlists")
    (data / "ror").mkdir(parents=True)
    shutil.copy(ror_dump, data / "ror" / "ror-partial-v2.zip")
    authors = [("Alice Chen", "Tsinghua University, Beijing, China"),
               ("Bob Smith", "Stanford University, Stanford, CA 94305, USA")]
    for folder in (home / "papers" / "lab-2024", work / "pdfs"):
        _write_pdf(folder / "cross-pacific.pdf", "Cross-Pacific Learning", authors)
    _write_pdf(work / "paper.pdf", "Cross-Pacific Learning", authors)
    (work / "affiliations.jsonl").write_text(
        json.dumps({"affiliation": "Tsinghua University", "email_domain": None}) + "\n"
        + json.dumps({"affiliation": "Stanford University", "email_domain": "stanford.edu"}) + "\n")
    (home / "Downloads").mkdir(parents=True)
    (home / "Downloads" / "verdicts.csv").write_text("number,paper_id,verdict\nus_cn,7252,right\nus_cn,7046,wrong\n")
    (work / "my-study.yaml").write_text(
        "name: my-study\ntitle: US-CN papers at NeurIPS 2016\nsource:\n  name: us\n  title: our count\n"
        "  date: 2026-01\nscope: [neurips-2016]\nclaims:\n  - id: us-cn\n    claim: NeurIPS 2016 papers with "
        "US and Chinese authors\n    number: us_cn\n    measure: count\n    years: [2016]\n    published: 4\n")
    env = {"HOME": str(home), "PAPERATLAS_HOME": str(root / "atlas"), "DAGSTER_HOME": str(root / "atlas" / "dagster"),
           "PAPERATLAS_PAPERLISTS_BASE": str(data / "paperlists"),
           "PAPERATLAS_ROR_DUMP": str(data / "ror" / "ror-partial-v2.zip"), "PAPERATLAS_PDFS": "cached"}
    return work, env


UNSET = ("PAPERATLAS_OVERRIDES", "PAPERATLAS_LOCAL_DIR", "PAPERATLAS_COUNTRY_GROUPS", "PAPERATLAS_PLACEMENT",
         "PAPERATLAS_SOURCES", "PAPERATLAS_TERMS", "PAPERATLAS_EXECUTOR", "PAPERATLAS_STORE",
         "PAPERATLAS_RUN_CONCURRENCY")


def run_example(line: str, monkeypatch, capsys) -> tuple[int, str, str]:
    """Run one example line as the shell would; (exit code of the last command, stdout, stderr)."""
    code, out, err = 0, "", ""
    for part in line.split(" && "):
        stdin = None
        if part.startswith("echo "):
            left, part = part.split(" | ", 1)
            stdin = shlex.split(left)[1] + "\n"
        head = None
        if " | head -" in part:
            part, cut = part.split(" | head -", 1)
            head = int(cut)
        words = shlex.split(part)
        with monkeypatch.context() as mp:
            while "=" in words[0]:
                name, value = words.pop(0).split("=", 1)
                mp.setenv(name, value)
            assert words[0] == "paperatlas", line
            argv = [os.path.expanduser(w) if w.startswith("~") else w for w in words[1:]]
            if stdin is not None:
                mp.setattr("sys.stdin", io.StringIO(stdin))
            capsys.readouterr()
            code = cli.main(argv)
            out, err = capsys.readouterr()
        if head is not None:
            out = "".join(out.splitlines(keepends=True)[:head])
        if code != 0:
            break
    return code, out, err


@pytest.mark.parametrize("name, lines", COMMANDS, ids=[name for name, _ in COMMANDS])
def test_help_examples_run(name, lines, sandbox, monkeypatch, capsys):
    work, env = sandbox
    for variable in UNSET:
        monkeypatch.delenv(variable, raising=False)
    for variable, value in env.items():
        monkeypatch.setenv(variable, value)
    monkeypatch.chdir(work)
    if name not in ("run", "add-folder", "partitions"):  # alone (pytest -k): what `run`'s examples leave
        materialised(monkeypatch, capsys)
    failures = []
    for line in lines:
        if line in NOT_RUN:
            continue
        code, out, err = run_example(line, monkeypatch, capsys)
        if code != 0 or "Traceback" in err:
            failures.append(f"{line}\n  exit {code}: {err.strip()[-800:]}")
        if os.environ.get("PAPERATLAS_SHOW_EXAMPLES"):
            with capsys.disabled():
                print(f"\n$ {line}  # exit {code}\n{out[:1500]}\n{err[-1500:]}")
    assert not failures, "\n".join(failures)


def materialised(monkeypatch, capsys) -> None:
    """neurips-2016 (twice: `diff` compares two runs) and icml-2021, unless `run`'s examples did it."""
    _, listing, _ = run_example("paperatlas partitions", monkeypatch, capsys)
    if not all(f"{key}\tmaterialised" in listing for key in ("neurips-2016", "icml-2021")):
        for _ in range(2):
            assert run_example("paperatlas run neurips-2016 icml-2021 --pdfs off", monkeypatch, capsys)[0] == 0
