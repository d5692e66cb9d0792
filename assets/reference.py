"""Reference data the resolver reads: `ror_registry` and `affiliation_overrides`.

Both are unpartitioned and report a data version (the dump's SHA-256, the overrides file's
SHA-256): when either changes, Dagster marks every `resolved_affiliations` partition stale, so
the lineage shows why a number moved. Re-materialising with unchanged inputs keeps the data
version and stales nothing.
"""

import pandas as pd
from dagster import AssetExecutionContext, DataVersion, Failure, MaterializeResult, MetadataValue, asset

from pipeline.http import FetchError
from pipeline.models import IngestError, utcnow
from pipeline.affiliations.reference import overrides_digest
from pipeline.affiliations.resolver import OverridesError, load_overrides
from pipeline.affiliations.ror import INDEX_VERSION, RorDumpError, file_sha256, read_dump
from pipeline.text import markdown_table
from resources.ror import OverridesFile, RorRegistry
from resources.warehouse import WarehouseResource

from .common import GROUP, KINDS

# Reference data is not partitioned; its errors are filed under this key in ingest_errors.
REFERENCE = "reference"


def _bad_input(store, stage: str, item: str, exc: Exception) -> Failure:
    """File the error in ingest_errors (the previous reference data stays in place) and
    return the Failure that stops this asset."""
    reason = str(exc)
    store.record_errors(REFERENCE, stage, [IngestError(REFERENCE, stage, item, reason)])
    return Failure(description=reason)


@asset(
    group_name=GROUP,
    kinds=KINDS,
    code_version=f"ror-index-{INDEX_VERSION}",
    description=(
        "The ROR registry of research organisations, from a v2 data dump: one row per "
        "organisation with display name, labels in every language, aliases, acronyms, web "
        "domains, country, city, types, status and parent/child relations (table "
        "ror_organizations). Also compiles the resolver's match index, cached by the dump's "
        "SHA-256 so later runs load it in a fraction of a second."
    ),
)
def ror_registry(context: AssetExecutionContext, warehouse: WarehouseResource, ror: RorRegistry) -> MaterializeResult:
    store = warehouse.warehouse()
    try:
        return _load_registry(context, store, ror)
    except (RorDumpError, FetchError, OSError) as exc:
        raise _bad_input(store, "ror_registry", ror.dump or "newest Zenodo dump", exc) from exc


def _load_registry(context: AssetExecutionContext, store, ror: RorRegistry) -> MaterializeResult:
    location = ror.locate()
    if location is None:
        context.log.warning("ROR registry disabled (dump 'none'): curated tables, places and e-mail domains only")
        with store.connect() as con:
            store.replace_table("ror_organizations", [], con=con)
            store.replace_table("ror_registry", [{"checksum": "none", "source": "none", "records": 0,
                                                  "index_version": INDEX_VERSION, "loaded_at": utcnow()}], con=con)
        return MaterializeResult(metadata={"dagster/row_count": 0, "source": "none"},
                                 data_version=DataVersion("none"))
    checksum = file_sha256(location.path)
    current = store.query("SELECT checksum, records FROM ror_registry")
    progress = lambda n: context.log.info(f"ROR dump: {n:,} records read")  # noqa: E731
    if len(current) and current["checksum"].iloc[0] == checksum:
        records = int(current["records"].iloc[0])
        context.log.info(f"ROR dump {location.path.name} unchanged ({checksum[:12]}); table kept")
        frame = store.query("SELECT * FROM ror_organizations USING SAMPLE 10 ROWS (reservoir, 7)")
        counts = store.query("SELECT country, count(*) AS organisations FROM ror_organizations "
                             "GROUP BY country ORDER BY organisations DESC LIMIT 15")
    else:
        rows = read_dump(location.path, progress)
        frame = pd.DataFrame(rows)
        records = len(frame)
        with store.connect() as con:
            store.replace_table("ror_organizations", frame, con=con)
            store.replace_table("ror_registry", [{
                "checksum": checksum, "source": location.source, "path": str(location.path), "records": records,
                "index_version": INDEX_VERSION, "loaded_at": utcnow(),
            }], con=con)
        counts = (frame.groupby("country").size().sort_values(ascending=False).head(15)
                  .rename("organisations").reset_index())
    index = ror.index(str(location.path), checksum, progress)  # compiled now, or loaded from the cache
    store.record_errors(REFERENCE, "ror_registry", [])
    context.log.info(f"ROR index ready: {len(index):,} organisations, {len(index.by_name):,} names")
    return MaterializeResult(
        metadata={
            "dagster/row_count": records,
            "source": location.source,
            "sha256": checksum,
            "names_indexed": len(index.by_name),
            "domains_indexed": len(index.by_domain),
            "top_countries": MetadataValue.md(markdown_table(counts, 15)),
            "preview": MetadataValue.md(markdown_table(frame, 10, ["ror_id", "name", "country", "city", "status"])),
        },
        data_version=DataVersion(checksum),
    )


@asset(
    group_name=GROUP,
    kinds=KINDS,
    code_version="1",
    description=(
        "The user's affiliation overrides (YAML: rules with `match`, `contains` or "
        "`email_domain`, and the `country` to use), validated and stored as table "
        "affiliation_overrides. The resolver applies them before any other rule. Its data "
        "version is the file's SHA-256: editing the file stales the resolved affiliations."
    ),
)
def affiliation_overrides(context: AssetExecutionContext, warehouse: WarehouseResource,
                          overrides: OverridesFile) -> MaterializeResult:
    store = warehouse.warehouse()
    digest = overrides_digest(overrides.path)
    try:
        rules = load_overrides(overrides.path)
    except OverridesError as exc:
        raise _bad_input(store, "affiliation_overrides", overrides.path, exc) from exc
    store.record_errors(REFERENCE, "affiliation_overrides", [])
    rows = [{"rule": n, "match": r.match, "contains": r.contains, "email_domain": r.email_domain,
             "country": r.country, "institution": r.institution, "note": r.note, "file": overrides.path,
             "file_sha256": digest} for n, r in enumerate(rules, start=1)]
    frame = pd.DataFrame(rows)
    store.replace_table("affiliation_overrides", frame)
    context.log.info(f"{len(rows)} override rules from {overrides.path}" if rows else f"no overrides ({overrides.path})")
    return MaterializeResult(
        metadata={"dagster/row_count": len(rows), "file": overrides.path, "sha256": digest,
                  "preview": MetadataValue.md(markdown_table(frame, 20, ["match", "contains", "email_domain", "country"]))},
        data_version=DataVersion(digest),
    )
