"""Time `paperatlas study run` from a cold home: the built-in study (default wired-neurips) on
every year of its scope the shared paper lists hold, with the shared ROR dump and no PDFs.

Prints the wall time of each command (the cold run materialises the scope's venue-years, the
warm run compares on what is stored), the peak memory of the process, and the claims table.

    python benchmarks/study_run.py [--study wired-neurips] [--paperlists ../shared/data/paperlists]
    python benchmarks/study_run.py --study eto-cross-border --scope-shared   # its claims on every shared venue-year
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import sys
import tempfile
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

from shared_data import SHARED  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT = SHARED / "paperlists"


def run(cli, argv: list[str]) -> tuple[int, str, float]:
    out, err = io.StringIO(), io.StringIO()
    started = time.perf_counter()
    with redirect_stdout(out), redirect_stderr(err):
        code = cli.main(argv)
    return code, out.getvalue(), time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--study", default="wired-neurips")
    parser.add_argument("--paperlists", type=Path, default=DEFAULT)
    parser.add_argument("--ror", type=Path, default=DEFAULT.parent / "ror" / "ror-partial-v2.zip")
    parser.add_argument("--scope-shared", action="store_true",
                        help="run the study's claims on every venue-year the paper lists folder holds (--scope)")
    args = parser.parse_args()
    if not args.paperlists.is_dir():
        print(f"no paper lists at {args.paperlists}", file=sys.stderr)
        return 2
    home = Path(tempfile.mkdtemp(prefix="paperatlas-study-"))
    os.environ.update({"PAPERATLAS_HOME": str(home), "DAGSTER_HOME": str(home / "dagster"),
                       "PAPERATLAS_PAPERLISTS_BASE": str(args.paperlists.resolve()),
                       "PAPERATLAS_ROR_DUMP": str(args.ror), "PAPERATLAS_PDFS": "off"})
    from paperatlas import cli
    from paperatlas.pipeline.partitions import parse_partition_key

    scope = []
    if args.scope_shared:
        for path in sorted(args.paperlists.glob("*.json")):
            venue = path.stem.rstrip("0123456789")
            scope.append(parse_partition_key(f"{venue}-{path.stem[len(venue):]}").key)
    scoped = ["--scope", *scope] if scope else []
    code, out, cold = run(cli, ["study", "run", args.study, "--json", *scoped])
    if code:
        print(f"study run exited {code}", file=sys.stderr)
        return code
    result = json.loads(out)
    _, _, warm = run(cli, ["study", "run", args.study, "--stored", "--json", *scoped])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{args.study}: cold home {cold:.1f} s (materialised {len(result['materialised'])} venue-years: "
          f"{', '.join(result['materialised'])}), stored {warm:.1f} s, peak memory {peak:.0f} MB")
    print(f"{'claim':16s} {'published':>12s} {'ours':>10s} {'low':>8s} {'high':>8s} {'+unpl.':>7s}  basis")
    for c in result["claims"]:
        def show(v):
            if v is None:
                return "–"
            if isinstance(v, list):
                return ",".join(v)
            return f"{v:.3f}" if isinstance(v, float) else str(v)
        print(f"{c['id']:16s} {show(c['published']):>12s} {show(c['ours']):>10s} {show(c['low']):>8s} "
              f"{show(c['high']):>8s} {show(c['unplaced']):>7s}  {c['basis']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
