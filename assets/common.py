"""What every asset module shares: one decorator for the asset shape, and the translation of a
stage's `Outcome` (pipeline/models.py) into Dagster's results and metadata.

An asset is then three things: this decorator with its description and the tables it writes,
one call into `pipeline/<stage>/`, and `materialize(...)` of what that call returned.
"""

from __future__ import annotations

import base64
import contextlib
import gc
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AutomationCondition,
    DataVersion,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)

from paperatlas.pipeline.affiliations.reference import REFERENCE
from paperatlas.pipeline.models import (
    Check,
    FilePath,
    IngestError,
    Markdown,
    Outcome,
    Png,
    Share,
    StageFailure,
    Url,
    root_error,
)
from paperatlas.pipeline.partitions import PartitionKey, parse_partition_key
from paperatlas.pipeline.store import SCHEMA, StoreError, Warehouse, system_arrow_memory

from .partitions import venue_year_partitions

OWNERS = ["team:paperatlas"]
KINDS = {"python", "duckdb"}
# The stages of the data flow, as the asset groups of the UI.
STAGES = ("reference", "sources", "pdfs", "affiliations", "countries", "mentions", "reports")
# Dagster concurrency pools (docs/deployment.md): the steps that download PDFs, and the steps
# that read them on every core. Their limits are the instance's (dagster.yaml `concurrency`),
# so that a backfill of many venue-years neither hammers the PDF hosts nor oversubscribes CPUs.
POOL_DOWNLOADS = "pdf_downloads"
POOL_PDF_CPU = "pdf_cpu"


# Every step files what it could not use here (and `step` files a failure), so every asset may
# write it besides the tables it declares.
ERRORS_TABLE = "ingest_errors"
WRITES = "tables_written"  # the asset's definition metadata: the store tables its step writes


def stage_asset(stage: str, *, description: str, code_version: str, writes: Sequence[str], deps: Sequence = (),
                kinds: Iterable[str] = (), checks: Mapping[str, str] | None = None, eager: bool = False,
                partitioned: bool = True, **extra) -> Callable:
    """@asset with paperatlas' shape: the stage's group, kinds, owners, the venue-year
    partitions (unless `partitioned=False`), `eager` automation, one check per `checks` entry
    (name -> description), and in its metadata the store tables its step writes (`writes`,
    each a table of pipeline/store.py's schema; `ingest_errors` is added)."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}: {', '.join(STAGES)}")
    if not writes:
        raise ValueError("writes=(): name the store tables the step writes")
    unknown = [t for t in writes if t not in SCHEMA]
    if unknown:
        raise ValueError(f"writes={tuple(writes)!r}: {', '.join(unknown)} not in the store's schema")

    def decorate(fn: Callable) -> Any:
        specs = [AssetCheckSpec(name, asset=fn.__name__, description=text) for name, text in (checks or {}).items()]
        return asset(
            name=fn.__name__,
            group_name=stage,
            kinds={*KINDS, *kinds},
            owners=OWNERS,
            tags={"paperatlas/stage": stage},
            partitions_def=venue_year_partitions if partitioned else None,
            deps=list(deps),
            code_version=code_version,
            automation_condition=AutomationCondition.eager() if eager else None,
            check_specs=specs or None,
            description=description,
            metadata={WRITES: [*writes, ERRORS_TABLE]},
            **extra,
        )(fn)

    return decorate


def partition(context: AssetExecutionContext) -> PartitionKey:
    return parse_partition_key(context.partition_key)


# Where a failure of a step without a partition is filed in ingest_errors.
REFERENCE_STEPS = {"ror_registry", "affiliation_overrides", "term_catalogue", "resolver_from_store"}
UNPARTITIONED = "all"


# Python's cyclic collector runs after every 700 new container objects by default (3.11), and
# every tenth of those runs also walks the older objects. A step makes millions of containers
# (an OpenAlex page is some 50,000), few of them cyclic, in a process that holds millions more
# (Dagster, pandas, the resolver's index): at the default, collection took a fifth of a part's
# CPU. Steps, and the CLI's runs as a whole, run with these thresholds (docs/benchmarks.md: CPU
# and peak memory of both).
BULK_GC_THRESHOLD = (100_000, 50, 100)


@contextlib.contextmanager
def bulk_gc() -> Iterator[None]:
    """The collector's thresholds raised (BULK_GC_THRESHOLD) for a step or a run, then put back."""
    before = gc.get_threshold()
    gc.set_threshold(*BULK_GC_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def step(fn: Callable[..., Any], store: Warehouse, *args, **kwargs) -> Any:
    """Run a stage's step `fn(store, *args)` (usually returning an `Outcome`), under `bulk_gc`,
    with Arrow on the system allocator (`system_arrow_memory`). A
    `StageFailure` fails the asset with its reason and no traceback; any other error fails it
    with the error underneath (`OSError: [Errno 28] No space left on device`, not the wrapper's
    last line), filed in ingest_errors under the step's name when the store can still be written."""
    system_arrow_memory()
    try:
        with bulk_gc():
            return fn(store, *args, **kwargs)
    except (StageFailure, StoreError) as exc:
        raise Failure(description=str(exc)) from None
    except Exception as exc:
        reason = root_error(exc)
        key = next((a.key for a in args if isinstance(a, PartitionKey)),
                   REFERENCE if fn.__name__ in REFERENCE_STEPS else UNPARTITIONED)
        with contextlib.suppress(Exception):  # a full disk or a broken store cannot take the row
            store.record_errors(key, fn.__name__, [IngestError(key, fn.__name__, fn.__name__, reason)])
        raise Failure(description=f"{fn.__name__} failed: {reason}") from exc


def metadata_value(value: Any) -> Any:
    if isinstance(value, Markdown):
        return MetadataValue.md(str(value))
    if isinstance(value, Png):
        return MetadataValue.md(f"![{value.alt}](data:image/png;base64,{base64.b64encode(value.data).decode()})")
    if isinstance(value, Share):
        return MetadataValue.text(str(value))
    if isinstance(value, Url):
        return MetadataValue.url(str(value))
    if isinstance(value, (FilePath, Path)):
        return MetadataValue.path(str(value))
    if isinstance(value, (dict, list, tuple)):
        return MetadataValue.json(value if not isinstance(value, tuple) else list(value))
    if value is None:
        return MetadataValue.null()
    return value


def check_result(check: Check) -> AssetCheckResult:
    return AssetCheckResult(
        check_name=check.name, passed=bool(check.passed),
        severity=AssetCheckSeverity.WARN if check.severity == "warn" else AssetCheckSeverity.ERROR,
        metadata={k: metadata_value(v) for k, v in check.metadata.items()}, description=check.description,
    )


def materialize(outcome: Outcome) -> MaterializeResult:
    metadata = {k: metadata_value(v) for k, v in outcome.metadata.items()}
    if outcome.rows is not None:
        metadata = {"dagster/row_count": int(outcome.rows), **metadata}
        if outcome.row:
            metadata = {"dagster/row_count": metadata.pop("dagster/row_count"), "rows_are": f"one per {outcome.row}",
                        **metadata}
    return MaterializeResult(
        metadata=metadata,
        check_results=[check_result(c) for c in outcome.checks] or None,
        data_version=DataVersion(outcome.data_version) if outcome.data_version else None,
    )
