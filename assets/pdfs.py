"""Stage 2, PDFs: each paper's PDF (`paper_pdfs`), then what its first page says (`pdf_affiliations`)."""

from dagster import AssetExecutionContext, Definitions

from paperatlas.pipeline.pdfs import steps
from paperatlas.pipeline.pdfs.extract import EXTRACTOR_VERSION
from paperatlas.resources.pdfs import PdfStoreResource
from paperatlas.resources.warehouse import WarehouseResource

from .common import POOL_DOWNLOADS, POOL_PDF_CPU, materialize, partition, stage_asset, step
from .sources import raw_papers


@stage_asset(
    "pdfs", deps=[raw_papers], code_version="1", kinds={"pdf"}, pool=POOL_DOWNLOADS, writes=("paper_pdfs",),
    description=(
        "The PDF of each paper, in the PDF store ($PAPERATLAS_HOME/pdfs/<venue-year>/) or where a local "
        "folder keeps it: status (stored, downloaded, local, missing, no_link, failed), size, SHA-256 and, "
        "for failures, the reason (also in ingest_errors). Stored files are not downloaded again."
    ),
)
def paper_pdfs(context: AssetExecutionContext, pdf_store: PdfStoreResource, warehouse: WarehouseResource):
    return materialize(step(steps.paper_pdfs, warehouse.warehouse(), partition(context), pdf_store.store(),
                            pdf_store.mode, context.log.info))


@stage_asset(
    "pdfs", deps=[paper_pdfs], code_version=f"extractor-{EXTRACTOR_VERSION}", kinds={"pdf"}, pool=POOL_PDF_CPU,
    writes=("pdf_affiliations", "pdf_documents"),
    description=(
        "What page 1 of each PDF says: authors in printed order with their affiliation strings and "
        "e-mails (table pdf_affiliations), affiliation text tied to no author (rows without a position), "
        "and per PDF its title, layout, page count, why no author was tied (layout_reason) and former "
        "affiliations, recorded and never counted (table pdf_documents). Unreadable PDFs go to "
        "ingest_errors with the reason; a page with no author and no affiliation is a warning there. "
        "Uses all cores."
    ),
)
def pdf_affiliations(context: AssetExecutionContext, pdf_store: PdfStoreResource, warehouse: WarehouseResource):
    return materialize(step(steps.pdf_affiliations, warehouse.warehouse(), partition(context), pdf_store.processes(),
                            context.log.info))


defs = Definitions(assets=[paper_pdfs, pdf_affiliations])
