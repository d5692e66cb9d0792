"""The reports stage as its assets run it: the headline numbers with their snapshot and what
changed (`headlines`), the venue-year's report folder (`venue_year_report`), and the yearly
tables over every venue-year (`yearly_aggregates`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from ..conventions import CHINA_SCOPES, PLACEMENTS
from ..countries import counting
from ..countries.numbers import COUNTRY_IDS
from ..models import Check, FilePath, Markdown, Outcome, Png, Share, utcnow
from ..partitions import PartitionKey
from ..sources.base import paper_identity
from ..sources.plan import edition_test
from ..text import markdown_table, md_text, plural, preview
from . import charts, queries, render
from . import diff as df
from . import headlines as hl
from .render.lead import sentences as report_sentences
from .review import evidence_digest, review_rows
from .sentences import headline_sentences
from .views import build_report, read_views, venue_facts, views_from

COVERAGE_CHECK = "country_coverage_at_least_95pct"
DUPLICATES_CHECK = "no_duplicate_papers"
BOUNDS_CHECK = "shares_within_bounds"
MIN_COVERAGE = 0.95


def duplicates(papers: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Paper ids listed twice, and papers listed twice under two ids (same title and authors, by
    the key the sources' merge of repeats uses: a twin here means that merge failed)."""
    ids = papers.loc[papers["paper_id"].duplicated(), "paper_id"].astype(str).tolist()
    keyed = papers.assign(_key=[paper_identity(t, au) for t, au in zip(papers["title"], papers["authors"])])
    keyed = keyed[keyed["_key"].notna()]
    twins = keyed[keyed["_key"].duplicated(keep=False) & ~keyed["paper_id"].duplicated(keep=False)]
    return ids, sorted(twins["paper_id"].astype(str).tolist())


def headlines(store, pk: PartitionKey, placement: str, run_id: str, log: Callable[[str], None]) -> Outcome:
    """Every headline number under every placement and China scope with its interval (table
    `headline_numbers`), a snapshot of the papers behind them and what changed since the last."""
    # The store is held for the reads and for the writes, not for the Python work between them
    # (with two runs at once on DuckDB the other waits for it).
    with store.connect() as con:
        tables = read_views(store, pk.key, con=con)
        papers = queries.papers_with_authors(store, pk.key, con=con)
        used = queries.inputs(store, pk.key, con=con)
        last = queries.last_snapshot(store, pk.key, con=con)
        previous = None if last is None else (queries.snapshot(store, pk.key, last, con=con),
                                              queries.snapshot_evidence(store, pk.key, last, con=con))
    views = views_from(tables)
    snapshot = (last or 0) + 1
    meta = {"partition_key": pk.key, "venue": pk.venue, "year": pk.year}
    rows = hl.headline_rows(meta, views, snapshot=snapshot)
    run = {"partition_key": pk.key, "snapshot": snapshot, "taken_at": utcnow().replace(tzinfo=None),
           "run_id": run_id, "papers": len(views), "inputs": json.dumps(used, sort_keys=True)}
    numbers = store.framed("headline_numbers", rows)
    taken = store.framed("headline_snapshots", df.snapshot_rows(pk.key, snapshot, views))
    evidence = store.framed("headline_snapshot_evidence", df.snapshot_evidence(pk.key, snapshot, tables.decisions))
    this = "partition_key = ? AND snapshot = ?"
    with store.connect() as con:
        store.replace_partition("headline_numbers", pk.key, numbers, con=con)
        store.replace_where("headline_snapshots", taken, this, [pk.key, snapshot], con=con)
        store.replace_where("headline_snapshot_evidence", evidence, this, [pk.key, snapshot], con=con)
        store.replace_where("headline_snapshot_runs", [run], this, [pk.key, snapshot], con=con)
        for table in ("headline_snapshots", "headline_snapshot_evidence",
                      "headline_snapshot_runs"):  # keep the newest KEEP_SNAPSHOTS
            store.delete_where(table, "partition_key = ? AND snapshot <= ?", [pk.key, snapshot - df.KEEP_SNAPSHOTS],
                               con=con)

    if previous is not None and len(previous[0]):
        change = df.diff(df.views_from_snapshot(*previous), views, "cn", placement)
        changes = Markdown("```\n" + df.format_diff(change, f"snapshot {last}", f"snapshot {snapshot}") + "\n```")
        changed = change["changed_numbers"]
    else:
        changes, changed = Markdown("_first materialisation of this venue-year: nothing to compare with_"), 0

    frame = pd.DataFrame(rows)
    cn = frame[(frame["china_scope"] == "cn") & (frame["placement"] == placement)].set_index("number")
    with_aff = int(cn.loc["papers_with_affiliation", "papers"])
    with_country = int(cn.loc["papers_with_country", "papers"])
    coverage = with_country / with_aff if with_aff else None
    ids, twins = duplicates(papers)
    shares = frame["share"].dropna()
    over = frame[frame["papers"] > frame["denominator"]]
    by = frame.set_index(["placement", "china_scope", "number"])["papers"]
    pair_bad = [(p, s) for p in PLACEMENTS for s in CHINA_SCOPES
                if by[(p, s, "us_cn")] > min(by[(p, s, "us")], by[(p, s, "cn")])]
    outside = frame[(frame["papers"] < frame["low"]) | (frame["papers"] > frame["high"])]
    us_cn = cn.loc["us_cn"]
    log(f"{pk.key}: snapshot {snapshot}; US-CN {int(us_cn['papers'])} of {len(views)} papers")
    order = [placement, *[p for p in PLACEMENTS if p != placement]]
    return Outcome(rows=len(rows), row="headline number under one China scope and placement", metadata={
        # The headline in words, first: what the report opens with (pipeline/reports/sentences.py).
        "headline_sentence": Markdown(md_text(" ".join(
            headline_sentences(frame, venue_facts(pk.venue)[0], pk.year, "cn", placement)))),
        "papers": len(views),
        "us_papers": int(cn.loc["us", "papers"]),
        "cn_papers": int(cn.loc["cn", "papers"]),
        "placement": placement,
        "us_cn_papers": int(us_cn["papers"]),
        "us_cn_papers_low": int(us_cn["low"]),
        "us_cn_papers_high": int(us_cn["high"]),
        "us_cn_papers_unplaced": int(us_cn["unplaced"]),
        **{f"us_cn_papers_{p}": int(by[(p, "cn", "us_cn")]) for p in PLACEMENTS},
        "us_cn_share": Share(int(us_cn["papers"]), len(views), "papers"),
        "us_cn_low_confidence": int(us_cn["low_confidence"]),
        "us_cn_interval": hl.interval(us_cn["papers"], us_cn["low"], us_cn["high"], us_cn["unplaced"]),
        "country_coverage": Share(with_country, with_aff, "papers with affiliation data"),
        # The country numbers; the term counts are in the report, which says when no full text was read.
        "headline": Markdown(markdown_table(hl.headline_table([r for r in rows if r["number"] in COUNTRY_IDS],
                                                              order), len(hl.NUMBERS))),
        "chart_intervals": Png(charts.intervals(cn.reset_index(), f"{pk.key}, placement {placement}"),
                               "headline numbers with their intervals"),
        # Which snapshot and what changed identify this materialisation: text, so the UI does not
        # plot them by partition as it plots the measures above.
        "snapshot": f"snapshot {snapshot}",
        "changed_numbers": (f"{plural(changed, 'number')} changed since snapshot {last}" if previous is not None
                            else "first snapshot: nothing to compare with"),
        "changes_since_previous": changes,
    }, checks=[
        Check(COVERAGE_CHECK, coverage is not None and coverage >= MIN_COVERAGE, severity="warn", metadata={
            "coverage": Share(with_country, with_aff, "papers with affiliation data"),
            "papers_with_affiliation": with_aff, "papers_with_country": with_country,
            "papers_without_affiliation_data": len(views) - with_aff},
            description=None if with_aff else "no paper has an affiliation string or e-mail domain"),
        Check(DUPLICATES_CHECK, not ids and not twins, {
            "duplicate_ids": len(ids), "same_paper_two_ids": len(twins), "examples": ", ".join((ids + twins)[:10])}),
        Check(BOUNDS_CHECK, bool(((shares >= 0) & (shares <= 1)).all()) and over.empty and not pair_bad and outside.empty,
              {"shares_out_of_range": int(((shares < 0) | (shares > 1)).sum()), "numbers_over_denominator": len(over),
               "scopes_with_us_cn_over_us_or_cn": len(pair_bad), "counts_outside_their_interval": len(outside)}),
    ])


def venue_year_report(store, pk: PartitionKey, folder: Path, placement: str, china_scope: str, seed: int,
                      sample_size: int, min_confidence: float, log: Callable[[str], None]) -> Outcome:
    """The report folder of the venue-year (report, charts, review sample, exports) and the
    review sample's rows (table `review_samples`)."""
    report = build_report(store, pk.key, china_scope, seed=seed, sample_size=sample_size, threshold=min_confidence,
                          placement=placement)
    render.write_report(report, folder, on_kept=lambda kept: log(render.kept_message(folder, kept)))
    snapshot = queries.last_snapshot(store, pk.key)
    samples = [
        {"partition_key": pk.key, "china_scope": report.scope, "number": number, "sample_rank": rank,
         "paper_id": pid, "low_confidence": pid in set(entry["low_confidence"]), "seed": report.seed,
         "snapshot": snapshot, "placement": report.placement,
         "evidence_sha256": evidence_digest(number, report.views[pid], report.scope, report.placement)}
        for number, entry in report.review.items() for rank, pid in enumerate(entry["sample"], start=1)
    ]
    store.replace_partition("review_samples", pk.key, samples)
    data = render.report_json(report)
    pngs = report.charts()
    us_cn = pd.DataFrame(review_rows(report.views, {"us_cn": report.review["us_cn"]}, report.scope, report.placement))
    low = pd.DataFrame([{"number": k, "papers": v["papers"], "low_confidence": len(v["low_confidence"])}
                        for k, v in report.review.items()])
    log(f"{pk.key}: report written to {folder}")
    return Outcome(rows=len(samples), row="paper drawn into a review sample", metadata={
        "headline_sentence": Markdown(md_text(" ".join(report_sentences(report)))),  # as report.html opens
        "folder": FilePath(folder),
        "report_html": FilePath(folder / "report.html"),
        "review_html": FilePath(folder / "review.html"),
        "china_scope": report.scope,
        "placement": report.placement,
        "us_cn_papers": data["us_cn_papers"],
        "us_cn_papers_low": data["us_cn_papers_low"],
        "us_cn_papers_high": data["us_cn_papers_high"],
        "us_cn_papers_unplaced": data["us_cn_papers_unplaced"],
        "us_cn_share": Share(data["us_cn_papers"], data["papers"], "papers"),
        "report": Markdown(render.render_markdown(report)),
        "chart_us_cn_share_by_year": Png(pngs["us_cn_share"], "US-CN share by year"),
        "chart_top_pairs": Png(pngs["top_pairs"], "top country pairs"),
        "chart_country_network": Png(pngs["network"], "country collaboration network"),
        "chart_top_partners": Png(pngs["partners"], "top partners"),
        "low_confidence": preview(low, rows=len(low)),
        "review_sample_us_cn": preview(us_cn, ["sample_rank", "paper_id", "affiliation", "countries", "rule",
                                               "confidence"], 40),
    })


def yearly_aggregates(store, placement: str, log: Callable[[str], None]) -> Outcome:
    """Per venue and year, and per year across venues: countries, pairs, partners, headline
    numbers and a summary, over every venue-year materialised so far."""
    with store.connect() as con:
        read = queries.yearly_inputs(store, con=con)
    summaries = read["partition_summary"]
    tables = counting.yearly_from_counts(counting.counted(read["counts"]), summaries, read["headline_numbers"])
    framed = {name: store.framed(name, frame) for name, frame in tables.items()}
    with store.connect() as con:  # held for the writes alone, as in `headlines`
        written = {name: store.replace_table(name, frame, con=con) for name, frame in framed.items()}
    summary, heads = tables["yearly_summary"], tables["yearly_headlines"]
    us_cn = heads[(heads["number"] == "us_cn") & (heads["china_scope"] == "cn") & (heads["placement"] == placement)][
        ["venue", "year", "papers", "low", "high", "unplaced", "denominator", "share", "low_confidence"]]
    overall = summary[summary["venue"] == "all"]
    with_country = int(overall["papers_with_country"].sum())
    keys = sorted(summaries["partition_key"].unique().tolist())
    log(f"yearly aggregates over {len(keys)} venue-years: {written}")
    return Outcome(rows=sum(written.values()), row="row of the yearly tables (rows_<table> gives each table)",
                   metadata={
        **{f"rows_{name}": n for name, n in written.items()},
        "venue_years": len(keys),
        "venue_year_keys": keys,
        "papers": int(overall["papers"].sum()),
        "papers_with_country": with_country,
        "international_share": Share(int(overall["international_papers"].sum()), with_country,
                                     "papers with a country"),
        "summary": preview(summary, rows=40),
        "top_pairs": preview(tables["yearly_pairs"][tables["yearly_pairs"]["venue"] == "all"], rows=15),
        "us_cn_by_year": preview(us_cn, rows=60),
        "chart_us_cn_share_by_year": Png(charts.us_cn_share_by_year(us_cn, "all", "cn", edition_test()),
                                         "US-CN share by year"),
    })


def study_claims(store, study, wanted: list[str], placement: str, china_scope: str, groups: dict,
                 years: str, log: Callable[[str], None]) -> Outcome:
    """A study's claims on the materialised venue-years of its scope (table `study_results`):
    ours beside each published figure, what it stands on and why the two may differ."""
    from .studies.evaluate import evaluate
    from .studies.render import chart_bytes, rows

    done = set(queries.materialised_keys(store)) if store.exists() else set()
    materialised = [k for k in wanted if k in done]
    result = evaluate(store, study, wanted, materialised, placement, china_scope, groups)
    payload = result.as_json()
    agreeing = sum(1 for c in result.claims if c.agrees)
    compared = sum(1 for c in result.claims if c.agrees is not None)
    store.replace_where("study_results", [{
        "study": study.name, "placement": placement, "china_scope": china_scope, "years": years,
        "computed_at": utcnow().replace(tzinfo=None), "claims": len(result.claims), "agreeing": agreeing,
        "materialised": materialised, "result": json.dumps(payload, ensure_ascii=False, default=str)}],
        "study = ? AND placement = ? AND china_scope = ? AND years = ?", [study.name, placement, china_scope, years])
    log(f"study {study.name}: {compared} of {len(result.claims)} claims compared on {len(materialised)} venue-years, "
        f"{agreeing} agree")
    charts = chart_bytes(result)
    return Outcome(rows=len(result.claims), row="claim", metadata={
        "study": study.name, "title": study.title, "published": study.source_line(),
        "venue_years": len(materialised), "venue_year_keys": materialised,
        "not_materialised": len(wanted) - len(materialised), "claims_compared": compared,
        "claims_agreeing": agreeing, "placement": placement, "china_scope": china_scope,
        "claims": Markdown(markdown_table(pd.DataFrame(rows(result)))),
        **{f"chart_{cid}": Png(png, cid) for cid, png in list(charts.items())[:3]},
    })
