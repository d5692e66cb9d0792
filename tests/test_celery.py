"""Several workers: Dagster's Celery executor with a Redis broker, a PostgreSQL instance and the
Delta store, all real services on 127.0.0.1 (started by .ci/run; see conftest.require_service).

Two `paperatlas worker` processes take the steps. One test runs two `paperatlas run` commands at
once, each materialising two venue-years; the other runs `paperatlas run airesearch-2025 --jobs 2`,
the months of one year in parallel, against a local OpenAlex server. A minute or two each, so
they have their own marker: `pytest -m celery`."""

import contextlib
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


def postgres_instance(dagster_home: Path, postgres_url: str, env: dict, cwd: Path) -> None:
    """A dagster.yaml naming the PostgreSQL database, and its schema made (once, before any worker)."""
    dagster_home.mkdir()
    (dagster_home / "dagster.yaml").write_text(
        f"storage:\n  postgres:\n    postgres_url: \"{postgres_url}\"\n"
        "run_coordinator:\n  module: dagster.core.run_coordinator\n  class: QueuedRunCoordinator\n"
        "telemetry:\n  enabled: false\n")
    migrate = subprocess.run([sys.executable, "-m", "dagster", "instance", "migrate"], env=env, cwd=cwd,
                             capture_output=True, text=True, timeout=120)
    assert migrate.returncode == 0, migrate.stderr


@contextlib.contextmanager
def celery_workers(tmp_path: Path, env: dict, n: int = 2):
    """`n` `paperatlas worker` processes, ready; yields their log files; stops them (by their
    process group) afterwards."""
    workers, logs = [], []
    try:
        for i in range(1, n + 1):
            log = tmp_path / f"worker{i}.log"
            logs.append(log)
            workers.append(subprocess.Popen(
                [sys.executable, "-m", "paperatlas.cli", "worker", "--name", f"w{i}@%h"], cwd=tmp_path, env=env,
                stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True))
        for log in logs:
            _wait_for(log, " ready.", 90, workers)
        yield logs
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


def test_two_celery_workers_materialise_four_venue_years_into_the_delta_store(tmp_path, postgres_url, ror_dump):
    redis = require_service("PAPERATLAS_TEST_REDIS", "Redis").rstrip("/")
    lists = tmp_path / "paperlists" / "nips"
    lists.mkdir(parents=True)
    for key in KEYS:  # four venue-years from the fixture's one (the year comes from the file's name)
        shutil.copy(PAPERLISTS / "nips" / "nips2020.json", lists / f"nips{key[-4:]}.json")
    home, dagster_home = tmp_path / "home", tmp_path / "dagster"
    env = {**os.environ, "PAPERATLAS_HOME": str(home), "DAGSTER_HOME": str(dagster_home),
           "PAPERATLAS_STORE": "delta", "PAPERATLAS_EXECUTOR": "celery",
           "PAPERATLAS_CELERY_BROKER": f"{redis}/{7 + os.getpid() % 8}",
           "PAPERATLAS_PAPERLISTS_BASE": str(tmp_path / "paperlists"), "PAPERATLAS_ROR_DUMP": str(ror_dump),
           "PAPERATLAS_PDFS": "off"}
    env.pop("PAPERATLAS_CELERY_BACKEND", None)
    postgres_instance(dagster_home, postgres_url, env, tmp_path)

    with celery_workers(tmp_path, env) as logs:
        runs = [subprocess.Popen([sys.executable, "-m", "paperatlas.cli", "run", *pair], cwd=ROOT, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for pair in (KEYS[:2], KEYS[2:])]
        outputs = [r.communicate(timeout=600) for r in runs]
        for r, (out, err) in zip(runs, outputs):
            assert r.returncode == 0, err[-4000:]
            assert "materialised 2/2 venue-years" in out and str(home / "delta") in out

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


def _overlap(spans: list[tuple[str, float, float]]) -> list[tuple[str, str]]:
    """The pairs of different names whose (start, end) spans overlap in time."""
    return [(a, b) for i, (a, s1, e1) in enumerate(spans) for b, s2, e2 in spans[i + 1:] if a != b and s1 < e2 and s2 < e1]


def test_two_workers_take_the_months_of_one_year_in_parallel(tmp_path, postgres_url, ror_dump):
    """`paperatlas run airesearch-2025 --jobs 2`: the year is split into four months, two part
    runs go at once, their steps on two workers, into the Delta store; the yearly tables equal
    those of one process reading the year whole into DuckDB."""
    redis = require_service("PAPERATLAS_TEST_REDIS", "Redis").rstrip("/")
    import pandas as pd
    from openalex_server import serve_openalex
    from test_openalex_parts import MONTHS, scope_works, tables

    from paperatlas.pipeline.config import store_options
    from paperatlas.pipeline.store import Warehouse
    from paperatlas.pipeline.store_delta import DeltaWarehouse

    parts = [f"airesearch-2025-m{m:02d}" for m in MONTHS]
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("PAPERATLAS_", "DAGSTER_"))}
    base_env.update({"PAPERATLAS_ROR_DUMP": str(ror_dump), "PAPERATLAS_PAPERLISTS_BASE": str(PAPERLISTS)})
    with serve_openalex(scope_works(100), page_size=40) as openalex:
        base_env["PAPERATLAS_OPENALEX_BASE"] = openalex
        # the reference: one process, the default executor, DuckDB, the year read whole (while
        # the workers start)
        single = {**base_env, "PAPERATLAS_HOME": str(tmp_path / "single"), "PAPERATLAS_OPENALEX_SPLIT": "1000"}
        reference = subprocess.Popen([sys.executable, "-m", "paperatlas.cli", "run", "airesearch-2025", "--pdfs",
                                      "off"], cwd=ROOT, env=single, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        try:
            home, dagster_home = tmp_path / "home", tmp_path / "dagster"
            env = {**base_env, "PAPERATLAS_HOME": str(home), "DAGSTER_HOME": str(dagster_home),
                   "PAPERATLAS_STORE": "delta", "PAPERATLAS_STORE_URI": str(tmp_path / "delta"),
                   "PAPERATLAS_EXECUTOR": "celery", "PAPERATLAS_CELERY_BROKER": f"{redis}/{(3 + os.getpid()) % 8}",
                   "PAPERATLAS_OPENALEX_SPLIT": "30"}
            postgres_instance(dagster_home, postgres_url, env, tmp_path)
            with celery_workers(tmp_path, env) as logs:
                _, reference_err = reference.communicate(timeout=300)
                assert reference.returncode == 0, reference_err[-4000:]
                assert "read as one partition" in reference_err
                done = subprocess.run([sys.executable, "-m", "paperatlas.cli", "run", "airesearch-2025", "--jobs",
                                       "2", "--pdfs", "off"], cwd=ROOT, env=env, capture_output=True, text=True,
                                      timeout=600)
        finally:
            if reference.poll() is None:
                reference.kill()
                reference.wait()
    err = done.stderr
    assert done.returncode == 0, err[-4000:]
    assert "read as 4 sub-partitions (4 months)" in err and "materialised 4/4 venue-years" in done.stdout
    assert all(f"] ok {key} (" in err for key in parts), err[-4000:]

    # both workers ran steps
    ran = [log.read_text(errors="replace").count("succeeded in") for log in logs]
    assert all(n > 0 for n in ran), ran

    from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus, EventRecordsFilter, RunsFilter

    os.environ["DAGSTER_HOME"] = str(dagster_home)
    try:
        instance = DagsterInstance.get()
        records = instance.get_run_records(RunsFilter(job_name="part_job"))
        assert sorted((r.dagster_run.tags.get("dagster/partition"), r.dagster_run.status) for r in records) == \
            [(key, DagsterRunStatus.SUCCESS) for key in parts]
        runs = {r.dagster_run.run_id: r.dagster_run.tags["dagster/partition"] for r in records}
        # two part runs were in flight at once ...
        assert _overlap([(runs[r.dagster_run.run_id], r.start_time, r.end_time) for r in records])
        # ... and steps of two different months ran at the same moment (on the two workers)
        events = {kind: instance.get_event_records(EventRecordsFilter(event_type=kind))
                  for kind in (DagsterEventType.STEP_START, DagsterEventType.STEP_SUCCESS)}
        starts = {(e.event_log_entry.run_id, e.event_log_entry.step_key): e.event_log_entry.timestamp
                  for e in events[DagsterEventType.STEP_START] if e.event_log_entry.run_id in runs}
        steps = [(runs[run], at, e.event_log_entry.timestamp) for e in events[DagsterEventType.STEP_SUCCESS]
                 for run, step in [(e.event_log_entry.run_id, e.event_log_entry.step_key)]
                 if (run, step) in starts for at in [starts[run, step]]]
        assert _overlap(steps), sorted(steps, key=lambda s: s[1])
        instance.dispose()
    finally:
        os.environ.pop("DAGSTER_HOME", None)

    delta = DeltaWarehouse(str(tmp_path / "delta"), store_options(), read_only=True)
    assert sorted(delta.partitions("partition_summary")) == parts
    whole = tables(Warehouse(tmp_path / "single" / "paperatlas.duckdb", read_only=True))
    split = tables(delta)
    assert set(whole["yearly_summary"]["papers"]) == {100}  # one row per counting, each of the 100 papers
    for name, frame in whole.items():
        columns = list(frame.columns)
        got = split[name][columns].sort_values(columns).reset_index(drop=True)
        pd.testing.assert_frame_equal(got, frame, check_dtype=False, obj=name)
