"""Stage 1, sources: `raw_papers`, the accepted papers of a venue-year as its sources give them."""

from dagster import AssetExecutionContext, Config, Definitions

from paperatlas.pipeline.sources import registry, steps

from .common import materialize, partition, stage_asset, step


class RawPapersConfig(Config):
    refresh: bool = False
    """Download the sources again (revalidating cached copies) instead of reusing them."""


@stage_asset(
    "sources", code_version="3", kinds={"json"}, writes=("raw_papers", "source_reads"),
    required_resource_keys={"warehouse", "sources_plan", *registry.NAMES},  # every source of the registry
    description=(
        "Accepted papers of one venue-year as the sources give them: id, title, abstract, authors in "
        "order, per-author affiliation strings and e-mail domains, PDF link, the sources that saw each "
        "paper and every source's view of each author. The venue-year's local folder of PDFs when it "
        "has one; else the sources its plan names (paperlists by default; virtual site, proceedings, "
        "OpenReview, OpenAlex), merged by title and first author. Sources' own country labels are kept "
        "for comparison only, never counted."
    ),
)
def raw_papers(context: AssetExecutionContext, config: RawPapersConfig):
    res = context.resources
    sources = {name: getattr(res, name).reader() for name in registry.NAMES}
    return materialize(step(steps.raw_papers, res.warehouse.warehouse(), partition(context), res.sources_plan.plan,
                            sources, refresh=config.refresh, log=context.log.info))


defs = Definitions(assets=[raw_papers])
