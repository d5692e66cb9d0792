"""The report's sections as tables with a note each, shared by the Markdown and HTML renderers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from ...conventions import PLACEMENTS
from ...models import missing
from ..headlines import headline_table, interval
from ..views import Report


def pct(x: Any) -> str:
    return "" if missing(x) else f"{x:.1%}"


def sections(report: Report) -> list[tuple[str, pd.DataFrame, str]]:
    countries = report.countries.sort_values(["papers", "country"], ascending=[False, True]).head(20)
    countries = countries.assign(share_of_papers=countries["share_of_papers"].map(pct),
                                 international_share=countries["international_share"].map(pct),
                                 papers_fractional=countries["papers_fractional"].round(2))
    pairs = report.pairs.head(15).assign(share_of_papers=lambda f: f["share_of_papers"].map(pct),
                                         papers_fractional=lambda f: f["papers_fractional"].round(2))
    top_countries = list(countries["country"].head(10))
    partners = report.partners[report.partners["country"].isin(top_countries) & (report.partners["rank"] <= 3)]
    partners = partners.assign(share_of_international=partners["share_of_international"].map(pct))
    trend = report.trend.assign(share=report.trend["share"].map(pct))
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
        {"papers": "with affiliation data and an author no evidence places", "count": standing["unplaced_authors"]},
    ]).assign(share=lambda f: (f["count"] / papers).map(pct) if papers else "")
    us_cn = report.row("us_cn")
    other = [p for p in PLACEMENTS if p != report.placement]
    return [
        (f"Headline (placement {report.placement}; every China scope; both placements)",
         headline_table(report.numbers.to_dict("records"), [report.placement, *other]),
         "Each cell: papers (low\u2013high, +unplaced) share. low: the papers in the number under every admissible "
         "reading of the uncertain rows (a multinational named without a place at headquarters or at a lab "
         "where a co-author is; sources that disagree; low confidence with an alternative); high: under some "
         "reading. +unplaced (shown when not 0): papers outside the number that would enter it if their "
         "unplaced authors (no affiliation, or one that resolved to no country) were in the missing country; "
         "papers without any affiliation data are outside coverage and outside this bound. Placement hq counts a multinational named without a place at its headquarters (as Paper "
         "Copilot, OpenAlex and Scopus do); coauthors, where its co-authors are. Shares: US, CN and US-CN of all "
         "papers; coverage of papers with affiliation data; international of papers with a country."),
        ("What the numbers stand on", stands,
         f"US-CN {interval(us_cn['papers'], us_cn['low'], us_cn['high'], us_cn['unplaced'])}: "
         f"{pct(us_cn['papers'] / papers) if papers else ''} of all papers, "
         f"{pct(us_cn['papers'] / with_aff) if with_aff else 'n/a'} of the {with_aff} papers with affiliation "
         f"data. Unresolved rows are never guessed: they lower coverage, and the +unplaced bound says how many "
         f"papers their authors could add. {papers - with_aff} papers have no affiliation data at all. "
         f"PDFs read: {report.pdfs_read}."),
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


