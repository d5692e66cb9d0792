"""The studies group: one asset per built-in study (the project's `studies/` folder), each
depending on exactly the venue-year partitions its scope names, so the lineage shows which
partitions a published comparison stands on and a changed number upstream marks it stale.

A study asset computes its claims on whichever of those venue-years are materialised (table
`study_results`); `paperatlas study run` materialises the missing ones first.
"""


from dagster import (
    AssetDep,
    AssetExecutionContext,
    AssetSelection,
    Config,
    SpecificPartitionsPartitionMapping,
    asset,
    define_asset_job,
)
from pydantic import Field

from paperatlas.pipeline.conventions import CHINA_SCOPE
from paperatlas.pipeline.reports import steps
from paperatlas.pipeline.reports.studies.model import Study, builtin_studies
from paperatlas.pipeline.reports.studies.scope import expand_scope
from paperatlas.resources.conventions import Conventions
from paperatlas.resources.warehouse import WarehouseResource

from .common import ERRORS_TABLE, KINDS, OWNERS, WRITES, materialize, step
from .countries import country_decisions
from .mentions import paper_mentions
from .reference import term_catalogue
from .reports import headlines

GROUP = "studies"


class StudyConfig(Config):
    placement: str = Field("", description="hq or coauthors; empty: the conventions resource's placement")
    china_scope: str = Field(CHINA_SCOPE.default, description="cn, cn+hk+mo or greater")
    years: str = Field("", description="first..last year of the scope to read (empty: every year)")


def asset_name(study_name: str) -> str:
    return "study_" + study_name.replace("-", "_")


def job_name(study_name: str) -> str:
    return asset_name(study_name) + "_job"


def parse_years(text: str) -> tuple[int, int] | None:
    """`2010..2016` or `2016` as (first, last); empty: None. ValueError with the reason."""
    text = (text or "").strip()
    if not text:
        return None
    first, dots, last = text.partition("..")
    last = last if dots else first
    if not (first.strip().isdigit() and last.strip().isdigit()) or int(first) > int(last):
        raise ValueError(f"years {text!r}: expected A..B such as 2010..2016, or one year")
    return int(first), int(last)


def study_asset(study: Study, plan):
    keys = expand_scope(study.scope, plan)
    mapping = SpecificPartitionsPartitionMapping(keys)

    @asset(
        name=asset_name(study.name), group_name=GROUP, kinds=set(KINDS), owners=OWNERS,
        tags={"paperatlas/stage": GROUP},
        code_version="1",
        deps=[AssetDep(headlines, partition_mapping=mapping), AssetDep(country_decisions, partition_mapping=mapping),
              AssetDep(paper_mentions, partition_mapping=mapping), term_catalogue],
        description=(f"{study.title}. Published: {study.source_line() or 'see the study file'}. Scope: "
                     f"{', '.join(study.scope)} ({len(keys)} venue-years). Each claim: the published figure beside "
                     "ours with its interval, what ours stands on and why the two may differ (table study_results)."),
        metadata={WRITES: ["study_results", ERRORS_TABLE], "study_file": study.path, "scope": list(study.scope)},
    )
    def _study(context: AssetExecutionContext, config: StudyConfig, warehouse: WarehouseResource,
               conventions: Conventions):
        from paperatlas.pipeline.countries.groups import load_groups

        placement = config.placement or conventions.placement
        wanted = expand_scope(study.scope, plan, parse_years(config.years))
        groups = load_groups(conventions.country_groups or None)
        return materialize(step(steps.study_claims, warehouse.warehouse(), study, wanted, placement,
                                config.china_scope, groups, config.years, context.log.info))

    return _study


def build(plan) -> tuple[list, list]:
    """The study assets and one job per study, for the built-in studies."""
    assets, jobs = [], []
    for study in builtin_studies().values():
        made = study_asset(study, plan)
        assets.append(made)
        jobs.append(define_asset_job(job_name(study.name), selection=AssetSelection.assets(made),
                                     description=f"Computes the claims of the study {study.name}."))
    return assets, jobs
