"""`paperatlas ui` stops with every process it started, on SIGTERM and on Ctrl-C (SIGINT), and
prints no traceback and no Dagster "superseded" warning on the way.

Each case starts the real UI (dagster dev: the webserver, the daemon, a code server) on a free
port, waits for it to answer, signals the `paperatlas` process alone and checks, within a
timeout, that it and every process it had started are gone. About 15 s a case on 2 cores."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _alive(procs: list[psutil.Process]) -> list[str]:
    left = []
    for proc in procs:
        try:
            if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                left.append(f"{proc.pid} {' '.join(proc.cmdline())[:160]}")
        except psutil.NoSuchProcess:
            pass
    return left


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_ui_stops_with_all_its_children(home, tmp_path, signum):
    port = _free_port()
    err_path = tmp_path / "ui.err"
    with open(err_path, "w") as err, open(tmp_path / "ui.out", "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "paperatlas.cli", "ui", "-p", str(port), "-h", "127.0.0.1"],
                                env={**os.environ}, stdout=out, stderr=err, cwd=ROOT, start_new_session=True)
    me, children = psutil.Process(proc.pid), []
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, err_path.read_text()[-3000:]
            time.sleep(0.3)
        children = me.children(recursive=True)
        names = " ".join(" ".join(c.cmdline()) for c in children)
        assert "dagster_webserver" in names and "dagster._daemon" in names, names  # what must stop with it

        proc.send_signal(signum)  # this process alone, as `kill PID` does
        assert proc.wait(timeout=60) == 0, err_path.read_text()[-3000:]
        deadline = time.monotonic() + 10
        while _alive(children) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _alive(children), _alive(children)
        text = err_path.read_text()
        assert "Traceback" not in text and "superseded" not in text and "SupersessionWarning" not in text, text
        assert "the Dagster UI and daemon stopped" in text, text
    finally:  # whatever a failure left behind
        for leftover in (me, *children):
            try:
                leftover.kill()
            except psutil.NoSuchProcess:
                pass
        proc.wait(timeout=10)
