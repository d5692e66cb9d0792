"""The headline report of one venue-year, end to end, with what a hand check needs.

Runs `paperatlas run VENUE-YEAR` offline on the shared paperlists files (temporary
PAPERATLAS_HOME, PDFs cached), then `paperatlas report VENUE-YEAR --out DIR`, and prints:

- the headline (US, CN, US-CN papers, share, coverage) under every China scope;
- seconds for the run, for the report folder, and the folder's size;
- every paper of the US-CN review sample with the affiliation rows that put it there
  (country, rule, confidence), for a hand check; low-confidence papers marked;
- the paper-level moves of `institution:hq+coauthors` in the venue-year;
- that a second report from the same store is byte-identical.

    python benchmarks/report.py [--partition neurips-2016] [--paperlists DIR] [--ror ZIP] [--keep DIR]
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
import tempfile
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

from shared_data import SHARED  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _quiet(fn, *args):
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = fn(list(args))
    if code != 0:
        raise SystemExit(f"paperatlas {' '.join(args)} exited {code}:\n{err.getvalue()[-2000:]}")
    return out.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--partition", default="neurips-2016")
    parser.add_argument("--paperlists", type=Path, default=SHARED / "paperlists")
    parser.add_argument("--ror", type=Path, default=SHARED / "ror" / "ror-partial-v2.zip")
    parser.add_argument("--keep", type=Path, default=None, help="write the report folder here (default: temporary)")
    args = parser.parse_args()
    if not args.paperlists.exists():
        print(f"no paperlists files under {args.paperlists}", file=sys.stderr)
        return 2
    home = Path(tempfile.mkdtemp(prefix="paperatlas-report-"))
    os.environ.update({
        "PAPERATLAS_HOME": str(home), "DAGSTER_HOME": str(home / "dagster"),
        "PAPERATLAS_PAPERLISTS_BASE": str(args.paperlists.resolve()), "PAPERATLAS_ROR_DUMP": str(args.ror),
        "PAPERATLAS_PDFS": "cached",
    })
    from paperatlas import cli
    from paperatlas.pipeline.store import Warehouse

    started = time.perf_counter()
    _quiet(cli.main, "run", args.partition)
    run_s = time.perf_counter() - started
    out = args.keep or home / "report"
    started = time.perf_counter()
    _quiet(cli.main, "report", args.partition, "--out", str(out))
    report_s = time.perf_counter() - started
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    data = json.loads((out / "report.json").read_text())

    print(f"{args.partition}: run {run_s:.1f} s (every asset, through Dagster), report folder {report_s:.1f} s, "
          f"{size / 1e6:.2f} MB, {sum(1 for p in out.rglob('*') if p.is_file())} files")
    print(f"papers {data['papers']}, with an affiliation {data['papers_with_affiliation']}, "
          f"with a country {data['papers_with_country']} (coverage {data['country_coverage']:.1%})")
    print(f"{'number':28s} {'cn':>14s} {'cn+hk+mo':>14s} {'greater':>14s}")
    for number in ("us", "cn", "us_cn", "international"):
        cells = []
        for scope in ("cn", "cn+hk+mo", "greater"):
            h = data["headline"][number][scope]
            cells.append(f"{h['papers']} ({h['share']:.1%}) {h['low_confidence']}L")
        print(f"{number:28s} " + " ".join(f"{c:>14s}" for c in cells))

    print(f"\nUS-CN review sample ({len(data['review']['us_cn']['sample'])} of {data['us_cn_papers']} papers, "
          f"seed {data['seed']}; L = low confidence):")
    with open(out / "review.csv", newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["number"] == "us_cn"]
    current = None
    for r in rows:
        if r["paper_id"] != current:
            current = r["paper_id"]
            print(f"  #{r['sample_rank']:>2} {current} {'L ' if r['low_confidence'] == 'True' else '  '}{r['title'][:70]}")
        print(f"        {r['countries']:3s} {r['rule']:24s} {float(r['confidence']):.2f}  "
              f"{(r['affiliation'] or '@' + r['email_domain'])[:70]}")

    from paperatlas.pipeline.countries.decision import COAUTHORS_RULE
    from paperatlas.pipeline.reports.views import load_views

    views = load_views(Warehouse(home / "paperatlas.duckdb"), args.partition)
    moved = {pid: [e for e in v.evidence if e.coauthor_countries != e.countries] for pid, v in views.items()}
    moved = {pid: rows for pid, rows in moved.items() if rows}
    print(f"\nplacement coauthors ({COAUTHORS_RULE}) moves rows of {len(moved)} papers")
    for pid, rows in sorted(moved.items()):
        print(f"  {pid} {(views[pid].title or '')[:60]}: "
              + "; ".join(sorted({f'{e.institution} -> {e.coauthor_countries[0]}' for e in rows})))
    again = home / "again"
    _quiet(cli.main, "report", args.partition, "--out", str(again))
    same = all((out / name).read_bytes() == (again / name).read_bytes()
               for name in ("report.json", "report.md", "review.csv", "low_confidence.csv"))
    print(f"second report byte-identical: {same}")
    print(f"report folder: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
