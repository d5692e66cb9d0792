"""Everything Dagster sees: assets, checks, resources, jobs and the yearly refresh schedule.

`dagster dev` (through workspace.yaml) and the `paperatlas` command both load `defs`.
Settings come from environment variables (see pipeline/config.py and the README).
"""

from __future__ import annotations

import logging
import sys
import time

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    SensorDefinition,
    SensorEvaluationContext,
    Definitions,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    SkipReason,
    define_asset_job,
    logger,
)
from dagster._core.log_manager import get_log_record_metadata, has_log_record_metadata
from dagster._loggers import colored_console_logger

from assets.affiliations import author_affiliations, resolved_affiliations, unresolved_affiliations
from assets.aggregates import yearly_aggregates
from assets.countries import country_decisions, country_edges, paper_countries
from assets.mentions import mentions_by_country, paper_mentions, term_catalogue, tool_dependency
from assets.partitions import VENUE_YEAR, venue_year_partitions
from assets.pdfs import paper_pdfs, pdf_affiliations
from assets.reference import affiliation_overrides, ror_registry
from assets.reports import headlines, venue_year_report
from assets.sources import raw_papers
from pipeline.config import Settings, load_settings
from pipeline.http import FetchError
from pipeline.sources.base import SourceError
from pipeline.partitions import parse_partition_key
from pipeline.affiliations.reference import overrides_digest
from resources.conventions import Conventions
from resources.local import LocalPdfFolders
from resources.paperlists import PaperlistsSource
from resources.pdfs import PdfStoreResource
from resources.reports import ReportsFolder
from resources.sources import OpenAlexSource, OpenReviewSource, ProceedingsSource, SourcesPlanFile, VirtualSiteSource
from resources.ror import OverridesFile, RorRegistry
from resources.terms import TermCatalogueFile
from resources.warehouse import WarehouseResource

PARTITIONED_ASSETS = [raw_papers, paper_pdfs, pdf_affiliations, author_affiliations, resolved_affiliations,
                      country_decisions, paper_countries, country_edges, paper_mentions, mentions_by_country, tool_dependency,
                      headlines, venue_year_report]
REFERENCE_ASSETS = [ror_registry, affiliation_overrides]
ALL_ASSETS = [*REFERENCE_ASSETS, term_catalogue, *PARTITIONED_ASSETS, yearly_aggregates, unresolved_affiliations]

venue_year_job = define_asset_job(
    "venue_year_job",
    selection=AssetSelection.assets(*PARTITIONED_ASSETS),
    partitions_def=venue_year_partitions,
    description="Every partitioned asset of one venue-year, from the source and its PDFs to the headline report.",
)
aggregates_job = define_asset_job(
    "aggregates_job",
    selection=AssetSelection.assets(yearly_aggregates, unresolved_affiliations),
    description="Recompute the yearly tables and the unresolved-affiliation review list.",
)
reference_job = define_asset_job(
    "reference_job",
    selection=AssetSelection.assets(*REFERENCE_ASSETS),
    description="Load the ROR registry (and compile its match index) and the affiliation overrides.",
)
terms_job = define_asset_job(
    "terms_job",
    selection=AssetSelection.assets(term_catalogue),
    description="Load the term catalogue (models, architectures, libraries and their origins).",
)

def add_venue_years(instance, keys: list[str]) -> list[str]:
    """Add the venue-year partitions the instance does not know yet; returns those added."""
    existing = set(instance.get_dynamic_partitions(VENUE_YEAR))
    new = [k for k in keys if k not in existing]
    if new:
        instance.add_dynamic_partitions(VENUE_YEAR, new)
    return new


# Monthly: each venue is refreshed in its own month (pipeline/sources/plan.py, `refresh_month`),
# so venues added in the sources file are covered without a code change.
REFRESH_CRON = "0 6 20 * *"
SOURCE_RESOURCES = ("paperlists", "virtual_site", "proceedings", "openreview", "openalex")


def _yearly_refresh(context: ScheduleEvaluationContext):
    when = context.scheduled_execution_time
    keys = context.resources.sources_plan.plan().refresh_keys(when.month, when.year)
    if not keys:
        yield SkipReason(f"no venue publishes in month {when.month}")
        return
    add_venue_years(context.instance, keys)
    for key in keys:
        yield RunRequest(
            run_key=f"refresh-{key}-{when:%Y-%m-%d}",
            partition_key=key,
            run_config={"ops": {"raw_papers": {"config": {"refresh": True}}}},
            tags={"paperatlas/trigger": "yearly_refresh"},
        )


yearly_refresh = ScheduleDefinition(
    name="yearly_refresh",
    cron_schedule=REFRESH_CRON,
    job=venue_year_job,
    execution_fn=_yearly_refresh,
    required_resource_keys={"sources_plan"},
    default_status=DefaultScheduleStatus.STOPPED,
    description=(
        "Once a year per venue, in the month its proceedings are out (NeurIPS in December, ICML in "
        "August, a venue of the sources file in its refresh_month), adds the newest venue-year "
        "partitions and re-downloads their sources. yearly_aggregates follows through its eager "
        "automation condition. Off by default."
    ),
)


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
        venue = plan.venue(pk.venue)
        source = plan.sources_for(pk)[0]
        asked += 1
        try:
            if getattr(context.resources, source).available(pk, venue):
                found.append(key)
        except (FetchError, SourceError, OSError, ValueError) as exc:  # one unreachable source must not stop the others
            context.log.warning(f"{key}: could not ask {source}: {exc}")
    if not found:
        yield SkipReason(f"no new venue-year published ({asked} asked)")
        return
    add_venue_years(context.instance, found)
    context.update_cursor(",".join(sorted(known | set(found))))
    for key in found:
        yield RunRequest(run_key=f"new-{key}", partition_key=key, tags={"paperatlas/trigger": "new_venue_year"})


new_venue_years = SensorDefinition(
    name="new_venue_years",
    evaluation_fn=_new_venue_years,
    job=venue_year_job,
    minimum_interval_seconds=24 * 3600,
    default_status=DefaultSensorStatus.STOPPED,
    required_resource_keys={"sources_plan", *SOURCE_RESOURCES},
    description=(
        "Daily: for each venue of the sources plan, asks its first source whether the years after its "
        "newest partition (from last year at the earliest, up to this year) are published: the "
        "virtual site's feed has events, OpenReview has accepted notes, OpenAlex has works, the "
        "proceedings list papers, paperlists has the file. A published year is added as a partition "
        "and materialised once. Off by default (it uses the network)."
    ),
)


ror_refresh = ScheduleDefinition(
    name="ror_refresh",
    cron_schedule="0 5 1 * *",
    job=reference_job,
    default_status=DefaultScheduleStatus.STOPPED,
    description=(
        "Monthly, after ROR's release: reload the registry. When the dump's checksum changes, "
        "every resolved_affiliations partition shows as stale. Off by default."
    ),
)


def _file_watch(name: str, resource: str, path_of, job, description: str) -> SensorDefinition:
    """A sensor that runs `job` when the file a resource names changes (its SHA-256 is the cursor)."""

    def evaluate(context: SensorEvaluationContext):
        path = path_of(getattr(context.resources, resource))
        digest = overrides_digest(path)
        if context.cursor == digest:
            yield SkipReason(f"{path} unchanged")
            return
        context.update_cursor(digest)
        yield RunRequest(run_key=f"{resource}-{digest[:16]}", tags={"paperatlas/trigger": name})

    return SensorDefinition(
        name=name, evaluation_fn=evaluate, job=job, minimum_interval_seconds=60,
        default_status=DefaultSensorStatus.RUNNING, required_resource_keys={resource}, description=description,
    )


overrides_changed = _file_watch(
    "overrides_changed", "overrides", lambda r: r.path,
    define_asset_job("overrides_job", selection=AssetSelection.assets(affiliation_overrides)),
    "Watches the overrides file. A change materialises affiliation_overrides with a new "
    "data version, so the resolved affiliations and everything after them show as stale "
    "and the lineage says why a number will move.",
)
terms_changed = _file_watch(
    "terms_changed", "terms", lambda r: r.file(), terms_job,
    "Watches the term catalogue. A change materialises term_catalogue with a new data "
    "version, so every paper_mentions partition and what follows shows as stale.",
)


def _local_folders(context: SensorEvaluationContext):
    """A new folder under the local root becomes a venue-year partition, and is run once."""
    keys = context.resources.local_pdfs.venue_years()
    added = add_venue_years(context.instance, keys)
    known = set(filter(None, (context.cursor or "").split(",")))
    new = [k for k in keys if k not in known]
    if not new:
        yield SkipReason(f"no new folder under {context.resources.local_pdfs.directory}")
        return
    context.update_cursor(",".join(sorted(known | set(keys))))
    for key in new:
        yield RunRequest(run_key=f"local-{key}", partition_key=key, tags={"paperatlas/trigger": "local_folder"})
    if added:
        context.log.info(f"added partitions {', '.join(added)}")


local_folders = SensorDefinition(
    name="local_folders",
    evaluation_fn=_local_folders,
    job=venue_year_job,
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.STOPPED,
    required_resource_keys={"local_pdfs"},
    description=(
        "Watches the local PDF root ($PAPERATLAS_LOCAL_DIR, default $PAPERATLAS_HOME/local). A new "
        "<venue>-<year> folder is added as a partition and materialised once. Off by default."
    ),
)


def failure_reason(event) -> str:
    """The user-facing reason of a STEP_FAILURE event: a Failure's description, else the error."""
    data = event.step_failure_data
    user = data.user_failure_data if data else None
    if user and user.description:
        return user.description
    if data and data.error:
        return data.error.message.strip().splitlines()[-1]
    return "failed"


class _ProgressHandler(logging.Handler):
    """One short line per step start/finish and per message an asset logs."""

    def __init__(self):
        super().__init__(logging.DEBUG)  # step events arrive at DEBUG
        self.started: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        if not has_log_record_metadata(record):
            return
        meta = get_log_record_metadata(record)
        event = meta.get("dagster_event")
        step = meta.get("step_key") or ""
        line = None
        if event is None:
            if record.levelno >= logging.INFO and step:
                line = f"    {meta.get('orig_message')}"
        elif event.event_type_value == "STEP_START":
            self.started[step] = time.monotonic()
            line = f"  > {step}"
        elif event.event_type_value == "STEP_SUCCESS":
            took = time.monotonic() - self.started.get(step, time.monotonic())
            line = f"  ok {step} ({took:.1f}s)"
        elif event.event_type_value == "STEP_FAILURE":
            line = f"  FAILED {step}: {failure_reason(event)}"
        elif event.event_type_value == "ASSET_CHECK_EVALUATION":
            data = event.event_specific_data
            if data is not None and not data.passed:
                line = f"  check failed: {data.asset_key.to_user_string()}.{data.check_name}"
        if line:
            print(line, file=sys.stderr, flush=True)  # looked up now: tests swap stderr


@logger(description="Short progress lines on stderr, for the paperatlas command line.")
def progress_logger(init_context) -> logging.Logger:
    log = logging.getLogger("paperatlas.progress")
    log.setLevel(logging.DEBUG)
    log.propagate = False
    if not log.handlers:
        log.addHandler(_ProgressHandler())
    return log


def build_resources(settings: Settings) -> dict:
    # No folder is created here: importing the definitions has no side effects.
    return {
        "warehouse": WarehouseResource(database=str(settings.database)),
        "paperlists": PaperlistsSource(
            base=settings.paperlists_base,
            cache_dir=str(settings.cache_dir),
            timeout=settings.http_timeout,
            retries=settings.http_retries,
        ),
        **{
            name: cls(cache_dir=str(settings.cache_dir), timeout=settings.http_timeout, retries=settings.http_retries,
                      **({"rate": settings.source_rate} if settings.source_rate else {}))
            for name, cls in [("virtual_site", VirtualSiteSource), ("proceedings", ProceedingsSource),
                              ("openreview", OpenReviewSource), ("openalex", OpenAlexSource)]
        },
        "sources_plan": SourcesPlanFile(path=str(settings.sources_file)),
        "ror": RorRegistry(
            dump=settings.ror_dump,
            cache_dir=str(settings.cache_dir),
            retries=settings.http_retries,
        ),
        "overrides": OverridesFile(path=str(settings.overrides_file)),
        "pdf_store": PdfStoreResource(
            directory=str(settings.pdf_dir),
            mode=settings.pdf_mode,
            max_mb=settings.pdf_max_mb,
            concurrency=settings.pdf_concurrency,
            rate_per_host=settings.pdf_rate,
            timeout=settings.http_timeout,
            retries=settings.http_retries,
            text_directory=str(settings.text_dir),
        ),
        "terms": TermCatalogueFile(path=str(settings.terms_file) if settings.terms_file else ""),
        "local_pdfs": LocalPdfFolders(directory=str(settings.local_dir)),
        "reports": ReportsFolder(directory=str(settings.reports_dir)),
        "conventions": Conventions(placement=settings.placement),
    }


def build_definitions(settings: Settings | None = None) -> Definitions:
    settings = settings or load_settings()
    return Definitions(
        assets=ALL_ASSETS,
        jobs=[venue_year_job, aggregates_job, reference_job, terms_job],
        schedules=[yearly_refresh, ror_refresh],
        sensors=[overrides_changed, terms_changed, local_folders, new_venue_years],
        resources=build_resources(settings),
        loggers={"console": colored_console_logger, "progress": progress_logger},
    )


defs = build_definitions()
