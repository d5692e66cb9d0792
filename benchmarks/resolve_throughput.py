"""Throughput and memory of `paperatlas resolve` on 100,000 affiliation lines, registry load
included, in one process (the command itself, started as a subprocess and timed from outside).

Two inputs are built from ../shared/data/paperlists (never copied into the project):
- `papers`: the author-affiliation strings of every paperlists file, in order, repeated until
  100,000 lines: what a real run sees (the same institutions recur).
- `distinct`: 100,000 different strings (each real affiliation prefixed by a distinct lab
  name), so no answer comes from the cache: the worst case.

Each input runs twice: `cold` compiles the ROR index from the dump (first run on a machine),
`warm` loads the cached index (every later run).

    python benchmarks/resolve_throughput.py [--ror PATH] [--lines 100000]
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


def affiliation_rows(folder: Path) -> list[dict]:
    rows = []
    for path in sorted(folder.glob("*.json")):
        for rec in json.loads(path.read_text()):
            if not isinstance(rec, dict):
                continue
            affs = str(rec.get("aff") or "").split(";")
            domains = str(rec.get("aff_domain") or "").split(";")
            for i, aff in enumerate(affs):
                for part in aff.split("+"):
                    if part.strip():
                        dom = domains[i].strip() if i < len(domains) and domains[i].strip() else None
                        rows.append({"affiliation": part.strip(), "email_domain": dom})
    return rows


def run(cmd: list[str], env: dict, lines: int) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    took = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"paperatlas resolve failed: {proc.stderr[-2000:]}")
    return {"seconds": round(took, 2), "lines_per_second": round(lines / took),
            "peak_rss_mb": round(max(after.ru_maxrss, before.ru_maxrss) / 1024),
            "cpu_seconds": round((after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime), 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ror", type=Path, default=SHARED / "ror" / "ror-partial-v2.zip")
    parser.add_argument("--paperlists", type=Path, default=SHARED / "paperlists")
    parser.add_argument("--lines", type=int, default=100_000)
    args = parser.parse_args()
    if not args.paperlists.exists() or not args.ror.exists():
        print("shared data not found", file=sys.stderr)
        return 2
    base = affiliation_rows(args.paperlists)
    work = Path(tempfile.mkdtemp(prefix="pa-throughput-"))
    inputs = {
        "papers": [base[i % len(base)] for i in range(args.lines)],
        "distinct": [{"affiliation": f"Lab {i} of {base[i % len(base)]['affiliation']}",
                      "email_domain": base[i % len(base)]["email_domain"]} for i in range(args.lines)],
    }
    exe = shutil.which("paperatlas") or str(Path(sys.executable).with_name("paperatlas"))
    print(f"{len(base):,} real author-affiliation strings, {len({(r['affiliation'], r['email_domain']) for r in base}):,} distinct")
    results = {}
    for name, rows in inputs.items():
        src = work / f"{name}.jsonl"
        src.write_text("".join(json.dumps(r) + "\n" for r in rows))
        distinct = len({(r["affiliation"], r["email_domain"]) for r in rows})
        for phase in ("cold", "warm"):
            env = dict(os.environ, PAPERATLAS_HOME=str(work / f"home-{name}"))
            if phase == "cold":
                shutil.rmtree(work / f"home-{name}", ignore_errors=True)
            cmd = [exe, "resolve", "--ror", str(args.ror), "--input", str(src), "--output", str(work / "out.jsonl")]
            figures = run(cmd, env, len(rows))
            out = (work / "out.jsonl").read_text().splitlines()
            assert len(out) == len(rows), "one output line per input line"
            resolved = sum(1 for line in out if json.loads(line)["country"])
            results[(name, phase)] = figures
            print(f"{name:9s} {phase}: {len(rows):,} lines ({distinct:,} distinct) in {figures['seconds']}s = "
                  f"{figures['lines_per_second']:,} lines/s; peak RSS {figures['peak_rss_mb']} MB; "
                  f"resolved {resolved / len(rows):.1%}")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
