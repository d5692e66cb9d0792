"""Backfills into each store, with one and two workers: wall time, CPU, peak memory, and
whether every store ends with the same numbers.

    python benchmarks/shared_store.py [--venue-years 100] [--pdfs 2000] [--only duckdb-1,delta-2]

Two backfills, each in a fresh PAPERATLAS_HOME per configuration:

- **metadata**: `--venue-years` venue-years built from the shared paperlists files under new
  keys (`bencha-1990` ... : each file serves several keys, round-robin), run metadata-only
  (`--pdfs off`) with the shared ROR dump;
- **PDFs**: `--pdfs` PDFs from the shared `real-pdfs/` and `pdf-corpus/` folders, copied with
  a distinct trailer so that no two share a SHA-256 (no text-cache hit between copies), as
  local venue-year folders of 100 PDFs (`pdfbench-2000` ...): page 1 and the full-text scan.

The configurations:

| name | store | workers |
| --- | --- | --- |
| duckdb-1 | DuckDB file | 1 `paperatlas run` process |
| delta-1 | Delta tables in a folder | 1 process |
| delta-2 | Delta tables in a folder | 2 processes at once, each half of the venue-years |
| s3-2 | Delta tables on S3 (a moto_server this script starts on 127.0.0.1) | 2 processes |

A worker is a `paperatlas run ... --no-aggregates` process (each step in it; PDF steps use the
machine's cores through their own pool). The aggregates then run once, timed apart: over 100
venue-years they should take at most 10 s. CPU is user+system of every process the script
started (moto's server excluded); peak memory is the largest single process's maximum RSS.
Numbers compared: per venue-year every headline number under both placements and all China
scopes with its interval, the partition summaries, and the yearly tables.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from moto_s3 import start_moto
from shared_data import SHARED

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = {"duckdb-1": ("duckdb", 1), "delta-1": ("delta", 1), "delta-2": ("delta", 2), "s3-2": ("s3", 2)}
LETTERS = "abcdefghijklmnopqrstuvwxyz"

AGGREGATES = r"""
import json, sys, time
from dagster import DagsterInstance
from paperatlas.cli import _instance
from paperatlas.pipeline.config import load_settings
from paperatlas.definitions import build_definitions
settings = load_settings()
instance = _instance(settings)
defs = build_definitions(settings)
t = time.perf_counter()
ok = defs.resolve_job_def("aggregates_job").execute_in_process(instance=instance, raise_on_error=False).success
print(json.dumps({"ok": ok, "seconds": time.perf_counter() - t}))
"""

NUMBERS = r"""
import hashlib, json
from paperatlas.pipeline.config import load_settings
from paperatlas.pipeline.store import open_store
store = open_store(load_settings(), read_only=True)
out = {}
for table, order in (("headline_numbers", "partition_key, placement, china_scope, number"),
                     ("partition_summary", "partition_key"), ("yearly_summary", "venue, year"),
                     ("yearly_headlines", "venue, year, placement, china_scope, number"),
                     ("yearly_pairs", "venue, year, country_a, country_b"),
                     ("paper_mentions", "partition_key, paper_id, term, scope")):
    columns = {"headline_numbers": "partition_key, placement, china_scope, number, papers, low, high, denominator",
               "paper_mentions": "partition_key, paper_id, term, scope, mentions"}.get(table, "*")
    rows = store.query(f"SELECT {columns} FROM {table} ORDER BY {order}").to_dict("records")
    text = json.dumps(rows, sort_keys=True, default=str)
    out[table] = [len(rows), hashlib.sha256(text.encode()).hexdigest()[:12]]
us_cn = store.query("SELECT sum(papers) AS n FROM headline_numbers WHERE number = 'us_cn' AND placement = 'hq' "
                    "AND china_scope = 'cn'")["n"].iloc[0]
out["us_cn_hq_cn"] = int(us_cn) if us_cn == us_cn and us_cn is not None else 0
print(json.dumps(out))
"""


def metadata_keys(n: int, paperlists: Path, work: Path) -> tuple[list[str], Path]:
    """`n` new venue-years, each a link to one of the shared paperlists files."""
    files = sorted(paperlists.glob("*.json"))
    base = work / "paperlists"
    base.mkdir()
    keys = []
    for i in range(n):
        venue, year = f"bench{LETTERS[i // 30]}", 1990 + i % 30
        (base / f"{venue}{year}.json").symlink_to(files[i % len(files)])
        keys.append(f"{venue}-{year}")
    return keys, base


def pdf_keys(n: int, work: Path, per_year: int = 100) -> tuple[list[str], Path]:
    """`n` PDFs as local venue-year folders of `per_year`, each file a distinct copy."""
    sources = sorted((SHARED / "real-pdfs").glob("*.pdf")) + sorted((SHARED / "pdf-corpus").rglob("*.pdf"))
    local = work / "local"
    keys = []
    for i in range(n):
        key = f"pdfbench-{2000 + i // per_year}"
        folder = local / key
        if key not in keys:
            folder.mkdir(parents=True)
            keys.append(key)
        data = sources[i % len(sources)].read_bytes() + f"\n% paperatlas benchmark copy {i}\n".encode()
        (folder / f"paper{i:05d}.pdf").write_bytes(data)
    return keys, local


def run(config: str, keys: list[str], env: dict, work: Path, pdfs: str) -> dict:
    store, workers = CONFIGS[config]
    home = work / f"home-{pdfs}-{config}"
    env = {**env, "PAPERATLAS_HOME": str(home), "DAGSTER_HOME": str(home / "dagster"),
           "PAPERATLAS_STORE": "duckdb" if store == "duckdb" else "delta"}
    moto = None
    if store == "s3":
        moto = start_moto(env)
        env.update({"PAPERATLAS_STORE_URI": "s3://bench/paperatlas", "PAPERATLAS_FILES": str(home / "files")})
    # the reference data first, alone (as a worker would find it)
    prep = subprocess.run([sys.executable, "-m", "paperatlas.cli", "run", keys[0], "--no-aggregates", "--pdfs", pdfs],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    if prep.returncode != 0:
        raise SystemExit(f"{config}: {prep.stderr[-2000:]}")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    shares = [keys[i::workers] for i in range(workers)]
    procs = [subprocess.Popen([sys.executable, "-m", "paperatlas.cli", "run", *share, "--no-aggregates", "--pdfs", pdfs],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for share in shares]
    outputs = [p.communicate() for p in procs]
    backfill = time.perf_counter() - started
    failed = [err[-1500:] for p, (_, err) in zip(procs, outputs) if p.returncode not in (0, 1)]
    aggregates = json.loads(subprocess.run([sys.executable, "-c", AGGREGATES], cwd=ROOT, env=env, capture_output=True,
                                           text=True).stdout.strip().splitlines()[-1])
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    numbers = json.loads(subprocess.run([sys.executable, "-c", NUMBERS], cwd=ROOT, env=env, capture_output=True,
                                        text=True).stdout.strip().splitlines()[-1])
    if moto is not None:
        os.killpg(moto.pid, signal.SIGTERM)
        moto.wait()
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return {"config": config, "backfill": backfill, "aggregates": aggregates["seconds"], "aggregates_ok": aggregates["ok"],
            "wall": wall, "cpu": cpu, "peak_mb": after.ru_maxrss / 1024, "numbers": numbers, "failed": failed}


def report(title: str, results: list[dict], keys: int) -> None:
    print(f"\n{title}")
    print(f"{'config':10s} {'backfill s':>10s} {'aggregates s':>12s} {'wall s':>8s} {'CPU s':>8s} {'peak MB':>8s}  numbers")
    reference = json.dumps(results[0]["numbers"], sort_keys=True) if results else ""
    for r in results:
        same = "identical" if json.dumps(r["numbers"], sort_keys=True) == reference else "DIFFERENT"
        print(f"{r['config']:10s} {r['backfill']:10.1f} {r['aggregates']:12.1f} {r['wall']:8.1f} {r['cpu']:8.1f} "
              f"{r['peak_mb']:8.0f}  {same} (US-CN {r['numbers'].get('us_cn_hq_cn')})"
              + (f"  FAILED: {r['failed']}" if r["failed"] else "") + ("" if r["aggregates_ok"] else "  AGGREGATES FAILED"))
    for r in results:
        if json.dumps(r["numbers"], sort_keys=True) != reference:
            print(f"  {r['config']}: {r['numbers']}\n  {results[0]['config']}: {results[0]['numbers']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--venue-years", type=int, default=100)
    parser.add_argument("--pdfs", type=int, default=2000)
    parser.add_argument("--only", default=",".join(CONFIGS), help="configurations, comma-separated")
    parser.add_argument("--skip", choices=["metadata", "pdfs"], help="leave one backfill out")
    args = parser.parse_args()
    configs = [c for c in args.only.split(",") if c]
    work = Path(tempfile.mkdtemp(prefix="paperatlas-stores-"))
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("PAPERATLAS_", "AWS_", "DAGSTER_"))}
    print(f"{os.cpu_count()} cores; work folder {work}")
    try:
        if args.skip != "metadata" and args.venue_years:
            keys, base = metadata_keys(args.venue_years, SHARED / "paperlists", work)
            env = {**base_env, "PAPERATLAS_PAPERLISTS_BASE": str(base),
                   "PAPERATLAS_ROR_DUMP": str(SHARED / "ror" / "ror-partial-v2.zip")}
            results = []
            for config in configs:
                results.append(run(config, keys, env, work, "off"))
                print(f"  {config}: {results[-1]['wall']:.1f}s", flush=True)
            report(f"metadata only: {len(keys)} venue-years from {len(list((SHARED / 'paperlists').glob('*.json')))} "
                   "paperlists files", results, len(keys))
        if args.skip != "pdfs" and args.pdfs:
            keys, local = pdf_keys(args.pdfs, work)
            env = {**base_env, "PAPERATLAS_LOCAL_DIR": str(local), "PAPERATLAS_ROR_DUMP": str(
                SHARED / "ror" / "ror-partial-v2.zip"), "PAPERATLAS_PAPERLISTS_BASE": str(work / "none")}
            results = []
            for config in configs:
                results.append(run(config, keys, env, work, "cached"))
                print(f"  {config}: {results[-1]['wall']:.1f}s", flush=True)
            report(f"PDFs: {args.pdfs} PDFs in {len(keys)} local venue-years (page 1 and full text)", results, len(keys))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
