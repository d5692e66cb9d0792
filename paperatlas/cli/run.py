"""`run`, `partitions` and `add-folder`: materialising venue-years and managing their partitions."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import sys
import time
from pathlib import Path

from .. import interrupts
from ..pipeline.config import Settings
from ..pipeline.text import display
from . import common, execution
from .common import CliError
from .options import KEYS_HELP, command, placement_option


@interrupts.guarded  # Ctrl-C: one line, exit 130, whatever runs (paperatlas/interrupts.py)
def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    keys = split_scopes(settings, common.expand(args.partitions, settings, stored=False))
    outcome = materialise(settings, keys, refresh=args.refresh, refresh_ror=args.refresh_ror, pdfs=args.pdfs,
                          placement=args.placement, aggregates=not args.no_aggregates, jobs=args.jobs)
    print(f"materialised {len(outcome.done)}/{len(keys)} venue-years in {time.monotonic() - common.STARTED[0]:.1f}s "
          f"into {settings.store_location}")
    outcome.report()
    return 1 if outcome.failed or outcome.checks_failed else 0


@dataclasses.dataclass
class Materialised:
    """What `materialise` did: the venue-years done, those that failed (key, reason), the
    ERROR and WARN checks that failed, and the lines about items left out."""

    done: list[str]
    failed: list[tuple[str, str]]
    checks_failed: list[str]
    warnings: list[str]
    settings: Settings

    def report(self) -> None:
        from ..pipeline.http import OFFLINE_SETTINGS, Unreachable

        for key, reason in self.failed:
            print(display(f"FAILED {key}: {reason}"), file=sys.stderr)
        for line in execution.item_warnings(self.settings, self.done):
            print(display(line), file=sys.stderr)
        for check in self.checks_failed:
            print(f"CHECK FAILED {check}", file=sys.stderr)
        for check in self.warnings:
            print(f"CHECK WARNING {check}", file=sys.stderr)
        if any(Unreachable.MARK in reason for _, reason in self.failed):
            print(f"paperatlas: {OFFLINE_SETTINGS}", file=sys.stderr)


def materialise(settings: Settings, keys: list[str], refresh: bool = False, refresh_ror: bool = False,
                pdfs: str | None = None, placement: str | None = None, aggregates: bool = True,
                jobs: int | None = None) -> Materialised:
    """Materialise every asset of each venue-year through Dagster (one run each, after the
    reference data when it is missing or changed; up to `jobs` runs at once, default
    PAPERATLAS_RUN_CONCURRENCY), then the yearly tables: what `run` does, and what `study run`
    does for the venue-years its scope lacks."""
    from ..definitions import build_definitions

    if jobs is not None and jobs < 1:
        raise CliError(f"--jobs {jobs}: expected a whole number, 1 or more")
    if pdfs:
        settings = dataclasses.replace(settings, pdf_mode=pdfs)
    if placement:
        settings = dataclasses.replace(settings, placement=placement)
    jobs = max(1, min(jobs or settings.run_concurrency, len(keys)))
    with common.open_store(settings).connect():
        pass  # the store opens (or is created) here, so a broken one is one line before any step runs
    instance = execution.instance(settings)
    if jobs > 1:
        execution.check_concurrent_runs(settings, instance, jobs)
    with run_pool(settings, jobs) as pool:  # its processes start while the reference data loads
        defs = build_definitions(settings)
        execution.ensure_reference(settings, defs, instance, force=refresh_ror)
        execution.release_memory()  # the registry's load, before the runs start
        return _materialise(settings, keys, refresh, pdfs, placement, aggregates, jobs, defs, instance, pool)


def _materialise(settings: Settings, keys: list[str], refresh: bool, pdfs: str | None, placement: str | None,
                 aggregates: bool, jobs: int, defs, instance, pool) -> Materialised:
    """`materialise` once the reference data is in: each key's run, then the yearly tables."""
    from ..assets.automation import add_venue_years
    from ..definitions import build_resources

    add_venue_years(instance, keys)
    run_config: dict = {"loggers": {"progress": {}}}
    if refresh:
        run_config["ops"] = {"raw_papers": {"config": {"refresh": True}}}
    # --pdfs and --placement travel in the run's config, so Celery workers on other machines
    # apply them too (they build their resources from their own environment otherwise).
    resources = build_resources(settings)
    for flag, name in ((pdfs, "pdf_store"), (placement, "conventions")):
        if flag:
            run_config.setdefault("resources", {})[name] = {"config": resources[name].model_dump()}
    failed: list[tuple[str, str]] = []
    checks_failed: list[str] = []
    warnings: list[str] = []
    for key, outcome in run_partitions(settings, defs, instance, run_config, largest_first(settings, keys, jobs),
                                       jobs, pool):
        if not outcome.success:
            failed.append((key, outcome.reason))
        # A failed asset check does not fail the run; a number that fails an ERROR check is
        # not fit to print. WARN checks (e.g. resolution coverage) are reported only.
        for label, warn in outcome.checks_failed:
            (warnings if warn else checks_failed).append(label)
    if pool is not None:
        pool.shutdown(wait=True)  # its processes' memory is given back before the yearly tables
    if aggregates and len(failed) < len(keys):
        print("[aggregates] yearly_aggregates", file=sys.stderr, flush=True)
        placed = {k: v for k, v in run_config.get("resources", {}).items() if k == "conventions"}
        result = execution.execute(settings, defs, "aggregates_job", instance,
                          {"loggers": {"progress": {}}, **({"resources": placed} if placed else {})})
        if not result.success:
            failed.append(("yearly_aggregates", execution.why_failed(result)))
    done = [k for k in keys if k not in {f[0] for f in failed}]
    return Materialised(done, failed, checks_failed, warnings, settings)


@dataclasses.dataclass(frozen=True)
class RunOutcome:
    """What one Dagster run of a partition gave: success, why it failed (one line), and each
    failed asset check as (label, whether it is only a WARN check)."""

    success: bool
    reason: str
    checks_failed: tuple[tuple[str, bool], ...]


def run_one(settings: Settings, defs, instance, run_config: dict, key: str) -> RunOutcome:
    """One Dagster run of `key` (`part_job` for a sub-partition, else `venue_year_job`)."""
    from dagster import AssetCheckSeverity

    from ..assets.common import bulk_gc
    from ..pipeline.partitions import parse_partition_key

    job = "part_job" if parse_partition_key(key).is_part else "venue_year_job"
    with bulk_gc():  # Dagster's own work between the steps too
        result = execution.execute(settings, defs, job, instance, run_config, key)
    checks = tuple((f"{key}: {c.asset_key.to_user_string()}.{c.check_name}", c.severity == AssetCheckSeverity.WARN)
                   for c in result.get_asset_check_evaluations() if not c.passed)
    return RunOutcome(result.success, "" if result.success else execution.why_failed(result), checks)


def run_in_child(settings: Settings, run_config: dict, key: str, n: int, total: int) -> RunOutcome:
    """`run_one` in a process of `run_partitions`' pool, with its own Dagster instance, between
    the `[n/N] key` and `[n/N] ok|FAILED key` lines."""
    from ..definitions import build_definitions

    # Ctrl-C is KeyboardInterrupt here, which the pool hands back to the command; after one,
    # no run begins (paperatlas/interrupts.py).
    with interrupts.armed():
        print(f"[{n}/{total}] {key}", file=sys.stderr, flush=True)
        started = time.monotonic()
        config = {**run_config, "loggers": {"progress": {"config": {"label": key}}}}  # lines carry their key
        try:
            outcome = run_one(settings, build_definitions(settings), execution.instance(settings), config, key)
        except Exception as exc:  # noqa: BLE001 - one line in the summary, as for a failed run
            outcome = RunOutcome(False, f"{type(exc).__name__}: {exc}", ())
        execution.release_memory()  # this process takes the next key
        ended(n, total, key, outcome, started)
    return outcome


def ended(n: int, total: int, key: str, outcome: RunOutcome, started: float) -> None:
    """The `[n/N] ok|FAILED key (S s)` line that closes a venue-year's progress, one at a time
    or several at once alike."""
    print(f"[{n}/{total}] {'ok' if outcome.success else 'FAILED'} {key} ({time.monotonic() - started:.1f}s)",
          file=sys.stderr, flush=True)


def largest_first(settings: Settings, keys: list[str], jobs: int) -> list[str]:
    """With `jobs` > 1, the sub-partitions of a split in decreasing order of their planned works
    (`partition_parts`), then the other keys as given: the runs in flight then end close
    together, instead of one large part running alone at the end. One at a time, `keys` as given."""
    if jobs <= 1:
        return keys
    from ..pipeline.sources.queries import part_sizes

    sizes = part_sizes(common.open_store(settings))
    return sorted(keys, key=lambda k: (k not in sizes, -sizes.get(k, 0)))


@contextlib.contextmanager
def run_pool(settings: Settings, jobs: int):
    """The processes `run_partitions` runs keys in when `jobs` > 1 (None otherwise), started at
    once: each imports paperatlas and builds its definitions (`warm_up`) while this process
    loads the reference data. Shut down on the way out; runs not started are cancelled."""
    if jobs <= 1:
        yield None
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # Its processes block SIGINT, as every process the command starts (paperatlas/interrupts.py):
    # on Ctrl-C this one passes it on, and their runs stop as one here would.
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                               initializer=interrupts.serve_worker)
    try:
        for _ in range(jobs):
            pool.submit(warm_up, sharing_cores(settings, jobs))
        yield pool
    except KeyboardInterrupt:
        interrupts.forward(multiprocessing.active_children())
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def sharing_cores(settings: Settings, jobs: int) -> Settings:
    """The settings of runs that go `jobs` at once on this machine: unless PAPERATLAS_STORE_THREADS
    says otherwise, each run's DuckDB gets its share of the cores rather than all of them (two
    runs on two cores with two DuckDB threads each only contend, and each thread keeps buffers)."""
    if settings.store_threads or jobs <= 1:
        return settings
    return dataclasses.replace(settings, store_threads=max(1, (os.cpu_count() or 1) // jobs))


def warm_up(settings: Settings) -> None:
    """What a pool process needs before its first run, done early (see `run_pool`)."""
    from ..definitions import build_definitions

    build_definitions(settings)
    execution.instance(settings)


def run_partitions(settings: Settings, defs, instance, run_config: dict, keys: list[str], jobs: int = 1, pool=None):
    """Yield (key, RunOutcome) of one Dagster run per key, in the order of `keys`; with `jobs`
    > 1, up to that many runs go at once, in the processes of `pool` (`run_pool`).

    This is not a scheduler. Each run goes through `execution.execute` (Dagster's `execute_job`
    with the Celery executor), and Dagster's executor places every step of it on a worker; the
    pool here only starts runs and waits for them, keeping `jobs` in flight as the
    QueuedRunCoordinator's `max_concurrent_runs` does for the daemon. Its members are
    processes, not threads: Dagster sets up each run's logging with `logging.config.dictConfig`,
    which deadlocks against another run's thread logging an event in the same process. Spawned,
    not forked: no fork after deltalake (docs/deployment.md)."""
    if jobs <= 1:
        for n, key in enumerate(keys, start=1):
            print(f"[{n}/{len(keys)}] {key}", file=sys.stderr, flush=True)
            started = time.monotonic()
            outcome = run_one(settings, defs, instance, run_config, key)
            execution.release_memory()
            ended(n, len(keys), key, outcome, started)
            yield key, outcome
        return
    from concurrent.futures.process import BrokenProcessPool

    shared = sharing_cores(settings, jobs)
    futures = [pool.submit(run_in_child, shared, run_config, key, n, len(keys))
               for n, key in enumerate(keys, start=1)]
    try:
        for key, future in zip(keys, futures):
            try:
                outcome = future.result()
            except (BrokenProcessPool, OSError) as exc:  # the run's process died
                outcome = RunOutcome(False, f"its process ended: {type(exc).__name__}: {exc}", ())
            yield key, outcome
    except BaseException:  # Ctrl-C: start no more runs (run_pool passes the signal on to those in flight)
        for future in futures:
            future.cancel()
        raise


def split_scopes(settings: Settings, keys: list[str]) -> list[str]:
    """`keys` with each venue-year too large for one step replaced by its sub-partitions
    (pipeline/sources/parts.py), the split recorded in `partition_parts`, and the rows of a
    previous reading that the split replaces dropped. A source that cannot be asked leaves the
    key whole: its run then fails with the reason."""
    from ..pipeline.partitions import parse_partition_key
    from ..pipeline.sources import registry
    from ..pipeline.sources.base import SourceError
    from ..pipeline.sources.parts import plan_split

    plan, sources = common.sources_plan(settings), None
    out: list[str] = []
    for key in keys:
        pk = parse_partition_key(key)
        if not plan.venue(pk.venue).openalex:  # only OpenAlex scopes are counted before they are read
            out.append(key)
            continue
        sources = sources or registry.build(settings)
        try:
            split = plan_split(pk, plan, sources)
        except SourceError as exc:
            print(f"paperatlas: {key}: cannot plan its reading ({exc}); read whole", file=sys.stderr)
            split = None
        if split is None:
            out.append(key)
            continue
        print(split.describe(), file=sys.stderr, flush=True)
        record_split(settings, split)
        out.extend(split.keys)
    return list(dict.fromkeys(out))


def record_split(settings: Settings, split) -> None:
    """Store the split (table `partition_parts`) and drop the rows of partitions it replaces:
    the whole year read before, or parts of an earlier split that are no longer parts."""
    from ..pipeline.sources.queries import stored_parts

    store = common.open_store(settings)
    scope = split.scope.key
    with store.connect() as con:
        stale = [k for k in stored_parts(store, scope, con=con) if k not in split.keys]
        store.drop_partitions(stale, con=con)
        if split.scope.is_part:  # a month planned alone: its own parts replace what it had
            store.replace_where("partition_parts", split.rows(), "partition_key = ? OR starts_with(partition_key, ?)",
                                [scope, scope + "-"], con=con)
        else:
            store.replace_where("partition_parts", split.rows(), "scope = ?", [scope], con=con)
    if stale:
        print(f"paperatlas: {scope}: dropped the rows of {', '.join(stale)} (now read as {len(split.keys)} "
              "partitions)", file=sys.stderr)


def cmd_partitions(args: argparse.Namespace, settings: Settings) -> int:
    from ..assets.automation import add_venue_years
    from ..assets.partitions import VENUE_YEAR

    instance = execution.instance(settings)
    if args.action == "add":
        if not args.keys:
            raise CliError("partitions add needs VENUE-YEARs, e.g. paperatlas partitions add neurips-2010..2018")
        keys = split_scopes(settings, common.expand(args.keys, settings, stored=False))
    elif args.action == "catalogue":
        keys = common.sources_plan(settings).catalogue_keys()
    else:
        keys = []
    if keys:
        new = add_venue_years(instance, keys)
        print(f"added {len(new)} venue-years ({len(keys) - len(new)} were there)")
        return 0
    known = instance.get_dynamic_partitions(VENUE_YEAR)
    done = set()
    if common.store_exists(settings):
        done = set(common.open_store(settings, read_only=True).partitions("partition_summary"))
    for key in sorted(known):
        print(f"{key}\t{'materialised' if key in done else '-'}")
    return 0


def cmd_add_folder(args: argparse.Namespace, settings: Settings) -> int:
    """Make a folder of PDFs a venue-year: a symlink under the local root, and the partition."""
    from ..assets.automation import add_venue_years

    key = common.partition_keys([args.partition])[0]
    folder = Path(args.folder).expanduser().resolve()
    if not folder.is_dir():
        raise CliError(f"{args.folder}: not a folder")
    refused = {Path(folder.anchor): "the filesystem root", Path.home().resolve(): "your home folder"}
    if folder in refused:
        raise CliError(f"{args.folder}: refusing {refused[folder]}; give the folder that holds the venue-year's PDFs")
    home = settings.home.resolve()
    if home.is_relative_to(folder):
        raise CliError(f"{args.folder}: refusing a folder that holds PAPERATLAS_HOME ({home}); "
                       "give the folder that holds the venue-year's PDFs")
    link = settings.local_dir / key
    if link.is_symlink() and link.resolve() == folder or link == folder:
        pass
    elif link.exists() or link.is_symlink():
        raise CliError(f"{link} already exists (for {link.resolve()}); remove it first to point {key} elsewhere")
    else:
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(folder, target_is_directory=True)
    pdfs = sum(1 for p in folder.rglob("*") if p.suffix.lower() == ".pdf")
    add_venue_years(execution.instance(settings), [key])
    print(f"{key}: {folder} ({pdfs} PDFs{', papers.csv' if (folder / 'papers.csv').is_file() else ''}) "
          f"via {link}; now `paperatlas run {key}`")
    return 0


def _parse_run(sub) -> None:
    run = command(
        sub, "run", "materialise every asset of venue-years through Dagster, then the yearly tables",
        "Loads the reference data when it is missing or changed (the ROR registry, your overrides, the term "
        "catalogue), then materialises every asset of each venue-year, one Dagster run each, and then the "
        "yearly tables. A venue-year that fails is one line with its cause at the end; the others go on. Exit "
        "code 1 when any failed.\n\nOffline: set PAPERATLAS_PAPERLISTS_BASE and PAPERATLAS_ROR_DUMP to local "
        "copies and add --pdfs off (or cached).",
        ["paperatlas run neurips-2016",
         "paperatlas run neurips-2016 icml-2021 --pdfs off",
         "PAPERATLAS_PAPERLISTS_BASE=../shared/data/paperlists PAPERATLAS_ROR_DUMP=../shared/data/ror/"
         "ror-partial-v2.zip paperatlas run neurips-2016 --pdfs off"], cmd_run)
    run.add_argument("partitions", nargs="+", metavar="VENUE-YEAR",
                     help=KEYS_HELP.format(every="the sources plan knows, up to last year"))
    run.add_argument("--refresh", action="store_true", help="download the sources again instead of using the cache")
    run.add_argument("--no-aggregates", action="store_true", help="skip recomputing yearly_aggregates")
    run.add_argument("--refresh-ror", action="store_true",
                     help="reload the ROR registry and overrides even when they look unchanged")
    run.add_argument("--pdfs", choices=["download", "cached", "off"], default=None,
                     help="download PDFs, use only stored ones, or skip them (default: PAPERATLAS_PDFS, else download)")
    run.add_argument("--jobs", type=int, default=None, metavar="N",
                     help="materialise up to N venue-years (or sub-partitions) at once, one Dagster run each; "
                          "N > 1 needs PAPERATLAS_EXECUTOR=celery and a PostgreSQL Dagster instance "
                          "(default: PAPERATLAS_RUN_CONCURRENCY, else 1)")
    placement_option(run, "the placement the stored paper_countries, edges and yearly tables use")


def _parse_add_folder(sub) -> None:
    folder = command(
        sub, "add-folder", "make a folder of PDFs (optionally with papers.csv) a venue-year",
        "Links FOLDER (no copy) as $PAPERATLAS_LOCAL_DIR/VENUE-YEAR and adds the partition; `paperatlas run "
        "VENUE-YEAR` then reads its PDFs (and papers.csv, when there is one, for titles and authors).",
        ["paperatlas add-folder ~/papers/lab-2024 mylab-2024 && paperatlas run mylab-2024"], cmd_add_folder)
    folder.add_argument("folder", metavar="FOLDER", help="the folder that holds the venue-year's PDFs")
    folder.add_argument("partition", metavar="VENUE-YEAR", help="the venue-year it becomes, e.g. mylab-2024")


def _parse_partitions(sub) -> None:
    parts = command(
        sub, "partitions", "list or add venue-year partitions",
        "list: every venue-year partition of the Dagster instance and whether it is materialised. add: new "
        "partitions (they show in the UI, ready to materialise or backfill). catalogue: every venue-year of the "
        "sources plan's venues, from their first edition to last year.",
        ["paperatlas partitions", "paperatlas partitions add neurips-2010..2018", "paperatlas partitions add icml-*"],
        cmd_partitions)
    parts.add_argument("action", nargs="?", choices=["list", "add", "catalogue"], default="list",
                       help="list (default), add VENUE-YEAR..., or catalogue")
    parts.add_argument("keys", nargs="*", metavar="VENUE-YEAR",
                       help=KEYS_HELP.format(every="the sources plan knows, up to last year"))


PARSERS = {"run": _parse_run, "add-folder": _parse_add_folder, "partitions": _parse_partitions}
