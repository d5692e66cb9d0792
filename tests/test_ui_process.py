"""`paperatlas ui` stops with every process it started, on SIGTERM and on Ctrl-C (SIGINT), and
prints no traceback and no Dagster "superseded" warning on the way.

Each case starts the real UI (dagster dev: the webserver, the daemon, a code server) on a free
port, waits for it to answer, signals the `paperatlas` process alone and checks, within a
timeout, that it and every process it had started are gone. About 15 s a case on 2 cores."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import psutil
import pytest
from conftest import free_port, start_ui

ROOT = Path(__file__).resolve().parents[1]


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
    err_path = tmp_path / "ui.err"
    proc = start_ui(free_port(), err_path, 120)
    me, children = psutil.Process(proc.pid), []
    try:
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
