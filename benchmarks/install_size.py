"""What a newcomer installs: the core (`pip install -e .`) against the extras (`.[dev]` by default),
each in a fresh virtual environment.

    python benchmarks/install_size.py [--extras "" dev scale] [--runs 2] [--python python3]
                                      [--cache] [--no-check] [--json]

For each run and each extra, in that order: a new venv in a temporary folder (`python -m venv`),
its pip upgraded as `.ci/run` does (not timed), then `pip install -e ROOT[EXTRA]` timed by the
wall clock. Then, untimed:

- `packages`: the distributions the install added to the bare venv (`pip list`, paperatlas
  itself included; pip and setuptools, which the venv had already, not counted);
- `site_mb`: the size of the venv's site-packages;
- `imports` (unless `--no-check`): every module of the installed package imported in that venv
  (`pkgutil.walk_packages` over `paperatlas`): `ok`, or the first that fails. On the core
  install this is the check that nothing outside the core is imported where it is not needed;
- `help` (core only, unless `--no-check`): `paperatlas --help` exits 0;
- `load`: the 1-minute load average as the install started (the machine may be shared).

pip's cache is off (`--no-cache-dir`) unless `--cache`, so the runs do not feed each other; pip
still reads whatever its configuration names (an index, a local folder of wheels), and the
figures depend on that and on the machine's load: say both when quoting them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMPORT_ALL = """
import importlib, pkgutil, sys
import paperatlas
for info in pkgutil.walk_packages(paperatlas.__path__, "paperatlas."):
    try:
        importlib.import_module(info.name)
    except Exception as exc:
        print(f"{info.name}: {type(exc).__name__}: {exc}")
        sys.exit(1)
print("ok")
"""


def folder_mb(path: Path) -> float:
    total = 0
    for dirpath, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_size
            except OSError:
                pass
    return total / 1e6


def installed(python: Path) -> set[str]:
    out = subprocess.run([str(python), "-m", "pip", "list", "--format", "json"], check=True,
                         capture_output=True, text=True).stdout
    return {row["name"].lower() for row in json.loads(out)}


def site_packages(python: Path) -> Path:
    out = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                         check=True, capture_output=True, text=True).stdout
    return Path(out.strip())


def measure(extra: str, base_python: str, cache: bool, check: bool, workdir: Path) -> dict:
    venv = workdir / f"venv-{extra or 'core'}"
    subprocess.run([base_python, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    quiet = ["--quiet", "--disable-pip-version-check"] + ([] if cache else ["--no-cache-dir"])
    subprocess.run([str(python), "-m", "pip", "install", *quiet, "--upgrade", "pip"], check=True)
    before = installed(python)
    target = f"{ROOT}[{extra}]" if extra else str(ROOT)
    load = round(os.getloadavg()[0], 1)  # the machine's load as the install starts
    start = time.perf_counter()
    done = subprocess.run([str(python), "-m", "pip", "install", *quiet, "-e", target], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"pip install -e {target} failed:\n{done.stderr[-3000:]}")
    added = installed(python) - before
    row = {"install": f"pip install -e {'.' if not extra else f'.[{extra}]'}", "seconds": round(seconds, 1),
           "packages": len(added), "load": load, "site_mb": round(folder_mb(site_packages(python))),
           "pip": subprocess.run([str(python), "-m", "pip", "--version"], capture_output=True,
                                 text=True).stdout.split()[1]}
    if check:
        imports = subprocess.run([str(python), "-c", IMPORT_ALL], capture_output=True, text=True, cwd=workdir,
                                 env={**os.environ, "PAPERATLAS_HOME": str(workdir / "home")})
        row["imports"] = (imports.stdout.strip().splitlines() or [imports.stderr.strip()[-300:]])[-1]
        if not extra:
            helped = subprocess.run([str(venv / "bin" / "paperatlas"), "--help"], capture_output=True, text=True,
                                    env={**os.environ, "PAPERATLAS_HOME": str(workdir / "home")})
            row["help"] = "ok" if helped.returncode == 0 else f"exit {helped.returncode}"
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--extras", nargs="+", default=["", "dev"],
                        help='the installs to measure, in order: "" is the core, else an extra (default: "" dev)')
    parser.add_argument("--runs", type=int, default=2, help="times each install is measured (default 2)")
    parser.add_argument("--python", default=sys.executable, help="the Python that makes the venvs")
    parser.add_argument("--cache", action="store_true", help="let pip use its cache (default: --no-cache-dir)")
    parser.add_argument("--no-check", action="store_true", help="skip the import and --help checks")
    parser.add_argument("--json", action="store_true", help="one JSON object instead of the table")
    args = parser.parse_args(argv)

    rows = []
    for run in range(1, args.runs + 1):
        for extra in args.extras:
            with tempfile.TemporaryDirectory(prefix="paperatlas-install-") as tmp:
                row = {"run": run, **measure(extra, args.python, args.cache, not args.no_check, Path(tmp))}
            rows.append(row)
            if not args.json:
                print(f"run {run}  {row['install']:<26} {row['packages']:>4} packages  {row['seconds']:>6.1f} s  "
                      f"{row['site_mb']:>5} MB  imports {row.get('imports', '-')}"
                      + (f"  --help {row['help']}" if "help" in row else "") + f"  load {row['load']}", flush=True)
    if args.json:
        print(json.dumps({"date": time.strftime("%Y-%m-%d"), "python": sys.version.split()[0],
                          "cpus": os.cpu_count(), "cache": args.cache, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
