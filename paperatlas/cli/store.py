"""`store` and `worker`: where the store is and its upkeep, and a Celery worker for runs spread
over machines."""

from __future__ import annotations

import argparse
import os
import re
import sys

from ..pipeline.config import Settings
from ..pipeline.extras import require
from . import common, execution
from .common import CliError
from .options import command


def cmd_store(args: argparse.Namespace, settings: Settings) -> int:
    """Where the store is; `maintain`: compact, checkpoint and vacuum it; `repair`: roll a Delta
    table whose log cannot be read back to its last readable version."""
    if args.action == "repair":
        return _repair(args, settings)
    if args.table:
        raise CliError(f"store {args.action} takes no table; only `store repair TABLE` does")
    if args.action == "where":
        state = "" if common.store_exists(settings) else "\t(nothing written yet)"
        print(f"{settings.store}\t{settings.store_location}{state}")
        print(f"files\t{settings.files}")
        return 0
    store = common.warehouse(settings, write=True)
    rows = store.maintain(retention_hours=args.retention_hours, log=lambda line: print(line, file=sys.stderr))
    print(f"maintained {len(rows)} table(s) of {settings.store_location}")
    return 0


def _repair(args: argparse.Namespace, settings: Settings) -> int:
    """`store repair TABLE`: say what is damaged and what a roll-back loses, then (with --yes, or
    asked at a terminal) set the damaged log files aside and check the table reads."""
    from ..pipeline.delta_log import plan
    from ..pipeline.models import utcnow
    from ..pipeline.store import SCHEMA

    if settings.store != "delta":
        raise CliError(f"store repair is for the Delta store (PAPERATLAS_STORE=delta); this store is DuckDB "
                       f"({settings.database}): move a damaged file aside or restore a backup")
    if args.table not in SCHEMA:
        named = "name a table" if not args.table else f"no table {args.table!r}"
        raise CliError(f"{named}: paperatlas store repair TABLE, one of {', '.join(SCHEMA)}")
    store = common.open_store(settings)
    damage = store.damage(args.table)
    if damage.head < 0:
        print(f"{args.table}: not written yet at {damage.location}; nothing to repair")
        return 0
    if damage.healthy:
        store.dataset(args.table)  # delta-rs reads it too, or says why (one line, exit 2)
        print(f"{args.table}: its log reads (version {damage.head}); nothing to repair")
        return 0
    if damage.keep is None:  # no roll-back repairs it: what is wrong, and what does
        raise CliError(damage.message())
    print("\n".join(plan(damage)))
    if args.dry_run:
        print("dry run: nothing changed")
        return 0
    if not args.yes:
        if not sys.stdin.isatty():
            raise CliError(f"{args.table}: nothing changed; run again with --yes to do the above")
        if input("do it? [y/N] ").strip().lower() not in ("y", "yes"):
            print("nothing changed")
            return 0
    store.repair(args.table, utcnow().strftime("%Y%m%dT%H%M%SZ"), log=print)
    print(f"{args.table}: it reads again, at version {damage.keep}")
    if damage.lost_versions:
        print(_rerun(damage.partitions))
    return 0


def _rerun(partitions: list[str]) -> str:
    """What writes the lost commits' rows again: a run of the venue-years they belonged to."""
    from ..pipeline.partitions import PartitionKeyError, scope_of

    keys = []
    for partition in partitions:
        try:
            keys.append(scope_of(partition))
        except PartitionKeyError:
            continue
    if not keys:
        return ("the set-aside commits named no venue-year; `paperatlas run VENUE-YEAR` writes the tables "
                "a run writes again")
    return ("re-run what the set-aside commits wrote (the same numbers as before the damage): "
            f"paperatlas run {' '.join(sorted(set(keys)))}")


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    """A Celery worker for PAPERATLAS_EXECUTOR=celery: runs the steps the broker hands it."""
    if settings.executor != "celery":
        raise CliError("a worker serves PAPERATLAS_EXECUTOR=celery; set it (and PAPERATLAS_CELERY_BROKER) "
                       "here and where runs are started")
    require("dagster_celery.cli", "paperatlas worker")  # else the worker would start only to fail
    if settings.store == "duckdb":
        print("paperatlas: warning: PAPERATLAS_STORE=duckdb: a worker on another machine cannot reach this store; "
              "use PAPERATLAS_STORE=delta for workers on several machines", file=sys.stderr)
    execution.instance(settings)  # the instance's dagster.yaml names the shared (PostgreSQL) storage
    import yaml

    from ..pipeline.config import is_set, path_with_this_python

    def source(name: str, value: str):  # a URL set in the environment stays there (it may hold a password)
        return {"env": name} if is_set(name) else value

    config = settings.dagster_home / "celery-worker.yaml"
    config.write_text(yaml.safe_dump({"execution": {"config": {
        "broker": source("PAPERATLAS_CELERY_BROKER", settings.celery_broker),
        "backend": source("PAPERATLAS_CELERY_BACKEND", settings.celery_backend or settings.celery_broker),
    }}}), encoding="utf-8")
    command = [sys.executable, "-c", "from dagster_celery.cli import main; main()", "worker", "start",
               "-A", "dagster_celery.app", "-y", str(config), "-l", args.loglevel]
    if args.name:
        command += ["-n", args.name]
    command += ["--", f"--concurrency={args.concurrency}"]
    # dagster-celery starts `celery` by name: the one beside this Python, on PATH or not
    os.environ["PATH"] = path_with_this_python()
    os.environ["PAPERATLAS_HOME"] = str(settings.home)
    print(f"worker {args.name or '(default name)'}: broker {_redact(settings.celery_broker)}, "
          f"store {settings.store_location}, files {settings.files}", file=sys.stderr, flush=True)
    os.execvp(command[0], command)
    return 0  # pragma: no cover


def _redact(url: str) -> str:
    """`url` without its password."""
    return re.sub(r"(//[^:/@]*):[^@/]*@", r"\1:***@", url)


def _parse_store(sub) -> None:
    store = command(
        sub, "store", "where the store is, and its upkeep (compaction, checkpoints, vacuum)",
        "where: the store (PAPERATLAS_STORE: duckdb or delta) and its location, and the shared files folder. "
        "maintain: for the Delta store, compact each table's small files, write a checkpoint and delete the "
        "files no version within --retention-hours refers to; for DuckDB, write a checkpoint. Safe while "
        "other runs read and write: Delta commits are atomic and readers keep their version's files for "
        "the retention period.\n\n"
        "repair TABLE: for the Delta store, a table whose log cannot be read (a commit file cut short by a "
        "crash, a missing commit, a damaged checkpoint) is rolled back to its last readable version. It says "
        "what is damaged and which venue-years the set-aside commits wrote, then moves the damaged and later "
        "log files (never deletes them) into TABLE/_damaged/<time>/_delta_log/ and checks the table reads. "
        "Re-run the venue-years it names. --dry-run only says; --yes does it without asking.",
        ["paperatlas store", "paperatlas store maintain --retention-hours 24",
         "PAPERATLAS_STORE=delta paperatlas store repair raw_papers --dry-run"], cmd_store)
    store.add_argument("action", nargs="?", choices=["where", "maintain", "repair"], default="where",
                       help="where (default), maintain or repair")
    store.add_argument("table", nargs="?", help="repair: the table to roll back (e.g. raw_papers)")
    store.add_argument("--dry-run", action="store_true", help="repair: say what it would do, change nothing")
    store.add_argument("--yes", action="store_true", help="repair: do it without asking")
    store.add_argument("--retention-hours", type=float, default=168.0,
                       help="maintain: keep files that a version this recent needs (default 168, a week)")


def _parse_worker(sub) -> None:
    worker = command(
        sub, "worker", "a Celery worker that runs steps for PAPERATLAS_EXECUTOR=celery",
        "Starts a dagster-celery worker on this machine. It takes steps from the broker "
        "(PAPERATLAS_CELERY_BROKER), writes to the shared store (PAPERATLAS_STORE=delta, PAPERATLAS_STORE_URI) "
        "and files (PAPERATLAS_FILES), and records events in the Dagster instance that DAGSTER_HOME's "
        "dagster.yaml names (PostgreSQL for several machines; run `dagster instance migrate` once first). "
        "docs/deployment.md has the worked example.",
        ["PAPERATLAS_EXECUTOR=celery paperatlas worker --name w1@%h",
         "PAPERATLAS_EXECUTOR=celery paperatlas worker --concurrency 2"], cmd_worker)
    worker.add_argument("--name", help="the worker's name, e.g. w1@%%h (default: dagster-<unique>@<host>)")
    worker.add_argument("--concurrency", type=int, default=1,
                        help="steps at once on this worker (default 1: PDF steps use every core themselves)")
    worker.add_argument("--loglevel", default="INFO", help="Celery's log level (default INFO)")


PARSERS = {"store": _parse_store, "worker": _parse_worker}
