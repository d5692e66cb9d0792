"""Everything Dagster sees: what each stage's assets module declares (its `defs`: assets and
their checks), the jobs, sensors and schedules (paperatlas.assets.automation), merged with one
resource per external system (paperatlas.resources), the executor and the command line's
progress logger, all configured from `Settings` (paperatlas.pipeline.config).

`dagster dev` (through workspace.yaml, or `paperatlas ui`) and the `paperatlas` command load
`defs`; Celery workers rebuild a job by reference through `job_named`.
"""

from __future__ import annotations

from dagster import Definitions, colored_console_logger

from .assets import affiliations, automation, countries, mentions, pdfs, reference, reports, sources, studies
from .pipeline.config import Settings, is_set, load_settings
from .pipeline.extras import require
from .pipeline.sources.plan import PlanError, load_plan
from .progress import progress_logger
from .resources.conventions import Conventions
from .resources.pdfs import PdfStoreResource
from .resources.reports import ReportsFolder
from .resources.ror import OverridesFile, RorRegistry
from .resources.sources import SourcesPlanFile, source_resources
from .resources.terms import TermCatalogueFile
from .resources.warehouse import WarehouseResource

# The modules whose `defs` make the graph: the stages in the order of the data flow, then
# the automation over them.
DECLARED = (reference, sources, pdfs, affiliations, countries, mentions, reports, automation)
LOGGERS = {"console": colored_console_logger, "progress": progress_logger}


def build_resources(settings: Settings) -> dict:
    """Every resource, its values from the settings. No folder is created here: importing the
    definitions has no side effects."""
    return {
        "warehouse": WarehouseResource(database=str(settings.database), store=settings.store,
                                       uri=settings.store_uri if settings.store == "delta" else "",
                                       files=str(settings.files) if settings.store == "delta" else "",
                                       connection_config={"threads": settings.store_threads}
                                       if settings.store_threads else {}),
        **source_resources(settings),
        "sources_plan": SourcesPlanFile(path=str(settings.sources_file)),
        "ror": RorRegistry(dump=settings.ror_dump, cache_dir=str(settings.cache_dir), timeout=settings.http_timeout,
                           retries=settings.http_retries, allow_private_links=settings.allow_private_links),
        "overrides": OverridesFile(path=str(settings.overrides_file)),
        "pdf_store": PdfStoreResource(
            directory=str(settings.pdf_dir), text_directory=str(settings.text_dir), mode=settings.pdf_mode,
            max_mb=settings.pdf_max_mb, concurrency=settings.pdf_concurrency, rate_per_host=settings.pdf_rate,
            timeout=settings.http_timeout, retries=settings.http_retries,
            allow_private_links=settings.allow_private_links,
        ),
        "terms": TermCatalogueFile(path=str(settings.terms_file) if settings.terms_file else ""),
        "reports": ReportsFolder(directory=str(settings.reports_dir)),
        "conventions": Conventions(placement=settings.placement, country_groups=str(settings.country_groups_file or "")),
    }


def build_executor(settings: Settings):
    """`PAPERATLAS_EXECUTOR`: None keeps Dagster's default (the multiprocess executor for
    launched runs, in-process for the command line's); `celery` sends each step to Celery
    workers through the broker, for work spread over machines."""
    if settings.executor != "celery":
        return None
    celery_executor = require("dagster_celery", "PAPERATLAS_EXECUTOR=celery").celery_executor

    # A URL set in the environment stays there (it may hold a password): the run's config names
    # the variable, not its value.
    broker = {"env": "PAPERATLAS_CELERY_BROKER"} if is_set("PAPERATLAS_CELERY_BROKER") else settings.celery_broker
    backend = {"env": "PAPERATLAS_CELERY_BACKEND"} if is_set("PAPERATLAS_CELERY_BACKEND") else (
        settings.celery_backend or broker)
    return celery_executor.configured({"broker": broker, "backend": backend}, name="celery_executor")


def build_definitions(settings: Settings | None = None) -> Definitions:
    settings = settings or load_settings()
    try:
        plan = load_plan(settings.sources_file)
    except PlanError:  # raw_papers reports the file's error when it runs; the UI still loads
        plan = load_plan(None)
    study_assets, study_jobs = studies.build(plan)
    return Definitions.merge(
        *(module.defs for module in DECLARED),
        Definitions(assets=study_assets, jobs=study_jobs),
        Definitions(schedules=[automation.yearly_refresh(plan)], resources=build_resources(settings),
                    executor=build_executor(settings), loggers=LOGGERS),
    )


defs = build_definitions()


def job_named(name: str):
    """A job of `defs` by name: what `build_reconstructable_job` calls in a Celery worker."""
    return defs.resolve_job_def(name)
