"""Read a venue-year from every source its plan names, and merge them (no Dagster here).

`readers` maps a source name to an object with `papers(pk, venue_plan, refresh, progress)`
returning a `ParseResult` (the resources in resources/ are such objects). Any source that
fails fails the venue-year, with its message: numbers for print must not quietly depend on
which server answered that day. The store keeps the previous rows until a run succeeds.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..models import IngestError, Paper
from ..partitions import PartitionKey
from .base import ParseResult, SourceError, merge_repeats
from .merge import MergeStats, merge
from .plan import SourcePlan


@dataclass
class Collected:
    papers: list[Paper]
    results: list[ParseResult]
    stats: list[MergeStats]
    errors: list[IngestError] = field(default_factory=list)

    @property
    def sources(self) -> list[str]:
        return [r.source for r in self.results]

    def source_rows(self, pk: PartitionKey) -> list[dict]:
        """Rows of `source_reads`: what each source gave and how much of it merged."""
        rows = []
        for priority, (result, stat) in enumerate(zip(self.results, self.stats), start=1):
            rows.append({
                "partition_key": pk.key, "source": result.source, "priority": priority, "papers": len(result.papers),
                "records": result.records, "errors": len(result.errors), "matched": stat.matched,
                "added": stat.added, "refs": len(result.refs),
                "first_ref": result.refs[0] if result.refs else None, "sha256": result.sha256,
                "from_cache": bool(result.from_cache),
                "stats": json.dumps({**result.stats, **{f"matched_by_{k}": v for k, v in stat.by_rule.items()},
                                     **{f"skipped_{k}": v for k, v in result.skipped_status.items()}}, sort_keys=True),
            })
        return rows

    @property
    def sha256(self) -> str:
        return ",".join(r.sha256 for r in self.results)


def collect(pk: PartitionKey, plan: SourcePlan, readers: Mapping[str, Any], refresh: bool = False,
            progress: Callable[[str], None] | None = None) -> Collected:
    names = plan.sources_for(pk)
    venue = plan.venue(pk.venue)
    results: list[ParseResult] = []
    for name in names:
        if name not in readers:
            raise SourceError(f"{pk}: source {name!r} has no reader configured")
        if progress:
            progress(f"{pk}: reading {name}")
        try:
            result = readers[name].papers(pk, venue, refresh=refresh, progress=progress)
        except SourceError as exc:
            message = str(exc)
            raise SourceError(message if message.startswith(f"[{name}]") else f"[{name}] {message}", exc.errors) from exc
        result.source = result.source or name
        if result.fetched_at:  # when the bytes were downloaded, also when they came from the cache
            for paper in result.papers:
                paper.fetched_at = result.fetched_at
        if not result.papers:
            skipped = sum(result.skipped_status.values())
            raise SourceError(f"[{name}] {pk}: yielded no papers ({result.records} records, {len(result.errors)} "
                              f"unreadable, {skipped} not accepted) from {result.refs[0] if result.refs else 'its source'}",
                              result.errors)
        result.papers, repeats = merge_repeats(pk, name, result.papers)
        result.errors.extend(repeats)
        results.append(result)
    errors = [e for r in results for e in r.errors]
    if len(results) == 1:
        only = results[0]
        return Collected(only.papers, results, [MergeStats(only.source, len(only.papers), added=len(only.papers))], errors)
    papers, stats, merge_errors = merge(pk.key, results)
    return Collected(papers, results, stats, errors + merge_errors)
