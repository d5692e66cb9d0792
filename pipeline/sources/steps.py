"""The sources stage as the `raw_papers` asset runs it: read, merge, store, describe."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

import pandas as pd

from ..models import FilePath, IngestError, Markdown, Outcome, Url, scrub_paper
from ..partitions import PartitionKey
from ..text import errors_summary, markdown_table, named, preview
from .base import STAGE, Source, SourceError
from .collect import collect
from .plan import PlanError, SourcePlan

SOURCE_READ_COLUMNS = ["source", "priority", "papers", "matched", "added", "errors", "from_cache", "first_ref"]


def raw_papers(store, pk: PartitionKey, plan: Callable[[], SourcePlan], sources: Mapping[str, Source],
               refresh: bool = False, log: Callable[[str], None] = print) -> Outcome:
    """Accepted papers of the venue-year from its sources, merged; table `raw_papers` (and
    `source_reads`: what each source gave)."""
    try:
        got = collect(pk, plan(), sources, refresh=refresh, progress=log)
    except (SourceError, PlanError) as exc:  # the venue-year cannot be read: the previous rows stay
        which = re.match(r"\[(\w+)\] ", str(exc))
        raise store.refuse(pk.key, STAGE, f"source {which.group(1)}" if which else "source", str(exc),
                           getattr(exc, "errors", [])) from None
    papers, errors = got.papers, list(got.errors)
    for paper in papers:
        fields = scrub_paper(paper)
        if fields:
            errors.append(IngestError(pk.key, STAGE, f"paper {paper.paper_id}", f"{', '.join(fields)}: characters "
                                      "that cannot be stored (lone surrogates, NUL or other controls) were replaced",
                                      "warning"))
    log(f"{pk}: {len(papers)} papers from {' + '.join(got.sources)} ({got.how}); {named(errors)}")
    frame = pd.DataFrame([p.row() for p in papers])
    if not frame.empty:
        frame["fetched_at"] = pd.to_datetime(frame["fetched_at"], utc=True).dt.tz_localize(None)
    reads = got.source_rows(pk)
    with store.connect() as con:
        rows = store.replace_partition("raw_papers", pk.key, frame, con=con)
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
