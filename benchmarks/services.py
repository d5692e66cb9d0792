"""Redis and PostgreSQL on 127.0.0.1 for the benchmarks that run on Celery workers
(benchmarks/openalex_scale.py --celery), started the way .ci/run starts them for the tests:
each in its own process group on a free port, stopped by its PID. PAPERATLAS_TEST_REDIS and
PAPERATLAS_TEST_POSTGRES (tests/conftest.py) name running ones to use instead.

    redis_url, stop_redis = start_redis(work)
    postgres_url, stop_postgres = start_postgres(work)    # a fresh database, for a Dagster instance
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from moto_s3 import free_port

REDIS_SERVER = "/usr/bin/redis-server"
PG_BINS = ("/usr/local/bin", *sorted(map(str, Path("/usr/lib/postgresql").glob("*/bin")), reverse=True))


def wait_port(port: int, what: str, process: subprocess.Popen | None = None, timeout: float = 60,
              log: Path | None = None) -> None:
    """Wait until 127.0.0.1:`port` takes connections; fail if `process` ends first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            if process is not None and process.poll() is not None:
                break
            time.sleep(0.2)
    tail = log.read_text(errors="replace")[-1500:] if log and log.exists() else ""
    raise RuntimeError(f"{what} did not start on 127.0.0.1:{port}\n{tail}")


def stop_process(process: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
    """Send `sig` to the process `process` started (by its PID), then SIGKILL its process group
    if it has not ended after `timeout` seconds."""
    if process.poll() is not None:
        return
    try:
        os.kill(process.pid, sig)
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()
    except ProcessLookupError:
        pass


def start_redis(work: Path) -> tuple[str, Callable[[], None]]:
    """(redis://127.0.0.1:PORT, a function that stops it): PAPERATLAS_TEST_REDIS when set, else a
    redis-server of our own, without persistence, its log in `work`."""
    named = os.environ.get("PAPERATLAS_TEST_REDIS")
    if named:
        return named.rstrip("/"), lambda: None
    port = free_port()
    log = work / "redis.log"
    process = subprocess.Popen([REDIS_SERVER, "--bind", "127.0.0.1", "--port", str(port), "--save", "",
                                "--appendonly", "no"], stdout=log.open("w"), stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        wait_port(port, "redis-server", process, log=log)
    except BaseException:
        stop_process(process)
        raise
    return f"redis://127.0.0.1:{port}", lambda: stop_process(process)


def _pg_bin(name: str) -> str:
    for folder in PG_BINS:
        if os.access(Path(folder) / name, os.X_OK):
            return str(Path(folder) / name)
    raise RuntimeError(f"no PostgreSQL {name} in {', '.join(PG_BINS)}")


def _pg_user() -> str | None:
    """PostgreSQL refuses to run as root: as root, the cluster belongs to the postgres user."""
    if os.geteuid() != 0:
        return None
    import pwd

    try:
        return pwd.getpwnam("postgres").pw_name
    except KeyError:
        raise RuntimeError("running as root and there is no postgres user to run PostgreSQL as") from None


def _start_cluster(work: Path) -> tuple[str, Callable[[], None]]:
    """A throwaway cluster in `work`/pg (initdb, trust, user postgres); `postgres` itself runs in
    the foreground of its own process group, so that it is stopped by its PID."""
    user = _pg_user()
    data = work / "pg"
    data.mkdir()
    if user:
        os.chmod(work, 0o711)  # the postgres user reaches its folder through the (private) temp folder
        import shutil

        shutil.chown(data, user)
    run_as = {"user": user} if user else {}
    env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
    init = subprocess.run([_pg_bin("initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-N"], env=env,
                          capture_output=True, text=True, **run_as)
    if init.returncode != 0:
        raise RuntimeError(f"initdb failed: {(init.stderr or init.stdout)[-1500:]}")
    port = free_port()
    log = work / "postgres.log"
    process = subprocess.Popen([_pg_bin("postgres"), "-D", str(data), "-h", "127.0.0.1", "-p", str(port),
                                "-k", str(data)], env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
                               start_new_session=True, **run_as)
    # SIGINT: PostgreSQL's fast shutdown (ends the sessions, stops its own children)
    stop = lambda: stop_process(process, signal.SIGINT)  # noqa: E731
    try:
        wait_port(port, "PostgreSQL", process, log=log)
    except BaseException:
        stop()
        raise
    return f"postgresql+psycopg2://postgres@127.0.0.1:{port}", stop


def start_postgres(work: Path) -> tuple[str, Callable[[], None]]:
    """(the URL of a new, empty database, a function that drops it and stops what was started):
    on PAPERATLAS_TEST_POSTGRES's server when set, else on a throwaway cluster in `work`."""
    import psycopg2

    named = os.environ.get("PAPERATLAS_TEST_POSTGRES")
    server, stop_server = (named.rstrip("/"), lambda: None) if named else _start_cluster(work)
    name = f"paperatlas_bench_{uuid.uuid4().hex[:10]}"
    admin_url = server.replace("postgresql+psycopg2://", "postgresql://") + "/postgres"
    try:
        for attempt in range(50):  # the port is open a moment before connections are accepted
            try:
                admin = psycopg2.connect(admin_url)
                break
            except psycopg2.OperationalError:
                if attempt == 49:
                    raise
                time.sleep(0.2)
        admin.autocommit = True
        admin.cursor().execute(f"CREATE DATABASE {name}")
        admin.close()
    except BaseException:
        stop_server()
        raise

    def stop() -> None:
        if named:  # someone else's server: drop our database; our own cluster goes whole
            try:
                admin = psycopg2.connect(admin_url)
                admin.autocommit = True
                admin.cursor().execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
                admin.close()
            except psycopg2.Error:
                pass
        stop_server()
    return f"{server}/{name}", stop
