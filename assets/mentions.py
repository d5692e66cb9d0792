"""Stage 5, mentions: what each paper names (`paper_mentions`), by author country
(`mentions_by_country`), and the origin of tools against the countries of their users
(`tool_dependency`)."""

from dagster import AssetExecutionContext, Definitions

from paperatlas.pipeline.mentions import steps
from paperatlas.pipeline.mentions.fulltext import TEXT_VERSION
from paperatlas.resources.pdfs import PdfStoreResource
from paperatlas.resources.terms import TermCatalogueFile
from paperatlas.resources.warehouse import WarehouseResource

from .common import POOL_PDF_CPU, materialize, partition, stage_asset, step
from .countries import paper_countries
from .pdfs import paper_pdfs
from .reference import term_catalogue
from .sources import raw_papers


@stage_asset(
    "mentions", deps=[raw_papers, paper_pdfs, term_catalogue], code_version=f"text-{TEXT_VERSION}", kinds={"pdf"},
    writes=("paper_mentions", "paper_texts"),
    pool=POOL_PDF_CPU,
    checks={steps.ROWS_CHECK: "One row per paper, term and scope, each with at least one match."},
    description=(
        "What each paper names from the term catalogue, per scope (title, abstract, body, references): "
        "matches, the first surface form and a snippet for review. Title and abstract from the "
        "metadata when it has them, else from the PDF; body and references from the PDF's full text "
        "(cached by the PDF's SHA-256, so a catalogue change rescans without reading PDFs again). "
        "Tables paper_mentions and paper_texts."
    ),
)
def paper_mentions(context: AssetExecutionContext, pdf_store: PdfStoreResource, terms: TermCatalogueFile,
                   warehouse: WarehouseResource):
    return materialize(step(steps.paper_mentions, warehouse.warehouse(), partition(context), terms.file(),
                            str(pdf_store.texts()), pdf_store.processes(), context.log.info))


@stage_asset(
    "mentions", deps=[paper_mentions, paper_countries, term_catalogue], code_version="1", eager=True,
    writes=("mentions_by_country",),
    checks={steps.SCOPES_CHECK: "A paper naming a term in its title or abstract names it in its full text too.",
            steps.SHARES_CHECK: "Counts never exceed the country's papers; shares lie in [0, 1]."},
    description=(
        "Per term and author country: the papers with an author from the country that name the term, "
        "in the title and abstract and in the full text (references left out), with their share of the "
        "country's papers and the fractional count. Countries as stored (HK, MO, TW apart)."
    ),
)
def mentions_by_country(context: AssetExecutionContext, terms: TermCatalogueFile, warehouse: WarehouseResource):
    return materialize(step(steps.mentions_by_country, warehouse.warehouse(), partition(context), terms.file()))


@stage_asset(
    "mentions", deps=[paper_mentions, paper_countries, term_catalogue], code_version="1", eager=True,
    writes=("tool_dependency",),
    checks={steps.SHARES_CHECK: "0 <= fractional <= papers <= papers using the origin's tools, and per origin "
                                "the fractional counts sum to at most those papers."},
    description=(
        "Who builds, who uses: the country a tool comes from x the countries of the authors who name it "
        "in their full text, whole and fractional, per kind of tool and per notion of origin (the "
        "organisation's country, or where the team that built it sat)."
    ),
)
def tool_dependency(context: AssetExecutionContext, terms: TermCatalogueFile, warehouse: WarehouseResource):
    return materialize(step(steps.tool_dependency, warehouse.warehouse(), partition(context), terms.file()))


defs = Definitions(assets=[paper_mentions, mentions_by_country, tool_dependency])
