"""The parser's shared parts: our help layout, one subcommand with its summary, description and
examples, and the options several commands take (venue-years, placement, China scope), their
choices taken from the conventions (pipeline/conventions.py)."""

from __future__ import annotations

import argparse

from ..pipeline.conventions import CHINA_SCOPE, PLACEMENT


def placement_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--placement", choices=list(PLACEMENT.choices), default=None,
                        help=f"hq: a multinational named without a place counts at its headquarters (as Paper "
                             f"Copilot, OpenAlex and Scopus); coauthors: where its co-authors are, if it has a lab "
                             f"there. Default: PAPERATLAS_PLACEMENT, else hq. Here: {what}")


def scope_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--china-scope", choices=list(CHINA_SCOPE.choices), default=CHINA_SCOPE.default,
                        help="cn: mainland China only (default); cn+hk+mo: fold in Hong Kong and Macau; "
                             "greater: also Taiwan")


KEYS_HELP = ("venue-years: neurips-2016, a range neurips-2010..2018, or neurips-* (every year {every}); "
             "nips- is read as neurips-")


TOP_DESCRIPTION = """\
Where machine-learning research comes from, and who works with whom: the paper lists of
venue-years in, country-level collaboration figures out, each number with the papers and
affiliation strings behind it and the interval it could move in.

Start with `paperatlas run neurips-2016`, then `paperatlas report neurips-2016`."""


TOP_EPILOG = """\
where the data lives:
  PAPERATLAS_HOME   the store (paperatlas.duckdb), downloads, PDFs, reports and the Dagster
                    instance; now {home}

working offline (the network is used for paper lists, the ROR registry and PDFs):
  PAPERATLAS_PAPERLISTS_BASE=DIR   paper lists from a local copy of papercopilot/paperlists
  PAPERATLAS_ROR_DUMP=FILE         the ROR registry from a dump you have (or 'none')
  --pdfs cached | --pdfs off       only PDFs already stored, or none (also PAPERATLAS_PDFS)

every setting: docs/configuration.md; every command: docs/commands.md or `paperatlas COMMAND --help`"""


class _Help(argparse.RawDescriptionHelpFormatter):
    """Our help layout: descriptions and examples as written, up to 100 columns, and the commands
    listed once, one line each (without argparse's "{run,report,...}" line above them)."""

    def __init__(self, prog: str):
        import shutil

        super().__init__(prog, max_help_position=26, width=min(shutil.get_terminal_size().columns, 100))

    def _format_action(self, action: argparse.Action) -> str:
        if isinstance(action, argparse._SubParsersAction):
            return "".join(self._format_action(choice) for choice in action._get_subactions())
        return super()._format_action(action)


def _help_home() -> str:
    from ..pipeline.config import default_home

    try:
        return str(default_home())
    except Exception:  # help must print whatever the environment holds
        return "(unset: ./.paperatlas if it exists, else the user data folder)"


def command(sub, name: str, summary: str, description: str, examples: list[str], func, **kwargs):
    """A subcommand with its one-line summary (in `paperatlas --help`), a description and examples."""
    import textwrap

    text = "\n\n".join(textwrap.fill(part, 92, break_on_hyphens=False) for part in description.split("\n\n"))
    parser = sub.add_parser(name, help=summary, description=text, formatter_class=_Help,
                            epilog="examples:\n" + "\n".join(f"  {e}" for e in examples), **kwargs)
    parser.set_defaults(func=func)
    return parser
