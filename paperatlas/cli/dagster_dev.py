"""`dagster dev`, as `paperatlas ui` starts it: Dagster's own command line (its installed
`dagster` console script), without the one warning Dagster 1.13 prints on every `dagster dev`
("Function `dev_command` is superseded ... Use 'dg dev' instead").

`dg dev` needs the dagster-dg-cli package and a dg project layout, which paperatlas does not use;
`dagster dev` is what it runs underneath and is still supported. Only that SupersessionWarning
is silenced, by its category and message: any other warning Dagster gives is still printed.

Run as `python -m paperatlas.cli.dagster_dev dev -m paperatlas.definitions [options]`.
"""

from __future__ import annotations

import sys
import warnings


def main() -> int:
    from importlib.metadata import entry_points

    from dagster import SupersessionWarning

    warnings.filterwarnings("ignore", message=r"Function `dev_command` is superseded", category=SupersessionWarning)
    (script,) = entry_points(group="console_scripts", name="dagster")
    sys.argv[0] = "dagster"
    return script.load()()


if __name__ == "__main__":
    sys.exit(main())
