"""Stage 1: sources -> `raw_papers` (and `source_reads`, what each source gave)."""

import re
from typing import NoReturn

import pandas as pd
from dagster import AssetExecutionContext, Config, Failure, MaterializeResult, MetadataValue, asset

from pipeline.models import IngestError
from pipeline.sources.base import STAGE, SourceError
from pipeline.sources.collect import collect
from pipeline.sources.plan import PlanError
from pipeline.text import markdown_table
from resources.local import LocalPdfFolders
from resources.paperlists import PaperlistsSource
from resources.sources import OpenAlexSource, OpenReviewSource, ProceedingsSource, SourcesPlanFile, VirtualSiteSource
from resources.warehouse import WarehouseResource

from .common import GROUP, KINDS, errors_metadata, partition, table_metadata
from .partitions import venue_year_partitions


class RawPapersConfig(Config):
    refresh: bool = False
    """Download the sources again (revalidating cached copies) instead of reusing them."""


def _fail(store, key: str, reason: str, errors: list[IngestError]) -> NoReturn:
    """The source as a whole is unusable: record why, keep the previous rows, fail the partition."""
    named = re.match(r"\[(\w+)\] ", reason)
    item = f"source {named.group(1)}" if named else "source"
    store.record_errors(key, STAGE, [IngestError(key, STAGE, item, reason), *errors])
    raise Failure(description=reason, metadata={"partition": key})


@asset(
    partitions_def=venue_year_partitions,
    group_name=GROUP,
    kinds=KINDS,
    code_version="3",
    description=(
        "Accepted papers of one venue-year as the sources give them: id, title, abstract, authors in "
        "order, per-author affiliation strings and e-mail domains, PDF link, the sources that saw each "
        "paper and every source's view of each author (author_sources). The venue-year's local folder "
        "of PDFs when there is one; else the sources its plan names (paperlists by default; the NeurIPS "
        "virtual site and proceedings, OpenReview, OpenAlex), merged by title and first author. "
        "Sources' own institutions and country labels are kept for comparison only, never counted."
    ),
)
def raw_papers(
    context: AssetExecutionContext,
    config: RawPapersConfig,
    paperlists: PaperlistsSource,
    virtual_site: VirtualSiteSource,
    proceedings: ProceedingsSource,
    openreview: OpenReviewSource,
    openalex: OpenAlexSource,
    sources_plan: SourcesPlanFile,
    local_pdfs: LocalPdfFolders,
    warehouse: WarehouseResource,
) -> MaterializeResult:
    pk = partition(context)
    store = warehouse.warehouse()
    folder = local_pdfs.folder(pk)
    source_rows: list[dict] = []
    try:
        if folder is not None:
            parsed = local_pdfs.load(pk)
            papers, errors, sources = parsed.papers, parsed.errors, ["local"]
            skipped = dict(parsed.skipped_status)
            ref, sha256, how = str(folder), (parsed.papers[0].source_sha256 if parsed.papers else ""), "local folder"
            if not papers:
                _fail(store, pk.key, f"{pk}: {ref} yielded no papers ({parsed.records} records, "
                      f"{len(parsed.errors)} unreadable, {sum(skipped.values())} not accepted)", parsed.errors)
        else:
            plan = sources_plan.plan()
            readers = {"paperlists": paperlists, "virtual_site": virtual_site, "proceedings": proceedings,
                       "openreview": openreview, "openalex": openalex}
            got = collect(pk, plan, readers, refresh=config.refresh, progress=context.log.info)
            papers, errors, sources = got.papers, got.errors, got.sources
            ref = got.results[0].refs[0] if got.results[0].refs else ""
            sha256 = got.sha256
            how = "cache" if all(r.from_cache for r in got.results) else "fresh"
            source_rows = got.source_rows(pk)
            skipped = {f"{r.source}: {k}": v for r in got.results for k, v in r.skipped_status.items()}
            if len(got.results) == 1:
                skipped = dict(got.results[0].skipped_status)
            for paper in papers:
                if not paper.source_sha256:
                    paper.source_sha256 = next(r.sha256 for r in got.results if r.source == paper.source)
    except (SourceError, PlanError) as exc:
        _fail(store, pk.key, str(exc), getattr(exc, "errors", []))
    context.log.info(f"{pk}: {len(papers)} papers from {' + '.join(sources)} ({how}), {len(errors)} errors/warnings")
    frame = pd.DataFrame([p.row() for p in papers])
    if not frame.empty:
        frame["fetched_at"] = pd.to_datetime(frame["fetched_at"], utc=True).dt.tz_localize(None)
    with store.connect() as con:
        rows = store.replace_partition("raw_papers", pk.key, frame, con=con)
        store.replace_partition("source_reads", pk.key, source_rows, con=con)
        store.record_errors(pk.key, STAGE, errors, con=con)
    with_aff = int(sum(1 for p in papers if any(p.affiliations) or p.unaligned_affiliations))
    per_source = pd.DataFrame(source_rows, columns=["source", "priority", "papers", "matched", "added", "errors",
                                                    "from_cache", "first_ref"])
    return MaterializeResult(
        metadata={
            **table_metadata(frame, ["paper_id", "title", "authors", "sources"]),
            **errors_metadata(errors),
            "papers": rows,
            "papers_with_affiliations": with_aff,
            "sources": MetadataValue.json(sources),
            "per_source": MetadataValue.md(markdown_table(per_source) if len(per_source) else "local folder"),
            "papers_in_several_sources": int(sum(1 for p in papers if len(p.sources) > 1)),
            "source": MetadataValue.url(ref) if ref.startswith("http") else MetadataValue.path(ref),
            "source_sha256": sha256,
            "skipped_not_accepted": MetadataValue.json(skipped),
        }
    )
