"""The first hour, timed: each "Done when" step of the first-hour issue, as a newcomer without a
network meets it.

Every command runs as its own process (interpreter start included, as a user waits for it), in
a new PAPERATLAS_HOME, with name resolution failing for every host but the loopback's, so the
figures are those of an offline machine wherever the script runs:

1. `paperatlas run neurips-2016` with no settings: seconds to fail, and whether its message
   names PAPERATLAS_ROR_DUMP, PAPERATLAS_PAPERLISTS_BASE and --pdfs;
2. the same with the registry set but no paper lists: seconds, and the hint;
3. the README's offline line: seconds, and the headline `report` prints;
4. `run neurips-2010..2011` then `trend neurips --json`: seconds, and the years;
5. `explain` on one paper of them;
6. `paperatlas ui -p PORT -h 127.0.0.1`: seconds until it serves.

    python benchmarks/first_hour.py [--paperlists DIR] [--ror ZIP]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from shared_data import SHARED  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
# The command line, with every name but the loopback's failing to resolve (socket.gaierror).
OFFLINE = """
import socket, sys
real = socket.getaddrinfo
def offline(host, *args, **kwargs):
    if host in ("127.0.0.1", "localhost", "::1"):
        return real(host, *args, **kwargs)
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
socket.getaddrinfo = offline
from paperatlas.cli import main
sys.exit(main(sys.argv[1:]))
"""
SETTINGS = ("PAPERATLAS_PAPERLISTS_BASE", "PAPERATLAS_ROR_DUMP", "PAPERATLAS_PDFS", "DAGSTER_HOME")


def paperatlas(env: dict, *args: str) -> tuple[float, int, str, str]:
    """Seconds, exit code, stdout and stderr of one `paperatlas` command."""
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", OFFLINE, *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=900)
    return time.monotonic() - started, done.returncode, done.stdout, done.stderr


def _line(text: str, n: int) -> str:
    lines = [line.strip() for line in text.strip().splitlines()]
    return lines[n] if -len(lines) <= n < len(lines) else ""


def fresh(base: Path, name: str, **settings: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS}
    return {**env, "PAPERATLAS_HOME": str(base / name), **settings}


def serves(env: dict) -> float:
    """Seconds until `paperatlas ui -p PORT -h 127.0.0.1` answers on PORT (its group is stopped after)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-c", OFFLINE, "ui", "-p", str(port), "-h", "127.0.0.1"], cwd=ROOT,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        while time.monotonic() - started < 180:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2):
                    return time.monotonic() - started
            except OSError:
                if proc.poll() is not None:
                    break
                time.sleep(0.5)
        return float("nan")
    finally:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(proc.pid, sig)
                proc.wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--paperlists", type=Path, default=SHARED / "paperlists")
    parser.add_argument("--ror", type=Path, default=SHARED / "ror" / "ror-partial-v2.zip")
    args = parser.parse_args()
    if not args.paperlists.is_dir() or not args.ror.is_file():
        print(f"no shared data at {args.paperlists} / {args.ror}", file=sys.stderr)
        return 2
    base = Path(tempfile.mkdtemp(prefix="paperatlas-first-hour-"))
    local = {"PAPERATLAS_PAPERLISTS_BASE": str(args.paperlists.resolve()), "PAPERATLAS_ROR_DUMP": str(args.ror.resolve())}

    took, code, _, err = paperatlas(fresh(base, "bare"), "run", "neurips-2016")
    last = _line(err, -1)
    named = [s for s in ("PAPERATLAS_ROR_DUMP", "PAPERATLAS_PAPERLISTS_BASE", "--pdfs") if s in last]
    print(f"1. run neurips-2016, no settings: exit {code} after {took:.1f} s; its last line names {', '.join(named)}")

    took, code, _, err = paperatlas(fresh(base, "no-lists", PAPERATLAS_ROR_DUMP=local["PAPERATLAS_ROR_DUMP"]),
                                    "run", "neurips-2016")
    failed = next((line for line in err.splitlines() if line.startswith("FAILED neurips-2016")), "")
    print(f"2. registry set, no paper lists: exit {code} after {took:.1f} s; "
          f"hint PAPERATLAS_PAPERLISTS_BASE: {'PAPERATLAS_PAPERLISTS_BASE' in failed}")

    readme = fresh(base, "readme", **local)
    took, code, _, err = paperatlas(readme, "run", "neurips-2016", "--pdfs", "off")
    _, _, out, _ = paperatlas(readme, "report", "neurips-2016")
    print(f"3. README offline line: exit {code} after {took:.1f} s; report: {_line(out, 1) or _line(err, -1)}")

    years = fresh(base, "range", **local)
    took, code, _, err = paperatlas(years, "run", "neurips-2010..2011", "--pdfs", "off")
    _, trend_code, out, trend_err = paperatlas(years, "trend", "neurips", "--json")
    shown = [(r["year"], r["papers"], r["us_cn_papers"]) for r in json.loads(out)] if trend_code == 0 else \
        _line(trend_err, -1)
    print(f"4. run neurips-2010..2011 (new home): exit {code} after {took:.1f} s {_line(err, -1) if code else ''}; "
          f"trend --json (year, papers, US-CN): {shown}")

    took, code, out, err = paperatlas(years, "explain", "neurips-2011", "Infinite", "Latent", "SVM")
    print(f"5. explain neurips-2011 'Infinite Latent SVM': exit {code} after {took:.1f} s; "
          f"{_line(out, 0) or _line(err, -1)}")

    print(f"6. ui -p PORT -h 127.0.0.1 serves after {serves(readme):.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
