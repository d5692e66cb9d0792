"""Stage 3, affiliations: each author's affiliation rows (`author_affiliations`), each string
resolved to an institution and a country (`resolved_affiliations`), and the strings nothing
could place (`unresolved_affiliations`)."""

from dagster import AssetExecutionContext, Definitions

from paperatlas.pipeline.affiliations import steps
from paperatlas.pipeline.affiliations.reference import resolver_from_store
from paperatlas.pipeline.affiliations.resolver import RESOLVER_VERSION
from paperatlas.resources.ror import RorRegistry
from paperatlas.resources.warehouse import WarehouseResource

from .common import materialize, partition, stage_asset, step
from .pdfs import pdf_affiliations
from .reference import affiliation_overrides, ror_registry
from .sources import raw_papers


@stage_asset(
    "affiliations", deps=[raw_papers, pdf_affiliations], code_version="2", writes=("author_affiliations",),
    description=(
        "One row per (paper, author, affiliation string) from the metadata and from page 1 of the PDF, "
        "with its source, the author's e-mail domain, how the PDF's author was matched to the "
        "metadata's, and whether the row counts: the PDF's affiliations for an author it gives any, "
        "else the metadata's (pipeline/affiliations/reconcile.py)."
    ),
)
def author_affiliations(context: AssetExecutionContext, warehouse: WarehouseResource):
    return materialize(step(steps.author_affiliations, warehouse.warehouse(), partition(context), context.log.info))


@stage_asset(
    "affiliations", deps=[author_affiliations, ror_registry, affiliation_overrides],
    writes=("resolved_affiliations",),
    code_version=f"resolver-{RESOLVER_VERSION}", eager=True,
    checks={steps.RESOLVED_CHECK: f"At least {steps.RESOLVED_THRESHOLD:.0%} of the venue-year's affiliation "
                                  "strings resolve to a country."},
    description=(
        "Each distinct (affiliation string, e-mail domain) resolved to an institution (ROR id where "
        "known) and an ISO 3166-1 alpha-2 country (HK, MO, TW apart), with the rule that decided, the "
        "text it read, a confidence, the other countries the evidence points to and, when unresolved, "
        "the reason (pipeline/affiliations/resolver/). A new registry or overrides file re-resolves "
        "every venue-year."
    ),
)
def resolved_affiliations(context: AssetExecutionContext, warehouse: WarehouseResource, ror: RorRegistry):
    store = warehouse.warehouse()
    resolver, checksum, digest = step(resolver_from_store, store, ror.index)
    return materialize(step(steps.resolved_affiliations, store, partition(context), resolver, checksum, digest,
                            context.log.info))


@stage_asset(
    "affiliations", partitioned=False, deps=[resolved_affiliations], code_version="1", eager=True,
    writes=("unresolved_affiliations",),
    description=(
        "Every affiliation string no rule could place, across all venue-years, with the reason, how "
        "many author rows and papers carry it and example papers: the review list. Fix one with a "
        "line in the overrides file."
    ),
)
def unresolved_affiliations(context: AssetExecutionContext, warehouse: WarehouseResource):
    return materialize(step(steps.unresolved_affiliations, warehouse.warehouse(), context.log.info))


defs = Definitions(assets=[author_affiliations, resolved_affiliations, unresolved_affiliations])
