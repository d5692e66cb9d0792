"""Stage 4, countries: every counted row's country decided once (`country_decisions`), each
paper's countries under the run's placement (`paper_countries`), and the pairs of countries
that wrote together (`country_edges`)."""

from dagster import AssetExecutionContext, Definitions

from paperatlas.pipeline.countries import steps
from paperatlas.resources.conventions import Conventions
from paperatlas.resources.warehouse import WarehouseResource

from .affiliations import author_affiliations, resolved_affiliations
from .common import materialize, partition, stage_asset, step
from .sources import raw_papers


@stage_asset(
    "countries", deps=[author_affiliations, resolved_affiliations], code_version="2", eager=True,
    writes=("country_decisions",),
    checks={steps.DECIDED_CHECK: "Every counted author-affiliation row with a string or e-mail domain has exactly "
                                 "one decision."},
    description=(
        "The one place a country is decided (pipeline/countries/decision.py): for every counted "
        "author-affiliation row, its country under each placement (hq, coauthors), the rule, its "
        "confidence, which evidence decided (printed place, OpenReview profile, e-mail domain, "
        "institution, convention), the text, and for uncertain rows the countries it could hold. "
        "Everything downstream reads it."
    ),
)
def country_decisions(context: AssetExecutionContext, warehouse: WarehouseResource):
    return materialize(step(steps.country_decisions, warehouse.warehouse(), partition(context), context.log.info))


@stage_asset(
    "countries", deps=[raw_papers, country_decisions], code_version="5", eager=True,
    writes=("paper_countries", "partition_summary"),
    checks={steps.SHARES_CHECK: "Each paper's fractional shares lie in [0, 1] and sum to 1.",
            steps.UNIQUE_CHECK: "No paper counts twice for one country."},
    description=(
        "Countries of each paper under the run's placement (resource `conventions`), from "
        "country_decisions: authors from the country (whole counting) and the paper's fractional "
        "share. Also the venue-year's row of partition_summary."
    ),
)
def paper_countries(context: AssetExecutionContext, warehouse: WarehouseResource, conventions: Conventions):
    return materialize(step(steps.paper_countries, warehouse.warehouse(), partition(context), conventions.placement))


@stage_asset(
    "countries", deps=[paper_countries], code_version="2", eager=True, writes=("country_edges",),
    checks={steps.EDGES_CHECK: "Every paper with k countries has exactly k(k-1)/2 edges, all between its countries, "
                               "each weighing the two countries' fractional shares added."},
    description=(
        "Every unordered pair of countries that co-authored a paper: whole counting (one edge per "
        "paper) and fractional (the two countries' shares added, the Nature Index's bilateral "
        "collaboration score)."
    ),
)
def country_edges(context: AssetExecutionContext, warehouse: WarehouseResource):
    return materialize(step(steps.country_edges, warehouse.warehouse(), partition(context)))


defs = Definitions(assets=[country_decisions, paper_countries, country_edges])
