"""Stage 6, reports: the headline numbers with their intervals (`headlines`), the venue-year's
report folder (`venue_year_report`), and the yearly tables over every venue-year
(`yearly_aggregates`)."""

from dagster import AssetExecutionContext, Config, Definitions
from pydantic import Field

from paperatlas.pipeline.conventions import LOW_CONFIDENCE
from paperatlas.pipeline.reports import headlines as hl
from paperatlas.pipeline.reports import steps
from paperatlas.resources.conventions import Conventions
from paperatlas.resources.reports import ReportsFolder
from paperatlas.resources.warehouse import WarehouseResource

from .affiliations import author_affiliations, resolved_affiliations
from .common import materialize, partition, stage_asset, step
from .countries import country_edges, paper_countries
from .mentions import mentions_by_country, paper_mentions
from .sources import raw_papers


@stage_asset(
    "reports", code_version="2", eager=True,
    writes=("headline_numbers", "headline_snapshots", "headline_snapshot_evidence", "headline_snapshot_runs"),
    deps=[raw_papers, author_affiliations, resolved_affiliations, paper_countries, country_edges, paper_mentions,
          mentions_by_country],
    checks={
        steps.COVERAGE_CHECK: "At least 95% of the papers with an affiliation string or e-mail domain have a "
                              "resolved country.",
        steps.DUPLICATES_CHECK: "No paper id twice, and no paper twice under two ids (same title and authors).",
        steps.BOUNDS_CHECK: "Every share lies in [0, 1]; no number exceeds its denominator; US-CN never exceeds US "
                            "or CN; every placement's count lies in its [low, high].",
    },
    description=(
        "The headline numbers of the venue-year under both placements and every China scope (papers; "
        "with a US, a CN author; US-CN co-authored; international; transformer / Llama / Qwen named in "
        "papers with CN or US authors), each with its interval [low, high] and its low-confidence "
        "papers. Each materialisation stores a snapshot of every paper's evidence, so `paperatlas "
        "diff` says which papers entered or left each number and why."
    ),
)
def headlines(context: AssetExecutionContext, warehouse: WarehouseResource, conventions: Conventions):
    return materialize(step(steps.headlines, warehouse.warehouse(), partition(context), conventions.placement,
                            context.run_id, context.log.info))


class ReportConfig(Config):
    china_scope: str = Field(default="cn", description="cn, cn+hk+mo or greater: folds HK/MO/TW for "
                                                       "countries, pairs, charts and the review sample.")
    seed: int = Field(default=hl.DEFAULT_SEED, description="Seed of the review samples.")
    sample_size: int = Field(default=hl.DEFAULT_SAMPLE, description="Papers sampled per headline number.")
    min_confidence: float = Field(default=LOW_CONFIDENCE,
                                  description="Rows resolved below this confidence are low-confidence.")


@stage_asset(
    "reports", deps=[headlines], code_version="2", eager=True, kinds={"html"}, writes=("review_samples",),
    description=(
        "The report of the venue-year in $PAPERATLAS_HOME/reports/<venue-year>/: report.md, .html and "
        ".json with charts, the review sample of every headline number (review.csv, review.html) with "
        "its evidence, every low-confidence paper and CSV/Parquet exports. Table review_samples."
    ),
)
def venue_year_report(context: AssetExecutionContext, config: ReportConfig, warehouse: WarehouseResource,
                      reports: ReportsFolder, conventions: Conventions):
    pk = partition(context)
    return materialize(step(steps.venue_year_report, warehouse.warehouse(), pk, reports.folder(pk.key),
                            conventions.placement, config.china_scope, config.seed, config.sample_size,
                            config.min_confidence, context.log.info))


@stage_asset(
    "reports", partitioned=False, deps=[paper_countries, country_edges, headlines], code_version="3", eager=True,
    writes=("yearly_country", "yearly_pairs", "yearly_partners", "yearly_headlines", "yearly_summary"),
    description=(
        "Per venue and year, and per year across venues (venue 'all'): papers per country (whole and "
        "fractional), their share and its change from the previous year, international shares, top "
        "partners, country pairs and the headline numbers. Reads whatever venue-years exist, so a new "
        "one recomputes only its partition and these cheap tables."
    ),
)
def yearly_aggregates(context: AssetExecutionContext, warehouse: WarehouseResource, conventions: Conventions):
    return materialize(step(steps.yearly_aggregates, warehouse.warehouse(), conventions.placement, context.log.info))


defs = Definitions(assets=[headlines, venue_year_report, yearly_aggregates])
