"""What every command shares: the user-facing error, the venue-years named on the command line,
the store and the sources plan."""

from __future__ import annotations

import argparse
import sys
import time
from typing import TextIO

from ..pipeline.config import Settings
from ..pipeline.partitions import PartitionKeyError, parse_partition_key

# When the command started (main() sets it): the run's summary gives the command's own wall time.
STARTED = [time.monotonic()]


class CliError(Exception):
    """A user-facing error: printed without a traceback, exit code 2."""


def partition_keys(raw: list[str]) -> list[str]:
    """The venue-years named, each once, in order (`nips-2016` read as `neurips-2016`)."""
    keys = []
    for key in raw:
        try:
            keys.append(parse_partition_key(key).key)
        except PartitionKeyError as exc:
            raise CliError(str(exc)) from exc
    return list(dict.fromkeys(keys))


def expand(raw: list[str], settings: Settings, stored: bool) -> list[str]:
    """The venue-years the arguments name, with ranges (`neurips-2010..2018`) and `neurips-*`
    expanded: for commands that materialise (`stored=False`), over the years the sources plan
    knows a venue held; for commands that read (`stored=True`), over the materialised years."""
    from ..pipeline.partitions import expand_partition_keys, is_pattern

    if not any(is_pattern(r) for r in raw):
        return partition_keys(raw)
    try:
        if stored:
            done: dict[str, set[int]] = {}
            for key in warehouse(settings).partitions("partition_summary"):
                pk = parse_partition_key(key)
                done.setdefault(pk.venue, set()).add(pk.year)
            keys, skipped = expand_partition_keys(raw, lambda venue: sorted(done.get(venue, ())),
                                                  lambda venue, year: year in done.get(venue, ()))
            why = "not materialised"
        else:
            keys, skipped = sources_plan(settings).expand(raw)
            why = "the sources plan knows no edition that year"
    except PartitionKeyError as exc:
        raise CliError(str(exc)) from exc
    if skipped:
        print(f"paperatlas: skipped {', '.join(skipped)} ({why})", file=sys.stderr)
    if not keys:
        raise CliError(f"{' '.join(raw)} names no venue-year ({why})")
    return keys


def refuse(settings: Settings, key: str, stage: str, item: str, reason: str):
    """Bad input the user gave (a verdicts file, a study file): a row in ingest_errors when there
    is a store, and one line for the user (a CliError, exit 2)."""
    from ..pipeline.models import IngestError

    if store_exists(settings):
        warehouse(settings, write=True).record_errors(key, stage, [IngestError(key, stage, item, reason, "error")])
    raise CliError(reason)


def open_file(path: str | None, mode: str, default: TextIO) -> TextIO:
    if path in (None, "-"):
        return default
    return open(path, mode, encoding="utf-8")


def open_store(settings: Settings, read_only: bool = False):
    """The store `PAPERATLAS_STORE` names (imported on first use: the command starts faster
    without DuckDB)."""
    from ..pipeline import store

    return store.open_store(settings, read_only=read_only)


def store_exists(settings: Settings) -> bool:
    if settings.store == "duckdb":
        return settings.database.exists()
    return open_store(settings, read_only=True).exists()


def warehouse(settings: Settings, write: bool = False):
    """The existing store; opened read-only (no lock file, nothing written) unless `write`."""
    if not store_exists(settings):
        raise CliError(f"no paperatlas store at {settings.store_location}; run `paperatlas run VENUE-YEAR` first")
    return open_store(settings, read_only=not write)


def sources_plan(settings: Settings):
    from ..pipeline.sources.plan import PlanError, load_plan

    try:
        return load_plan(settings.sources_file)
    except PlanError as exc:
        raise CliError(str(exc)) from exc


def placement_of(args: argparse.Namespace, settings: Settings) -> str:
    return getattr(args, "placement", None) or settings.placement


def several(raw: list[str]) -> bool:
    """Whether the arguments may name several venue-years: JSON output is then always a list."""
    from ..pipeline.partitions import is_pattern

    return len(raw) > 1 or any(is_pattern(r) for r in raw)


def paper_views(settings: Settings, key: str):
    from ..pipeline.reports import queries
    from ..pipeline.reports.views import load_views

    store = warehouse(settings)
    if not queries.is_materialised(store, key):
        raise CliError(f"{key} is not materialised yet; run `paperatlas run {key}` first")
    return load_views(store, key)
