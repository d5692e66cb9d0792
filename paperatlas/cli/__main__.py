"""`python -m paperatlas.cli`: the `paperatlas` command."""

import sys

from . import main

sys.exit(main())
