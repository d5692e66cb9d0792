"""Between the sources and the affiliations: the papers' PDFs (`paper_pdfs`), then what their
first pages say (`pdf_affiliations`)."""

import time

import pandas as pd
from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from pipeline.models import IngestError
from pipeline.pdfs.extract import CRASHED, EXTRACTOR_VERSION, PdfResult, read_pdf, table_rows
from pipeline.pool import ordered_map
from pipeline.pdfs.downloads import PdfItem
from pipeline.text import markdown_table
from resources.pdfs import PdfStoreResource
from resources.warehouse import WarehouseResource

from .common import GROUP, KINDS, errors_metadata, partition, table_metadata
from .partitions import venue_year_partitions
from .sources import raw_papers

USABLE = ("stored", "downloaded", "local")
# Below this many PDFs a process pool costs more to start than it saves.
POOL_MIN = 24


class _Progress:
    """A log line every 5% or 30 seconds, whichever comes first."""

    def __init__(self, context: AssetExecutionContext, label: str, total: int):
        self.context, self.label, self.total = context, label, total
        self.step = max(1, total // 20)
        self.last = time.monotonic()

    def __call__(self, done: int) -> None:
        now = time.monotonic()
        if done == self.total or done % self.step == 0 or now - self.last > 30:
            self.last = now
            self.context.log.info(f"{self.label}: {done}/{self.total}")


@asset(
    partitions_def=venue_year_partitions,
    deps=[raw_papers],
    group_name=GROUP,
    kinds={*KINDS, "pdf"},
    code_version="1",
    description=(
        "The PDF of each paper, in the PDF store ($PAPERATLAS_HOME/pdfs/<venue-year>/<safe id>.pdf) or "
        "where a local folder keeps it: status (stored, downloaded, local, missing, no_link, failed), "
        "size, SHA-256 and, for failures, the reason (also in ingest_errors). Files already stored "
        "are not downloaded again."
    ),
)
def paper_pdfs(context: AssetExecutionContext, pdf_store: PdfStoreResource, warehouse: WarehouseResource) -> MaterializeResult:
    pk = partition(context)
    store = warehouse.warehouse()
    papers = store.query("SELECT paper_id, pdf_url, pdf_path FROM raw_papers WHERE partition_key = ? ORDER BY paper_id",
                         [pk.key])
    items = [PdfItem(pid, url if isinstance(url, str) else None, path if isinstance(path, str) else None)
             for pid, url, path in papers.itertuples(index=False)]
    if pdf_store.mode == "off":
        # A local folder's PDFs are its papers: they are read whatever the mode.
        items = [i for i in items if i.local_path]
        context.log.info(f"{pk}: PDFs off (PAPERATLAS_PDFS=off): only local files are read ({len(items)})")
    progress = _Progress(context, f"{pk}: PDFs", len(items))
    records = pdf_store.store().collect(pk.key, items, on_progress=lambda n, total, r: progress(n))
    frame = pd.DataFrame([r.row() for r in records])
    errors = [IngestError(pk.key, "paper_pdfs", r.paper_id, r.error) for r in records if r.status == "failed"]
    with store.connect() as con:
        store.replace_partition("paper_pdfs", pk.key, frame, con=con)
        store.record_errors(pk.key, "paper_pdfs", errors, con=con)
    statuses = frame["status"].value_counts().to_dict() if len(frame) else {}
    usable = int(frame["status"].isin(USABLE).sum()) if len(frame) else 0
    context.log.info(f"{pk}: {usable}/{len(papers)} papers have a PDF ({statuses})")
    return MaterializeResult(
        metadata={
            **table_metadata(frame, ["paper_id", "status", "bytes", "error"]),
            **errors_metadata(errors),
            "mode": pdf_store.mode,
            "papers": len(papers),
            "papers_with_pdf": usable,
            "statuses": MetadataValue.json({k: int(v) for k, v in statuses.items()}),
            "megabytes": round(float(frame["bytes"].fillna(0).sum()) / 1e6, 1) if len(frame) else 0.0,
        }
    )


def read_all(paths: list[str], processes: int, on_done) -> list:
    """`read_pdf` over `paths`, in order; a process pool when there are enough of them."""
    if processes <= 1 or len(paths) < POOL_MIN:
        out = []
        for n, path in enumerate(paths, start=1):
            out.append(read_pdf(path))
            on_done(n)
        return out
    out = []
    for n, result in enumerate(ordered_map(read_pdf, paths, processes, _crashed, chunksize=8), start=1):
        out.append(result)
        on_done(n)
    return out


def _crashed(path: str) -> PdfResult:
    return PdfResult(file=path, error=CRASHED)


@asset(
    partitions_def=venue_year_partitions,
    deps=[paper_pdfs],
    group_name=GROUP,
    kinds={*KINDS, "pdf"},
    code_version=f"extractor-{EXTRACTOR_VERSION}",
    description=(
        "What page 1 of each PDF says: authors in printed order with their affiliation strings and "
        "e-mails (table pdf_affiliations), affiliation text tied to no author (NULL position), and per "
        "PDF its title, layout and page count (table pdf_documents). Unreadable PDFs (encrypted, "
        "corrupt, truncated, image-only, ...) go to ingest_errors with the reason. Uses all cores."
    ),
)
def pdf_affiliations(context: AssetExecutionContext, pdf_store: PdfStoreResource,
                     warehouse: WarehouseResource) -> MaterializeResult:
    pk = partition(context)
    store = warehouse.warehouse()
    pdfs = store.query(
        "SELECT paper_id, path FROM paper_pdfs WHERE partition_key = ? AND list_contains(?, status) ORDER BY paper_id",
        [pk.key, list(USABLE)])
    processes = pdf_store.processes()
    progress = _Progress(context, f"{pk}: first pages read", len(pdfs))
    started = time.monotonic()
    results = read_all(list(pdfs["path"]), processes, progress)
    took = time.monotonic() - started
    docs, rows, errors = [], [], []
    for paper_id, result in zip(pdfs["paper_id"], results):
        doc, found = table_rows(pk.key, paper_id, result)
        docs.append(doc)
        rows.extend(found)
        if result.error:
            errors.append(IngestError(pk.key, "pdf_affiliations", f"{paper_id} ({result.file})", result.error))
    frame = pd.DataFrame(rows)
    documents = pd.DataFrame(docs)
    with store.connect() as con:
        store.replace_partition("pdf_affiliations", pk.key, frame, con=con)
        store.replace_partition("pdf_documents", pk.key, documents, con=con)
        store.record_errors(pk.key, "pdf_affiliations", errors, con=con)
    read = len(pdfs) - len(errors)
    with_aff = int((documents["authors_with_affiliation"] > 0).sum()) if len(documents) else 0
    layouts = documents["layout"].value_counts().to_dict() if len(documents) else {}
    context.log.info(f"{pk}: {read}/{len(pdfs)} PDFs read in {took:.1f}s with {processes} processes; "
                     f"{with_aff} tie affiliations to authors")
    return MaterializeResult(
        metadata={
            **table_metadata(frame, ["paper_id", "author_position", "author_name", "affiliation", "email"]),
            **errors_metadata(errors),
            "pdfs": len(pdfs),
            "pdfs_read": read,
            "pdfs_with_author_affiliations": with_aff,
            "layouts": MetadataValue.json({str(k): int(v) for k, v in layouts.items()}),
            "seconds": round(took, 2),
            "pdfs_per_second": round(len(pdfs) / took, 1) if took > 0 else 0.0,
            "documents": MetadataValue.md(markdown_table(documents, 10, ["paper_id", "title", "layout", "authors", "error"])),
        }
    )
