"""The sources stage as the `raw_papers` asset runs it: read, merge, store, describe."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

import pandas as pd

from ..models import FilePath, IngestError, Markdown, Outcome, Url, scrub_paper
from ..partitions import PartitionKey
from ..text import errors_summary, markdown_table, named, plural, preview
from .base import STAGE, Source, SourceError, forget_papers, merge_repeats
from .collect import Collected, collect, streamed_source
from .merge import MergeStats
from .plan import PlanError, SourcePlan

SOURCE_READ_COLUMNS = ["source", "priority", "papers", "matched", "added", "errors", "from_cache", "first_ref"]


def raw_papers(store, pk: PartitionKey, plan: Callable[[], SourcePlan], sources: Mapping[str, Source],
               refresh: bool = False, log: Callable[[str], None] = print) -> Outcome:
    """Accepted papers of the venue-year from its sources, merged; table `raw_papers` (and
    `source_reads`: what each source gave)."""
    try:
        the_plan = plan()
        streaming = streamed_source(pk, the_plan, sources)
        if streaming is not None:
            return streamed(store, pk, the_plan, sources[streaming], refresh, log)
        got = collect(pk, the_plan, sources, refresh=refresh, progress=log)
    except (SourceError, PlanError) as exc:  # the venue-year cannot be read: the previous rows stay
        which = re.match(r"\[(\w+)\] ", str(exc))
        raise store.refuse(pk.key, STAGE, f"source {which.group(1)}" if which else "source", str(exc),
                           getattr(exc, "errors", [])) from None
    papers, errors = got.papers, list(got.errors)
    errors.extend(scrubbed(pk, papers))
    log(f"{pk}: {plural(len(papers), 'paper')} from {' + '.join(got.sources)} ({got.how}); {named(errors)}")
    frame = pd.DataFrame([p.row() for p in papers])
    if not frame.empty:
        frame["fetched_at"] = pd.to_datetime(frame["fetched_at"], utc=True).dt.tz_localize(None)
    reads = got.source_rows(pk)
    framed = store.framed("raw_papers", frame)
    with store.connect() as con:  # held for the writes alone (see reports.steps.headlines)
        rows = store.replace_partition("raw_papers", pk.key, framed, con=con)
        store.replace_partition("source_reads", pk.key, reads, con=con)
        store.record_errors(pk.key, STAGE, errors, con=con)
    ref = got.ref
    return Outcome(rows=rows, row="accepted paper", metadata={
        "preview": preview(frame, ["paper_id", "title", "authors", "sources"]),
        **errors_summary(errors),
        "papers": rows,
        "papers_with_affiliations": sum(1 for p in papers if any(p.affiliations) or p.unaligned_affiliations),
        "sources": got.sources,
        "per_source": Markdown(markdown_table(pd.DataFrame(reads, columns=SOURCE_READ_COLUMNS))),
        "papers_in_several_sources": sum(1 for p in papers if len(p.sources) > 1),
        "source": Url(ref) if ref.startswith("http") else FilePath(ref),
        "source_sha256": got.sha256,
        "skipped_not_accepted": got.skipped,
    })


def scrubbed(pk: PartitionKey, papers) -> list[IngestError]:
    """Clean every paper's text for the store (`scrub_paper`); a warning for each paper changed."""
    errors = []
    for paper in papers:
        fields = scrub_paper(paper)
        if fields:
            errors.append(IngestError(pk.key, STAGE, f"paper {paper.paper_id}", f"{', '.join(fields)}: characters "
                                      "that cannot be stored (lone surrogates, NUL or other controls) were replaced",
                                      "warning"))
    return errors


def streamed(store, pk: PartitionKey, plan: SourcePlan, source, refresh: bool, log: Callable[[str], None]) -> Outcome:
    """`raw_papers` from a source read in batches (OpenAlex): each batch is merged with the
    repeats seen so far, cleaned and staged, so memory holds one batch; the partition is
    replaced once every page is read (a failure halfway stores nothing). The digest of the
    pages, known at the end, is set on every paper."""
    name = source.name
    reading = source.stream(pk, plan.venue(pk.venue), refresh=refresh, progress=log)
    errors: list[IngestError] = []
    kept: dict = {}
    tally = {"papers": 0, "with_affiliations": 0}
    first: list[pd.DataFrame] = []

    def frames():
        for batch in reading:
            batch, repeats = merge_repeats(pk, name, batch, kept)
            errors.extend(repeats)
            errors.extend(scrubbed(pk, batch))
            forget_papers(kept)
            tally["papers"] += len(batch)
            tally["with_affiliations"] += sum(1 for p in batch if any(p.affiliations) or p.unaligned_affiliations)
            frame = pd.DataFrame([p.row() for p in batch])
            frame["fetched_at"] = pd.to_datetime(frame["fetched_at"], utc=True).dt.tz_localize(None)
            if not first:
                first.append(frame.head(20))
            log(f"{pk}: {plural(tally['papers'], 'paper')} staged")
            yield frame

    def finish() -> dict:
        result = reading.result
        if not tally["papers"]:
            raise SourceError(f"[{name}] {pk}: yielded no papers ({result.records} records, "
                              f"{len(result.errors)} unreadable) from {result.refs[0] if result.refs else 'its source'}",
                              result.errors)
        result.streamed = tally["papers"]
        if result.fetched_at is None:
            return {"source_sha256": result.sha256}
        fetched = pd.Timestamp(result.fetched_at)
        fetched = fetched.tz_convert(None) if fetched.tzinfo else fetched
        return {"source_sha256": result.sha256, "fetched_at": fetched.to_pydatetime()}

    # Staged before the store is opened: the DuckDB store's one-writer lock is not held while pages download.
    rows = store.replace_partition_staged("raw_papers", pk.key, frames(), finish=finish)
    with store.connect() as con:
        result = reading.result
        result.source = result.source or name
        errors = result.errors + errors
        got = Collected([], [result], [MergeStats(name, rows, added=rows)], errors)
        store.replace_partition("source_reads", pk.key, got.source_rows(pk), con=con)
        store.record_errors(pk.key, STAGE, errors, con=con)
    log(f"{pk}: {plural(rows, 'paper')} from {name} ({got.how}, in batches); {named(errors)}")
    frame = first[0] if first else pd.DataFrame()
    ref = got.ref
    return Outcome(rows=rows, row="accepted paper", metadata={
        "preview": preview(frame, ["paper_id", "title", "authors", "sources"]),
        **errors_summary(errors),
        "papers": rows,
        "papers_with_affiliations": tally["with_affiliations"],
        "sources": [name],
        "per_source": Markdown(markdown_table(pd.DataFrame(got.source_rows(pk), columns=SOURCE_READ_COLUMNS))),
        "papers_in_several_sources": 0,
        "source": Url(ref) if ref.startswith("http") else FilePath(ref),
        "source_sha256": result.sha256,
        "skipped_not_accepted": got.skipped,
        "read_in_batches": True,
    })
