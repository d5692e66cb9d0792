import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
PAPERLISTS = FIXTURES / "paperlists"
SHARED = Path(os.environ.get("PAPERATLAS_SHARED", ROOT.parent / "shared" / "data"))


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A fresh PAPERATLAS_HOME (and Dagster instance) reading the fixture paperlists."""
    monkeypatch.setenv("PAPERATLAS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home" / "dagster"))
    monkeypatch.setenv("PAPERATLAS_PAPERLISTS_BASE", str(PAPERLISTS))
    return tmp_path / "home"


def shared(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data not available: {path}")
    return path
