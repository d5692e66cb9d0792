"""Everything Dagster sees: assets, checks, resources, jobs and the yearly refresh schedule.

`dagster dev` (through workspace.yaml) and the `paperatlas` command both load `defs`.
Settings come from environment variables (see pipeline/config.py and the README).
"""

from __future__ import annotations

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    Definitions,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    SkipReason,
    define_asset_job,
)

from assets.affiliations import author_affiliations, resolved_affiliations
from assets.aggregates import yearly_aggregates
from assets.countries import country_edges, paper_countries
from assets.partitions import VENUE_YEAR, venue_year_partitions
from assets.sources import raw_papers
from pipeline.config import Settings, load_settings
from pipeline.partitions import VENUES, refresh_keys_for
from resources.paperlists import PaperlistsSource
from resources.warehouse import WarehouseResource

PARTITIONED_ASSETS = [raw_papers, author_affiliations, resolved_affiliations, paper_countries, country_edges]
ALL_ASSETS = [*PARTITIONED_ASSETS, yearly_aggregates]

venue_year_job = define_asset_job(
    "venue_year_job",
    selection=AssetSelection.assets(*PARTITIONED_ASSETS),
    partitions_def=venue_year_partitions,
    description="Every partitioned asset of one venue-year, from the source to country edges.",
)
aggregates_job = define_asset_job(
    "aggregates_job",
    selection=AssetSelection.assets(yearly_aggregates),
    description="Recompute the yearly tables from whatever venue-years exist.",
)

REFRESH_CRONS = sorted({f"0 6 20 {v.refresh_month} *" for v in VENUES.values()})


def _yearly_refresh(context: ScheduleEvaluationContext):
    when = context.scheduled_execution_time
    keys = refresh_keys_for(when.month, when.year)
    if not keys:
        return SkipReason(f"no venue publishes in month {when.month}")
    existing = set(context.instance.get_dynamic_partitions(VENUE_YEAR))
    new = [k for k in keys if k not in existing]
    if new:
        context.instance.add_dynamic_partitions(VENUE_YEAR, new)
    return [
        RunRequest(
            run_key=f"refresh-{key}-{when:%Y-%m-%d}",
            partition_key=key,
            run_config={"ops": {"raw_papers": {"config": {"refresh": True}}}},
            tags={"paperatlas/trigger": "yearly_refresh"},
        )
        for key in keys
    ]


yearly_refresh = ScheduleDefinition(
    name="yearly_refresh",
    cron_schedule=REFRESH_CRONS,
    job=venue_year_job,
    execution_fn=_yearly_refresh,
    default_status=DefaultScheduleStatus.STOPPED,
    description=(
        "Once a year per venue, after its proceedings are out (NeurIPS in December, ICML in "
        "August, ...), adds the newest venue-year partitions and re-downloads their sources. "
        "yearly_aggregates follows through its eager automation condition. Off by default."
    ),
)


def build_resources(settings: Settings) -> dict:
    settings.ensure_dirs()
    return {
        "warehouse": WarehouseResource(database=str(settings.database)),
        "paperlists": PaperlistsSource(
            base=settings.paperlists_base,
            cache_dir=str(settings.cache_dir),
            timeout=settings.http_timeout,
            retries=settings.http_retries,
        ),
    }


def build_definitions(settings: Settings | None = None) -> Definitions:
    settings = settings or load_settings()
    return Definitions(
        assets=ALL_ASSETS,
        jobs=[venue_year_job, aggregates_job],
        schedules=[yearly_refresh],
        resources=build_resources(settings),
    )


defs = build_definitions()
