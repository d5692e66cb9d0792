"""Time the metadata path (no PDFs) of one large venue-year through Dagster: HTTP pages to
headline numbers (issue 33, target 1,500 works/s on 2 cores).

Builds a temporary paperlists folder holding one venue-year file replicated to N papers
(each replica with fresh ids and titles, so merging and de-duplication keep every one), runs
`paperatlas run KEY --pdfs off` in a child process in a temporary PAPERATLAS_HOME, offline
(PAPERATLAS_PAPERLISTS_BASE, PAPERATLAS_ROR_DUMP, PAPERATLAS_PDFS=cached), and prints each
Dagster step's seconds (from the run's step stats), the total wall time, works per second,
the CPU seconds and the peak memory (resident set) of the child.

    python benchmarks/metadata_path.py [--papers 50000] [--file aaai2022] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from shared_data import SHARED  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PAPERLISTS = SHARED / "paperlists"


def replicate(source: Path, papers: int, out: Path) -> int:
    """Write `source` replicated to `papers` records in `out` (same name); replica r > 0 gets
    ids and titles ending in "r<r>"; returns the number written."""
    records = json.loads(source.read_text())
    rows = []
    for n in range(papers):
        replica, record = divmod(n, len(records))
        record = dict(records[record])
        if replica:
            record["id"] = f"{record.get('id') or ''}r{replica}"
            record["title"] = f"{record.get('title') or ''} r{replica}"
        rows.append(record)
    out.mkdir(parents=True, exist_ok=True)
    (out / source.name).write_text(json.dumps(rows))
    return len(rows)


def step_seconds(dagster_home: Path) -> list[tuple[str, str, float]]:
    """(job, step, seconds) of every step of every run in the instance, oldest run first."""
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    from dagster import DagsterInstance

    instance = DagsterInstance.get()
    out = []
    for run in reversed(instance.get_runs()):
        stats = sorted(instance.get_run_step_stats(run.run_id), key=lambda s: s.start_time or 0)
        for s in stats:
            if s.start_time and s.end_time:
                out.append((run.job_name, s.step_key, s.end_time - s.start_time))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--papers", type=int, default=50_000)
    parser.add_argument("--file", default="aaai2022", help="the paperlists file to replicate (stem)")
    parser.add_argument("--paperlists", type=Path, default=PAPERLISTS)
    parser.add_argument("--ror", type=Path, default=PAPERLISTS.parent / "ror" / "ror-partial-v2.zip")
    parser.add_argument("--keep", action="store_true", help="keep the temporary home and print its path")
    args = parser.parse_args()
    source = args.paperlists / f"{args.file}.json"
    if not source.exists():
        print(f"no paperlists file {source}", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="paperatlas-metadata-"))
    written = replicate(source, args.papers, work / "paperlists")
    venue = args.file.rstrip("0123456789")
    key = f"{venue}-{args.file[len(venue):]}"
    env = {**os.environ, "PAPERATLAS_HOME": str(work / "home"), "DAGSTER_HOME": str(work / "home" / "dagster"),
           "PAPERATLAS_PAPERLISTS_BASE": str(work / "paperlists"), "PAPERATLAS_ROR_DUMP": str(args.ror.resolve()),
           "PAPERATLAS_PDFS": "cached"}
    command = [str(Path(sys.executable).parent / "paperatlas"), "run", key, "--pdfs", "off"]
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak_mb, cpu = usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime
    if done.returncode != 0:
        print(done.stdout[-2000:], done.stderr[-4000:], sep="\n", file=sys.stderr)
        print(f"paperatlas run {key} failed ({done.returncode})", file=sys.stderr)
    print(f"{key}: {written} papers (from {source.name}), metadata only, {os.cpu_count()} cores")
    print(f"{'job':22s} {'step':34s} {'seconds':>8s}")
    for job, step, seconds in step_seconds(work / "home" / "dagster"):
        print(f"{job:22s} {step:34s} {seconds:8.2f}")
    # CPU seconds (user + system) stand steadier than wall time on a machine others share.
    print(f"total wall {wall:.1f}s; {written / wall:.0f} works/s; CPU {cpu:.1f}s; peak memory {peak_mb:.0f} MB; "
          f"load average at the end {os.getloadavg()[0]:.1f}")
    if args.keep:
        print(f"home: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return done.returncode


if __name__ == "__main__":
    raise SystemExit(main())
