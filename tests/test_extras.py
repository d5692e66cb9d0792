"""The core install (`pip install -e .`) runs everything on one machine; the `scale` extra brings
the Delta store, S3, Celery, Redis and PostgreSQL. A setting that needs a package of `scale`
when it is not installed stops with one line naming the extra, never a traceback; and nothing
outside the core is imported where it is not needed (pipeline/extras.py)."""

from __future__ import annotations

import ast
import os
import sys

import pytest
from conftest import ROOT

from paperatlas import cli
from paperatlas.pipeline.extras import SCALE_MODULES

INSTALL = 'pip install -e ".[scale]"'
FOLDERS = ("paperatlas", "pipeline", "assets", "resources")


def _absent(monkeypatch, *modules: str) -> None:
    """Import of each of `modules` (and anything under it already loaded) fails, as when the
    package is not installed."""
    for name in list(sys.modules):
        if any(name == m or name.startswith(m + ".") for m in modules):
            monkeypatch.setitem(sys.modules, name, None)
    for name in modules:
        monkeypatch.setitem(sys.modules, name, None)


def _one_line(capsys, package: str, needed_for: str | None = None) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    line = err[-1]
    assert "Traceback" not in "\n".join(err) and "unexpected error" not in line, err
    assert line.startswith("paperatlas: ") and package in line and INSTALL in line, line
    if needed_for:
        assert needed_for in line, line
    return line


def test_the_delta_store_without_deltalake_names_the_extra(home, monkeypatch, capsys):
    monkeypatch.setenv("PAPERATLAS_STORE", "delta")
    monkeypatch.setenv("PAPERATLAS_STORE_URI", str(home / "delta"))
    _absent(monkeypatch, "deltalake")
    assert cli.main(["run", "neurips-2020"]) == 2
    _one_line(capsys, "deltalake", "PAPERATLAS_STORE=delta")
    assert cli.main(["report", "neurips-2020"]) == 2
    _one_line(capsys, "deltalake", "PAPERATLAS_STORE=delta")


def test_the_celery_executor_without_dagster_celery_names_the_extra(home, monkeypatch, capsys):
    monkeypatch.setenv("PAPERATLAS_EXECUTOR", "celery")
    _absent(monkeypatch, "dagster_celery")
    assert cli.main(["run", "neurips-2020"]) == 2
    _one_line(capsys, "dagster-celery", "PAPERATLAS_EXECUTOR=celery")
    monkeypatch.setattr(os, "execvp", lambda *a: pytest.fail(f"started a worker without dagster-celery: {a}"))
    assert cli.main(["worker"]) == 2  # before it starts a worker process that would fail
    _one_line(capsys, "dagster-celery", "paperatlas worker")


def test_a_postgres_instance_without_dagster_postgres_names_the_extra(home, monkeypatch, capsys):
    dagster_home = home / "dagster"
    dagster_home.mkdir(parents=True)
    (dagster_home / "dagster.yaml").write_text(
        "storage:\n  postgres:\n    postgres_url: postgresql+psycopg2://postgres@127.0.0.1:9/none\n")
    _absent(monkeypatch, "dagster_postgres", "psycopg2")
    assert cli.main(["run", "neurips-2020"]) == 2
    _one_line(capsys, "dagster-postgres")


def test_the_core_runs_without_the_scale_extra(home, monkeypatch, capsys):
    """The main job and a report with every package of `scale` absent."""
    _absent(monkeypatch, *SCALE_MODULES)
    assert cli.main(["run", "neurips-2020"]) == 0
    assert cli.main(["report", "neurips-2020"]) == 0
    assert "US" in capsys.readouterr().out


def _module_level_imports(tree: ast.Module):
    """Imports a module runs when it is imported: its top level, and under if/try at the top
    level; not those inside a function or class body."""
    todo = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, (ast.If, ast.Try, ast.With)):
            todo += node.body + getattr(node, "orelse", []) + getattr(node, "finalbody", [])
            todo += [n for h in getattr(node, "handlers", []) for n in h.body]


def test_no_module_imports_the_scale_extra_when_it_is_imported():
    found = []
    for folder in FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in _module_level_imports(ast.parse(path.read_text(encoding="utf-8"))):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                if node.__class__ is ast.ImportFrom and node.level:
                    continue  # relative: the package's own
                found += [f"{path.relative_to(ROOT)}:{node.lineno} {n}" for n in names
                          if n.split(".")[0] in SCALE_MODULES]
    assert not found, "import these where they are needed:\n" + "\n".join(found)


def test_pyproject_core_and_extras():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    name = lambda requirement: requirement.split(">")[0].split("[")[0].split("=")[0].split("<")[0].strip()  # noqa: E731
    core = {name(r) for r in project["dependencies"]}
    extras = project["optional-dependencies"]
    scale_packages = set(SCALE_MODULES.values())
    assert not core & scale_packages, core & scale_packages
    assert {"dagster", "dagster-webserver", "dagster-duckdb", "duckdb"} <= core  # run, ui, the store
    assert {name(r) for r in extras["scale"]} == scale_packages
    assert "paperatlas[scale]" in extras["dev"]
    assert {"pytest", "playwright", "moto", "responses"} <= {name(r) for r in extras["dev"]}


@pytest.mark.parametrize("module", ["deltalake", "dagster_celery", "psycopg2"])
def test_the_message_names_the_setting_and_the_command(module, monkeypatch):
    from paperatlas.pipeline.extras import MissingExtra, missing_extra, require

    monkeypatch.setitem(sys.modules, "_paperatlas_probe", None)
    with pytest.raises(MissingExtra) as raised:
        require("_paperatlas_probe", "X=y")
    assert str(raised.value).startswith("X=y needs the _paperatlas_probe package") and INSTALL in str(raised.value)
    absent = ModuleNotFoundError(f"No module named '{module}'", name=module)
    wrapped = RuntimeError("Dagster could not load the storage")
    wrapped.__cause__ = absent
    assert SCALE_MODULES[module] in missing_extra(wrapped)
    assert missing_extra(ModuleNotFoundError("No module named 'numpyx'", name="numpyx")) is None
