"""OpenAlex at scale: one year of N generated works through the whole pipeline.

Starts `tests/openalex_server.py --generate N --year Y` in a process of its own (works made on
demand, tests/openalex_generated.py), then runs `paperatlas run airesearch-Y` through Dagster in
a subprocess, offline: a temporary PAPERATLAS_HOME, PAPERATLAS_OPENALEX_BASE=<the server>,
PAPERATLAS_ROR_DUMP (default the shared partial ROR dump), PDFs off. Reports the wall time and
works/s, its phases (the reference data, each key, yearly_aggregates: from the run's own
progress lines), CPU seconds (user+sys of the run and every process it started), the peak RSS of
the run process and of its whole process tree (polled), the store's size, and the time of
`paperatlas report airesearch-Y --format json`.

    python benchmarks/openalex_scale.py --works 200000 [--year 2020] [--json]
    python benchmarks/openalex_scale.py --works 200000 --split 50000          # PAPERATLAS_OPENALEX_SPLIT
    python benchmarks/openalex_scale.py --works 200000 --keys months          # airesearch-2020-m01 … m12
    python benchmarks/openalex_scale.py --works 20000 --store delta --moto    # Delta tables on S3 (moto)

`--keys` lists explicit keys (sub-partitions such as airesearch-2020-m03 or -m03-s1702;
`months`: the twelve months) for a `run` that does not split a year itself.
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
import threading
import time
from pathlib import Path

import psutil
from moto_s3 import start_moto
from shared_data import SHARED

ROOT = Path(__file__).resolve().parents[1]
SERVER = ROOT / "tests" / "openalex_server.py"


def start_server(works: int, year: int, seed: int, page_size: int) -> tuple[subprocess.Popen, str]:
    server = subprocess.Popen([sys.executable, str(SERVER), "--generate", str(works), "--year", str(year),
                               "--seed", str(seed), "--page-size", str(page_size)],
                              stdout=subprocess.PIPE, text=True, start_new_session=True)
    base = server.stdout.readline().strip()
    if not base.startswith("http://"):
        server.kill()
        raise SystemExit(f"the OpenAlex server did not start (exit {server.wait()})")
    return server, base


def stop(process: subprocess.Popen | None) -> None:
    if process is not None and process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


class Watch:
    """Polls a process and its descendants: the peak RSS of the process, and of the tree summed."""

    def __init__(self, pid: int, every: float = 0.25):
        self.process = psutil.Process(pid)
        self.peak_self = self.peak_tree = self.peak_procs = 0
        self.every = every
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.poll, daemon=True)
        self.thread.start()

    def poll(self) -> None:
        while not self.done.is_set():
            try:
                own = self.process.memory_info().rss
                tree = own
                children = self.process.children(recursive=True)
                for child in children:
                    try:
                        tree += child.memory_info().rss
                    except psutil.Error:
                        pass
            except psutil.Error:
                break
            self.peak_self, self.peak_tree = max(self.peak_self, own), max(self.peak_tree, tree)
            self.peak_procs = max(self.peak_procs, 1 + len(children))
            self.done.wait(self.every)

    def stop(self) -> None:
        self.done.set()
        self.thread.join(timeout=5)


def run_pipeline(keys: list[str], env: dict, pdfs: str) -> dict:
    """`paperatlas run KEYS` in a subprocess: wall time, phases, CPU, peak RSS, its last lines."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "paperatlas.cli", "run", *keys, "--pdfs", pdfs], cwd=ROOT,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watch = Watch(process.pid)
    marks: list[tuple[float, str]] = []  # (seconds since start, progress line)
    tail: list[str] = []

    def read_stderr() -> None:
        for line in process.stderr:
            line = line.rstrip("\n")
            if line.startswith("[") and "] " in line:
                marks.append((time.perf_counter() - started, line))
            tail.append(line)
            del tail[:-40]
    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    out = process.stdout.read()
    code = process.wait()
    wall = time.perf_counter() - started
    reader.join(timeout=10)
    watch.stop()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    phases: dict[str, float] = {}
    starts = [(t, line.split("] ", 1)[1].strip()) for t, line in marks
              if line.startswith("[aggregates]") or line[1:2].isdigit()]
    if starts:
        phases["reference data"] = starts[0][0]
    for (t, name), (t_next, _) in zip(starts, starts[1:] + [(wall, "")]):
        phases[name] = t_next - t
    return {"exit": code, "wall": wall, "cpu": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
            "peak_rss_mb": watch.peak_self / 2**20, "peak_tree_mb": watch.peak_tree / 2**20,
            "processes": watch.peak_procs, "phases": phases, "stdout": out.strip().splitlines()[-3:],
            "stderr": tail}


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


def s3_size(env: dict, uri: str) -> int:
    import boto3

    bucket, _, prefix = uri[len("s3://"):].partition("/")
    client = boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"], aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                          aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"], region_name=env["AWS_REGION"])
    total = 0
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        total += sum(o["Size"] for o in page.get("Contents", []))
    return total


def run_report(scope: str, env: dict) -> dict:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "paperatlas.cli", "report", scope, "--format", "json"], cwd=ROOT,
                          env=env, capture_output=True, text=True)
    took = time.perf_counter() - started
    if done.returncode != 0:
        return {"seconds": took, "ok": False, "error": (done.stderr or done.stdout).strip()[-1500:]}
    try:
        data = json.loads(done.stdout)
    except ValueError:
        return {"seconds": took, "ok": False, "error": done.stdout[-500:]}
    first = data[0] if isinstance(data, list) and data else data
    picked = {k: first.get(k) for k in ("papers", "papers_with_country", "us_cn_papers") if isinstance(first, dict)}
    return {"seconds": took, "ok": True, **picked}


def explicit_keys(text: str, scope: str) -> list[str]:
    if text == "months":
        return [f"{scope}-m{m:02d}" for m in range(1, 13)]
    return [k.strip() for k in text.replace(",", " ").split() if k.strip()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--works", type=int, default=200_000, help="generated works in the year (default 200000)")
    parser.add_argument("--year", type=int, default=2020)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--venue", default="airesearch")
    parser.add_argument("--page-size", type=int, default=200, help="works a page the server gives at most")
    parser.add_argument("--ror", type=Path, default=SHARED / "ror" / "ror-partial-v2.zip", help="ROR v2 dump zip")
    parser.add_argument("--pdfs", choices=["off", "cached"], default="off")
    parser.add_argument("--store", choices=["duckdb", "delta"], default="duckdb")
    parser.add_argument("--store-uri", help="the Delta store: a folder or s3://bucket/prefix (default: in the home)")
    parser.add_argument("--moto", action="store_true", help="start a moto S3 server; the store is s3://bench/paperatlas")
    parser.add_argument("--split", type=int, help="PAPERATLAS_OPENALEX_SPLIT: the largest sub-partition, in works")
    parser.add_argument("--rate", type=float, help="PAPERATLAS_SOURCE_RATE: requests a second to one host (default: "
                        "the source's own, 5 for OpenAlex; a local mirror can take more)")
    parser.add_argument("--jobs", type=int, help="PAPERATLAS_RUN_CONCURRENCY: part runs at once (default 1)")
    parser.add_argument("--keys", help="explicit keys to run instead of the venue-year ('months': m01 … m12)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary home")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = parser.parse_args()

    scope = f"{args.venue}-{args.year}"
    keys = explicit_keys(args.keys, scope) if args.keys else [scope]
    work = Path(tempfile.mkdtemp(prefix="paperatlas-openalex-scale-"))
    home = work / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAPERATLAS_", "AWS_", "DAGSTER_"))}
    env.update({"PAPERATLAS_HOME": str(home), "DAGSTER_HOME": str(home / "dagster"),
                "PAPERATLAS_ROR_DUMP": str(args.ror), "PAPERATLAS_PDFS": args.pdfs,
                "PAPERATLAS_PAPERLISTS_BASE": str(work / "no-paperlists"), "PAPERATLAS_STORE": args.store})
    if args.split:
        env["PAPERATLAS_OPENALEX_SPLIT"] = str(args.split)
    if args.jobs:
        env["PAPERATLAS_RUN_CONCURRENCY"] = str(args.jobs)
    if args.rate:
        env["PAPERATLAS_SOURCE_RATE"] = str(args.rate)
    server = moto = None
    try:
        server_started = time.perf_counter()
        server, base = start_server(args.works, args.year, args.seed, args.page_size)
        env["PAPERATLAS_OPENALEX_BASE"] = base
        store_uri = args.store_uri
        if args.moto:
            moto = start_moto(env)
            store_uri = store_uri or "s3://bench/paperatlas"
            env["PAPERATLAS_FILES"] = str(home / "files")
        if store_uri:
            env["PAPERATLAS_STORE_URI"] = store_uri
        if not args.json:
            print(f"{os.cpu_count()} cores; {args.works} works of {args.year} at {base} "
                  f"(started in {time.perf_counter() - server_started:.1f}s); home {home}; keys {' '.join(keys)}",
                  flush=True)
        run = run_pipeline(keys, env, args.pdfs)
        server_cpu = sum(psutil.Process(server.pid).cpu_times()[:2])
        if args.store == "duckdb":
            store_bytes = sum(f.stat().st_size for f in home.glob("paperatlas.duckdb*") if f.is_file())
        elif store_uri and store_uri.startswith("s3://"):
            store_bytes = s3_size(env, store_uri)
        else:
            store_bytes = folder_size(Path(store_uri) if store_uri else home / "delta")
        report = run_report(scope, env) if run["exit"] in (0, 1) else {"ok": False, "error": "the run failed"}
        if not report["ok"] and keys != [scope] and run["exit"] in (0, 1):
            # the scope's report may not see sub-partitions yet: each key's report instead
            parts = [run_report(key, env) for key in keys]
            report = {"seconds": sum(r["seconds"] for r in parts), "ok": all(r["ok"] for r in parts),
                      "scope_error": report.get("error"), "per_key": True,
                      **{k: sum(r.get(k) or 0 for r in parts) for k in ("papers", "papers_with_country", "us_cn_papers")},
                      **({"error": next(r["error"] for r in parts if not r["ok"])} if not all(r["ok"] for r in parts)
                         else {})}
        result = {"works": args.works, "year": args.year, "keys": keys, "store": args.store,
                  "store_uri": store_uri, "split": args.split, "rate": args.rate, "jobs": args.jobs or 1, "cores": os.cpu_count(),
                  "works_read": report.get("papers") if keys != [scope] else args.works,
                  "works_per_s": (report.get("papers") or 0 if keys != [scope] else args.works) / run["wall"], "server_cpu": server_cpu,
                  "store_mb": store_bytes / 2**20, "home_mb": folder_size(home) / 2**20, "report": report, **run}
    finally:
        stop(server)
        stop(moto)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        show(result)
    return 0 if run["exit"] == 0 and report.get("ok") else 1


def show(r: dict) -> None:
    print(f"\n{'works':>9s} {'keys':>5s} {'store':>7s} {'wall s':>8s} {'works/s':>8s} {'CPU s':>8s} "
          f"{'RSS MB':>7s} {'tree MB':>8s} {'store MB':>9s} {'report s':>9s}")
    print(f"{r['works']:9d} {len(r['keys']):5d} {r['store']:>7s} {r['wall']:8.1f} {r['works_per_s']:8.0f} "
          f"{r['cpu']:8.1f} {r['peak_rss_mb']:7.0f} {r['peak_tree_mb']:8.0f} {r['store_mb']:9.1f} "
          f"{r['report'].get('seconds', 0):9.1f}")
    if r["works_read"] != r["works"]:
        print(f"the keys read {r['works_read']} of the {r['works']} works (works/s counts those)")
    print(f"exit {r['exit']}; up to {r['processes']} processes; the server's CPU {r['server_cpu']:.1f}s "
          f"(not in CPU s); home {r['home_mb']:.0f} MB")
    for name, seconds in r["phases"].items():
        print(f"  {name:40s} {seconds:8.1f}s")
    if r["report"].get("scope_error"):
        print(f"report of the venue-year FAILED ({r['report']['scope_error']}); each key's report instead")
    if r["report"].get("ok"):
        print("report: " + ", ".join(f"{k} {v}" for k, v in r["report"].items()
                                     if k not in ("ok", "seconds", "scope_error", "per_key")))
    else:
        print(f"report FAILED: {r['report'].get('error')}")
    if r["exit"] != 0:
        print("run output (last lines):\n  " + "\n  ".join(r["stdout"] + r["stderr"][-15:]))


if __name__ == "__main__":
    sys.exit(main())
