"""matplotlib's config and font cache stay inside paperatlas's own files (issue 36, item 9).

Each test runs the real command line in a fresh interpreter: matplotlib reads MPLCONFIGDIR once,
when it is imported, and pytest's own process may have imported it already."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import PAPERLISTS, ROOT


def _cli(env: dict, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "paperatlas.cli", *argv], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)


def _env(tmp_path, ror_dump, user_home) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PAPERATLAS_", "XDG_", "MPL")) and k not in ("HOME", "DAGSTER_HOME")}
    return {**env, "HOME": str(user_home), "PAPERATLAS_HOME": str(tmp_path / "home"),
            "PAPERATLAS_PAPERLISTS_BASE": str(PAPERLISTS), "PAPERATLAS_ROR_DUMP": str(ror_dump),
            "PAPERATLAS_PDFS": "off", "TMPDIR": str(tmp_path / "tmp")}


def test_run_and_report_write_nothing_outside_the_home(tmp_path, ror_dump):
    user_home = tmp_path / "no-such-user-home"  # a HOME that does not exist, as on service accounts
    (tmp_path / "tmp").mkdir()
    env = _env(tmp_path, ror_dump, user_home)
    done = _cli(env, "run", "neurips-2020")
    assert done.returncode == 0, done.stderr[-3000:]
    done = _cli(env, "report", "neurips-2020", "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "out" / "charts").is_dir()
    assert not user_home.exists()  # no ~/.config/matplotlib, no ~/.cache/matplotlib/fontlist-*.json
    assert list((tmp_path / "home" / "cache" / "matplotlib").glob("fontlist-*.json"))
    assert not list((tmp_path / "tmp").iterdir())

    # A cache folder that cannot be written (here a file stands where it would be): a
    # temporary folder serves, and it is removed when the command ends.
    files = tmp_path / "files"
    files.mkdir()
    (files / "cache").write_text("a file where the cache folder would be")
    done = _cli({**env, "PAPERATLAS_FILES": str(files)}, "report", "neurips-2020", "--out", str(tmp_path / "out2"))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Matplotlib" not in done.stderr, done.stderr
    assert (tmp_path / "out2" / "charts").is_dir()
    assert not user_home.exists()
    assert not list((tmp_path / "tmp").iterdir())
