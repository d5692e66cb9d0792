"""Several workers: Dagster's Celery executor with a Redis broker, a PostgreSQL instance and the
Delta store, all real services on 127.0.0.1 (started by .ci/run; see conftest.require_service).

Two `paperatlas worker` processes take the steps; two `paperatlas run` commands at once each
materialise two venue-years. About 40 s, so it has its own marker: `pytest -m celery`."""

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from conftest import PAPERLISTS, ROOT, require_service

pytestmark = pytest.mark.celery
KEYS = ["neurips-2020", "neurips-2021", "neurips-2022", "neurips-2023"]


@pytest.fixture
def postgres_url():
    """A new, empty PostgreSQL database for this test's Dagster instance; dropped afterwards."""
    import psycopg2

    server = require_service("PAPERATLAS_TEST_POSTGRES", "PostgreSQL").rstrip("/")
    name = f"paperatlas_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(server.replace("postgresql+psycopg2://", "postgresql://") + "/postgres")
    admin.autocommit = True
    admin.cursor().execute(f"CREATE DATABASE {name}")
    yield f"{server}/{name}"
    admin.cursor().execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.close()


def _wait_for(path: Path, text: str, timeout: float, procs) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text(errors="replace"):
            return
        if any(p.poll() is not None for p in procs):
            break
        time.sleep(0.3)
    raise AssertionError(f"no {text!r} in {path.name} after {timeout:.0f}s:\n{path.read_text(errors='replace')[-3000:]}")


def test_two_celery_workers_materialise_four_venue_years_into_the_delta_store(tmp_path, postgres_url, ror_dump):
    redis = require_service("PAPERATLAS_TEST_REDIS", "Redis").rstrip("/")
    lists = tmp_path / "paperlists" / "nips"
    lists.mkdir(parents=True)
    for key in KEYS:  # four venue-years from the fixture's one (the year comes from the file's name)
        shutil.copy(PAPERLISTS / "nips" / "nips2020.json", lists / f"nips{key[-4:]}.json")
    home, dagster_home = tmp_path / "home", tmp_path / "dagster"
    dagster_home.mkdir()
    (dagster_home / "dagster.yaml").write_text(
        f"storage:\n  postgres:\n    postgres_url: \"{postgres_url}\"\n"
        "run_coordinator:\n  module: dagster.core.run_coordinator\n  class: QueuedRunCoordinator\n"
        "telemetry:\n  enabled: false\n")
    env = {**os.environ, "PAPERATLAS_HOME": str(home), "DAGSTER_HOME": str(dagster_home),
           "PAPERATLAS_STORE": "delta", "PAPERATLAS_EXECUTOR": "celery",
           "PAPERATLAS_CELERY_BROKER": f"{redis}/{7 + os.getpid() % 8}",
           "PAPERATLAS_PAPERLISTS_BASE": str(tmp_path / "paperlists"), "PAPERATLAS_ROR_DUMP": str(ror_dump),
           "PAPERATLAS_PDFS": "off"}
    env.pop("PAPERATLAS_CELERY_BACKEND", None)
    migrate = subprocess.run([sys.executable, "-m", "dagster", "instance", "migrate"], env=env, cwd=tmp_path,
                             capture_output=True, text=True, timeout=120)
    assert migrate.returncode == 0, migrate.stderr

    workers, logs = [], []
    try:
        for n in (1, 2):
            log = tmp_path / f"worker{n}.log"
            logs.append(log)
            workers.append(subprocess.Popen(
                [sys.executable, "-m", "paperatlas.cli", "worker", "--name", f"w{n}@%h"], cwd=tmp_path, env=env,
                stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True))
        for log in logs:
            _wait_for(log, " ready.", 90, workers)

        runs = [subprocess.Popen([sys.executable, "-m", "paperatlas.cli", "run", *pair], cwd=ROOT, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for pair in (KEYS[:2], KEYS[2:])]
        outputs = [r.communicate(timeout=600) for r in runs]
        for r, (out, err) in zip(runs, outputs):
            assert r.returncode == 0, err[-4000:]
            assert "materialised 2/2 venue-years" in out and str(home / "delta") in out
    finally:
        for w in workers:
            with_group = os.getpgid(w.pid) if w.poll() is None else None
            if with_group:
                os.killpg(with_group, signal.SIGTERM)
        for w in workers:
            try:
                w.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(w.pid, signal.SIGKILL)

    # every step ran on a worker, and both workers took some
    done = [log.read_text(errors="replace").count("succeeded in") for log in logs]
    assert all(n > 0 for n in done), done
    from dagster import DagsterInstance, DagsterRunStatus

    os.environ["DAGSTER_HOME"] = str(dagster_home)
    try:
        instance = DagsterInstance.get()
        runs = instance.get_runs()
        jobs = sorted((r.job_name, r.tags.get("dagster/partition"), r.status) for r in runs
                      if r.job_name == "venue_year_job")
        assert jobs == [("venue_year_job", k, DagsterRunStatus.SUCCESS) for k in KEYS]
        # the events are in PostgreSQL: one STEP_SUCCESS per task the workers ran
        steps = [e for r in runs if r.job_name in ("venue_year_job", "aggregates_job")
                 for e in instance.all_logs(r.run_id)
                 if e.dagster_event and e.dagster_event.event_type_value == "STEP_SUCCESS"]
        assert len(steps) == sum(done)
        instance.dispose()
    finally:
        os.environ.pop("DAGSTER_HOME", None)

    from paperatlas.pipeline.config import store_options
    from paperatlas.pipeline.store_delta import DeltaWarehouse

    store = DeltaWarehouse(str(home / "delta"), store_options(), read_only=True)
    assert store.partitions("partition_summary") == KEYS
    summary = store.records("SELECT year, papers FROM partition_summary ORDER BY year")
    assert [(r["year"], r["papers"]) for r in summary] == [(int(k[-4:]), 8) for k in KEYS]
    years = store.records("SELECT year, papers FROM yearly_summary WHERE venue = 'neurips' ORDER BY year")
    assert [r["year"] for r in years] == [2020, 2021, 2022, 2023]
