"""`ui`: the Dagster UI and daemon on the same instance and store as the command line."""

from __future__ import annotations

import argparse
import os
import sys

from ..pipeline.config import Settings
from . import execution
from .options import command


def cmd_ui(args: argparse.Namespace, settings: Settings) -> int:
    execution.instance(settings)
    # The dagster of this Python, whether or not its bin folder is on PATH.
    command = [sys.executable, "-m", "dagster", "dev", "-m", "paperatlas.definitions", *args.dagster_args]
    print(f"DAGSTER_HOME={settings.dagster_home} PAPERATLAS_HOME={settings.home}", file=sys.stderr)
    os.environ["PAPERATLAS_HOME"] = str(settings.home)
    os.execvp(command[0], command)
    return 0  # pragma: no cover


def _parse_ui(sub) -> None:
    ui = command(
        sub, "ui", "the Dagster UI (dagster dev) on the same instance and store",
        "Starts `dagster dev` on the paperatlas definitions, with the Dagster instance under DAGSTER_HOME "
        "(default $PAPERATLAS_HOME/dagster) and the same store as the command line. Every other option goes "
        "to `dagster dev`: -p/--port, -h/--host, --log-level, ... (`dagster dev --help` lists them). "
        "Use --help for this text.",
        ["paperatlas ui", "paperatlas ui -p 3000 -h 127.0.0.1"], cmd_ui, add_help=False)
    ui.add_argument("--help", action="help", help="show this help and exit (-h is dagster dev's --host)")


PARSERS = {"ui": _parse_ui}
