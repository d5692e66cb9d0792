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
    reads = None
    if common.store_exists(settings):
        reads = source_reads(common.open_store(settings, read_only=True))
    for key in common.partition_keys(args.keys):
        pk = parse_partition_key(key)
        venue = plan.venue(pk.venue)
        print(f"{key} ({venue.name}):")
        for rank, source in enumerate(sources_for(pk, plan, sources), start=1):
            print(f"  {rank}. {source}: {sources[source].where(pk, venue)}")
        if reads is not None:
            for row in reads[reads["partition_key"] == key].itertuples():
                print(f"  last read: {row.source} gave {row.papers} papers ({row.matched} merged, {row.added} added, "
                      f"{row.errors} errors) from {row.refs} documents{' (cache)' if row.from_cache else ''}")
    return 0


def cmd_errors(args: argparse.Namespace, settings: Settings) -> int:
    store = common.warehouse(settings)
    frame = store.errors(common.partition_keys([args.partition])[0] if args.partition else None)
    for row in frame.itertuples(index=False):
        print("\t".join(str(v) for v in row))
    print(f"{len(frame)} rows", file=sys.stderr)
    return 0


def _parse_sources(sub) -> None:
    sources = command(
        sub, "sources", "which sources feed each venue-year, where each reads, what each gave last time",
        "Without VENUE-YEARs: the sources plan, each venue's sources (and per-year choices), refresh month "
        "and whether the new-years sensor watches it. With them: each source by priority with the URL or "
        "folder it reads, and what it gave at the last run.",
        ["paperatlas sources", "paperatlas sources neurips-2016 icml-2019"], cmd_sources)
    sources.add_argument("keys", nargs="*", metavar="VENUE-YEAR", help="venue-years to show (default: the whole plan)")


def _parse_errors(sub) -> None:
    errors = command(
        sub, "errors", "what could not be read, and why (the ingest_errors table)",
        "One line per item a step dropped or kept with a caveat: venue-year, step, severity, item, reason.",
        ["paperatlas errors neurips-2016", "paperatlas errors reference"], cmd_errors)
    errors.add_argument("partition", nargs="?", metavar="VENUE-YEAR",
                        help="one venue-year, or 'reference' for the reference data (default: all)")


PARSERS = {"sources": _parse_sources, "errors": _parse_errors}
