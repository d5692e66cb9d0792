"""Jobs, schedules and sensors over the assets: the yearly refresh, new venue-years as they are
published, new local folders, and changes to the overrides file or the term catalogue."""

from __future__ import annotations

import os
from contextlib import nullcontext

from dagster import (
    AssetKey,
    AssetSelection,
    AutomationConditionSensorDefinition,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    Definitions,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    SensorDefinition,
    SensorEvaluationContext,
    SkipReason,
    define_asset_job,
)

from paperatlas.pipeline.affiliations.reference import overrides_digest
from paperatlas.pipeline.http import FetchError
from paperatlas.pipeline.partitions import parse_partition_key
from paperatlas.pipeline.sources import registry
from paperatlas.pipeline.sources.base import SourceError
from paperatlas.pipeline.sources.plan import SourcePlan

from .affiliations import author_affiliations, resolved_affiliations, unresolved_affiliations
from .countries import country_decisions, country_edges, paper_countries
from .mentions import mentions_by_country, paper_mentions, tool_dependency
from .partitions import VENUE_YEAR, venue_year_partitions
from .pdfs import paper_pdfs, pdf_affiliations
from .reference import affiliation_overrides, ror_registry, term_catalogue
from .reports import headlines, venue_year_report, yearly_aggregates
from .sources import raw_papers

# The tag under which Dagster stores a materialisation's data version.
DATA_VERSION_TAG = "dagster/data_version"

PARTITIONED_ASSETS = [raw_papers, paper_pdfs, pdf_affiliations, author_affiliations, resolved_affiliations,
                      country_decisions, paper_countries, country_edges, paper_mentions, mentions_by_country,
                      tool_dependency, headlines, venue_year_report]
REFERENCE_ASSETS = [ror_registry, affiliation_overrides]
ASSETS = [*REFERENCE_ASSETS, term_catalogue, *PARTITIONED_ASSETS, yearly_aggregates, unresolved_affiliations]

venue_year_job = define_asset_job(
    "venue_year_job", selection=AssetSelection.assets(*PARTITIONED_ASSETS), partitions_def=venue_year_partitions,
    description="Every partitioned asset of one venue-year, from its sources and PDFs to its report.",
)
part_job = define_asset_job(
    "part_job", selection=AssetSelection.assets(*PARTITIONED_ASSETS) - AssetSelection.assets(venue_year_report),
    partitions_def=venue_year_partitions,
    description="Every partitioned asset of one sub-partition (a month of a venue-year read in parts, "
                "`airesearch-2020-m03`) up to its headline numbers: the report is written for the whole "
                "venue-year, over all its parts (`paperatlas report airesearch-2020`).",
)
aggregates_job = define_asset_job(
    "aggregates_job", selection=AssetSelection.assets(yearly_aggregates, unresolved_affiliations),
    description="Recompute the yearly tables and the unresolved-affiliation review list.",
)
reference_job = define_asset_job(
    "reference_job", selection=AssetSelection.assets(*REFERENCE_ASSETS),
    description="Load the ROR registry (and compile its match index) and the affiliation overrides.",
)
terms_job = define_asset_job(
    "terms_job", selection=AssetSelection.assets(term_catalogue),
    description="Load the term catalogue (models, architectures, libraries and their origins).",
)
overrides_job = define_asset_job("overrides_job", selection=AssetSelection.assets(affiliation_overrides))
JOBS = [venue_year_job, part_job, aggregates_job, reference_job, terms_job]
PART_ASSET_KEYS = [a.key for a in PARTITIONED_ASSETS if a is not venue_year_report]  # what part_job materialises


def add_venue_years(instance, keys: list[str]) -> list[str]:
    """Add the venue-year partitions the instance does not know yet, in the order of their keys
    (the UI lists partitions, and plots metadata by partition, in the order they were added: a
    range added at once reads 2010, 2011, ... rather than as named); returns those added."""
    with partitions_lock(instance):
        existing = set(instance.get_dynamic_partitions(VENUE_YEAR))
        new = sorted({k for k in keys if k not in existing})
        if new:
            instance.add_dynamic_partitions(VENUE_YEAR, new)
            sort_venue_years(instance)
    return new


def partitions_lock(instance):
    """A file lock in the instance's folder around changes to the venue-year partitions: Dagster
    reads which keys exist and then inserts the rest, so two commands adding (or re-sorting, which
    removes and adds keys again) at once could insert one key twice and fail on the table's unique
    key. Commands, sensors and schedules of one instance folder take it in turn."""
    from filelock import FileLock

    root = instance.root_directory
    return FileLock(os.path.join(root, ".paperatlas-partitions.lock"), timeout=600) if root else nullcontext()


# Runs in these states may still read their partition key from the instance.
IN_FLIGHT = ("NOT_STARTED", "QUEUED", "STARTING", "STARTED", "CANCELING")


def sort_venue_years(instance) -> bool:
    """Put the venue-year partitions in key order when a later command added an earlier year
    (neurips-2016, then neurips-2010..2011: the UI would list and plot 2016, 2010, 2011). Dagster
    keeps dynamic partitions in the order they were added, so the keys after the first one out of
    order are removed and added again in order; their materialisations and runs are kept (they
    are recorded by key). Done only while no run is in flight, which might look its key up at that
    moment; the next command sorts them then. Returns whether it re-sorted."""
    from dagster import DagsterRunStatus, RunsFilter

    keys = instance.get_dynamic_partitions(VENUE_YEAR)
    wanted = sorted(keys)
    if keys == wanted:
        return False
    if instance.get_runs(filters=RunsFilter(statuses=[DagsterRunStatus[s] for s in IN_FLIGHT]), limit=1):
        return False
    first = next(i for i, (a, b) in enumerate(zip(keys, wanted)) if a != b)
    for key in keys[first:]:
        instance.delete_dynamic_partition(VENUE_YEAR, key)
    instance.add_dynamic_partitions(VENUE_YEAR, wanted[first:])
    return True


# -- the yearly refresh ------------------------------------------------------------------------


def _yearly_refresh(context: ScheduleEvaluationContext):
    when = context.scheduled_execution_time
    keys = context.resources.sources_plan.plan().refresh_keys(when.month, when.year)
    if not keys:
        yield SkipReason(f"no venue publishes in month {when.month}")
        return
    keys = with_parts(context.resources.warehouse.warehouse(), keys)
    add_venue_years(context.instance, keys)
    for key in keys:
        # A part is run as `part_job` runs it: up to its headline numbers. The report is the
        # whole year's, over all its parts (`paperatlas report airesearch-2020`).
        yield RunRequest(run_key=f"refresh-{key}-{when:%Y-%m-%d}", partition_key=key,
                         run_config={"ops": {"raw_papers": {"config": {"refresh": True}}}},
                         asset_selection=PART_ASSET_KEYS if parse_partition_key(key).is_part else None,
                         tags={"paperatlas/trigger": "yearly_refresh"})


def with_parts(store, keys: list[str]) -> list[str]:
    """`keys` with each venue-year that `run` split (`partition_parts`) replaced by its parts: a
    refresh re-reads the months, not a year too large for one step."""
    from paperatlas.pipeline.sources.queries import planned_parts

    if not store.exists():
        return keys
    out: list[str] = []
    with store.connect() as con:
        for key in keys:
            out.extend(planned_parts(store, key, con=con)["partition_key"].tolist() or [key])
    return out


def yearly_refresh(plan: SourcePlan) -> ScheduleDefinition:
    """Once a year per venue: on the 20th of each month in which some venue of the plan publishes
    (its `refresh_month`), that month's venues are re-read."""
    months = plan.refresh_months() or [12]
    return ScheduleDefinition(
        name="yearly_refresh", cron_schedule=[f"0 6 20 {m} *" for m in months], job=venue_year_job,
        execution_fn=_yearly_refresh, required_resource_keys={"sources_plan", "warehouse"},
        default_status=DefaultScheduleStatus.STOPPED,
        description=(
            "Yearly: each venue's newest venue-year. Once a year per venue, in the month its proceedings "
            "are out (NeurIPS in December, ICML in August, a venue of your sources file in its "
            "refresh_month), adds the newest venue-year and re-downloads its sources; yearly_aggregates "
            "follows. Off by default."
        ),
    )


ror_refresh = ScheduleDefinition(
    name="ror_refresh", cron_schedule="0 5 1 * *", job=reference_job, default_status=DefaultScheduleStatus.STOPPED,
    description=("Monthly, after ROR's release: reload the registry. When the dump's checksum changes, every "
                 "resolved_affiliations partition shows as stale. Off by default."),
)


# -- sensors -----------------------------------------------------------------------------------


def _new_venue_years(context: SensorEvaluationContext):
    """Ask each watched venue's first source whether it now publishes the next year."""
    plan = context.resources.sources_plan.plan()
    known = set(filter(None, (context.cursor or "").split(",")))
    existing = list(context.instance.get_dynamic_partitions(VENUE_YEAR))
    found, asked = [], 0
    for key in plan.next_years(existing):
        if key in known or key in existing:
            continue
        pk = parse_partition_key(key)
        source = plan.sources_for(pk)[0]
        asked += 1
        try:
            if getattr(context.resources, source).reader().available(pk, plan.venue(pk.venue)):
                found.append(key)
        except (FetchError, SourceError, OSError, ValueError) as exc:  # one unreachable source must not stop the rest
            context.log.warning(f"{key}: could not ask {source}: {exc}")
    if not found:
        yield SkipReason(f"no new venue-year published ({asked} asked)")
        return
    add_venue_years(context.instance, found)
    context.update_cursor(",".join(sorted(known | set(found))))
    for key in found:
        yield RunRequest(run_key=f"new-{key}", partition_key=key, tags={"paperatlas/trigger": "new_venue_year"})


new_venue_years = SensorDefinition(
    name="new_venue_years", evaluation_fn=_new_venue_years, job=venue_year_job, minimum_interval_seconds=24 * 3600,
    default_status=DefaultSensorStatus.STOPPED, required_resource_keys={"sources_plan", *registry.PLANNED},
    description=(
        "Daily: for each venue of the sources plan, asks its first source whether the years after its "
        "newest partition (from last year on) are published. A published year is added as a partition "
        "and materialised once. Off by default (it uses the network)."
    ),
)


def _file_watch(name: str, resource: str, path_of, asset_key: AssetKey, job, description: str) -> SensorDefinition:
    """A sensor that runs `job` when the file a resource names differs from what the asset last
    loaded: the file's SHA-256 against the data version of the asset's latest materialisation.
    A UI start, or a first tick, launches nothing when the file is what the store holds; nor
    when the asset was never materialised (`paperatlas run` or the UI's Materialize loads it)."""

    def evaluate(context: SensorEvaluationContext):
        path = path_of(getattr(context.resources, resource))
        digest = overrides_digest(path)
        if context.cursor == digest:
            yield SkipReason(f"{path} unchanged")
            return
        event = context.instance.get_latest_materialization_event(asset_key)
        done = event.asset_materialization if event else None
        loaded = done.tags.get(DATA_VERSION_TAG) if done else None
        context.update_cursor(digest)
        if loaded is None:
            yield SkipReason(f"{asset_key.to_user_string()} was never materialised; `paperatlas run` or Materialize "
                             "in the UI loads it")
        elif loaded == digest:
            yield SkipReason(f"{path} is what {asset_key.to_user_string()} last loaded")
        else:
            yield RunRequest(run_key=f"{resource}-{digest[:16]}", tags={"paperatlas/trigger": name})

    return SensorDefinition(
        name=name, evaluation_fn=evaluate, job=job, minimum_interval_seconds=60,
        default_status=DefaultSensorStatus.RUNNING, required_resource_keys={resource}, description=description,
    )


overrides_changed = _file_watch(
    "overrides_changed", "overrides", lambda r: r.path, affiliation_overrides.key, overrides_job,
    "Watches the overrides file. A change materialises affiliation_overrides with a new data version, so "
    "the resolved affiliations and everything after them show as stale and the lineage says why a number "
    "will move.",
)
terms_changed = _file_watch(
    "terms_changed", "terms", lambda r: r.file(), term_catalogue.key, terms_job,
    "Watches the term catalogue. A change materialises term_catalogue with a new data version, so every "
    "paper_mentions partition and what follows shows as stale.",
)


def _local_folders(context: SensorEvaluationContext):
    """A new folder under the local root becomes a venue-year partition, and is run once."""
    local = getattr(context.resources, registry.LOCAL).reader()
    keys = local.venue_years()
    added = add_venue_years(context.instance, keys)
    known = set(filter(None, (context.cursor or "").split(",")))
    new = [k for k in keys if k not in known]
    if not new:
        yield SkipReason(f"no new folder under {local.root}")
        return
    context.update_cursor(",".join(sorted(known | set(keys))))
    for key in new:
        yield RunRequest(run_key=f"local-{key}", partition_key=key, tags={"paperatlas/trigger": "local_folder"})
    if added:
        context.log.info(f"added partitions {', '.join(added)}")


local_folders = SensorDefinition(
    name="local_folders", evaluation_fn=_local_folders, job=venue_year_job, minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.STOPPED, required_resource_keys={registry.LOCAL},
    description=("Watches the local PDF root ($PAPERATLAS_LOCAL_DIR, default $PAPERATLAS_HOME/local). A new "
                 "<venue>-<year> folder is added as a partition and materialised once. Off by default."),
)
# Dagster adds a `default_automation_condition_sensor`, stopped, for assets with automation
# conditions. This one takes its place and its name, running: with the daemon up (`paperatlas
# ui` starts one) the eager assets follow their inputs, as docs/architecture.md says.
automation = AutomationConditionSensorDefinition(
    "default_automation_condition_sensor", target=AssetSelection.all(), default_status=DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description=("Evaluates the eager automation conditions: resolved_affiliations and every asset after it "
                 "(decisions, countries, edges, mentions by country, headlines, the report, the yearly tables) "
                 "re-materialise when an input they read has a new version, e.g. after the overrides file or the "
                 "ROR registry changed. On by default."),
)
SENSORS = [overrides_changed, terms_changed, local_folders, new_venue_years, automation]


# The jobs, the sensors and the monthly ROR schedule. The yearly refresh is built from the
# sources plan the settings name, so the composition (paperatlas.definitions) adds it.
defs = Definitions(jobs=JOBS, schedules=[ror_refresh], sensors=SENSORS)
