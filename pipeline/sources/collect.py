"""Read a venue-year from every source its plan names, and merge them (no Dagster here).

`sources` maps a source name to a `Source` (pipeline/sources/registry.py). A venue-year with a
local folder is read from it alone; else from the plan's sources, highest priority first. Any
source that fails fails the venue-year, with its message: numbers for print must not quietly
depend on which server answered that day. The store keeps the previous rows until a run
succeeds.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ..models import IngestError, Paper
from ..partitions import PartitionKey
from .base import ParseResult, Source, SourceError, merge_repeats
from .merge import MergeStats, merge
from .plan import SourcePlan
from .registry import LOCAL


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
                "partition_key": pk.key, "source": result.source, "priority": priority,
                "papers": len(result.papers) or result.streamed,
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

    @property
    def ref(self) -> str:
        """Where the highest-priority source read (a URL or a path)."""
        return self.results[0].refs[0] if self.results and self.results[0].refs else ""

    @property
    def how(self) -> str:
        if self.sources == [LOCAL]:
            return "local folder"
        return "cache" if all(r.from_cache for r in self.results) else "fresh"

    @property
    def skipped(self) -> dict[str, int]:
        """Records not accepted (rejected, withdrawn), per status; per source when several."""
        if len(self.results) == 1:
            return dict(self.results[0].skipped_status)
        return {f"{r.source}: {k}": v for r in self.results for k, v in r.skipped_status.items()}


def sources_for(pk: PartitionKey, plan: SourcePlan, sources: Mapping[str, Source]) -> tuple[str, ...]:
    """The sources that feed `pk`: its local folder alone when it has one, else the plan's."""
    local = sources.get(LOCAL)
    if local is not None and local.available(pk, plan.venue(pk.venue)):
        return (LOCAL,)
    return plan.sources_for(pk)


def streamed_source(pk: PartitionKey, plan: SourcePlan, sources: Mapping[str, Source]) -> str | None:
    """The source that reads `pk` batch by batch: the venue-year's only source, when it can."""
    names = sources_for(pk, plan, sources)
    if len(names) == 1 and hasattr(sources.get(names[0]), "stream"):
        return names[0]
    return None


def collect(pk: PartitionKey, plan: SourcePlan, sources: Mapping[str, Source], refresh: bool = False,
            progress: Callable[[str], None] | None = None) -> Collected:
    venue = plan.venue(pk.venue)
    results: list[ParseResult] = []
    for name in sources_for(pk, plan, sources):
        if name not in sources:
            raise SourceError(f"{pk}: source {name!r} has no reader configured")
        if progress:
            progress(f"{pk}: reading {name}")
        try:
            result = sources[name].papers(pk, venue, refresh=refresh, progress=progress)
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
    for result in results:  # every paper names the digest of what its source read
        for paper in result.papers:
            paper.source_sha256 = paper.source_sha256 or result.sha256
    errors = [e for r in results for e in r.errors]
    if len(results) == 1:
        only = results[0]
        return Collected(only.papers, results, [MergeStats(only.source, len(only.papers), added=len(only.papers))], errors)
    papers, stats, merge_errors = merge(pk.key, results)
    return Collected(papers, results, stats, errors + merge_errors)
