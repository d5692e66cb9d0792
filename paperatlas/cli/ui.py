"""`ui`: the Dagster UI and daemon on the same instance and store as the command line.

`dagster dev` runs as a child of this process, in a session of its own, with the webserver,
the daemon and the code servers it starts. SIGTERM or SIGINT (Ctrl-C) here asks `dagster dev`
to stop as its own Ctrl-C does (it tells the webserver and the daemon to shut down, and waits
for them); whatever of its session is still there after that is ended too. So nothing of the UI
outlives `paperatlas ui`, however it is stopped."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time

from ..pipeline.config import Settings
from . import execution
from .options import command

GRACE = 30.0  # seconds dagster dev has to stop its services before they are killed
LINGER = 5.0  # seconds what is left of its session has after SIGTERM, before SIGKILL


def dagster_command(dagster_args: list[str]) -> list[str]:
    """`dagster dev` on the paperatlas definitions, with the dagster of this Python (whatever
    PATH holds), through paperatlas.cli.dagster_dev (no "superseded" warning)."""
    return [sys.executable, "-m", "paperatlas.cli.dagster_dev", "dev", "-m", "paperatlas.definitions", *dagster_args]


def cmd_ui(args: argparse.Namespace, settings: Settings) -> int:
    execution.instance(settings)
    print(f"DAGSTER_HOME={settings.dagster_home} PAPERATLAS_HOME={settings.home}", file=sys.stderr)
    os.environ["PAPERATLAS_HOME"] = str(settings.home)
    return supervise(dagster_command(args.dagster_args))


def _signal_group(pgid: int, signum: int) -> bool:
    """Send `signum` to every process of the group; False when none is left."""
    try:
        os.killpg(pgid, signum)
        return True
    except ProcessLookupError:
        return False


def _group_alive(pgid: int) -> bool:
    return _signal_group(pgid, 0)


def supervise(command: list[str]) -> int:
    """Run `command` (dagster dev) until it ends, or until this process gets SIGTERM, SIGINT or
    SIGHUP; then stop it and every process of its session. Returns its exit code, or 0 when
    it was stopped."""
    child = subprocess.Popen(command, start_new_session=True)
    asked: list[float] = []

    def stop(signum, frame) -> None:
        if not asked:
            asked.append(time.monotonic())
            print("paperatlas: stopping the Dagster UI and daemon ...", file=sys.stderr, flush=True)
            try:
                child.send_signal(signal.SIGINT)  # dagster dev's own shutdown of its services
            except ProcessLookupError:
                pass

    caught = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
    previous = {signum: signal.signal(signum, stop) for signum in caught}
    try:
        while child.poll() is None:
            if asked and time.monotonic() - asked[0] > GRACE:
                _signal_group(child.pid, signal.SIGKILL)
            try:
                child.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                pass
        # What dagster dev left of its session (a code server, a process it killed late).
        if _signal_group(child.pid, signal.SIGTERM):
            deadline = time.monotonic() + LINGER
            while _group_alive(child.pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            _signal_group(child.pid, signal.SIGKILL)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if asked:
        print("paperatlas: the Dagster UI and daemon stopped", file=sys.stderr, flush=True)
        return 0
    return child.returncode


def _parse_ui(sub) -> None:
    ui = command(
        sub, "ui", "the Dagster UI (dagster dev) on the same instance and store",
        "Starts `dagster dev` on the paperatlas definitions, with the Dagster instance under DAGSTER_HOME "
        "(default $PAPERATLAS_HOME/dagster) and the same store as the command line. Every other option goes "
        "to `dagster dev`: -p/--port, -h/--host, --log-level, ... (`dagster dev --help` lists them). "
        "Ctrl-C or SIGTERM stops the UI, the daemon and every process they started. "
        "Use --help for this text.",
        ["paperatlas ui", "paperatlas ui -p 3000 -h 127.0.0.1"], cmd_ui, add_help=False)
    ui.add_argument("--help", action="help", help="show this help and exit (-h is dagster dev's --host)")


PARSERS = {"ui": _parse_ui}
