"""Stage 1: sources -> `raw_papers`."""

from typing import NoReturn

import pandas as pd
from dagster import AssetExecutionContext, Config, Failure, MaterializeResult, MetadataValue, asset

from pipeline.models import IngestError
from pipeline.sources.paperlists import STAGE, SourceError
from resources.local import LocalPdfFolders
from resources.paperlists import PaperlistsSource
from resources.warehouse import WarehouseResource

from .common import GROUP, KINDS, errors_metadata, partition, table_metadata
from .partitions import venue_year_partitions


class RawPapersConfig(Config):
    refresh: bool = False
    """Download the source again (revalidating the cached copy) instead of reusing it."""


def _fail(store, key: str, reason: str, errors: list[IngestError]) -> NoReturn:
    """The source as a whole is unusable: record why, keep the previous rows, fail the partition."""
    store.record_errors(key, STAGE, [IngestError(key, STAGE, "source file", reason), *errors])
    raise Failure(description=reason, metadata={"partition": key})


@asset(
    partitions_def=venue_year_partitions,
    group_name=GROUP,
    kinds=KINDS,
    code_version="2",
    description=(
        "Accepted papers of one venue-year as the source gives them: id, title, abstract, authors "
        "in order, per-author affiliation strings and e-mail domains, PDF link, source file and "
        "checksum. The source is the venue-year's local folder of PDFs when there is one, else "
        "paperlists. The source's own institutions and country labels are never read."
    ),
)
def raw_papers(
    context: AssetExecutionContext,
    config: RawPapersConfig,
    paperlists: PaperlistsSource,
    local_pdfs: LocalPdfFolders,
    warehouse: WarehouseResource,
) -> MaterializeResult:
    pk = partition(context)
    store = warehouse.warehouse()
    folder = local_pdfs.folder(pk)
    try:
        if folder is not None:
            parsed = local_pdfs.load(pk)
            ref, sha256, how = str(folder), (parsed.papers[0].source_sha256 if parsed.papers else ""), "local folder"
        else:
            source, parsed = paperlists.load(pk, refresh=config.refresh)
            ref, sha256, how = source.ref, source.sha256, "cache" if source.from_cache else "fresh"
    except SourceError as exc:
        _fail(store, pk.key, str(exc), [])
    if not parsed.papers:
        skipped = sum(parsed.skipped_status.values())
        _fail(store, pk.key, f"{pk}: {ref} yielded no papers ({parsed.records} records, "
              f"{len(parsed.errors)} unreadable, {skipped} not accepted)", parsed.errors)
    context.log.info(
        f"{pk}: {len(parsed.papers)} papers from {parsed.records} records in {ref}"
        f" ({how}), {len(parsed.errors)} errors/warnings"
    )
    frame = pd.DataFrame([p.row() for p in parsed.papers])
    if not frame.empty:
        frame["fetched_at"] = pd.to_datetime(frame["fetched_at"]).dt.tz_localize(None)
    with store.connect() as con:
        rows = store.replace_partition("raw_papers", pk.key, frame, con=con)
        store.record_errors(pk.key, STAGE, parsed.errors, con=con)
    with_aff = int(sum(1 for p in parsed.papers if any(p.affiliations) or p.unaligned_affiliations))
    return MaterializeResult(
        metadata={
            **table_metadata(frame, ["paper_id", "title", "authors"]),
            **errors_metadata(parsed.errors),
            "papers": rows,
            "papers_with_affiliations": with_aff,
            "source": MetadataValue.url(ref) if ref.startswith("http") else MetadataValue.path(ref),
            "source_sha256": sha256,
            "skipped_not_accepted": MetadataValue.json(parsed.skipped_status),
        }
    )
