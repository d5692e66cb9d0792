"""`python -m paperatlas.cli`: the `paperatlas` command."""

import sys

from . import main

if __name__ == "__main__":  # not again in a spawned child (run --jobs)
    sys.exit(main())
