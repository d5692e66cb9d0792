"""The floor plan holds: one import root, the domain code apart from the composition layer,
conventions spelled once, SQL beside its stage, and no oversized rooms (docs/architecture.md).

Each test reads the source as Python (ast), so it fails on the line that breaks the rule."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[1]
# The repository's folders and the packages they install as.
FOLDERS = {"paperatlas": "paperatlas", "pipeline": "paperatlas.pipeline", "assets": "paperatlas.assets",
           "resources": "paperatlas.resources", "studies": "paperatlas.studies"}
CODE = [p for folder in ("paperatlas", "pipeline", "assets", "resources", "tests", "benchmarks")
        for p in sorted((ROOT / folder).rglob("*.py"))]
PRODUCTION = [p for p in CODE if p.relative_to(ROOT).parts[0] in FOLDERS]


def module_of(path: Path) -> str:
    """The dotted module a production file installs as."""
    rel = path.relative_to(ROOT)
    parts = [*FOLDERS[rel.parts[0]].split("."), *rel.parts[1:]]
    parts[-1] = parts[-1].removesuffix(".py")
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute name) of everything the file imports (`from a import b` is `a.b`),
    relative imports resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module_of(path) if path in PRODUCTION else ""
    if package and path.name != "__init__.py":
        package = package.rpartition(".")[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            out += [(node.lineno, f"{name}.{alias.name}") for alias in node.names]
    return out


def test_nothing_imports_the_old_top_level_names():
    """`pipeline`, `assets` and `resources` are folders, not import names: everything imports
    `paperatlas.pipeline` and so on."""
    bad = [f"{p.relative_to(ROOT)}:{line} imports {name}" for p in CODE for line, name in imports(p)
           if name.split(".")[0] in ("pipeline", "assets", "resources")]
    assert not bad, "\n".join(bad)


def test_the_domain_code_imports_no_dagster_assets_or_resources():
    bad = [f"{p.relative_to(ROOT)}:{line} imports {name}" for p in PRODUCTION
           if p.relative_to(ROOT).parts[0] == "pipeline" for line, name in imports(p)
           if name.split(".")[0] in ("dagster", "dagster_duckdb", "dagster_celery")
           or name.startswith(("paperatlas.assets", "paperatlas.resources", "paperatlas.definitions",
                               "paperatlas.cli", "paperatlas.progress"))]
    assert not bad, "\n".join(bad)


def test_no_private_dagster_imports():
    bad = [f"{p.relative_to(ROOT)}:{line} imports {name}" for p in PRODUCTION for line, name in imports(p)
           if name.split(".")[0].startswith("dagster") and any(part.startswith("_") for part in name.split(".")[1:])]
    assert not bad, "\n".join(bad)


def test_every_package_folder_is_installed():
    """pyproject lists packages one by one (its package-dir maps the folders): a folder missing
    from the list would be left out of a wheel, though an editable install still finds it."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    assert config["package-dir"] == {name: folder for folder, name in FOLDERS.items()}
    found = {module_of(init) for folder in FOLDERS for init in (ROOT / folder).rglob("__init__.py")}
    assert set(config["packages"]) == found


def test_only_paperatlas_is_importable_from_elsewhere(tmp_path):
    """From a folder outside the repository, the installed project answers to `paperatlas` alone."""
    script = ("import importlib.util as u, json; "
              "print(json.dumps({n: u.find_spec(n) is not None for n in "
              "('paperatlas', 'paperatlas.pipeline', 'paperatlas.assets', 'paperatlas.resources', "
              "'pipeline', 'assets', 'resources')}))")
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, check=True)
    found = json.loads(done.stdout)
    assert found == {"paperatlas": True, "paperatlas.pipeline": True, "paperatlas.assets": True,
                     "paperatlas.resources": True, "pipeline": False, "assets": False, "resources": False}


# The conventions: each defined in pipeline/conventions.py and nowhere else.
CONVENTION_NAMES = {"PLACEMENTS", "DEFAULT_PLACEMENT", "CHINA_SCOPES", "LOW_CONFIDENCE", "LAB_READINGS",
                    "USER_AGENT"}


def test_conventions_are_spelled_once():
    defined = {}
    for p in PRODUCTION:
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
                node, ast.AnnAssign) else []
            for t in targets:
                if isinstance(t, ast.Name) and t.id in CONVENTION_NAMES:
                    defined.setdefault(t.id, []).append(str(p.relative_to(ROOT)))
    expected = {name: ["pipeline/conventions.py"] for name in CONVENTION_NAMES - {"USER_AGENT"}}
    assert defined == {**expected, "USER_AGENT": ["pipeline/http.py"]}


# Where SQL may be written: each stage's queries module, the stores, and one COPY of an
# in-memory frame to Parquet in the report folder (no store table is read there).
SQL_HOMES = {"pipeline/store.py", "pipeline/store_delta.py", "pipeline/reports/render/folder.py"}


def test_sql_sits_beside_its_stage():
    bad = []
    for p in PRODUCTION:
        rel = str(p.relative_to(ROOT))
        if p.name == "queries.py" or rel in SQL_HOMES:
            continue
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and any(
                    w in node.value.upper() for w in ("SELECT ", "DELETE FROM", "INSERT INTO")):
                bad.append(f"{rel}:{node.lineno}: {node.value.strip()[:60]!r}")
    assert not bad, "SQL outside a queries module:\n" + "\n".join(bad)


def test_every_stage_has_one_queries_module():
    stages = [d for d in (ROOT / "pipeline").iterdir() if (d / "steps.py").exists()]
    assert len(stages) == 6
    assert not [d.name for d in stages if not (d / "queries.py").exists()]


@pytest.mark.parametrize("path", PRODUCTION, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_oversized_rooms(path):
    """No production file over 700 lines, no function over 120."""
    text = path.read_text(encoding="utf-8")
    assert text.count("\n") <= 700
    long = [f"{node.name} ({node.end_lineno - node.lineno + 1} lines)" for node in ast.walk(ast.parse(text))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno >= 120]
    assert not long


def test_the_ground_floor_loads_no_stage():
    """Importing the settings, the HTTP client, the store or the conventions loads no stage of
    the domain (the settings once loaded the country stage for its placements)."""
    script = ("import sys, paperatlas.pipeline.config, paperatlas.pipeline.http, paperatlas.pipeline.store, "
              "paperatlas.pipeline.conventions; print(sorted({m.split('.')[2] for m in sys.modules "
              "if m.startswith('paperatlas.pipeline.') and m.split('.')[2] in "
              "('sources', 'pdfs', 'affiliations', 'countries', 'mentions', 'reports')}))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout.replace("'", '"')) == []
