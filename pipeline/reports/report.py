"""The headline report of a venue-year: tables, charts, review sample and exports.

`build_report` reads a venue-year's tables from the store and computes everything under one
China scope (the headline table shows all three); `render_markdown`, `render_html` and
`report_json` format it; `write_report` writes a folder:

    report.md, report.html, report.json    the report (the HTML embeds its charts)
    charts/*.png                           US-CN share by year, top pairs, network, partners
    review.csv, review.html                the review sample of every number
    low_confidence.csv                     every low-confidence paper behind every number
    tables/*.csv, tables/*.parquet         headline numbers, countries, pairs, partners,
                                           paper countries, edges, mentions by country

The folder is written beside its target and swapped in whole, so a reader never sees half a
report. Nothing in it depends on the clock: the same store gives the same bytes.
"""

from __future__ import annotations

import base64
import html
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from ..countries import counting, decision
from ..countries.decision import DEFAULT_PLACEMENT, PLACEMENTS
from ..models import missing
from ..partitions import parse_partition_key
from ..text import csv_frame, markdown_table
from . import charts
from .headlines import (
    CHINA_SCOPES,
    DEFAULT_SAMPLE,
    DEFAULT_SEED,
    LOW_CONFIDENCE,
    WIRED_TERMS,
    PaperView,
    build_views,
    headline_rows,
    headline_table,
    interval,
)
from .review import (
    CSV_COLUMNS,
    LOW_COLUMNS,
    build_review,
    low_confidence_rows,
    precision,
    render_review_html,
    review_rows,
)

CHART_FILES = {
    "us_cn_share": "us-cn-share-by-year.png",
    "top_pairs": "top-pairs.png",
    "network": "country-network.png",
    "partners": "top-partners.png",
}


MARKER = ".paperatlas-report"  # marks a folder write_report may replace


class ReportError(RuntimeError):
    pass


@dataclass
class Report:
    partition_key: str
    venue: str
    year: int
    scope: str
    seed: int
    sample_size: int
    threshold: float
    views: dict[str, PaperView]
    numbers: pd.DataFrame  # headline_numbers rows of this venue-year, all scopes
    countries: pd.DataFrame
    pairs: pd.DataFrame
    partners: pd.DataFrame
    trend: pd.DataFrame
    mentions: pd.DataFrame
    review: dict[str, dict[str, Any]]
    inputs: dict[str, Any]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)  # exported as they are
    top: int = 10
    placement: str = DEFAULT_PLACEMENT
    pdfs_read: int = 0  # papers whose PDF text was read (full-text mentions stand on these)
    verdicts: dict[str, dict[str, Any]] = field(default_factory=dict)  # number -> reviewed precision
    _charts: dict[str, bytes] | None = None

    def row(self, number: str, scope: str | None = None, placement: str | None = None) -> dict[str, Any]:
        rows = self.numbers[(self.numbers["number"] == number) & (self.numbers["china_scope"] == (scope or self.scope))
                            & (self.numbers["placement"] == (placement or self.placement))]
        return rows.iloc[0].to_dict() if len(rows) else {"papers": 0, "low": 0, "high": 0}

    def number(self, number: str, scope: str | None = None, placement: str | None = None) -> int:
        return int(self.row(number, scope, placement)["papers"])

    @cached_property
    def standing(self) -> dict[str, int]:
        """What the papers' countries stand on: page 1 of the PDF, metadata only, nothing;
        and how many have every author with affiliation data placed."""
        out = {"pdf": 0, "metadata": 0, "none": 0, "all_authors_placed": 0, "uncertain": 0}
        for view in self.views.values():
            out[view.placed_from] += 1
            out["all_authors_placed"] += view.all_placed
            out["uncertain"] += view.uncertain
        return out

    def charts(self) -> dict[str, bytes]:
        if self._charts is None:
            top_countries = list(self.countries.sort_values("international_papers", ascending=False)["country"][:6])
            where = f"{self.venue} {self.year}"
            self._charts = {
                "us_cn_share": charts.us_cn_share_by_year(self.trend, self.venue, self.scope),
                "top_pairs": charts.top_pairs(self.pairs, f"Top country pairs, {where}"),
                "network": charts.network(self.countries, self.pairs, f"Who writes with whom, {where}"),
                "partners": charts.top_partners(self.partners, top_countries, f"Top partners, {where}"),
            }
        return self._charts


# -- reading ---------------------------------------------------------------------------------


def load_views(store, key: str, con=None) -> dict[str, PaperView]:
    """One view per paper of the venue-year, from its papers, `country_decisions` and
    `paper_mentions` (see pipeline.reports.headlines)."""
    with store.connection(con) as c:
        papers = store.query(
            "SELECT paper_id, title, coalesce(pdf_url, pdf_path, source_ref) AS url FROM raw_papers "
            "WHERE partition_key = ? ORDER BY paper_id", [key], con=c)
        decided = decision.load_decisions(store, key, con=c)
        pm = store.read_partition("paper_mentions", key, con=c)
    return build_views(papers, decided, pm)


def inputs(store, key: str, con=None) -> dict[str, Any]:
    """What the numbers were computed from: registry, overrides, resolver and catalogue versions."""
    with store.connection(con) as c:
        def one(sql: str, params: list | None = None):
            rows = c.execute(sql, params or []).fetchall()
            return rows[0][0] if rows else None

        return {
            "ror_checksum": one("SELECT checksum FROM ror_registry"),
            "ror_records": one("SELECT records FROM ror_registry"),
            "overrides_sha256": one("SELECT DISTINCT file_sha256 FROM affiliation_overrides"),
            "resolver_version": one("SELECT max(resolver_version) FROM resolved_affiliations WHERE partition_key = ?",
                                    [key]),
            "catalogue_sha256": one("SELECT DISTINCT catalogue_sha256 FROM terms"),
            "source_sha256": one("SELECT min(source_sha256) FROM raw_papers WHERE partition_key = ?", [key]),
        }


def folded_tables(pc: pd.DataFrame, key: str, venue: str, year: int, papers: int, scope: str) -> dict[str, pd.DataFrame]:
    """Countries, pairs and partners of one venue-year with HK/MO/TW folded by the China scope,
    computed by the same code as the yearly tables."""
    if len(pc):
        folded = pc.assign(country=[counting.CHINA_SCOPES[scope].get(c, c) for c in pc["country"]])
        folded = folded.groupby(["partition_key", "venue", "year", "paper_id", "country"], as_index=False).agg(
            authors=("authors", "sum"), fractional=("fractional", "sum"))
        folded["n_countries"] = folded.groupby("paper_id")["country"].transform("nunique")
    else:
        folded = pd.DataFrame(columns=["partition_key", "venue", "year", "paper_id", "country", "authors",
                                       "fractional", "n_countries"])
    edges = pd.DataFrame(counting.edge_rows(folded), columns=counting.EDGE_COLUMNS)
    sets = counting.country_sets(folded)
    summary = pd.DataFrame([counting.partition_summary(key, venue, year, papers, 0, 0, 0, sets)])
    tables = counting.yearly_tables(folded, edges, summary)
    mine = {name: frame[frame["venue"] == venue].drop(columns="venue").reset_index(drop=True)
            for name, frame in tables.items() if name in ("yearly_country", "yearly_pairs", "yearly_partners")}
    return {"countries": mine["yearly_country"].drop(columns=["previous_year", "previous_share", "share_change_pp"]),
            "pairs": mine["yearly_pairs"], "partners": mine["yearly_partners"], "paper_countries": folded,
            "country_edges": edges}


def build_report(store, key: str, scope: str = "cn", top: int = 10, seed: int = DEFAULT_SEED,
                 sample_size: int = DEFAULT_SAMPLE, threshold: float = LOW_CONFIDENCE,
                 placement: str = DEFAULT_PLACEMENT) -> Report:
    if scope not in CHINA_SCOPES:
        raise ReportError(f"unknown China scope {scope!r}: choose {', '.join(CHINA_SCOPES)}")
    if placement not in PLACEMENTS:
        raise ReportError(f"unknown placement {placement!r}: choose {', '.join(PLACEMENTS)}")
    pk = parse_partition_key(key)
    with store.connect() as con:
        summary = store.query("SELECT * FROM partition_summary WHERE partition_key = ?", [pk.key], con=con)
        if summary.empty:
            raise ReportError(f"{pk} is not materialised yet; run `paperatlas run {pk}` first")
        views = load_views(store, pk.key, con=con)
        stored = store.query("SELECT * FROM headline_numbers WHERE partition_key <> ? AND placement = ?",
                             [pk.key, placement], con=con)
        pdfs_read = con.execute("SELECT count(DISTINCT paper_id) FROM paper_texts WHERE partition_key = ? "
                                "AND error IS NULL AND chars > 0", [pk.key]).fetchone()[0]
        verdicts = store.records("SELECT * FROM review_verdicts WHERE partition_key = ?", [pk.key], con=con)
        # As stored: countries as resolved (HK, MO, TW apart); the headline has every scope.
        mentions = store.query(
            "SELECT term, name, kind, origin_country, country, country_papers, papers_abstract, papers_full_text, "
            "papers_with_references, share_abstract, share_full_text, fractional_abstract, fractional_full_text "
            "FROM mentions_by_country WHERE partition_key = ? ORDER BY term, country", [pk.key], con=con)
        used = inputs(store, pk.key, con=con)
    meta = {"partition_key": pk.key, "venue": pk.venue, "year": pk.year}
    numbers = pd.DataFrame(headline_rows(meta, views, threshold))
    pc = pd.DataFrame(decision.paper_country_rows((e for v in views.values() for e in v.evidence), placement,
                                                  {pid: meta for pid in views}))
    tables = folded_tables(pc, pk.key, pk.venue, pk.year, len(views), scope)
    mine = numbers[numbers["placement"] == placement]
    everything = pd.concat([stored, mine], ignore_index=True) if len(stored) else mine
    yearly = counting.yearly_headlines(everything)
    trend = yearly[(yearly["number"] == "us_cn") & (yearly["china_scope"] == scope)
                   & yearly["venue"].isin([pk.venue, "all"])][["venue", "year", "papers", "low", "high", "denominator", "share"]]
    wired = []
    for term in WIRED_TERMS:
        row = {"term": term}
        for country in ("CN", "US"):
            for group in ("abstract", "full_text"):
                hit = mine[(mine["number"] == f"{country.lower()}_{term}_{group}") & (mine["china_scope"] == scope)]
                row[f"{country}_{group}"] = int(hit["papers"].iloc[0])
        wired.append(row)
    review = build_review(views, pk.key, scope, sample_size, seed, threshold, placement)
    report = Report(
        partition_key=pk.key, venue=pk.venue, year=pk.year, scope=scope, seed=seed, sample_size=sample_size,
        threshold=threshold, views=views, numbers=numbers, countries=tables["countries"], pairs=tables["pairs"],
        partners=tables["partners"], trend=trend.reset_index(drop=True), mentions=pd.DataFrame(wired),
        review=review, inputs=used, top=top, placement=placement, pdfs_read=int(pdfs_read),
        verdicts=precision(views, verdicts,
                           scope, placement),
    )
    report.tables = {
        "headline_numbers": numbers, "countries": tables["countries"], "pairs": tables["pairs"],
        "partners": tables["partners"], "paper_countries": tables["paper_countries"],
        "country_edges": tables["country_edges"],
        "mentions_by_country": mentions, "trend_us_cn": report.trend,
    }
    return report


# -- formats ---------------------------------------------------------------------------------


def report_json(report: Report) -> dict[str, Any]:
    """The report as one JSON object. The flat fields (papers, us_cn_papers, country_papers,
    top_pairs, ...) are under the chosen China scope and placement; `headline` has every scope
    under the chosen placement, and every placement under `by_placement`. Every count has its
    interval (`low`, `high`)."""
    n = report.number
    with_country = n("papers_with_country")
    headline: dict[str, dict[str, Any]] = {}
    for row in report.numbers.to_dict("records"):
        cell = {"papers": row["papers"], "low": row["low"], "high": row["high"], "denominator": row["denominator"],
                "share": row["share"], "low_confidence": row["low_confidence"]}
        entry = headline.setdefault(row["number"], {"label": row["label"], "by_placement": {}})
        entry["by_placement"].setdefault(row["placement"], {})[row["china_scope"]] = cell
        if row["placement"] == report.placement:
            entry[row["china_scope"]] = cell
    countries = report.countries.sort_values(["papers", "country"], ascending=[False, True])
    us_cn = report.row("us_cn")
    standing = report.standing
    with_aff = n("papers_with_affiliation")
    return {
        "venue": report.venue, "year": report.year, "partition": report.partition_key,
        "china_scope": report.scope, "placement": report.placement,
        "us_cn_papers_low": int(us_cn["low"]), "us_cn_papers_high": int(us_cn["high"]),
        "us_cn_papers_by_placement": {p: report.number("us_cn", placement=p) for p in PLACEMENTS},
        "us_cn_share_with_affiliation": n("us_cn") / with_aff if with_aff else None,
        "placed_from": {k: standing[k] for k in ("pdf", "metadata", "none")},
        "papers_all_authors_placed": standing["all_authors_placed"],
        "papers_with_uncertain_rows": standing["uncertain"],
        "pdfs_read": report.pdfs_read,
        "reviewed": report.verdicts,
        "papers": n("papers"), "papers_with_affiliation": n("papers_with_affiliation"),
        "papers_with_country": with_country,
        "country_coverage": with_country / n("papers_with_affiliation") if n("papers_with_affiliation") else None,
        "international_papers": n("international"),
        "international_share": n("international") / with_country if with_country else 0.0,
        "us_papers": n("us"), "cn_papers": n("cn"), "us_cn_papers": n("us_cn"),
        "us_cn_share": n("us_cn") / n("papers") if n("papers") else 0.0,
        "country_papers": dict(zip(countries["country"], countries["papers"].astype(int))),
        "top_pairs": [[a, b, int(p)] for a, b, p in
                      report.pairs[["country_a", "country_b", "papers"]].head(report.top).itertuples(index=False)],
        "headline": headline,
        "mentions": report.mentions.to_dict("records"),
        "countries": _records(countries.head(30)),
        "pairs": _records(report.pairs.head(30)),
        "partners": {c: _records(g.head(5)[["partner", "papers", "papers_fractional", "share_of_international"]])
                     for c, g in report.partners.groupby("country", sort=False)
                     if c in set(countries["country"].head(15))},
        "trend_us_cn": _records(report.trend),
        "review": {k: {"papers": v["papers"], "sample": v["sample"], "low_confidence": len(v["low_confidence"])}
                   for k, v in report.review.items()},
        "seed": report.seed, "sample_size": report.sample_size, "low_confidence_below": report.threshold,
        "inputs": report.inputs,
    }


def _records(frame: pd.DataFrame) -> list[dict]:
    return json.loads(frame.to_json(orient="records"))


def _pct(x: Any) -> str:
    return "" if missing(x) else f"{x:.1%}"


def _sections(report: Report) -> list[tuple[str, pd.DataFrame, str]]:
    countries = report.countries.sort_values(["papers", "country"], ascending=[False, True]).head(20)
    countries = countries.assign(share_of_papers=countries["share_of_papers"].map(_pct),
                                 international_share=countries["international_share"].map(_pct),
                                 papers_fractional=countries["papers_fractional"].round(2))
    pairs = report.pairs.head(15).assign(share_of_papers=lambda f: f["share_of_papers"].map(_pct),
                                         papers_fractional=lambda f: f["papers_fractional"].round(2))
    top_countries = list(countries["country"].head(10))
    partners = report.partners[report.partners["country"].isin(top_countries) & (report.partners["rank"] <= 3)]
    partners = partners.assign(share_of_international=partners["share_of_international"].map(_pct))
    trend = report.trend.assign(share=report.trend["share"].map(_pct))
    review = pd.DataFrame([_review_line(k, v, report.verdicts.get(k)) for k, v in report.review.items()])
    mentions = report.mentions.copy()
    if not report.pdfs_read:  # full-text figures would only repeat the abstract's
        for column in [c for c in mentions.columns if c.endswith("_full_text")]:
            mentions[column] = "no PDFs read"
    standing = report.standing
    papers, with_aff = report.number("papers"), report.number("papers_with_affiliation")
    stands = pd.DataFrame([
        {"papers": "placed from page 1 of the PDF", "count": standing["pdf"]},
        {"papers": "placed from metadata only", "count": standing["metadata"]},
        {"papers": "not placed (no affiliation data, or none resolved)", "count": standing["none"]},
        {"papers": "every author with affiliation data placed", "count": standing["all_authors_placed"]},
        {"papers": "with a row whose country is uncertain", "count": standing["uncertain"]},
    ]).assign(share=lambda f: (f["count"] / papers).map(_pct) if papers else "")
    us_cn = report.row("us_cn")
    other = [p for p in PLACEMENTS if p != report.placement]
    return [
        (f"Headline (placement {report.placement}; every China scope; both placements)",
         headline_table(report.numbers.to_dict("records"), [report.placement, *other]),
         "Each cell: papers (low\u2013high) share. low: the papers in the number under every admissible "
         "reading of the uncertain rows (a multinational named without a place at headquarters or at a lab "
         "where a co-author is; sources that disagree; low confidence with an alternative); high: under some "
         "reading. Placement hq counts a multinational named without a place at its headquarters (as Paper "
         "Copilot, OpenAlex and Scopus do); coauthors, where its co-authors are. Shares: US, CN and US-CN of all "
         "papers; coverage of papers with affiliation data; international of papers with a country."),
        ("What the numbers stand on", stands,
         f"US-CN {interval(us_cn['papers'], us_cn['low'], us_cn['high'])}: "
         f"{_pct(us_cn['papers'] / papers) if papers else ''} of all papers, "
         f"{_pct(us_cn['papers'] / with_aff) if with_aff else 'n/a'} of the {with_aff} papers with affiliation "
         f"data. Unresolved rows are never guessed: they lower coverage. PDFs read: {report.pdfs_read}."),
        ("Mentions in papers with CN or US authors (WIRED)", mentions,
         "Papers naming the term in the title or abstract, and anywhere but the references (full text: "
         f"{report.pdfs_read} PDFs read)."),
        ("Papers by country", countries[["country", "papers", "papers_fractional", "share_of_papers",
                                         "international_papers", "international_share"]],
         "Whole counting (papers) and fractional counting (each author's share)."),
        ("Top country pairs", pairs[["country_a", "country_b", "papers", "papers_fractional", "share_of_papers"]],
         "papers_fractional is the collaboration score: the two countries' shares of each paper, added."),
        ("Top partners", partners[["country", "rank", "partner", "papers", "share_of_international"]],
         "share_of_international: of the country's international papers."),
        ("US-CN share by year", trend, "This venue and all venues materialised (`all`)."),
        ("Review sample", review, f"Seed {report.seed}; low confidence: a rule below {report.threshold:.2f} decided. "
         "Reviewed: verdicts imported with `paperatlas review import` whose evidence is unchanged; precision "
         "with its Wilson 95% interval, and the count corrected by it."),
    ]


def _review_line(number: str, entry: Mapping[str, Any], reviewed: Mapping[str, Any] | None) -> dict[str, Any]:
    line = {"number": number, "papers": entry["papers"], "sampled": len(entry["sample"]),
            "low confidence": len(entry["low_confidence"]), "reviewed": "", "precision": "", "corrected": ""}
    if reviewed and reviewed.get("reviewed"):
        line.update(
            reviewed=f"{reviewed['reviewed']}" + (f" ({reviewed['stale']} stale)" if reviewed["stale"] else ""),
            precision=f"{reviewed['precision']:.0%} ({reviewed['precision_low']:.0%}\u2013"
                      f"{reviewed['precision_high']:.0%})",
            corrected=f"{reviewed['corrected']:.0f} ({reviewed['corrected_low']:.0f}\u2013"
                      f"{reviewed['corrected_high']:.0f})")
    elif reviewed and reviewed.get("stale"):
        line["reviewed"] = f"0 ({reviewed['stale']} stale)"
    return line


def render_markdown(report: Report, image=None) -> str:
    """Markdown; `image(name)` gives each chart's link (a file or a data: URI), None leaves them out."""
    lines = [f"# {report.venue} {report.year}: who wrote the papers, and with whom",
             f"China scope for countries, pairs and charts: **{report.scope}**; placement of multinationals named "
             f"without a place: **{report.placement}**. Partition `{report.partition_key}`.", ""]
    for title, frame, note in _sections(report):
        lines += [f"## {title}", "", markdown_table(frame, 40), "", f"_{note}_", ""]
        if title == "Top country pairs" and image:
            lines += [f"![top pairs]({image('top_pairs')})", "", f"![network]({image('network')})", ""]
        if title == "Top partners" and image:
            lines += [f"![partners]({image('partners')})", ""]
        if title == "US-CN share by year" and image:
            lines += [f"![US-CN share]({image('us_cn_share')})", ""]
    lines += ["## Inputs", "", *[f"- {k}: `{v}`" for k, v in report.inputs.items()], ""]
    return "\n".join(lines)


def _html_table(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "<p><i>no rows</i></p>"
    def cell(v: Any) -> str:
        if v is None or (isinstance(v, float) and v != v):
            return ""
        return html.escape(f"{v:.4g}" if isinstance(v, float) else str(v))

    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>"
                   for row in frame.itertuples(index=False))
    return f"<table><tr>{head}</tr>{body}</table>"


def render_html(report: Report) -> str:
    """One self-contained page (charts embedded)."""
    images = {k: "data:image/png;base64," + base64.b64encode(v).decode() for k, v in report.charts().items()}
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>paperatlas: {html.escape(report.partition_key)}</title><style>"
        "body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1000px;padding:0 1rem}"
        "table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}"
        "th{background:#f4f4f4}img{max-width:100%}</style></head><body>",
        f"<h1>{html.escape(report.venue)} {report.year}: who wrote the papers, and with whom</h1>",
        f"<p>China scope for countries, pairs and charts: <b>{html.escape(report.scope)}</b>; placement of "
        f"multinationals named without a place: <b>{html.escape(report.placement)}</b>. "
        "The <a href='review.html'>review sample</a> lists the papers behind every number.</p>",
    ]
    for title, frame, note in _sections(report):
        parts += [f"<h2>{html.escape(title)}</h2>", _html_table(frame), f"<p><i>{html.escape(note)}</i></p>"]
        if title == "Top country pairs":
            parts += [f"<img alt='top pairs' src='{images['top_pairs']}'>", f"<img alt='network' src='{images['network']}'>"]
        if title == "Top partners":
            parts.append(f"<img alt='top partners' src='{images['partners']}'>")
        if title == "US-CN share by year":
            parts.append(f"<img alt='US-CN share by year' src='{images['us_cn_share']}'>")
    parts.append("<h2>Inputs</h2><ul>" + "".join(f"<li>{html.escape(k)}: <code>{html.escape(str(v))}</code></li>"
                                                  for k, v in report.inputs.items()) + "</ul></body></html>")
    return "\n".join(parts)


def format_text(report: Report) -> str:
    """The headline for a terminal: the country numbers under every China scope, the WIRED
    mention counts under the chosen one, then countries and pairs."""
    data = report_json(report)
    other = [p for p in PLACEMENTS if p != report.placement]
    table = headline_table(report.numbers.to_dict("records"), [report.placement, *other])
    columns = [f"{s} \u00b7 {report.placement}" for s in CHINA_SCOPES] + [f"{report.scope} \u00b7 {p}" for p in other]
    basic = table[~table["number"].str.contains("_(?:abstract|full_text)$")]
    width = max(len(x) for x in basic["label"])
    cell = max(22, *(len(str(v)) for c in columns for v in basic.get(c, [])))
    us_cn = report.row("us_cn")
    standing = data["placed_from"]
    lines = [f"{report.venue} {report.year} (China scope: {report.scope}; placement: {report.placement})",
             f"  US\u2013CN {interval(us_cn['papers'], us_cn['low'], us_cn['high'])}  "
             + "  ".join(f"{p}: {data['us_cn_papers_by_placement'][p]}" for p in PLACEMENTS),
             f"  countries stand on: page 1 of the PDF {standing['pdf']}, metadata only {standing['metadata']}, "
             f"nothing {standing['none']} papers; every author placed in {data['papers_all_authors_placed']} of "
             f"{data['papers']}",
             "  each cell: papers (low\u2013high: every / some admissible reading of uncertain rows) share",
             f"  {'':{width}}  " + "  ".join(f"{c:>{cell}}" for c in columns)]
    for row in basic.to_dict("records"):
        lines.append(f"  {row['label']:{width}}  " + "  ".join(f"{row.get(c, ''):>{cell}}" for c in columns))
    lines.append("  papers naming a term, by author country (title/abstract, full text):")
    for row in data["mentions"]:
        full_cn = row["CN_full_text"] if report.pdfs_read else "-"
        full_us = row["US_full_text"] if report.pdfs_read else "-"
        lines.append(f"    {row['term']:<12} CN {row['CN_abstract']:>5} {full_cn:>5}"
                     f"    US {row['US_abstract']:>5} {full_us:>5}")
    if not report.pdfs_read:
        lines.append("    (full text: no PDFs read)")
    lines.append("  papers by country:")
    for country, n in list(data["country_papers"].items())[:15]:
        lines.append(f"    {country}  {n:>6}")
    lines.append("  top country pairs:")
    for a, b, n in data["top_pairs"]:
        lines.append(f"    {a}-{b}  {n:>6}")
    return "\n".join(lines)


# -- writing ---------------------------------------------------------------------------------


def _parquet(frame: pd.DataFrame, path: Path) -> None:
    import duckdb

    con = duckdb.connect()
    try:
        # Type each column from every row, not a sample: a list column whose first rows are
        # empty would otherwise be typed NULL[] and fail on the first non-empty list.
        con.execute(f"SET pandas_analyze_sample = {max(len(frame), 1000)}")
        con.register("_frame", frame)
        con.execute(f"COPY (SELECT * FROM _frame) TO '{str(path).replace(chr(39), chr(39) * 2)}' (FORMAT parquet)")
    finally:
        con.close()


def _written_before(folder: Path) -> set[str]:
    """The files (relative paths) an earlier report wrote into `folder`: listed in its marker;
    for folders from before the marker listed them, the report's own names and folders."""
    lines = (folder / MARKER).read_text(encoding="utf-8").splitlines()
    if len(lines) > 1:
        return {MARKER, *lines[1:]}
    return {rel for rel in (p.relative_to(folder).as_posix() for p in folder.rglob("*") if not p.is_dir())
            if rel == MARKER or rel.startswith(("charts/", "tables/")) or rel in REPORT_FILES}


def _keep_users_files(old: Path, new: Path) -> list[str]:
    """Copy the files in `old` that no report wrote (a user's own notes, verdicts) into `new`
    (copied, not moved: until the new folder takes the old one's place, the old is untouched)."""
    ours = _written_before(old)
    kept = []
    for path in sorted(old.rglob("*")):
        rel = path.relative_to(old).as_posix()
        if path.is_dir() or rel in ours or (new / rel).exists():
            continue
        (new / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, new / rel)
        kept.append(rel)
    return kept


REPORT_FILES = ("report.md", "report.html", "report.json", "review.csv", "review.html", "low_confidence.csv")


def kept_message(folder: str | os.PathLike, kept: list[str]) -> str:
    """What `write_report` kept of a user's files in `folder`, in one line."""
    return (f"kept {len(kept)} file(s) in {folder} that the report did not write: {', '.join(kept[:5])}"
            f"{' …' if len(kept) > 5 else ''}")


def write_report(report: Report, out_dir: str | os.PathLike,
                 on_kept: Callable[[list[str]], None] | None = None) -> dict[str, Path]:
    """Write the report folder (see the module docstring); returns the main files' paths. A
    file in the folder that no report wrote (a user's own notes, downloaded verdicts) is kept,
    and `on_kept` hears their names."""
    target = Path(out_dir).absolute()
    if target.exists() and (not target.is_dir() or (any(target.iterdir()) and not (target / MARKER).exists())):
        raise ReportError(f"{out_dir} exists and is not a paperatlas report folder; "
                          "give a new or empty folder (a report folder is replaced whole)")
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    work.chmod(0o755)
    try:
        (work / MARKER).write_text(f"{report.partition_key}\n", encoding="utf-8")
        (work / "charts").mkdir()
        (work / "tables").mkdir()
        for name, png in report.charts().items():
            (work / "charts" / CHART_FILES[name]).write_bytes(png)
        (work / "report.md").write_text(render_markdown(report, lambda k: f"charts/{CHART_FILES[k]}"), encoding="utf-8")
        (work / "report.html").write_text(render_html(report), encoding="utf-8")
        (work / "report.json").write_text(json.dumps(report_json(report), ensure_ascii=False, indent=1),
                                          encoding="utf-8")
        rows = pd.DataFrame(review_rows(report.views, report.review, report.scope, report.placement),
                            columns=CSV_COLUMNS)
        rows = rows.astype({"author_position": "Int64", "sample_rank": "Int64"})  # 2, not 2.0
        csv_frame(rows).to_csv(work / "review.csv", index=False)
        (work / "review.html").write_text(
            render_review_html(report.views, report.review, report.partition_key, report.scope, report.seed,
                               report.threshold, report.placement), encoding="utf-8")
        low = low_confidence_rows(report.views, report.review, report.scope, report.threshold, report.placement)
        csv_frame(pd.DataFrame(low, columns=LOW_COLUMNS).astype({"author_position": "Int64"})).to_csv(
            work / "low_confidence.csv", index=False)
        for name, frame in {**report.tables, "review_sample": rows}.items():
            csv_frame(frame).to_csv(work / "tables" / f"{name}.csv", index=False)
            _parquet(frame, work / "tables" / f"{name}.parquet")
        written = sorted(p.relative_to(work).as_posix() for p in work.rglob("*") if p.is_file())
        (work / MARKER).write_text("\n".join([report.partition_key, *written]) + "\n", encoding="utf-8")
        if target.exists() and (target / MARKER).exists():
            kept = _keep_users_files(target, work)
            if kept and on_kept:
                on_kept(kept)
        # Swap in whole: the old folder moves aside, the new one takes its name.
        old = None
        if target.exists():
            old = target.parent / f".{target.name}-old-{os.getpid()}"
            shutil.rmtree(old, ignore_errors=True)
            target.rename(old)
        work.rename(target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return {name: target / name for name in REPORT_FILES}
