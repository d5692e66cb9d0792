"""Ctrl-C as docs/reliability.md says: `paperatlas: interrupted; what was written is kept ...`,
one line, exit code 130, nothing blamed, no process left behind, and a re-run that gives the
numbers an uninterrupted run gives.

Each test starts the real command in a session of its own, as a terminal runs a job, and holds
it in one phase with a server on 127.0.0.1 that stalls the download the phase waits for: the
ROR dump (the reference load), a paper list (a venue-year's steps), two paper lists (`run --jobs
2`). Then it sends SIGINT to the whole process group, as the terminal's Ctrl-C does, or to the
command alone, as `kill -INT` does.
"""

from __future__ import annotations

import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
from conftest import PAPERLISTS, ROOT, serve

from paperatlas import cli

INTERRUPTED = "paperatlas: interrupted; what was written is kept"
KEYS = ("neurips-2016", "neurips-2020")
NIPS = {"neurips-2016": "/nips/nips2016.json", "neurips-2020": "/nips/nips2020.json"}


class StallingServer:
    """Serves the fixture paper lists and the ROR dump on 127.0.0.1. A path in `stalled` holds
    its answer until `release()`, and `hits` counts the requests each path got."""

    def __init__(self, files: dict[str, bytes]):
        self.files, self.stalled, self.hits = files, set(), {}
        self.go = threading.Event()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the http.server name
                body = server.files.get(self.path)
                server.hits[self.path] = server.hits.get(self.path, 0) + 1
                if body is None:
                    self.send_error(404)
                    return
                if self.path in server.stalled:
                    server.go.wait(300)
                try:
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:  # the client went away (it was interrupted)
                    pass

            def log_message(self, *args):
                pass

        self.httpd = serve(Handler)
        self.url = self.httpd.url

    def stall(self, *paths: str) -> None:
        self.go.clear()
        self.stalled = set(paths)

    def release(self) -> None:
        self.stalled = set()
        self.go.set()

    def close(self) -> None:
        self.release()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def server(ror_dump):
    files = {path: (PAPERLISTS / path.lstrip("/")).read_bytes() for path in NIPS.values()}
    files["/ror.zip"] = ror_dump.read_bytes()
    s = StallingServer(files)
    yield s
    s.close()


def environment(server: StallingServer, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAPERATLAS_", "DAGSTER_"))}
    return {**env, "PAPERATLAS_HOME": str(home), "DAGSTER_HOME": str(home / "dagster"),
            "PAPERATLAS_PAPERLISTS_BASE": server.url, "PAPERATLAS_ROR_DUMP": f"{server.url}/ror.zip",
            "PAPERATLAS_PDFS": "off"}


def in_process(env: dict[str, str], capsys, *argv: str) -> tuple[int, str, str]:
    """`paperatlas ARGV` in this process with `env`'s settings: (exit code, stdout, stderr)."""
    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():
            if name.startswith(("PAPERATLAS_", "DAGSTER_")):
                mp.setenv(name, value)
        capsys.readouterr()
        code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def numbers(env: dict[str, str], key: str, capsys) -> dict:
    """`paperatlas report KEY --json` without what names the inputs (the server's port) or
    depends on the other venue-years in the store (the trend)."""
    code, out, err = in_process(env, capsys, "report", key, "--json")
    assert code == 0, err
    return {k: v for k, v in json.loads(out).items()
            if k not in ("inputs", "sources", "inputs_in_words", "trend_us_cn")}


def errors(env: dict[str, str], capsys, *key: str) -> str:
    """`paperatlas errors [KEY]`: the rows of ingest_errors."""
    code, out, err = in_process(env, capsys, "errors", *key)
    assert code == 0, err
    return out


@pytest.fixture(scope="module")
def uninterrupted(server, tmp_path_factory):
    """The numbers of each venue-year from a run nobody interrupted."""
    env = environment(server, tmp_path_factory.mktemp("uninterrupted") / "home")
    done = subprocess.run([sys.executable, "-m", "paperatlas.cli", "run", *KEYS], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return env


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _alive(procs: list[psutil.Process], names: dict[int, str], grace: float = 3.0) -> list[str]:
    """The processes of `procs` still running `grace` seconds after the command ended (a
    process on its way out, such as multiprocessing's resource tracker, gets that long)."""
    deadline = time.monotonic() + grace
    while True:
        left = []
        for proc in procs:
            try:
                if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                    left.append(f"{proc.pid} {names.get(proc.pid, '?')}")
            except psutil.NoSuchProcess:
                pass
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


def interrupt(server: StallingServer, env: dict[str, str], argv: list[str], stalled: list[str], marker: str,
              times: int = 1, group: bool = True) -> tuple[int, list[str], list[str]]:
    """Start `paperatlas ARGV` in a session of its own with `stalled` held, wait until its
    stderr shows `marker` `times` and each stalled path was asked for, then send SIGINT (to
    the group, or to the command alone). Returns the exit code, the stderr lines that came
    after the signal, and the command lines of the processes it had started that are left."""
    server.stall(*stalled)
    proc = subprocess.Popen([sys.executable, "-m", "paperatlas.cli", *argv], env=env, cwd=ROOT, text=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    watchdog = threading.Timer(300, lambda: os.killpg(proc.pid, signal.SIGKILL))
    watchdog.start()
    try:
        before: list[str] = []
        for line in proc.stderr:
            before.append(line)
            if sum(marker in b for b in before) >= times:
                break
        assert sum(marker in b for b in before) >= times, "".join(before)[-3000:]
        deadline = time.monotonic() + 60
        while not all(server.hits.get(p) for p in stalled) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert all(server.hits.get(p) for p in stalled), (server.hits, "".join(before)[-3000:])
        started = _descendants(proc.pid)
        names = {}
        for p in started:
            try:
                names[p.pid] = " ".join(p.cmdline())
            except psutil.NoSuchProcess:
                pass
        assert any("watch_orphans" in name for name in names.values()), "no step was running"
        (os.killpg if group else os.kill)(proc.pid, signal.SIGINT)
        try:
            _, after = proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail("the command did not stop within 120 s of SIGINT")
        code = proc.returncode
    finally:
        watchdog.cancel()
        server.release()
    return code, [line for line in after.splitlines() if line.strip()], _alive(started, names)


def assert_one_line(code: int, after: list[str], left: list[str], env, capsys) -> None:
    assert code == 130, "\n".join(after)
    assert len(after) == 1 and after[0].startswith(INTERRUPTED), "\n".join(after)
    for word in ("Traceback", "KeyboardInterrupt", "FAILED", "ROR_DUMP"):
        assert word not in "\n".join(after)
    assert not left, left
    assert errors(env, capsys) == "", "an ingest_errors row blames an input"


def assert_rerun_gives_the_same_numbers(env, uninterrupted, capsys, *argv: str) -> None:
    code, _, err = in_process(env, capsys, "run", *argv)
    assert code == 0, err
    assert "interrupted" not in err
    for key in (a for a in argv if a in KEYS):
        assert numbers(env, key, capsys) == numbers(uninterrupted, key, capsys), key
        assert errors(env, capsys, key) == errors(uninterrupted, capsys, key)


@pytest.mark.parametrize("keys", [KEYS[:1], (*KEYS, "--jobs", "2")], ids=["one", "jobs-2"])
def test_ctrl_c_during_the_reference_load_is_one_line_and_exit_130(server, uninterrupted, tmp_path, capsys, keys):
    """With --jobs 2 the pool's processes are starting (warm_up) while this one loads the registry."""
    env = environment(server, tmp_path / "home")
    code, after, left = interrupt(server, env, ["run", *keys], ["/ror.zip"], "  > ror_registry")
    assert_one_line(code, after, left, env, capsys)
    assert_rerun_gives_the_same_numbers(env, uninterrupted, capsys, *keys)


def test_ctrl_c_during_a_venue_year_is_one_line_and_exit_130(server, uninterrupted, tmp_path, capsys):
    env = environment(server, tmp_path / "home")
    code, after, left = interrupt(server, env, ["run", KEYS[0]], [NIPS[KEYS[0]]], "reading paperlists")
    assert_one_line(code, after, left, env, capsys)
    assert_rerun_gives_the_same_numbers(env, uninterrupted, capsys, KEYS[0])


@pytest.mark.parametrize("group", [True, False], ids=["ctrl-c", "kill-int"])
def test_ctrl_c_during_run_jobs_2_is_one_line_and_exit_130(server, uninterrupted, tmp_path, capsys, group):
    """Two venue-years at once, each in a process of the pool: the terminal's Ctrl-C reaches
    every process; `kill -INT` reaches the command alone, which passes it on."""
    env = environment(server, tmp_path / "home")
    code, after, left = interrupt(server, env, ["run", *KEYS, "--jobs", "2"], list(NIPS.values()),
                                  "reading paperlists", times=2, group=group)
    assert_one_line(code, after, left, env, capsys)
    assert_rerun_gives_the_same_numbers(env, uninterrupted, capsys, *KEYS)
