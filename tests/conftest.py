import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
PAPERLISTS = FIXTURES / "paperlists"
SHARED = Path(os.environ.get("PAPERATLAS_SHARED", ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def ror_dump(tmp_path_factory) -> Path:
    """A small ROR v2 dump zip (tests/ror_fixture.py)."""
    from ror_fixture import write_dump

    return write_dump(tmp_path_factory.mktemp("ror") / "ror-mini-v2.zip")


@pytest.fixture
def home(tmp_path, monkeypatch, ror_dump):
    """A fresh PAPERATLAS_HOME (and Dagster instance) reading the fixture paperlists and the
    fixture ROR dump, with PDF downloads off."""
    monkeypatch.setenv("PAPERATLAS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home" / "dagster"))
    monkeypatch.setenv("PAPERATLAS_PAPERLISTS_BASE", str(PAPERLISTS))
    monkeypatch.setenv("PAPERATLAS_ROR_DUMP", str(ror_dump))
    monkeypatch.delenv("PAPERATLAS_OVERRIDES", raising=False)
    monkeypatch.delenv("PAPERATLAS_LOCAL_DIR", raising=False)
    # Tests never touch the network: PDFs come from the store or local folders only, unless a
    # test turns downloading on under `responses`.
    monkeypatch.setenv("PAPERATLAS_PDFS", "cached")
    return tmp_path / "home"


@pytest.fixture
def env(home):
    """(settings, definitions, an ephemeral Dagster instance with the reference data loaded)."""
    from dagster import DagsterInstance

    from pipeline.config import load_settings
    from pipeline.definitions import build_definitions

    settings = load_settings()
    defs = build_definitions(settings)
    instance = DagsterInstance.ephemeral()
    assert defs.resolve_job_def("reference_job").execute_in_process(instance=instance).success
    return settings, defs, instance


def materialise(defs, instance, key, **kw):
    """Run `venue_year_job` on one venue-year (adding the partition first)."""
    instance.add_dynamic_partitions("venue_year", [key])
    return defs.resolve_job_def("venue_year_job").execute_in_process(
        partition_key=key, instance=instance, raise_on_error=False, **kw
    )


def shared(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data not available: {path}")
    return path


def run_alone(script: str, *args: str):
    """Run `script` (Python) in a fresh interpreter and return the JSON it prints last.

    For tests that kill a forked worker: pytest's own process has threads by then (Dagster
    runs, DuckDB), and forking a threaded process can deadlock the child on a lock another
    thread held. A fresh interpreter has one thread, so the pool forks as it does on the
    command line. A failure shows the script's stderr."""
    import json
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", script, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stderr[-4000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])
