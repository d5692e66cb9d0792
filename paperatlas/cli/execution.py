"""Running the Dagster jobs for the command line: the instance under DAGSTER_HOME, one job in
process (or on Celery workers), why a run failed in one line, what the steps left out, and the
reference data loaded when it is missing or changed."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from ..pipeline.config import Settings
from . import common
from .common import CliError

DAGSTER_YAML = """# Written by paperatlas. Runs started by `paperatlas run` and by `paperatlas ui` share this instance.
telemetry:
  enabled: false
"""


def instance(settings: Settings):
    """The persistent Dagster instance under DAGSTER_HOME (default `$PAPERATLAS_HOME/dagster`).

    Creating a new sqlite-backed instance migrates its schema; two processes doing that at
    once corrupt it, so creation (and the first open) happens under a file lock.
    """
    from dagster import DagsterInstance
    from filelock import FileLock

    from ..progress import keep_stderr

    keep_stderr()  # before any run captures descriptor 2 (paperatlas/progress.py)
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    os.environ["DAGSTER_HOME"] = str(home)
    with FileLock(str(home / ".paperatlas-instance.lock"), timeout=600):
        config = home / "dagster.yaml"
        if not config.exists():
            config.write_text(DAGSTER_YAML)
        instance = DagsterInstance.get()
        instance.get_runs(limit=1)  # opens (and on first use creates) the storage
    return instance


def execute(settings: Settings, defs, job_name: str, instance, run_config: dict, partition_key: str | None = None):
    """Run one job. The default runs its steps in this process. With PAPERATLAS_EXECUTOR=celery
    the job is loaded by reference (`paperatlas.definitions.job_named`), so that Celery workers can
    load it too, and each step runs on a worker; this process follows the run."""
    tags = {"paperatlas/trigger": "cli"}
    if settings.executor == "celery":
        from dagster import build_reconstructable_job, execute_job

        job = build_reconstructable_job("paperatlas.definitions", "job_named", reconstructable_args=(job_name,),
                                        reconstructor_working_directory=str(Path(__file__).resolve().parents[2]))
        if partition_key:
            tags["dagster/partition"] = partition_key
        return followed(execute_job, job, instance=instance, run_config=run_config, tags=tags, raise_on_error=False)
    return followed(defs.resolve_job_def(job_name).execute_in_process, partition_key=partition_key,
                    instance=instance, run_config=run_config, raise_on_error=False, tags=tags)


def followed(run, *args, **kwargs):
    """`run(*args, **kwargs)`: a Dagster run followed by this process, under the command's Ctrl-C
    handling (paperatlas/interrupts.py). None starts after Ctrl-C, the processes it starts block
    SIGINT, and when Ctrl-C stopped it this raises KeyboardInterrupt, so that the command ends
    with its one line and no step is blamed. Dagster ends an interrupted run as a failed step
    (`DagsterExecutionInterruptedError`), or as a success when the signal came after the last
    step; SIGTERM during a run is the same interrupt to it."""
    from ..interrupts import check, keep_blocked
    from ..progress import interrupted_failure

    check()
    keep_blocked()
    result = run(*args, **kwargs)
    check()
    if not result.success and any(interrupted_failure(e) for e in result.all_events):
        raise KeyboardInterrupt
    return result


def release_memory() -> None:
    """Give what a finished run freed back to the system: Python's collector, then glibc's
    `malloc_trim` (elsewhere a no-op). A run's rows are freed when it ends, but the C heap keeps
    the pages unless asked, and the next run's peak would sit on top of them; with `--jobs`
    that is once per process in flight."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def check_concurrent_runs(settings: Settings, instance, jobs: int) -> None:
    """Refuse, in one line, `jobs` > 1 runs at once where they would not be safe.

    Two setups are: the default executor on one machine, where each run is a process of its
    own (`run.run_partitions`) and its steps share the store through its lock (DuckDB: one
    writer at a time, held only while a step reads its inputs or writes its outputs, not while
    it downloads or computes; Delta: concurrent commits), with the SQLite instance that
    `dagster dev` also runs concurrent runs on; and the Celery executor with a PostgreSQL
    instance (tests/test_celery.py), where the steps run on the workers. With Celery a SQLite
    instance is refused: workers on other machines cannot share it."""
    variable = "--jobs / PAPERATLAS_RUN_CONCURRENCY"
    storage = type(instance.run_storage).__name__
    if settings.executor == "celery" and "sqlite" in storage.lower():
        raise CliError(f"{variable}={jobs} with PAPERATLAS_EXECUTOR=celery needs a PostgreSQL Dagster instance "
                       f"(storage: postgres in {settings.dagster_home / 'dagster.yaml'}; docs/deployment.md); "
                       "this one is SQLite, which workers cannot share: use --jobs 1 or the default executor")


def why_failed(result) -> str:
    """Why a Dagster run failed, in one line: each failed step with its cause."""
    from ..progress import failure_reason

    reasons = [f"{e.step_key}: {failure_reason(e)}" for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    return "; ".join(reasons) or f"run failed (run {result.run_id} in `paperatlas ui`)"


def item_warnings(settings: Settings, keys: list[str]) -> list[str]:
    """One line per venue-year, step and severity for the items a step left out (DROPPED) or
    kept with a caveat (WARNING): how many, and the first with its reason (all of them:
    `paperatlas errors KEY`)."""
    from ..pipeline.text import item_reason, set_aside

    if not keys or not common.store_exists(settings):
        return []
    rows = common.open_store(settings, read_only=True).error_counts(keys)
    lines = []
    for row in rows.itertuples(index=False):
        head = f"{'DROPPED' if row.severity == 'error' else 'WARNING'} {row.partition_key} {row.stage}: " \
               f"{set_aside(row.severity, row.n)}"
        first = item_reason(row.first_item, row.first_reason, 160)
        lines.append(f"{head}: {first}" if row.n == 1 else
                     f"{head}, e.g. {first} (all: `paperatlas errors {row.partition_key}`)")
    return lines


# What to do about a reference asset that failed to load, by asset.
REFERENCE_HINTS = {
    "ror_registry": "set PAPERATLAS_ROR_DUMP to a good dump file, or to 'none'",
    "affiliation_overrides": "fix the overrides file (PAPERATLAS_OVERRIDES), or move it away",
    "term_catalogue": "fix the term catalogue (PAPERATLAS_TERMS), or unset it for the one shipped",
}


def ensure_reference(settings: Settings, defs, instance, force: bool = False) -> None:
    """Materialise `ror_registry` and `affiliation_overrides` when the store lacks them or the
    configured dump / overrides file changed (a new data version). With the default (newest
    dump on Zenodo) an existing registry is kept until `--refresh-ror`, so runs work offline.
    When loading fails, the run goes on with the last good copy in the store, with a warning."""
    from ..pipeline.affiliations.queries import stored_reference
    from ..pipeline.affiliations.reference import locate_dump, overrides_digest
    from ..pipeline.affiliations.ror import RorDumpError, file_sha256
    from ..pipeline.http import FetchError

    needed = force
    stored_checksum = stored_digest = None
    if common.store_exists(settings):
        stored_checksum, stored_digest = stored_reference(common.open_store(settings))
    if stored_checksum is None:
        needed = True
    elif settings.ror_dump:
        try:
            location = locate_dump(settings.ror_dump, settings.cache_dir)
            needed = needed or (location is None and stored_checksum != "none") or (
                location is not None and file_sha256(location.path) != stored_checksum)
        except (RorDumpError, FetchError, OSError):
            needed = True  # the registry step files the reason; the last good registry is kept
    needed = needed or overrides_digest(settings.overrides_file) != stored_digest
    ensure_terms(settings, defs, instance, force)
    if not needed:
        return
    print("[reference] ror_registry, affiliation_overrides", file=sys.stderr, flush=True)
    run_reference(defs, instance, "reference_job")


def run_reference(defs, instance, job: str) -> None:
    """Run a reference job in process. An asset that fails is a warning when the store keeps a
    good copy from an earlier run (the venue-years then use that), else a CliError; both
    name the cause and what to do."""
    from dagster import AssetKey

    from ..progress import failure_reason

    result = followed(defs.resolve_job_def(job).execute_in_process, instance=instance, raise_on_error=False,
                      run_config={"loggers": {"progress": {}}}, tags={"paperatlas/trigger": "cli"})
    if result.success:
        return
    stopping = []
    for event in result.all_events:
        if event.event_type_value != "STEP_FAILURE":
            continue
        name = event.step_key
        cause, hint = failure_reason(event), REFERENCE_HINTS.get(name, "see `paperatlas errors reference`")
        variable = re.search(r"PAPERATLAS_\w+", hint)
        # The cause may already say what to set (an unreachable host names its variable).
        reason = f"{name}: {cause}" if variable and variable.group() in cause else f"{name}: {cause} ({hint})"
        if instance.get_latest_materialization_event(AssetKey(name)) is None:
            stopping.append(reason)
        else:
            print(f"paperatlas: warning: could not load {reason}; going on with the last good {name} in the "
                  "store", file=sys.stderr, flush=True)
    if stopping:
        from ..pipeline.http import OFFLINE_SETTINGS, Unreachable

        offline = f"; {OFFLINE_SETTINGS}" if any(Unreachable.MARK in r for r in stopping) else ""
        raise CliError("could not load the reference data: " + "; ".join(stopping) + offline)


def ensure_terms(settings: Settings, defs, instance, force: bool = False) -> None:
    """Materialise `term_catalogue` when the store lacks it or the catalogue file changed."""
    from ..pipeline.affiliations.reference import overrides_digest
    from ..pipeline.mentions.catalogue import DEFAULT_CATALOGUE
    from ..pipeline.mentions.queries import catalogue_digest

    path = settings.terms_file or DEFAULT_CATALOGUE
    stored = None
    if common.store_exists(settings):
        stored = catalogue_digest(common.open_store(settings))
    if not force and stored is not None and stored == overrides_digest(path):
        return
    print("[reference] term_catalogue", file=sys.stderr, flush=True)
    run_reference(defs, instance, "terms_job")
