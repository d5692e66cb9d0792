"""Everything Dagster sees, built in this one place: the assets and checks (assets/), the jobs,
schedules and sensors (assets/automation.py), one resource per external system (resources/),
all configured from `Settings` (pipeline/config.py), and the command line's progress logger.

`dagster dev` (through workspace.yaml) and the `paperatlas` command both load `defs`.
"""

from __future__ import annotations

import logging
import sys
import time

from dagster import Definitions, logger
from dagster._core.log_manager import get_log_record_metadata, has_log_record_metadata
from dagster._loggers import colored_console_logger

from paperatlas.assets.automation import ASSETS, JOBS, SENSORS, ror_refresh, yearly_refresh
from paperatlas.pipeline.config import Settings, load_settings
from paperatlas.pipeline.sources.plan import PlanError, load_plan
from paperatlas.resources.conventions import Conventions
from paperatlas.resources.pdfs import PdfStoreResource
from paperatlas.resources.reports import ReportsFolder
from paperatlas.resources.ror import OverridesFile, RorRegistry
from paperatlas.resources.sources import SourcesPlanFile, source_resources
from paperatlas.resources.terms import TermCatalogueFile
from paperatlas.resources.warehouse import WarehouseResource


def failure_reason(event) -> str:
    """The user-facing reason of a STEP_FAILURE event: a Failure's description, else the error."""
    data = event.step_failure_data
    user = data.user_failure_data if data else None
    if user and user.description:
        return user.description
    if data and data.error:
        error = data.error
        while error.cause is not None or error.context is not None:  # the error under the wrappers
            error = error.cause or error.context
        return (error.message.strip().splitlines() or [error.cls_name or "failed"])[-1]
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
            # What the assets log (INFO, WARNING). Dagster's own ERROR lines about steps skipped
            # after a failure ("Dependencies for step ... Not executing.") stay in the run log:
            # the failure itself is one line below, and again in the command's summary.
            if step and logging.INFO <= record.levelno < logging.ERROR:
                line = f"    {meta.get('orig_message')}"
        elif event.event_type_value == "STEP_START":
            self.started[step] = time.monotonic()
            line = f"  > {step}"
        elif event.event_type_value == "STEP_SUCCESS":
            took = time.monotonic() - self.started.get(step, time.monotonic())
            line = f"  ok {step} ({took:.1f}s)"
        elif event.event_type_value == "STEP_FAILURE":
            line = f"  FAILED {step} (the cause is in the summary at the end)"
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
    """Every resource, its values from the settings. No folder is created here: importing the
    definitions has no side effects."""
    return {
        "warehouse": WarehouseResource(database=str(settings.database), store=settings.store,
                                       uri=settings.store_uri if settings.store == "delta" else "",
                                       files=str(settings.files) if settings.store == "delta" else ""),
        **source_resources(settings),
        "sources_plan": SourcesPlanFile(path=str(settings.sources_file)),
        "ror": RorRegistry(dump=settings.ror_dump, cache_dir=str(settings.cache_dir), timeout=settings.http_timeout,
                           retries=settings.http_retries),
        "overrides": OverridesFile(path=str(settings.overrides_file)),
        "pdf_store": PdfStoreResource(
            directory=str(settings.pdf_dir), text_directory=str(settings.text_dir), mode=settings.pdf_mode,
            max_mb=settings.pdf_max_mb, concurrency=settings.pdf_concurrency, rate_per_host=settings.pdf_rate,
            timeout=settings.http_timeout, retries=settings.http_retries,
        ),
        "terms": TermCatalogueFile(path=str(settings.terms_file) if settings.terms_file else ""),
        "reports": ReportsFolder(directory=str(settings.reports_dir)),
        "conventions": Conventions(placement=settings.placement),
    }


def build_executor(settings: Settings):
    """`PAPERATLAS_EXECUTOR`: None keeps Dagster's default (the multiprocess executor for
    launched runs, in-process for the command line's); `celery` sends each step to Celery
    workers through the broker, for work spread over machines."""
    if settings.executor != "celery":
        return None
    from dagster_celery import celery_executor

    from .pipeline.config import is_set

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
    return Definitions(
        assets=ASSETS,
        jobs=JOBS,
        schedules=[yearly_refresh(plan), ror_refresh],
        sensors=SENSORS,
        resources=build_resources(settings),
        executor=build_executor(settings),
        loggers={"console": colored_console_logger, "progress": progress_logger},
    )


defs = build_definitions()
