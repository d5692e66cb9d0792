"""Stage 6: `headlines` (the numbers, a snapshot of the papers behind them, what changed) and
`venue_year_report` (the report, charts, review sample and exports of a venue-year)."""

import json

import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AutomationCondition,
    Config,
    MaterializeResult,
    MetadataValue,
    asset,
)
from pydantic import Field

from pipeline.reports import charts
from pipeline.reports import headlines as hl
from pipeline.reports import report as rp
from pipeline.models import utcnow
from pipeline.sources.base import paper_identity
from pipeline.reports.review import evidence_digest, review_rows
from pipeline.text import markdown_table
from pipeline.countries.decision import PLACEMENTS
from resources.conventions import Conventions
from resources.reports import ReportsFolder
from resources.warehouse import WarehouseResource

from .common import GROUP, KINDS, partition, png_metadata
from .affiliations import author_affiliations, resolved_affiliations
from .countries import country_edges, paper_countries
from .mentions import mentions_by_country, paper_mentions
from .partitions import venue_year_partitions
from .sources import raw_papers

COVERAGE_CHECK = "country_coverage_at_least_95pct"
DUPLICATES_CHECK = "no_duplicate_papers"
BOUNDS_CHECK = "shares_within_bounds"
MIN_COVERAGE = 0.95


def _duplicates(papers: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Paper ids listed twice, and papers listed twice under two ids (same title and authors, by
    the key the sources' merge of repeats uses: a twin here means that merge failed)."""
    ids = papers.loc[papers["paper_id"].duplicated(), "paper_id"].astype(str).tolist()
    keyed = papers.assign(_key=[paper_identity(t, au) for t, au in zip(papers["title"], papers["authors"])])
    keyed = keyed[keyed["_key"].notna()]
    twins = keyed[keyed["_key"].duplicated(keep=False) & ~keyed["paper_id"].duplicated(keep=False)]
    return ids, sorted(twins["paper_id"].astype(str).tolist())


@asset(
    partitions_def=venue_year_partitions,
    deps=[raw_papers, author_affiliations, resolved_affiliations, paper_countries, country_edges, paper_mentions,
          mentions_by_country],
    group_name=GROUP,
    kinds=KINDS,
    code_version="1",
    automation_condition=AutomationCondition.eager(),
    check_specs=[
        AssetCheckSpec(COVERAGE_CHECK, asset="headlines",
                       description="At least 95% of the papers with an affiliation string or e-mail domain have "
                                   "a resolved country."),
        AssetCheckSpec(DUPLICATES_CHECK, asset="headlines",
                       description="No paper id twice, and no paper twice under two ids (same title and authors)."),
        AssetCheckSpec(BOUNDS_CHECK, asset="headlines",
                       description="Every share lies in [0, 1]; no number exceeds its denominator; US-CN never "
                                   "exceeds US or CN; every placement's count lies in its [low, high]."),
    ],
    description=(
        "The headline numbers of the venue-year under every China scope (papers; with a US, a CN "
        "author; US-CN co-authored; international; transformer / Llama / Qwen named in papers with "
        "CN or US authors, abstract and full text), each with its low-confidence papers counted. "
        "Each materialisation also stores a snapshot of every paper's countries, mentions and "
        "affiliation evidence, so `paperatlas diff` (and the metadata here) says which papers "
        "entered or left each number and which affiliation or rule changed. Tables: "
        "headline_numbers, headline_snapshots, headline_snapshot_runs."
    ),
)
def headlines(context: AssetExecutionContext, warehouse: WarehouseResource,
              conventions: Conventions) -> MaterializeResult:
    pk = partition(context)
    store = warehouse.warehouse()
    with store.connect() as con:
        views = rp.load_views(store, pk.key, con=con)
        papers = store.query("SELECT paper_id, title, authors FROM raw_papers WHERE partition_key = ?", [pk.key],
                             con=con)
        used = rp.inputs(store, pk.key, con=con)
        last = con.execute("SELECT max(snapshot) FROM headline_snapshot_runs WHERE partition_key = ?",
                           [pk.key]).fetchone()[0]
        previous = store.query("SELECT * FROM headline_snapshots WHERE partition_key = ? AND snapshot = ?",
                               [pk.key, last], con=con) if last is not None else None
    snapshot = (last or 0) + 1
    meta = {"partition_key": pk.key, "venue": pk.venue, "year": pk.year}
    rows = hl.headline_rows(meta, views, snapshot=snapshot)
    run = {"partition_key": pk.key, "snapshot": snapshot, "taken_at": utcnow().replace(tzinfo=None),
           "run_id": context.run_id, "papers": len(views), "inputs": json.dumps(used, sort_keys=True)}
    with store.connect() as con:
        store.replace_partition("headline_numbers", pk.key, rows, con=con)
        store.replace_where("headline_snapshots", hl.snapshot_rows(pk.key, snapshot, views),
                            "partition_key = ? AND snapshot = ?", [pk.key, snapshot], con=con)
        store.replace_where("headline_snapshot_runs", [run], "partition_key = ? AND snapshot = ?",
                            [pk.key, snapshot], con=con)
        for table in ("headline_snapshots", "headline_snapshot_runs"):  # keep the newest KEEP_SNAPSHOTS
            con.execute(f"DELETE FROM {table} WHERE partition_key = ? AND snapshot <= ?",
                        [pk.key, snapshot - hl.KEEP_SNAPSHOTS])

    if previous is not None and len(previous):
        change = hl.diff(hl.views_from_snapshot(previous), views, "cn", conventions.placement)
        changes_md = "```\n" + hl.format_diff(change, f"snapshot {last}", f"snapshot {snapshot}") + "\n```"
        changed = change["changed_numbers"]
    else:
        changes_md, changed = "_first materialisation of this venue-year: nothing to compare with_", 0

    frame = pd.DataFrame(rows)
    placement = conventions.placement
    cn = frame[(frame["china_scope"] == "cn") & (frame["placement"] == placement)].set_index("number")
    with_aff = int(cn.loc["papers_with_affiliation", "papers"])
    with_country = int(cn.loc["papers_with_country", "papers"])
    coverage = with_country / with_aff if with_aff else None
    ids, twins = _duplicates(papers)
    shares = frame["share"].dropna()
    over = frame[frame["papers"] > frame["denominator"]]
    by = frame.set_index(["placement", "china_scope", "number"])["papers"]
    pair_bad = [(p, s) for p in PLACEMENTS for s in hl.CHINA_SCOPES
                if by[(p, s, "us_cn")] > min(by[(p, s, "us")], by[(p, s, "cn")])]
    outside = frame[(frame["papers"] < frame["low"]) | (frame["papers"] > frame["high"])]
    context.log.info(f"{pk.key}: snapshot {snapshot}; US-CN {int(cn.loc['us_cn', 'papers'])} of {len(views)} papers")
    return MaterializeResult(
        metadata={
            "dagster/row_count": len(rows),
            "papers": len(views),
            "us_papers": int(cn.loc["us", "papers"]),
            "cn_papers": int(cn.loc["cn", "papers"]),
            "placement": placement,
            "us_cn_papers": int(cn.loc["us_cn", "papers"]),
            "us_cn_papers_low": int(cn.loc["us_cn", "low"]),
            "us_cn_papers_high": int(cn.loc["us_cn", "high"]),
            **{f"us_cn_papers_{p}": int(by[(p, "cn", "us_cn")]) for p in PLACEMENTS},
            "us_cn_share": float(cn.loc["us_cn", "share"]) if pd.notna(cn.loc["us_cn", "share"]) else 0.0,
            "us_cn_low_confidence": int(cn.loc["us_cn", "low_confidence"]),
            "country_coverage": coverage if coverage is not None else MetadataValue.null(),
            "headline": MetadataValue.md(markdown_table(
                hl.headline_table(rows, [placement, *[p for p in PLACEMENTS if p != placement]]), len(hl.NUMBERS))),
            "chart_intervals": png_metadata(charts.intervals(cn.reset_index(), f"{pk.key}, placement {placement}"),
                                            "headline numbers with their intervals"),
            "snapshot": snapshot,
            "changed_numbers": changed,
            "changes_since_previous": MetadataValue.md(changes_md),
        },
        check_results=[
            AssetCheckResult(
                check_name=COVERAGE_CHECK, passed=coverage is not None and coverage >= MIN_COVERAGE,
                severity=AssetCheckSeverity.WARN,
                metadata={"coverage": coverage if coverage is not None else MetadataValue.null(),
                          "papers_with_affiliation": with_aff, "papers_with_country": with_country,
                          "papers_without_affiliation_data": len(views) - with_aff},
                description=None if with_aff else "no paper has an affiliation string or e-mail domain",
            ),
            AssetCheckResult(
                check_name=DUPLICATES_CHECK, passed=not ids and not twins, severity=AssetCheckSeverity.ERROR,
                metadata={"duplicate_ids": len(ids), "same_paper_two_ids": len(twins),
                          "examples": ", ".join((ids + twins)[:10])},
            ),
            AssetCheckResult(
                check_name=BOUNDS_CHECK,
                passed=bool(((shares >= 0) & (shares <= 1)).all()) and over.empty and not pair_bad and outside.empty,
                severity=AssetCheckSeverity.ERROR,
                metadata={"shares_out_of_range": int(((shares < 0) | (shares > 1)).sum()),
                          "numbers_over_denominator": len(over), "scopes_with_us_cn_over_us_or_cn": len(pair_bad),
                          "counts_outside_their_interval": len(outside)},
            ),
        ],
    )


class ReportConfig(Config):
    china_scope: str = Field(default="cn", description="cn, cn+hk+mo or greater: folds HK/MO/TW for "
                                                       "countries, pairs, charts and the review sample.")
    seed: int = Field(default=hl.DEFAULT_SEED, description="Seed of the review samples.")
    sample_size: int = Field(default=hl.DEFAULT_SAMPLE, description="Papers sampled per headline number.")
    min_confidence: float = Field(default=hl.LOW_CONFIDENCE,
                                  description="Rows resolved below this confidence are low-confidence.")


@asset(
    partitions_def=venue_year_partitions,
    deps=[headlines],
    group_name=GROUP,
    kinds=KINDS,
    code_version="1",
    automation_condition=AutomationCondition.eager(),
    description=(
        "The report of the venue-year, written to $PAPERATLAS_HOME/reports/<venue-year>/: report.md, "
        "report.html and report.json with charts (US-CN share by year, top pairs, country network, "
        "top partners), the review sample of every headline number (review.csv, review.html) with "
        "its evidence, every low-confidence paper (low_confidence.csv) and CSV/Parquet exports. "
        "Table: review_samples."
    ),
)
def venue_year_report(context: AssetExecutionContext, config: ReportConfig, warehouse: WarehouseResource,
                      reports: ReportsFolder, conventions: Conventions) -> MaterializeResult:
    pk = partition(context)
    store = warehouse.warehouse()
    report = rp.build_report(store, pk.key, config.china_scope, seed=config.seed, sample_size=config.sample_size,
                             threshold=config.min_confidence, placement=conventions.placement)
    folder = reports.folder(pk.key)
    rp.write_report(report, folder)
    with store.connect() as con:
        snapshot = con.execute("SELECT max(snapshot) FROM headline_snapshot_runs WHERE partition_key = ?",
                               [pk.key]).fetchone()[0]
        samples = [
            {"partition_key": pk.key, "china_scope": report.scope, "number": number, "sample_rank": rank,
             "paper_id": pid, "low_confidence": pid in set(entry["low_confidence"]), "seed": report.seed,
             "snapshot": snapshot, "placement": report.placement,
             "evidence_sha256": evidence_digest(number, report.views[pid], report.scope, report.placement)}
            for number, entry in report.review.items() for rank, pid in enumerate(entry["sample"], start=1)
        ]
        store.replace_partition("review_samples", pk.key, samples, con=con)
    data = rp.report_json(report)
    pngs = report.charts()
    us_cn = pd.DataFrame(review_rows(report.views, {"us_cn": report.review["us_cn"]}, report.scope, report.placement))
    low = pd.DataFrame([{"number": k, "papers": v["papers"], "low_confidence": len(v["low_confidence"])}
                        for k, v in report.review.items()])
    context.log.info(f"{pk.key}: report written to {folder}")
    return MaterializeResult(
        metadata={
            "dagster/row_count": len(samples),
            "folder": MetadataValue.path(str(folder)),
            "report_html": MetadataValue.path(str(folder / "report.html")),
            "review_html": MetadataValue.path(str(folder / "review.html")),
            "china_scope": report.scope,
            "placement": report.placement,
            "us_cn_papers": data["us_cn_papers"],
            "us_cn_papers_low": data["us_cn_papers_low"],
            "us_cn_papers_high": data["us_cn_papers_high"],
            "us_cn_share": data["us_cn_share"],
            "report": MetadataValue.md(rp.render_markdown(report)),
            "chart_us_cn_share_by_year": png_metadata(pngs["us_cn_share"], "US-CN share by year"),
            "chart_top_pairs": png_metadata(pngs["top_pairs"], "top country pairs"),
            "chart_country_network": png_metadata(pngs["network"], "country collaboration network"),
            "chart_top_partners": png_metadata(pngs["partners"], "top partners"),
            "low_confidence": MetadataValue.md(markdown_table(low, len(low))),
            "review_sample_us_cn": MetadataValue.md(markdown_table(
                us_cn, 40, ["sample_rank", "paper_id", "affiliation", "countries", "rule", "confidence"])),
        }
    )
