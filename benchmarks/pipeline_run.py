"""Time the whole asset graph through Dagster on every shared paperlists venue-year.

Runs `paperatlas run` for each venue-year found in the folder (one Dagster run per
partition, then yearly_aggregates), in a temporary PAPERATLAS_HOME, and prints per-partition
papers, country coverage and wall time, the total, and the peak memory of the process. Then
it materialises one venue-year again to show that only that partition and the aggregates are
recomputed.

    python benchmarks/pipeline_run.py [--paperlists ../shared/data/paperlists]
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--paperlists", type=Path, default=DEFAULT)
    parser.add_argument("--ror", type=Path, default=DEFAULT.parent / "ror" / "ror-partial-v2.zip",
                        help="ROR v2 dump zip ('none' for no registry)")
    args = parser.parse_args()
    files = sorted(args.paperlists.glob("*.json"))
    if not files:
        print(f"no paperlists files under {args.paperlists}", file=sys.stderr)
        return 2
    home = Path(tempfile.mkdtemp(prefix="paperatlas-bench-"))
    os.environ.update({
        "PAPERATLAS_HOME": str(home), "DAGSTER_HOME": str(home / "dagster"),
        "PAPERATLAS_PAPERLISTS_BASE": str(args.paperlists.resolve()),
        "PAPERATLAS_ROR_DUMP": str(args.ror),
        # Offline: no PDF downloads (benchmarks/pdf_pipeline.py measures the PDF stages).
        "PAPERATLAS_PDFS": "cached",
    })
    from paperatlas import cli
    from paperatlas.pipeline.partitions import parse_partition_key

    keys = []
    for path in files:
        venue = path.stem.rstrip("0123456789")
        keys.append(parse_partition_key(f"{venue}-{path.stem[len(venue):]}").key)

    from paperatlas.pipeline.store import Warehouse

    print(f"{'venue-year':16s} {'papers':>7s} {'with country':>13s} {'affs resolved':>14s} {'US-CN':>6s} {'seconds':>8s}")
    total_started = time.perf_counter()
    for key in keys:
        started = time.perf_counter()
        with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
            code = cli.main(["run", key, "--no-aggregates"])
        took = time.perf_counter() - started
        if code != 0:
            print(f"{key:16s} FAILED ({took:.1f}s)")
            continue
        out = io.StringIO()
        with redirect_stdout(out):
            cli.main(["report", key, "--json"])
        r = json.loads(out.getvalue())
        share = Warehouse(home / "paperatlas.duckdb").query(
            "SELECT avg(CASE WHEN country IS NULL THEN 0 ELSE 1 END) AS s FROM resolved_affiliations "
            "WHERE partition_key = ? AND affiliation IS NOT NULL", [key])["s"].iloc[0]
        print(f"{key:16s} {r['papers']:7d} {r['papers_with_country'] / r['papers']:13.1%} {share:14.1%} "
              f"{r['us_cn_papers']:6d} {took:8.2f}")
    started = time.perf_counter()
    with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
        cli.main(["run", keys[0]])  # one partition again, then the aggregates
    again = time.perf_counter() - started
    total = time.perf_counter() - total_started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"venue-years: {len(keys)}; total {total:.1f}s; one venue-year again + aggregates: {again:.1f}s")
    print(f"peak memory: {peak_mb:.0f} MB; store: {home / 'paperatlas.duckdb'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
