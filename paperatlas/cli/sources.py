"""`sources` and `errors`: where each venue-year reads, and what could not be read."""

from __future__ import annotations

import argparse
import sys

from ..pipeline.config import Settings
from ..pipeline.partitions import parse_partition_key
from . import common
from .options import command


def cmd_sources(args: argparse.Namespace, settings: Settings) -> int:
    """The sources plan; for venue-years, what each source will read and what it gave last time."""
    from ..pipeline.sources import registry
    from ..pipeline.sources.collect import sources_for
    from ..pipeline.sources.queries import source_reads

    plan = common.sources_plan(settings)
    sources = registry.build(settings)
    print(f"plan: {' + '.join(plan.files)}")
    if not args.keys:
        print(f"default: {', '.join(plan.default)}")
        for venue in plan.all_venues():
            years = "; ".join(f"{y}: {', '.join(s)}" for y, s in sorted(venue.years.items()))
            print(f"{venue.key}	{', '.join(venue.sources)}{'  [' + years + ']' if years else ''}"
                  f"	refresh month {venue.refresh_month}{'' if venue.watch else ', not watched'}")
        return 0
    keys = common.partition_keys(args.keys)
    reads = aside = None
    if common.store_exists(settings):
        store = common.open_store(settings, read_only=True)
        reads, aside = source_reads(store), store.error_counts(keys)
    for key in keys:
        pk = parse_partition_key(key)
        venue = plan.venue(pk.venue)
        print(f"{key} ({venue.name}):")
        for rank, source in enumerate(sources_for(pk, plan, sources), start=1):
            print(f"  {rank}. {source}: {sources[source].where(pk, venue)}")
        if reads is not None:
            for line in _last_reads(reads[reads["partition_key"] == key], aside[aside["partition_key"] == key]):
                print(f"  {line}")
    return 0


def _last_reads(reads, aside) -> list[str]:
    """What each source gave at the last read of a venue-year, and the items its reading set
    aside, in the words of `run`'s summary ("1 item kept with a warning", "3 items left out")."""
    from ..pipeline.text import plural, set_aside

    lines = [f"last read: {row.source} gave {plural(row.papers, 'paper')} ({row.matched} merged, {row.added} added) "
             f"from {plural(row.refs, 'document')}{' (cache)' if row.from_cache else ''}"
             + (f"; {plural(row.errors, 'item')} set aside" if row.errors else "") for row in reads.itertuples()]
    stage = aside[aside["stage"] == "raw_papers"]
    if len(reads) and len(stage):
        key = reads["partition_key"].iloc[0]
        parts = [set_aside(row.severity, row.n) for row in stage.itertuples()]
        lines.append(f"set aside: {' and '.join(parts)} (all: `paperatlas errors {key}`)")
    return lines


def cmd_errors(args: argparse.Namespace, settings: Settings) -> int:
    from ..pipeline.affiliations.reference import REFERENCE
    from ..pipeline.sources.openalex_snapshot import SOURCE as SNAPSHOT
    from ..pipeline.text import display, plural

    store = common.warehouse(settings)
    key = args.partition
    if key and key.strip().lower() in (REFERENCE, SNAPSHOT):  # filed under their own keys, not a venue-year's
        key = key.strip().lower()
    elif key:
        key = common.partition_keys([key])[0]
    frame = store.errors(key)
    for row in frame.itertuples(index=False):
        print(display("\t".join(str(v) for v in row)))
    print(plural(len(frame), "row"), file=sys.stderr)
    return 0


def cmd_snapshot_index(args: argparse.Namespace, settings: Settings) -> int:
    """The OpenAlex snapshot's index pass on its own, for every venue of the plan that reads the
    snapshot: what the first `run` of such a venue would do first, done ahead of the runs."""
    from ..pipeline.sources import registry
    from ..pipeline.sources.base import SourceError
    from ..pipeline.sources.openalex_snapshot import SOURCE, venue_filter
    from ..pipeline.text import item_reason, plural

    plan = common.sources_plan(settings)
    reading = [v for v in plan.all_venues() if SOURCE in v.sources or any(SOURCE in s for s in v.years.values())]
    wanted = {v.strip().lower() for v in args.venues}
    if unknown := sorted(wanted - {v.key for v in reading}):
        raise common.CliError(f"{', '.join(unknown)}: no venue of the sources plan ({' + '.join(plan.files)}) reads "
                              f"{SOURCE} by that name; those that do: {', '.join(v.key for v in reading) or 'none'}")
    venues = [v for v in reading if not wanted or v.key in wanted]
    if not venues:
        raise common.CliError(f"no venue of the sources plan ({' + '.join(plan.files)}) reads {SOURCE}; name it in "
                              "a venue's sources (docs/sources.md, 'The OpenAlex snapshot')")
    try:
        filters = {v.key: venue_filter(v) for v in venues}
        source = registry.build(settings)[SOURCE]
        print(f"OpenAlex snapshot {source.root or '(PAPERATLAS_OPENALEX_SNAPSHOT unset)'}: indexing for "
              f"{', '.join(filters)} into {source.folder}", file=sys.stderr, flush=True)
        report = source.index().update(filters, SOURCE, lambda line: print(line, file=sys.stderr, flush=True))
    except SourceError as exc:
        raise common.CliError(str(exc)) from None
    for error in report.errors[:20]:  # the item's end names the file and line
        print(f"  {error.severity.upper()} {item_reason(error.item, error.reason, 200)}",
              file=sys.stderr)
    if report.files:  # the last pass that read files: its errors (a pass with nothing new keeps them)
        common.open_store(settings).record_errors(SOURCE, "raw_papers", report.errors)
    print(f"{report.files} part files read, {report.skipped} already read; {report.works} works, {report.kept} kept; "
          f"{plural(len(report.errors), 'error')} (paperatlas errors {SOURCE}) in {report.seconds:.1f}s")
    return 0


def _parse_snapshot_index(sub) -> None:
    index = command(
        sub, "snapshot-index", "read new OpenAlex snapshot files into the local index, ahead of the runs",
        "The incremental pass over PAPERATLAS_OPENALEX_SNAPSHOT (a folder or s3://) that the first run of a "
        "venue reading openalex_snapshot would start with: every part file not yet read, for every such venue "
        "of the sources plan at once (or those named). Safe beside running reads: they see the index as it was "
        "when they started. Lines that could not be read go to `paperatlas errors openalex_snapshot`.",
        ["paperatlas snapshot-index", "paperatlas snapshot-index airesearch"], cmd_snapshot_index)
    index.add_argument("venues", nargs="*", metavar="VENUE", help="only these venues (default: every one that "
                       "reads the snapshot)")


def _parse_sources(sub) -> None:
    sources = command(
        sub, "sources", "which sources feed each venue-year, where each reads, what each gave last time",
        "Without VENUE-YEARs: the sources plan, each venue's sources (and per-year choices), refresh month "
        "and whether the new-years sensor watches it. With them: each source by priority with the URL or "
        "folder it reads, and what it gave at the last run.",
        ["paperatlas sources", "paperatlas sources neurips-2016 icml-2021"], cmd_sources)
    sources.add_argument("keys", nargs="*", metavar="VENUE-YEAR", help="venue-years to show (default: the whole plan)")


def _parse_errors(sub) -> None:
    errors = command(
        sub, "errors", "what could not be read, and why (the ingest_errors table)",
        "One line per item a step dropped or kept with a caveat: venue-year, step, severity, item, reason.",
        ["paperatlas errors neurips-2016", "paperatlas errors reference"], cmd_errors)
    errors.add_argument("partition", nargs="?", metavar="VENUE-YEAR",
                        help="one venue-year, 'reference' for the reference data, or 'openalex_snapshot' for the "
                        "last snapshot-index pass (default: all)")


PARSERS = {"sources": _parse_sources, "errors": _parse_errors, "snapshot-index": _parse_snapshot_index}
