"""Stage 4: `country_decisions` (the one place a country is decided), `paper_countries` (and
the partition's summary row), then `country_edges`."""

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

from pipeline.countries import counting
from pipeline.countries import decision
from pipeline.text import markdown_table
from resources.conventions import Conventions
from resources.warehouse import WarehouseResource

from .affiliations import author_affiliations, resolved_affiliations
from .common import GROUP, KINDS, partition, table_metadata
from .partitions import venue_year_partitions
from .sources import raw_papers

SHARES_CHECK = "fractional_shares_sum_to_one"
UNIQUE_CHECK = "one_row_per_paper_and_country"
EDGES_CHECK = "edges_match_paper_countries"


DECIDED_CHECK = "every_counted_row_decided_once"


@asset(
    partitions_def=venue_year_partitions,
    deps=[author_affiliations, resolved_affiliations],
    group_name=GROUP,
    kinds=KINDS,
    code_version="1",
    automation_condition=AutomationCondition.eager(),
    check_specs=[AssetCheckSpec(DECIDED_CHECK, asset="country_decisions",
                                description="Every counted author-affiliation row with a string or e-mail domain "
                                            "has exactly one decision.")],
    description=(
        "The one place where a country is decided (pipeline/countries/decision.py): for every counted "
        "author-affiliation row, the country it counts for under each placement (hq, coauthors), the rule, "
        "its confidence, which evidence decided (printed place, OpenReview profile, e-mail domain, "
        "institution, convention), the text, and for uncertain rows (multinational named without a "
        "place, sources that disagree, low confidence with an alternative) the countries it could hold. "
        "paper_countries, the headline numbers, the report, the review trail and diff read it."
    ),
)
def country_decisions(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
    pk = partition(context)
    store = warehouse.warehouse()
    with store.connect() as con:
        aa = store.read_partition("author_affiliations", pk.key, con=con)
        resolved = store.read_partition("resolved_affiliations", pk.key, con=con)
    rows = aa.to_dict("records")  # decide reads NaN and NA as missing
    resolutions = {decision.resolution_key(r["affiliation"], r["email_domain"]): r for r in resolved.to_dict("records")}
    decided = decision.decide(rows, resolutions)
    frame = pd.DataFrame(decision.decision_rows(pk.key, decided))
    store.replace_partition("country_decisions", pk.key, frame)
    expected = sum(1 for r in rows if decision.clean(r.get("counted")) is not False
                   and (decision.clean(r.get("affiliation")) or decision.clean(r.get("email_domain"))))
    kinds = frame["uncertainty"].value_counts().to_dict() if len(frame) else {}
    basis = frame["basis"].value_counts().to_dict() if len(frame) else {}
    uncertain = frame[frame["uncertainty"].notna()] if len(frame) else frame
    context.log.info(f"{pk}: {len(frame)} rows decided; {len(uncertain)} uncertain")
    return MaterializeResult(
        metadata={
            **table_metadata(frame, ["paper_id", "author_position", "affiliation", "countries", "method", "basis",
                                     "uncertainty"]),
            "decided_by": MetadataValue.json({k: int(v) for k, v in basis.items()}),
            "uncertain_rows": len(uncertain),
            "uncertain_by_kind": MetadataValue.json({k: int(v) for k, v in kinds.items()}),
            "uncertain_sample": MetadataValue.md(markdown_table(
                uncertain, 15, ["paper_id", "affiliation", "countries", "alternatives", "uncertainty"])),
        },
        check_results=[AssetCheckResult(
            check_name=DECIDED_CHECK, passed=expected == len(frame), severity=AssetCheckSeverity.ERROR,
            metadata={"counted_rows": expected, "decisions": len(frame)},
        )],
    )


@asset(
    partitions_def=venue_year_partitions,
    deps=[raw_papers, country_decisions],
    group_name=GROUP,
    kinds=KINDS,
    code_version="5",
    automation_condition=AutomationCondition.eager(),
    check_specs=[
        AssetCheckSpec(SHARES_CHECK, asset="paper_countries",
                       description="Each paper's fractional shares lie in [0, 1] and sum to 1."),
        AssetCheckSpec(UNIQUE_CHECK, asset="paper_countries",
                       description="No paper counts twice for one country."),
    ],
    description=(
        "Countries of each paper under the run's placement (resource `conventions`: hq or coauthors), "
        "read from country_decisions: authors from the country (whole counting) and the paper's "
        "fractional share (each placed author holds an equal share, split over their countries). "
        "Also writes the partition's row of `partition_summary`."
    ),
)
def paper_countries(context: AssetExecutionContext, warehouse: WarehouseResource,
                    conventions: Conventions) -> MaterializeResult:
    pk = partition(context)
    store = warehouse.warehouse()
    with store.connect() as con:
        # Authors: the metadata's, or those the PDF gave when the metadata lists none.
        papers = store.query(
            """
            SELECT p.paper_id, greatest(len(p.authors), coalesce(a.pdf_authors, 0)) AS n_authors
            FROM raw_papers p
            LEFT JOIN (SELECT paper_id, count(DISTINCT author_position) AS pdf_authors FROM author_affiliations
                       WHERE partition_key = ? AND counted AND source = 'pdf' GROUP BY paper_id) a USING (paper_id)
            WHERE p.partition_key = ?
            """, [pk.key, pk.key], con=con,
        )
        affiliation_rows = con.execute(
            "SELECT count(affiliation) FROM author_affiliations WHERE partition_key = ? AND coalesce(counted, true)",
            [pk.key]).fetchone()[0]
        resolved_rows = con.execute(
            "SELECT count(country) FROM resolved_affiliations WHERE partition_key = ?", [pk.key]).fetchone()[0]
        decided = decision.load_decisions(store, pk.key, con=con)
    meta = {pid: {"partition_key": pk.key, "venue": pk.venue, "year": pk.year} for pid in papers["paper_id"]}
    rows = decision.paper_country_rows(decided, conventions.placement, meta)
    frame = pd.DataFrame(rows)
    sets = counting.country_sets(rows)
    summary = counting.partition_summary(
        pk.key, pk.venue, pk.year, len(papers), int(papers["n_authors"].sum()) if len(papers) else 0,
        int(affiliation_rows), int(resolved_rows), sets,
    )
    with store.connect() as con:
        store.replace_partition("paper_countries", pk.key, frame, con=con)
        store.replace_partition("partition_summary", pk.key, [summary], con=con)

    head = counting.headline(sets, len(papers))
    if len(frame):
        sums = frame.groupby("paper_id")["fractional"].sum()
        bad_sum = sums[(sums - 1.0).abs() > 1e-9]
        out_of_range = frame[(frame["fractional"] < 0) | (frame["fractional"] > 1)]
        duplicates = frame[frame.duplicated(["paper_id", "country"], keep=False)]
    else:
        bad_sum = pd.Series(dtype=float)
        out_of_range = duplicates = frame
    top = pd.DataFrame(list(head["country_papers"].items())[:15], columns=["country", "papers"])
    return MaterializeResult(
        metadata={
            **table_metadata(frame, ["paper_id", "country", "authors", "fractional", "n_countries"]),
            "papers": head["papers"],
            "papers_with_country": head["papers_with_country"],
            "country_coverage": head["papers_with_country"] / head["papers"] if head["papers"] else 0.0,
            "international_share": head["international_share"],
            "us_cn_papers": head["us_cn_papers"],
            "us_cn_share": head["us_cn_share"],
            "placement": conventions.placement,
            "us_papers": head["us_papers"],
            "cn_papers": head["cn_papers"],
            "top_countries": MetadataValue.md(markdown_table(top, 15)),
        },
        check_results=[
            AssetCheckResult(
                check_name=SHARES_CHECK,
                passed=bad_sum.empty and out_of_range.empty,
                severity=AssetCheckSeverity.ERROR,
                metadata={"papers_not_summing_to_one": len(bad_sum), "shares_out_of_range": len(out_of_range),
                          "examples": ", ".join(map(str, list(bad_sum.index[:5])))},
            ),
            AssetCheckResult(
                check_name=UNIQUE_CHECK,
                passed=duplicates.empty,
                severity=AssetCheckSeverity.ERROR,
                metadata={"duplicate_rows": len(duplicates)},
            ),
        ],
    )


@asset(
    partitions_def=venue_year_partitions,
    deps=[paper_countries],
    group_name=GROUP,
    kinds=KINDS,
    code_version="2",
    automation_condition=AutomationCondition.eager(),
    check_specs=[
        AssetCheckSpec(EDGES_CHECK, asset="country_edges",
                       description="Every paper with k countries has exactly k(k-1)/2 edges, all between its "
                                   "countries, each weighing the two countries' fractional shares added."),
    ],
    description=(
        "Every unordered pair of countries (country_a < country_b) that co-authored a paper: whole "
        "counting (one edge per paper) and fractional (`fractional`: the two countries' shares of the "
        "paper added, the Nature Index's bilateral collaboration score)."
    ),
)
def country_edges(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
    pk = partition(context)
    store = warehouse.warehouse()
    pc = store.read_partition("paper_countries", pk.key)
    frame = pd.DataFrame(counting.edge_rows(pc), columns=counting.EDGE_COLUMNS)
    store.replace_partition("country_edges", pk.key, frame)

    sets = counting.country_sets(pc)
    expected = {(p, a, b) for p, cs in sets.items() for a, b in counting.pairs_of(cs)}
    got = set(frame[["paper_id", "country_a", "country_b"]].itertuples(index=False, name=None)) if len(frame) else set()
    share = {(p, c): f for p, c, f in pc[["paper_id", "country", "fractional"]].itertuples(index=False)}
    bad_weights = sum(
        1 for p, a, b, w in (frame[["paper_id", "country_a", "country_b", "fractional"]].itertuples(index=False)
                             if len(frame) else [])
        if abs(w - share.get((p, a), 0.0) - share.get((p, b), 0.0)) > 1e-9 or not 0 < w <= 1 + 1e-9
    )
    pairs = (
        frame.groupby(["country_a", "country_b"]).agg(papers=("paper_id", "size"), fractional=("fractional", "sum"))
        .sort_values("papers", ascending=False).reset_index()
        if len(frame) else pd.DataFrame(columns=["country_a", "country_b", "papers", "fractional"])
    )
    return MaterializeResult(
        metadata={
            **table_metadata(frame, ["paper_id", "country_a", "country_b", "fractional"]),
            "international_papers": int(frame["paper_id"].nunique()) if len(frame) else 0,
            "distinct_pairs": len(pairs),
            "top_pairs": MetadataValue.md(markdown_table(pairs, 15)),
        },
        check_results=[
            AssetCheckResult(
                check_name=EDGES_CHECK,
                passed=expected == got and len(got) == len(frame) and not bad_weights,
                severity=AssetCheckSeverity.ERROR,
                metadata={"missing_edges": len(expected - got), "unexpected_edges": len(got - expected),
                          "duplicate_edges": len(frame) - len(got), "wrong_fractional_weights": bad_weights},
            )
        ],
    )
