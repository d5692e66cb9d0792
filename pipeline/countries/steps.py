"""The country stage as its assets run it: every counted row's country decided
(`country_decisions`, by pipeline/countries/decision.py), each paper's countries under the run's
placement (`paper_countries`) and the country pairs (`country_edges`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pandas as pd

from ..conventions import DEFAULT_CHINA_SCOPE, fold_countries
from ..models import Check, Outcome, Share
from ..partitions import PartitionKey
from ..text import counts, preview
from . import counting, decision, numbers, queries

DECIDED_CHECK = "every_counted_row_decided_once"
SHARES_CHECK = "fractional_shares_sum_to_one"
UNIQUE_CHECK = "one_row_per_paper_and_country"
EDGES_CHECK = "edges_match_paper_countries"


def country_decisions(store, pk: PartitionKey, log: Callable[[str], None]) -> Outcome:
    """One decision per counted author-affiliation row (see pipeline/countries/decision.py)."""
    with store.connect() as con:
        rows, resolved = queries.rows_and_resolutions(store, pk.key, con=con)
    resolutions = {decision.resolution_key(r["affiliation"], r["email_domain"]): r for r in resolved}
    decided = decision.decide(rows, resolutions)
    frame = decision.decision_frame(pk.key, decided)
    store.replace_partition("country_decisions", pk.key, frame)
    expected = sum(1 for r in rows if decision.decided(r))
    uncertain = frame[frame["uncertainty"].notna()] if len(frame) else frame
    log(f"{pk}: {len(frame)} rows decided; {len(uncertain)} uncertain")
    return Outcome(rows=len(frame), row="author-affiliation row decided", metadata={
        "preview": preview(frame, ["paper_id", "author_position", "affiliation", "countries", "method", "basis",
                                   "uncertainty"]),
        "decided_by": counts(frame["basis"]) if len(frame) else {},
        "uncertain_rows": len(uncertain),
        "uncertain_by_kind": counts(frame["uncertainty"].dropna()) if len(frame) else {},
        "uncertain_sample": preview(uncertain, ["paper_id", "affiliation", "countries", "alternatives", "uncertainty"],
                                    15),
    }, checks=[Check(DECIDED_CHECK, expected == len(frame), {"counted_rows": expected, "decisions": len(frame)})])


def paper_countries(store, pk: PartitionKey, placement: str) -> Outcome:
    """Each paper's countries under the placement, with whole and fractional counts (table
    `paper_countries`), and the venue-year's row of `partition_summary`."""
    with store.connect() as con:
        # Authors: the metadata's, or those the PDF gave when the metadata lists none.
        papers = queries.authors_per_paper(store, pk.key, con=con)
        affiliation_rows, resolved_rows = queries.row_counts(store, pk.key, con=con)
        decided = queries.decisions(store, pk.key, con=con)
    decided = decision.from_columns(decided)  # built after the store is let go (see reports.steps.headlines)
    meta = {r["paper_id"]: {"partition_key": pk.key, "venue": pk.venue, "year": pk.year} for r in papers}
    rows = decision.paper_country_rows(decided, placement, meta)
    frame = pd.DataFrame(rows)
    sets = counting.country_sets(rows)
    summary = counting.partition_summary(pk.key, pk.venue, pk.year, len(papers),
                                         sum(int(r["n_authors"]) for r in papers), affiliation_rows,
                                         resolved_rows, sets)
    written = store.framed("paper_countries", frame)
    with store.connect() as con:
        store.replace_partition("paper_countries", pk.key, written, con=con)
        store.replace_partition("partition_summary", pk.key, [summary], con=con)

    folded = [fold_countries(cs, DEFAULT_CHINA_SCOPE) for cs in sets.values()]
    n = numbers.count(folded, ["papers_with_country", "international", "us", "cn", "us_cn"])
    by_country = Counter(c for cs in folded for c in cs)
    if len(frame):
        sums = frame.groupby("paper_id")["fractional"].sum()
        bad_sum = sums[(sums - 1.0).abs() > 1e-9]
        out_of_range = frame[(frame["fractional"] < 0) | (frame["fractional"] > 1)]
        duplicates = frame[frame.duplicated(["paper_id", "country"], keep=False)]
    else:
        bad_sum, out_of_range, duplicates = pd.Series(dtype=float), frame, frame
    top = pd.DataFrame(sorted(by_country.items(), key=lambda kv: (-kv[1], kv[0]))[:15], columns=["country", "papers"])
    return Outcome(rows=len(frame), row="paper and country", metadata={
        "preview": preview(frame, ["paper_id", "country", "authors", "fractional", "n_countries"]),
        "papers": len(papers),
        "papers_with_country": n["papers_with_country"],
        "country_coverage": Share(n["papers_with_country"], len(papers), "papers"),
        "international_share": Share(n["international"], n["papers_with_country"], "papers with a country"),
        "us_cn_papers": n["us_cn"],
        "us_cn_share": Share(n["us_cn"], len(papers), "papers"),
        "placement": placement,
        "us_papers": n["us"],
        "cn_papers": n["cn"],
        "top_countries": preview(top, rows=15),
    }, checks=[
        Check(SHARES_CHECK, bad_sum.empty and out_of_range.empty, {
            "papers_not_summing_to_one": len(bad_sum), "shares_out_of_range": len(out_of_range),
            "examples": ", ".join(map(str, list(bad_sum.index[:5])))}),
        Check(UNIQUE_CHECK, duplicates.empty, {"duplicate_rows": len(duplicates)}),
    ])


def country_edges(store, pk: PartitionKey) -> Outcome:
    """Every pair of countries that co-authored a paper, whole and fractional (table
    `country_edges`)."""
    pc = queries.paper_countries(store, pk.key)
    frame = pd.DataFrame(counting.edge_rows(pc), columns=counting.EDGE_COLUMNS)
    store.replace_partition("country_edges", pk.key, frame)
    sets = counting.country_sets(pc)
    expected = {(p, a, b) for p, cs in sets.items() for a, b in counting.pairs_of(cs)}
    got = set(frame[["paper_id", "country_a", "country_b"]].itertuples(index=False, name=None))
    share = {(p, c): f for p, c, f in pc[["paper_id", "country", "fractional"]].itertuples(index=False)}
    bad_weights = sum(
        1 for p, a, b, w in frame[["paper_id", "country_a", "country_b", "fractional"]].itertuples(index=False)
        if abs(w - share.get((p, a), 0.0) - share.get((p, b), 0.0)) > 1e-9 or not 0 < w <= 1 + 1e-9)
    pairs = (frame.groupby(["country_a", "country_b"]).agg(papers=("paper_id", "size"), fractional=("fractional", "sum"))
             .sort_values("papers", ascending=False).reset_index() if len(frame)
             else pd.DataFrame(columns=["country_a", "country_b", "papers", "fractional"]))
    return Outcome(rows=len(frame), row="paper and pair of its countries", metadata={
        "preview": preview(frame, ["paper_id", "country_a", "country_b", "fractional"]),
        "international_papers": int(frame["paper_id"].nunique()) if len(frame) else 0,
        "distinct_pairs": len(pairs),
        "top_pairs": preview(pairs, rows=15),
    }, checks=[Check(EDGES_CHECK, expected == got and len(got) == len(frame) and not bad_weights, {
        "missing_edges": len(expected - got), "unexpected_edges": len(got - expected),
        "duplicate_edges": len(frame) - len(got), "wrong_fractional_weights": bad_weights})])
