"""Where every benchmark finds the shared data folder: `$PAPERATLAS_SHARED` (the data folder
itself, as the tests read it), else `../shared/data` beside the repository. Each benchmark's
options can still point at other files."""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("PAPERATLAS_SHARED") or ROOT.parent / "shared" / "data")
