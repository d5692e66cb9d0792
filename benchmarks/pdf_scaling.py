"""Do the full-text scan and page 1 reading scale with workers, and what does the scan cost
per page over bare PyMuPDF?

    python benchmarks/pdf_scaling.py [--rounds 2] [--large-rounds 8] [--workers 2] [--repeats 3] [--passes 7]

On the real PDFs of the shared data (`real-pdfs/`, every page):

- **CPU per page, once started.** One process loads PyMuPDF and the catalogue, reads every
  PDF once to warm up, then alternates a pass of bare PyMuPDF (open each PDF, `page.get_text()`
  on every page) with a pass of the full-text scan (`pipeline.mentions.runner.scan_task`: the
  text, its sections and every catalogue term; no text cache), `--passes` times each. The
  figure is the scan's least CPU over bare's least CPU. Passes alternate so that whatever
  slows the machine for a while slows both.
- **CPU per page, start-up included.** bare PyMuPDF and the scan each in a fresh process:
  imports, the catalogue and the pool are counted.
- **Speed-up with workers.** The scan (`scan_paths`) and page 1 reading
  (`pipeline.pdfs.steps.read_first_pages`, the layout reader behind `pdf_affiliations`), each
  with 1 worker and with N, in fresh processes, on the PDFs read `--rounds` times and
  `--large-rounds` times (a venue-year's worth: a spawned worker's start-up of about 0.25 s,
  imports mostly, weighs on a short batch and not on a long one).

The command line's pool forks its workers; a Dagster step, which has threads, spawns them
(and forkserver once deltalake is loaded): the N-worker figures are given both ways. Each
fresh-process figure is the best of --repeats by wall time.
Targets (issue 21): N=2 workers at least 1.7x one worker; scan CPU per page within 1.2x bare.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
from pathlib import Path

from shared_data import SHARED

ROOT = Path(__file__).resolve().parent.parent
REAL = SHARED / "real-pdfs"

# Bare PyMuPDF: every page's text, nothing else (pymupdf is imported by the script it runs in).
BARE = r"""
def bare(paths):
    pages = 0
    for p in paths:
        with pymupdf.open(p) as doc:
            for page in doc:
                page.get_text()
                pages += 1
    return pages
"""

CHILD = BARE + r"""
import json, os, resource, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
mode, workers, rounds = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
if sys.argv[6] == "threaded":  # as in a Dagster step: another thread, so the pool spawns its workers
    import threading
    threading.Thread(target=threading.Event().wait, daemon=True).start()
paths = sorted(str(p) for p in Path(sys.argv[5]).glob("*.pdf")) * rounds

def cpu():
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime

if mode == "bare":
    import pymupdf
    pymupdf.TOOLS.unset_quad_corrections(True)  # as paperatlas reads (pipeline.pdfs.extract.load_pymupdf)
    pymupdf.TOOLS.set_aa_level(0)
    c0, t0 = cpu(), time.perf_counter()
    pages = bare(paths)
elif mode == "scan":
    from paperatlas.pipeline.mentions.runner import scan_paths
    c0, t0 = cpu(), time.perf_counter()
    pages = sum(r.pages for r in scan_paths(paths, processes=workers))
elif mode == "page1":
    from paperatlas.pipeline.pdfs.steps import read_first_pages
    c0, t0 = cpu(), time.perf_counter()
    pages = len(list(read_first_pages(paths, workers)))
print(json.dumps({"pages": pages, "wall": time.perf_counter() - t0, "cpu": cpu() - c0}))
"""

STEADY = BARE + r"""
import json, resource, sys
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from paperatlas.pipeline.mentions.catalogue import load_catalogue
from paperatlas.pipeline.mentions.runner import Task, scan_task
from paperatlas.pipeline.pdfs.extract import load_pymupdf
pymupdf, catalogue = load_pymupdf(), load_catalogue(None)
paths = sorted(str(p) for p in Path(sys.argv[2]).glob("*.pdf"))
passes = int(sys.argv[3])

def cpu():
    me = resource.getrusage(resource.RUSAGE_SELF)
    return me.ru_utime + me.ru_stime

def scan():
    return sum(scan_task(Task(p), catalogue).pages for p in paths)

out = {"bare": [], "scan": []}
bare(paths), scan()  # warm up
for _ in range(passes):
    for name, work in (("bare", lambda: bare(paths)), ("scan", scan)):
        c0 = cpu()
        out["pages"] = work()
        out[name].append(cpu() - c0)
print(json.dumps(out))
"""


def measure(mode: str, workers: int, rounds: int, repeats: int, threaded: bool = False) -> dict:
    best = None
    for _ in range(repeats):
        done = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), mode, str(workers), str(rounds), str(REAL),
                               "threaded" if threaded else "plain"],
                              capture_output=True, text=True, cwd=ROOT)
        if done.returncode != 0:
            raise SystemExit(f"{mode} x{workers} failed:\n{done.stderr[-3000:]}")
        figure = json.loads(done.stdout.strip().splitlines()[-1])
        if best is None or figure["wall"] < best["wall"]:
            best = figure
    return best


def speedups(mode: str, label: str, unit: str, rounds: int, args) -> dict:
    one = measure(mode, 1, rounds, args.repeats)
    forked = measure(mode, args.workers, rounds, args.repeats)
    spawned = measure(mode, args.workers, rounds, args.repeats, threaded=True)
    print(f"{label}, {one['pages']} {unit}: 1 worker {one['wall']:.2f}s ({one['pages'] / one['wall']:.0f} {unit}/s); "
          f"{args.workers} forked {forked['wall']:.2f}s = {one['wall'] / forked['wall']:.2f}x; "
          f"{args.workers} spawned (as in a Dagster step) {spawned['wall']:.2f}s = {one['wall'] / spawned['wall']:.2f}x"
          f"  [CPU {one['cpu']:.2f} / {forked['cpu']:.2f} / {spawned['cpu']:.2f}s]", flush=True)
    return one


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=2, help="each PDF read this many times per measurement")
    parser.add_argument("--large-rounds", type=int, default=8, help="the same, for the long batch (0: skip it)")
    parser.add_argument("--repeats", type=int, default=3, help="best of this many fresh-process measurements")
    parser.add_argument("--passes", type=int, default=7, help="alternating passes for the CPU per page once started")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if not REAL.is_dir():
        print(f"no real PDFs at {REAL} (set PAPERATLAS_SHARED)")
        return 1
    print(f"{len(list(REAL.glob('*.pdf')))} real PDFs, {os.cpu_count()} cores")
    done = subprocess.run([sys.executable, "-c", STEADY, str(ROOT), str(REAL), str(args.passes)],
                          capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"steady state failed:\n{done.stderr[-3000:]}")
    steady = json.loads(done.stdout.strip().splitlines()[-1])
    bare_ms, scan_ms = (1000 * min(steady[k]) / steady["pages"] for k in ("bare", "scan"))
    ratios = sorted(s / b for b, s in zip(steady["bare"], steady["scan"]))
    print(f"CPU per page once started ({steady['pages']} pages, {args.passes} alternating passes): bare "
          f"{bare_ms:.2f} ms, scan {scan_ms:.2f} ms = {scan_ms / bare_ms:.2f}x bare (pass by pass "
          f"{ratios[0]:.2f}-{ratios[-1]:.2f}x, median {ratios[len(ratios) // 2]:.2f}x)", flush=True)
    bare = measure("bare", 1, args.rounds, args.repeats)
    one = speedups("scan", "full-text scan", "pages", args.rounds, args)
    print(f"CPU per page with start-up, {args.rounds} rounds: bare {1000 * bare['cpu'] / bare['pages']:.2f} ms, "
          f"scan (1 worker) {1000 * one['cpu'] / one['pages']:.2f} ms = {one['cpu'] / bare['cpu']:.2f}x bare")
    speedups("page1", "page 1", "PDFs", args.rounds, args)
    if args.large_rounds:
        speedups("scan", "full-text scan", "pages", args.large_rounds, args)
        speedups("page1", "page 1", "PDFs", args.large_rounds, args)
    print(f"(rusage max RSS of this script: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
