"""The `paperatlas` command's parser: the top-level help, then each command from its group's
module, in the order `paperatlas --help` lists them."""

from __future__ import annotations

import argparse

from . import compare, countries, figures, files, institutions, review, run, sources, store, studies, ui
from .options import TOP_DESCRIPTION, TOP_EPILOG, _Help, _help_home

# Each group module's parsers by command name (run.PARSERS ...), and the order of the help.
GROUPS = (run, figures, compare, institutions, studies, countries, review, sources, store, files, ui)
ORDER = ("run", "add-folder", "report", "trend", "compare", "study", "country", "ranking", "papers", "explain",
         "institutions", "diff", "review", "sources", "errors", "snapshot-index", "store", "partitions", "resolve",
         "extract-pdf", "mentions", "ui", "worker")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="paperatlas", description=TOP_DESCRIPTION,
                                     epilog=TOP_EPILOG.format(home=_help_home()), formatter_class=_Help)
    sub = parser.add_subparsers(dest="command", required=True, title="commands", metavar="COMMAND")

    parsers = {name: add for group in GROUPS for name, add in group.PARSERS.items()}
    for name in ORDER:
        parsers.pop(name)(sub)
    if parsers:  # a command a group defines but ORDER does not list would be missing from the help
        raise RuntimeError(f"commands missing from ORDER: {', '.join(parsers)}")
    return parser
