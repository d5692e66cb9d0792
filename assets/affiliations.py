"""Stage 2 and 3: `author_affiliations`, then `resolved_affiliations` and the review list."""

import pandas as pd
from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from pipeline.affiliations import explode
from pipeline.resolver import RESOLVER_VERSION, default_resolver
from resources.warehouse import WarehouseResource

from .common import GROUP, KINDS, partition, table_metadata
from .partitions import venue_year_partitions
from .sources import raw_papers


@asset(
    partitions_def=venue_year_partitions,
    deps=[raw_papers],
    group_name=GROUP,
    kinds=KINDS,
    code_version="1",
    description=(
        "One row per (paper, author position, affiliation string), with the author's e-mail "
        "domain and where the row came from. Authors without an affiliation keep one row."
    ),
)
def author_affiliations(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
    pk = partition(context)
    store = warehouse.warehouse()
    papers = store.read_partition("raw_papers", pk.key)
    frame = pd.DataFrame(explode(papers.to_dict("records")))
    if not frame.empty:
        frame["author_position"] = frame["author_position"].astype("Int64")
        frame["affiliation_index"] = frame["affiliation_index"].astype("Int64")
    rows = store.replace_partition("author_affiliations", pk.key, frame)
    with_aff = int(frame["affiliation"].notna().sum()) if rows else 0
    context.log.info(f"{pk}: {rows} author-affiliation rows from {len(papers)} papers")
    return MaterializeResult(
        metadata={
            **table_metadata(frame, ["paper_id", "author_position", "author_name", "affiliation", "email_domain"]),
            "rows_with_affiliation": with_aff,
            "distinct_affiliations": int(frame["affiliation"].nunique()) if rows else 0,
        }
    )


@asset(
    partitions_def=venue_year_partitions,
    deps=[author_affiliations],
    group_name=GROUP,
    kinds=KINDS,
    code_version=f"resolver-{RESOLVER_VERSION}",
    description=(
        "Each distinct (affiliation string, e-mail domain) of the venue-year resolved to an "
        "institution and an ISO 3166-1 alpha-2 country (HK, MO, TW kept apart), with the rule "
        "that decided (method), the text it read (evidence), a confidence, and for unresolved "
        "strings the reason."
    ),
)
def resolved_affiliations(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
    pk = partition(context)
    store = warehouse.warehouse()
    pairs = store.query(
        "SELECT DISTINCT affiliation, email_domain FROM author_affiliations WHERE partition_key = ?", [pk.key]
    )
    resolver = default_resolver()
    rows = []
    total = len(pairs)
    for n, (aff, dom) in enumerate(pairs.itertuples(index=False), start=1):
        aff = None if pd.isna(aff) else aff
        dom = None if pd.isna(dom) else dom
        res = resolver.resolve(aff, dom)
        rows.append({**res.as_dict(), "partition_key": pk.key, "affiliation": aff, "email_domain": dom,
                     "resolver_version": RESOLVER_VERSION})
        if n % 5000 == 0:
            context.log.info(f"{pk}: resolved {n}/{total}")
    frame = pd.DataFrame(rows)
    count = store.replace_partition("resolved_affiliations", pk.key, frame)
    resolved = int(frame["country"].notna().sum()) if count else 0
    with_text = frame[frame["affiliation"].notna()] if count else frame
    text_resolved = int(with_text["country"].notna().sum()) if count else 0
    methods = frame["method"].value_counts().to_dict() if count else {}
    context.log.info(f"{pk}: {resolved}/{count} resolved to a country")
    return MaterializeResult(
        metadata={
            **table_metadata(frame, ["affiliation", "email_domain", "country", "method", "confidence"]),
            "resolved_share": resolved / count if count else 0.0,
            "affiliation_strings_resolved_share": text_resolved / len(with_text) if len(with_text) else 0.0,
            "unresolved": count - resolved,
            "methods": MetadataValue.json({k: int(v) for k, v in methods.items()}),
        }
    )
