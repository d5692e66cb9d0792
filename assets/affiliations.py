"""Stage 2 and 3: `author_affiliations`, then `resolved_affiliations` and the review list
(`unresolved_affiliations`)."""

import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AutomationCondition,
    MaterializeResult,
    MetadataValue,
    asset,
)

from pipeline.affiliations.rows import agrees, reference_agreement
from pipeline.affiliations.reconcile import PDF_SOURCE, reconcile
from pipeline.affiliations.resolver import RESOLVER_VERSION, Override, Resolver
from pipeline.text import markdown_table
from resources.ror import RorRegistry
from resources.warehouse import WarehouseResource

from .common import GROUP, KINDS, partition, table_metadata
from .partitions import venue_year_partitions
from .pdfs import pdf_affiliations
from .reference import affiliation_overrides, ror_registry
from .sources import raw_papers


@asset(
    partitions_def=venue_year_partitions,
    deps=[raw_papers, pdf_affiliations],
    group_name=GROUP,
    kinds=KINDS,
    code_version="2",
    description=(
        "One row per (paper, author position, affiliation string) from the metadata and from page 1 of "
        "the PDF, each with its source, the author's e-mail domain, how the PDF's author was matched "
        "to the metadata's (name_match) and the decision that says whether the row counts: the PDF's "
        "affiliations count for an author it gives any; else the metadata's (pipeline/affiliations/reconcile.py). "
        "Authors without an affiliation keep one row."
    ),
)
def author_affiliations(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
    pk = partition(context)
    store = warehouse.warehouse()
    with store.connect() as con:
        papers = store.read_partition("raw_papers", pk.key, con=con)
        pdf_rows = store.read_partition("pdf_affiliations", pk.key, con=con)
        refs = store.query("SELECT paper_id, coalesce(url, path) AS ref FROM paper_pdfs WHERE partition_key = ?",
                           [pk.key], con=con)
    pdf_records = pdf_rows.astype(object).where(pdf_rows.notna(), None).to_dict("records")
    frame = pd.DataFrame(reconcile(papers.to_dict("records"), pdf_records, dict(refs.itertuples(index=False))))
    if not frame.empty:
        frame["author_position"] = frame["author_position"].astype("Int64")
        frame["affiliation_index"] = frame["affiliation_index"].astype("Int64")
        frame["counted"] = frame["counted"].astype(bool)
    rows = store.replace_partition("author_affiliations", pk.key, frame)
    counted = frame[frame["counted"]] if rows else frame
    with_aff = int(counted["affiliation"].notna().sum()) if rows else 0
    decisions = frame["decision"].value_counts().to_dict() if rows else {}
    pdf_papers = int(counted.loc[counted["source"] == PDF_SOURCE, "paper_id"].nunique()) if rows else 0
    context.log.info(f"{pk}: {rows} author-affiliation rows from {len(papers)} papers; "
                     f"{pdf_papers} papers count affiliations from their PDF")
    return MaterializeResult(
        metadata={
            **table_metadata(frame, ["paper_id", "author_position", "author_name", "affiliation", "source", "decision"]),
            "counted_rows_with_affiliation": with_aff,
            "distinct_affiliations": int(counted["affiliation"].nunique()) if rows else 0,
            "papers_using_pdf": pdf_papers,
            "decisions": MetadataValue.json({k: int(v) for k, v in decisions.items()}),
        }
    )


RESOLVED_CHECK = "affiliations_resolved_to_a_country"
RESOLVED_THRESHOLD = 0.97
_RESOLVERS: dict[tuple[str, str], Resolver] = {}


def resolver_from_store(store, ror: RorRegistry) -> tuple[Resolver, str, str]:
    """The resolver for the registry and overrides last materialised: (resolver, registry
    checksum, overrides digest). Built once per process and reused across partitions."""
    registry = store.query("SELECT checksum, path FROM ror_registry")
    if not len(registry):
        raise RuntimeError("no ROR registry in the store: materialise `ror_registry` first "
                           "(set PAPERATLAS_ROR_DUMP to a dump, or to 'none' to run without one)")
    checksum, path = registry["checksum"].iloc[0], registry["path"].iloc[0]
    rules = store.query("SELECT * FROM affiliation_overrides ORDER BY rule")
    digest = str(rules["file_sha256"].iloc[0]) if len(rules) else "none"
    key = (checksum, digest)
    if key not in _RESOLVERS:
        index = None if checksum == "none" else ror.index(path, checksum)
        overrides = [Override(match=r.get("match"), contains=r.get("contains"), email_domain=r.get("email_domain"),
                              country=r["country"], institution=r.get("institution"), note=r.get("note"))
                     for r in rules.astype(object).where(rules.notna(), None).to_dict("records")]
        _RESOLVERS.clear()
        _RESOLVERS[key] = Resolver(index, overrides)
    return _RESOLVERS[key], checksum, digest


@asset(
    partitions_def=venue_year_partitions,
    deps=[author_affiliations, ror_registry, affiliation_overrides],
    group_name=GROUP,
    kinds=KINDS,
    code_version=f"resolver-{RESOLVER_VERSION}",
    # A new registry or overrides file re-resolves every venue-year (with the automation
    # daemon on, e.g. under `dagster dev`), and the countries downstream follow.
    automation_condition=AutomationCondition.eager(),
    check_specs=[AssetCheckSpec(
        RESOLVED_CHECK, asset="resolved_affiliations",
        description=f"At least {RESOLVED_THRESHOLD:.0%} of the venue-year's affiliation strings resolve to a country.",
    )],
    description=(
        "Each distinct (affiliation string, e-mail domain) of the venue-year resolved to an "
        "institution (ROR id where known) and an ISO 3166-1 alpha-2 country (HK, MO, TW kept "
        "apart), with the rule that decided (method), the text it read (evidence), a "
        "confidence, every country when the string names several institutions, and for "
        "unresolved strings the reason."
    ),
)
def resolved_affiliations(context: AssetExecutionContext, warehouse: WarehouseResource, ror: RorRegistry):
    pk = partition(context)
    store = warehouse.warehouse()
    pairs = store.query(
        "SELECT DISTINCT affiliation, email_domain FROM author_affiliations WHERE partition_key = ?", [pk.key]
    )
    resolver, checksum, digest = resolver_from_store(store, ror)
    rows = []
    total = len(pairs)
    for n, (aff, dom) in enumerate(pairs.itertuples(index=False), start=1):
        aff = None if pd.isna(aff) else aff
        dom = None if pd.isna(dom) else dom
        res = resolver.resolve(aff, dom)
        rows.append({**res.row(), "partition_key": pk.key, "affiliation": aff, "email_domain": dom,
                     "resolver_version": RESOLVER_VERSION})
        if n % 5000 == 0:
            context.log.info(f"{pk}: resolved {n}/{total}")
    frame = pd.DataFrame(rows)
    count = store.replace_partition("resolved_affiliations", pk.key, frame)
    resolved = int(frame["country"].notna().sum()) if count else 0
    with_text = frame[frame["affiliation"].notna()] if count else frame
    text_resolved = int(with_text["country"].notna().sum()) if count else 0
    share = text_resolved / len(with_text) if len(with_text) else 1.0
    methods = frame["method"].value_counts().to_dict() if count else {}
    unresolved = with_text[with_text["country"].isna()] if count else with_text
    context.log.info(f"{pk}: {resolved}/{count} resolved to a country")
    compared = store.query(
        """SELECT a.paper_id, a.author_position, a.source, a.affiliation, a.reference_countries, r.country
           FROM author_affiliations a JOIN resolved_affiliations r
             ON r.partition_key = a.partition_key AND r.affiliation IS NOT DISTINCT FROM a.affiliation
            AND r.email_domain IS NOT DISTINCT FROM a.email_domain
           WHERE a.partition_key = ? AND a.reference_countries IS NOT NULL""", [pk.key])
    records = compared.astype(object).where(compared.notna(), None).to_dict("records")
    agreement = reference_agreement(records)
    disagreements = pd.DataFrame([r for r in records if r["country"] and not agrees(r["country"], r["reference_countries"])],
                                 columns=list(compared.columns))
    comparison = {}
    if agreement["rows_with_source_country"]:
        comparison = {
            "source_country_agreement": MetadataValue.json(agreement),
            "source_country_disagreements": MetadataValue.md(markdown_table(
                disagreements, 15, ["paper_id", "source", "affiliation", "reference_countries", "country"])),
        }
    yield MaterializeResult(
        metadata={
            **table_metadata(frame, ["affiliation", "email_domain", "country", "institution", "method", "confidence"]),
            "resolved_share": resolved / count if count else 0.0,
            "affiliation_strings_resolved_share": share,
            "unresolved": count - resolved,
            "methods": MetadataValue.json({k: int(v) for k, v in methods.items()}),
            "ror_registry_sha256": checksum,
            "overrides_sha256": digest,
            **comparison,
        }
    )
    yield AssetCheckResult(
        check_name=RESOLVED_CHECK,
        passed=share >= RESOLVED_THRESHOLD,
        severity=AssetCheckSeverity.WARN,
        metadata={
            "resolved_share": share,
            "affiliation_strings": len(with_text),
            "unresolved": len(unresolved),
            "unresolved_sample": MetadataValue.md(markdown_table(unresolved, 15, ["affiliation", "email_domain", "reason"])),
        },
    )


@asset(
    deps=[resolved_affiliations],
    group_name=GROUP,
    kinds=KINDS,
    code_version="1",
    automation_condition=AutomationCondition.eager(),
    description=(
        "Every affiliation string no rule could place, across all venue-years, with the reason, "
        "how many author rows and papers carry it, and example papers: the review list. Fix "
        "one with a line in the overrides file. Table unresolved_affiliations."
    ),
)
def unresolved_affiliations(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
    store = warehouse.warehouse()
    with store.connect() as con:
        frame = store.query(
            """
            SELECT r.affiliation, r.email_domain, any_value(r.reason) AS reason,
                   count(*) AS author_rows, count(DISTINCT a.partition_key || '/' || a.paper_id) AS papers,
                   list_sort(list(DISTINCT a.partition_key)) AS partitions,
                   list_sort(list(DISTINCT a.partition_key || '/' || a.paper_id))[1:5] AS example_papers
            FROM resolved_affiliations r
            JOIN author_affiliations a
              ON a.partition_key = r.partition_key AND a.affiliation = r.affiliation
             AND a.email_domain IS NOT DISTINCT FROM r.email_domain AND coalesce(a.counted, true)
            WHERE r.country IS NULL AND r.affiliation IS NOT NULL
            GROUP BY r.affiliation, r.email_domain
            ORDER BY author_rows DESC, r.affiliation
            """,
            con=con,
        )
        store.replace_table("unresolved_affiliations", frame, con=con)
    context.log.info(f"{len(frame)} unresolved affiliation strings")
    return MaterializeResult(
        metadata={
            **table_metadata(frame, ["affiliation", "email_domain", "author_rows", "papers", "reason"], rows=25),
            "author_rows": int(frame["author_rows"].sum()) if len(frame) else 0,
        }
    )
