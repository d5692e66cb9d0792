import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
PAPERLISTS = FIXTURES / "paperlists"
SHARED = Path(os.environ.get("PAPERATLAS_SHARED", ROOT.parent / "shared" / "data"))


def serve(handler):
    """A threading HTTP server on 127.0.0.1 (a free port) with `handler`, serving in a daemon
    thread; its address is `.url`. Close it with `shutdown()` and `server_close()`."""
    import http.server
    import threading

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_ui(port: int, log: Path, timeout: float):
    """`paperatlas ui -p PORT -h 127.0.0.1` in a session of its own (dagster dev starts the
    webserver, the daemon and code servers), its output in `log`, once it serves; a failure
    with the log's end when it exits or does not serve within `timeout` seconds."""
    import subprocess
    import sys
    import time
    import urllib.request

    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "paperatlas.cli", "ui", "-p", str(port), "-h", "127.0.0.1"],
                                env={**os.environ}, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
                                start_new_session=True)
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2) as answer:
                if answer.status == 200:
                    return proc
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail("paperatlas ui did not serve:\n" + log.read_text()[-3000:])
        time.sleep(0.3)


@pytest.fixture(scope="session")
def ror_dump(tmp_path_factory) -> Path:
    """A small ROR v2 dump zip (tests/ror_fixture.py)."""
    from ror_fixture import write_dump

    return write_dump(tmp_path_factory.mktemp("ror") / "ror-mini-v2.zip")


@pytest.fixture
def home(tmp_path, monkeypatch, ror_dump):
    """A fresh PAPERATLAS_HOME (and Dagster instance) reading the fixture paperlists and the
    fixture ROR dump, with PDF downloads off."""
    monkeypatch.setenv("PAPERATLAS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home" / "dagster"))
    monkeypatch.setenv("PAPERATLAS_PAPERLISTS_BASE", str(PAPERLISTS))
    monkeypatch.setenv("PAPERATLAS_ROR_DUMP", str(ror_dump))
    monkeypatch.delenv("PAPERATLAS_OVERRIDES", raising=False)
    monkeypatch.delenv("PAPERATLAS_LOCAL_DIR", raising=False)
    # Tests never touch the network: PDFs come from the store or local folders only, unless a
    # test turns downloading on under `responses`.
    monkeypatch.setenv("PAPERATLAS_PDFS", "cached")
    return tmp_path / "home"


@pytest.fixture
def env(home):
    """(settings, definitions, an ephemeral Dagster instance with the reference data loaded)."""
    from dagster import DagsterInstance

    from paperatlas.definitions import build_definitions
    from paperatlas.pipeline.config import load_settings

    settings = load_settings()
    defs = build_definitions(settings)
    instance = DagsterInstance.ephemeral()
    assert defs.resolve_job_def("reference_job").execute_in_process(instance=instance).success
    return settings, defs, instance


def materialise(defs, instance, key, **kw):
    """Run `venue_year_job` on one venue-year (adding the partition first)."""
    instance.add_dynamic_partitions("venue_year", [key])
    return defs.resolve_job_def("venue_year_job").execute_in_process(
        partition_key=key, instance=instance, raise_on_error=False, **kw
    )


def shared(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data not available: {path}")
    return path


def run_alone(script: str, *args: str):
    """Run `script` (Python) in a fresh interpreter and return the JSON it prints last.

    For tests that kill a forked worker: pytest's own process has threads by then (Dagster
    runs, DuckDB), and forking a threaded process can deadlock the child on a lock another
    thread held. A fresh interpreter has one thread, so the pool forks as it does on the
    command line. A failure shows the script's stderr."""
    import json
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", script, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stderr[-4000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- the services the shared store and the Celery executor need --------------------------------
# `.ci/run` starts moto_server (S3), redis-server and PostgreSQL on 127.0.0.1 and names them in
# PAPERATLAS_TEST_S3, PAPERATLAS_TEST_REDIS and PAPERATLAS_TEST_POSTGRES. Elsewhere the S3 tests
# start moto's server in this process; tests that need Redis or PostgreSQL skip without them,
# unless PAPERATLAS_REQUIRE_SERVICES is set (CI), where a missing service fails them.


def require_service(variable: str, what: str) -> str:
    value = os.environ.get(variable)
    if value:
        return value
    message = f"{what} is not running ({variable} is unset; .ci/run starts it)"
    if os.environ.get("PAPERATLAS_REQUIRE_SERVICES"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory):
    """The URL of an S3 service on 127.0.0.1 (moto). Its request recorder (`/moto-api/recorder/`,
    which tests count requests with) writes to a file in the session's temporary folder."""
    url = os.environ.get("PAPERATLAS_TEST_S3")
    if url:
        yield url
        return
    os.environ.setdefault("MOTO_RECORDER_FILEPATH", str(tmp_path_factory.mktemp("moto") / "recording"))
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        require_service("PAPERATLAS_TEST_S3", "an S3 service (moto)")
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_bucket(s3_endpoint, monkeypatch, request):
    """A new bucket on the S3 service, with the AWS_* settings that reach it; returns its name."""
    import re
    import uuid

    import boto3

    for name, value in {"AWS_ENDPOINT_URL": s3_endpoint, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                        "AWS_REGION": "us-east-1", "AWS_ALLOW_HTTP": "true"}.items():
        monkeypatch.setenv(name, value)
    bucket = (re.sub(r"[^a-z0-9-]", "-", request.node.name.lower())[:40].strip("-") + "-" + uuid.uuid4().hex[:8])
    boto3.client("s3", endpoint_url=s3_endpoint, aws_access_key_id="test", aws_secret_access_key="test",
                 region_name="us-east-1").create_bucket(Bucket=bucket)
    return bucket


STORE_KINDS = ("duckdb", "delta", "delta-s3")


@pytest.fixture(params=STORE_KINDS)
def store_at(request, tmp_path):
    """(kind, a function giving a new handle on one store of that kind): every store contract
    test runs against the DuckDB file, Delta tables in a folder, and Delta tables on S3."""
    kind = request.param
    if kind == "duckdb":
        from paperatlas.pipeline.store import Warehouse

        path = tmp_path / "db.duckdb"
        return kind, lambda **kw: Warehouse(path, **kw)
    from paperatlas.pipeline.config import store_options
    from paperatlas.pipeline.store_delta import DeltaWarehouse

    if kind == "delta":
        uri = str(tmp_path / "delta")
    else:
        uri = f"s3://{request.getfixturevalue('s3_bucket')}/store"
    return kind, lambda **kw: DeltaWarehouse(uri, store_options(), **kw)
