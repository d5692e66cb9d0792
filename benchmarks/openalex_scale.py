"""OpenAlex at scale: one year of N generated works through the whole pipeline.

Starts `tests/openalex_server.py --generate N --year Y` in a process of its own (works made on
demand, tests/openalex_generated.py), then runs `paperatlas run airesearch-Y` through Dagster in
a subprocess, offline: a temporary PAPERATLAS_HOME, PAPERATLAS_OPENALEX_BASE=<the server>,
PAPERATLAS_ROR_DUMP (default the shared partial ROR dump), PDFs off. Reports the wall time and
works/s, its phases (the reference data, each key, yearly_aggregates: from the run's own
progress lines; `aggregate_steps`: the yearly step's own seconds from Dagster's event log,
without the launch of its run), CPU seconds (user+sys of the run and every process it started), the peak RSS of
the run process and of its whole process tree (polled), the store's size, and the time of
`paperatlas report airesearch-Y --format json`.

    python benchmarks/openalex_scale.py --works 200000 [--year 2020] [--json]
    python benchmarks/openalex_scale.py --works 200000 --split 50000          # PAPERATLAS_OPENALEX_SPLIT
    python benchmarks/openalex_scale.py --works 200000 --keys months          # airesearch-2020-m01 … m12
    python benchmarks/openalex_scale.py --works 20000 --store delta --moto    # Delta tables on S3 (moto)
    python benchmarks/openalex_scale.py --works 20000 --celery 2 [--moto]   # on 2 Celery workers

`--celery N`: the setup of docs/deployment.md ("A million works a year") on this machine. Redis
and a throwaway PostgreSQL cluster on free 127.0.0.1 ports (benchmarks/services.py; or the ones
PAPERATLAS_TEST_REDIS / PAPERATLAS_TEST_POSTGRES name), a PostgreSQL Dagster instance, the Delta
store, PAPERATLAS_EXECUTOR=celery, N `paperatlas worker`s (`--worker-concurrency` steps each) and
`--jobs` N unless given. The workers are not the run's children: they are watched apart
(`workers_cpu`: their CPU seconds during the run; `workers_peak_mb`), and `total_cpu` /
`total_peak_mb` add the run's. Everything started is stopped by its PID at the end (SIGTERM too).

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
from services import start_postgres, start_redis
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
    """Polls a process and its descendants: the peak RSS of the process, and of the tree summed.
    `others`: more process trees beside it (Celery workers, which are not its children): their
    RSS summed (peak), their CPU seconds since the watch began, and the peak of all at once."""

    def __init__(self, pid: int, every: float = 0.25, others: list[int] = ()):
        self.process = psutil.Process(pid)
        self.others = [psutil.Process(p) for p in others]
        self.peak_self = self.peak_tree = self.peak_procs = 0
        self.peak_others = self.peak_all = self.others_procs = 0
        self.cpu_first: dict[tuple, float] = {}  # (pid, created): CPU seconds when first seen
        self.cpu_last: dict[tuple, float] = {}
        self.started = False
        self.sample_others()  # the CPU the workers had already spent (starting) is not counted
        self.started = True
        self.every = every
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.poll, daemon=True)
        self.thread.start()

    def sample_others(self) -> int:
        """The RSS of the other trees now, summed; notes each process's CPU seconds."""
        procs = [q for p in self.others for q in [p, *self._children(p)]]
        rss = 0
        for proc in procs:
            try:
                with proc.oneshot():
                    rss += proc.memory_info().rss
                    times = proc.cpu_times()
                    key = (proc.pid, proc.create_time())
            except psutil.Error:
                continue
            own = times.user + times.system
            self.cpu_first.setdefault(key, own if not self.started else 0.0)
            self.cpu_last[key] = own
        self.peak_others = max(self.peak_others, rss)
        self.others_procs = max(self.others_procs, len(procs))
        return rss

    @staticmethod
    def _children(process: psutil.Process) -> list[psutil.Process]:
        try:
            return process.children(recursive=True)
        except psutil.Error:
            return []

    @property
    def others_cpu(self) -> float:
        return sum(last - self.cpu_first[key] for key, last in self.cpu_last.items())

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
            others = self.sample_others() if self.others else 0
            self.peak_self, self.peak_tree = max(self.peak_self, own), max(self.peak_tree, tree)
            self.peak_all = max(self.peak_all, tree + others)
            self.peak_procs = max(self.peak_procs, 1 + len(children))
            self.done.wait(self.every)

    def stop(self) -> None:
        self.done.set()
        self.thread.join(timeout=5)
        if self.others:
            self.sample_others()  # their CPU up to the end of the run


def run_pipeline(keys: list[str], env: dict, pdfs: str, workers: list[int] = (), log: Path | None = None) -> dict:
    """`paperatlas run KEYS` in a subprocess: wall time, phases, CPU, peak RSS, its last lines.
    `workers`: the PIDs of Celery workers, watched too (their CPU and RSS reported apart).
    `log`: a file that gets every line the run writes to stderr (each step's "ok" line)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "paperatlas.cli", "run", *keys, "--pdfs", pdfs], cwd=ROOT,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        watch = Watch(process.pid, others=workers)
        marks: list[tuple[float, str]] = []  # (seconds since start, progress line)
        tail: list[str] = []

        def read_stderr() -> None:
            out = log.open("w") if log is not None else None
            for line in process.stderr:
                if out is not None:
                    out.write(line)
                line = line.rstrip("\n")
                if line.startswith("[") and "] " in line:
                    marks.append((time.perf_counter() - started, line))
                tail.append(line)
                del tail[:-40]
            if out is not None:
                out.close()
        reader = threading.Thread(target=read_stderr, daemon=True)
        reader.start()
        out = process.stdout.read()
        code = process.wait()
    finally:
        if process.poll() is None:  # this script was stopped (SIGTERM, Ctrl-C): the run goes too
            process.terminate()
            process.wait()
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
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    figures = {"exit": code, "wall": wall, "cpu": cpu,
               "peak_rss_mb": watch.peak_self / 2**20, "peak_tree_mb": watch.peak_tree / 2**20,
               "processes": watch.peak_procs, "phases": phases, "stdout": out.strip().splitlines()[-3:],
               "stderr": tail}
    if workers:
        figures.update({"workers_cpu": watch.others_cpu, "workers_peak_mb": watch.peak_others / 2**20,
                        "workers_processes": watch.others_procs, "total_cpu": cpu + watch.others_cpu,
                        "total_peak_mb": watch.peak_all / 2**20})
    return figures


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


STEP_SECONDS = r"""
import json
from dagster import RunsFilter
from paperatlas.cli.execution import instance as _instance
from paperatlas.pipeline.config import load_settings
instance = _instance(load_settings())
out = {}
for record in instance.get_run_records(RunsFilter(job_name="aggregates_job"), limit=1):
    for stat in instance.get_run_step_stats(record.dagster_run.run_id):
        if stat.start_time and stat.end_time:
            out[stat.step_key] = round(stat.end_time - stat.start_time, 2)
print(json.dumps(out))
"""


def step_seconds(env: dict) -> dict:
    """Each step of the last aggregates run, from start to success as Dagster's event log has
    them: the step's own time, without the run's launch (a Celery task, a step process)."""
    done = subprocess.run([sys.executable, "-c", STEP_SECONDS], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode:
        return {"error": done.stderr.strip().splitlines()[-1:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_report(scope: str, env: dict) -> dict:
    """`report SCOPE --format json`: its seconds and peak RSS (polled), and three of its numbers."""
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "paperatlas.cli", "report", scope, "--format", "json"], cwd=ROOT,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watch = Watch(process.pid)
    stdout, stderr = process.communicate()
    watch.stop()
    took, peak = time.perf_counter() - started, round(watch.peak_self / 2**20)
    if process.returncode != 0:
        return {"seconds": took, "peak_mb": peak, "ok": False, "error": (stderr or stdout).strip()[-1500:]}
    try:
        data = json.loads(stdout)
    except ValueError:
        return {"seconds": took, "peak_mb": peak, "ok": False, "error": stdout[-500:]}
    first = data[0] if isinstance(data, list) and data else data
    picked = {k: first.get(k) for k in ("papers", "papers_with_country", "us_cn_papers") if isinstance(first, dict)}
    return {"seconds": took, "peak_mb": peak, "ok": True, **picked}


def explicit_keys(text: str, scope: str) -> list[str]:
    if text == "months":
        return [f"{scope}-m{m:02d}" for m in range(1, 13)]
    return [k.strip() for k in text.replace(",", " ").split() if k.strip()]


def stop_workers(workers: list[subprocess.Popen], timeout: float = 30) -> None:
    """SIGTERM each worker's process group (`paperatlas worker` runs `celery`, which forks its pool,
    all in the group), wait until every process of their trees has ended, SIGKILL what is left."""
    procs = []
    for worker in workers:
        try:
            procs += [psutil.Process(worker.pid), *psutil.Process(worker.pid).children(recursive=True)]
        except psutil.Error:
            pass
        try:
            os.killpg(worker.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    _, alive = psutil.wait_procs(procs, timeout=timeout)
    for proc in alive:
        try:
            proc.kill()
        except psutil.Error:
            pass
    for worker in workers:
        worker.wait()


def start_workers(n: int, concurrency: int, env: dict, folder: Path) -> list[subprocess.Popen]:
    """`n` `paperatlas worker --name wI` processes, each in its own process group, its log in
    `folder`; returns once every log says ` ready.` (as tests/test_celery.py waits)."""
    folder.mkdir(parents=True, exist_ok=True)
    workers, logs = [], []
    try:
        for i in range(1, n + 1):
            log = folder / f"w{i}.log"
            logs.append(log)
            workers.append(subprocess.Popen(
                [sys.executable, "-m", "paperatlas.cli", "worker", "--name", f"w{i}", "--concurrency",
                 str(concurrency)], cwd=folder, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
                start_new_session=True))
        deadline = time.monotonic() + 60 + 30 * n
        while not all(log.exists() and " ready." in log.read_text(errors="replace") for log in logs):
            ended = [w for w in workers if w.poll() is not None]
            if ended or time.monotonic() > deadline:
                log = logs[workers.index(ended[0])] if ended else logs[-1]
                raise RuntimeError(f"the Celery workers did not start: {log.name}:\n"
                                   f"{log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.3)
    except BaseException:
        stop_workers(workers)
        raise
    return workers


def celery_setup(args: argparse.Namespace, env: dict, work: Path, stops: list) -> list[subprocess.Popen]:
    """The setup of docs/deployment.md on this machine: Redis (the broker), a PostgreSQL database
    for the Dagster instance (its dagster.yaml in DAGSTER_HOME, the schema made once), and
    `args.celery` workers with `env`. Each thing started is stopped by the functions appended to
    `stops` (in reverse)."""
    redis, stop_redis = start_redis(work)
    stops.append(stop_redis)
    postgres, stop_postgres = start_postgres(work)
    stops.append(stop_postgres)
    env.update({"PAPERATLAS_EXECUTOR": "celery", "PAPERATLAS_CELERY_BROKER": f"{redis}/0"})
    dagster_home = Path(env["DAGSTER_HOME"])
    dagster_home.mkdir(parents=True, exist_ok=True)
    (dagster_home / "dagster.yaml").write_text(
        f"storage:\n  postgres:\n    postgres_url: \"{postgres}\"\n"
        "run_coordinator:\n  module: dagster.core.run_coordinator\n  class: QueuedRunCoordinator\n"
        "telemetry:\n  enabled: false\n")
    migrate = subprocess.run([sys.executable, "-m", "dagster", "instance", "migrate"], env=env, cwd=work,
                             capture_output=True, text=True, timeout=300)
    if migrate.returncode != 0:
        raise RuntimeError(f"dagster instance migrate failed: {migrate.stderr[-2000:]}")
    workers = start_workers(args.celery, args.worker_concurrency, env, work / "workers")
    stops.append(lambda: stop_workers(workers))
    return workers


def store_size(store: str, store_uri: str | None, env: dict, home: Path) -> int:
    if store == "duckdb":
        return sum(f.stat().st_size for f in home.glob("paperatlas.duckdb*") if f.is_file())
    if store_uri and store_uri.startswith("s3://"):
        return s3_size(env, store_uri)
    return folder_size(Path(store_uri) if store_uri else home / "delta")


def report_of(scope: str, keys: list[str], env: dict, run: dict) -> dict:
    """`paperatlas report` of the venue-year; of each key, summed, when the venue-year's fails."""
    report = run_report(scope, env) if run["exit"] in (0, 1) else {"ok": False, "error": "the run failed"}
    if not report["ok"] and keys != [scope] and run["exit"] in (0, 1):
        # the scope's report may not see sub-partitions yet: each key's report instead
        parts = [run_report(key, env) for key in keys]
        report = {"seconds": sum(r["seconds"] for r in parts), "ok": all(r["ok"] for r in parts),
                  "scope_error": report.get("error"), "per_key": True,
                  **{k: sum(r.get(k) or 0 for r in parts) for k in ("papers", "papers_with_country", "us_cn_papers")},
                  **({"error": next(r["error"] for r in parts if not r["ok"])} if not all(r["ok"] for r in parts)
                     else {})}
    return report


def parse_args() -> argparse.Namespace:
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
    parser.add_argument("--jobs", type=int, help="PAPERATLAS_RUN_CONCURRENCY: part runs at once (default 1; "
                        "with --celery N, N)")
    parser.add_argument("--celery", type=int, default=0, metavar="N",
                        help="run on N Celery workers: Redis, a PostgreSQL Dagster instance, the Delta store "
                        "(PAPERATLAS_TEST_REDIS / PAPERATLAS_TEST_POSTGRES name running services to use)")
    parser.add_argument("--worker-concurrency", type=int, default=1, metavar="C",
                        help="with --celery: steps at once on each worker (default 1)")
    parser.add_argument("--keys", help="explicit keys to run instead of the venue-year ('months': m01 … m12)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary home")
    parser.add_argument("--log", type=Path, help="write every line the run prints to stderr to this file")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = parser.parse_args()
    if args.celery < 0 or args.worker_concurrency < 1:
        parser.error("--celery N needs N >= 0 and --worker-concurrency C >= 1")
    if args.celery:
        args.store = "delta"  # the workers share the store: Delta (a folder in the home unless --moto / --store-uri)
    return args


def terminated(signum: int, frame) -> None:
    """SIGTERM ends the script as Ctrl-C does: through the `finally` that stops what it started."""
    raise SystemExit(128 + signum)


def main() -> int:
    args = parse_args()
    signal.signal(signal.SIGTERM, terminated)
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
    if args.jobs or args.celery:
        env["PAPERATLAS_RUN_CONCURRENCY"] = str(args.jobs or args.celery)
    if args.rate:
        env["PAPERATLAS_SOURCE_RATE"] = str(args.rate)
    server = moto = None
    stops: list = []  # stop the Celery workers, PostgreSQL and Redis: in reverse
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
        workers = celery_setup(args, env, work, stops) if args.celery else []
        if workers and not args.json:
            print(f"{args.celery} Celery workers (concurrency {args.worker_concurrency}) on "
                  f"{env['PAPERATLAS_CELERY_BROKER']}", flush=True)
        run = run_pipeline(keys, env, args.pdfs, [w.pid for w in workers], args.log)
        server_cpu = sum(psutil.Process(server.pid).cpu_times()[:2])
        store_bytes = store_size(args.store, store_uri, env, home)
        run["aggregate_steps"] = step_seconds(env)
        report = report_of(scope, keys, env, run)
        result = {"works": args.works, "year": args.year, "keys": keys, "store": args.store,
                  "store_uri": store_uri, "split": args.split, "rate": args.rate,
                  "jobs": args.jobs or args.celery or 1, "celery": args.celery,
                  **({"worker_concurrency": args.worker_concurrency} if args.celery else {}),
                  "cores": os.cpu_count(), "works_read": report.get("papers") if keys != [scope] else args.works,
                  "works_per_s": (report.get("papers") or 0 if keys != [scope] else args.works) / run["wall"],
                  "server_cpu": server_cpu, "store_mb": store_bytes / 2**20, "home_mb": folder_size(home) / 2**20,
                  "report": report, **run}
    finally:
        for stop_it in reversed(stops):
            stop_it()
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
    print(f"\n{'works':>9s} {'keys':>5s} {'store':>7s} {'celery':>6s} {'wall s':>8s} {'works/s':>8s} {'CPU s':>8s} "
          f"{'RSS MB':>7s} {'tree MB':>8s} {'store MB':>9s} {'report s':>9s}")
    print(f"{r['works']:9d} {len(r['keys']):5d} {r['store']:>7s} {r['celery']:6d} {r['wall']:8.1f} "
          f"{r['works_per_s']:8.0f} {r['cpu']:8.1f} {r['peak_rss_mb']:7.0f} {r['peak_tree_mb']:8.0f} "
          f"{r['store_mb']:9.1f} {r['report'].get('seconds', 0):9.1f}")
    if r["celery"]:
        print(f"{r['celery']} Celery workers (concurrency {r['worker_concurrency']}, up to {r['workers_processes']} "
              f"processes; not in CPU s / tree MB): CPU {r['workers_cpu']:.1f}s, peak {r['workers_peak_mb']:.0f} MB; "
              f"run and workers: CPU {r['total_cpu']:.1f}s, peak {r['total_peak_mb']:.0f} MB; --jobs {r['jobs']}")
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
