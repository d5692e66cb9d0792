"""The report's sections as tables with a note each, shared by the Markdown and HTML renderers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from ...countries.groups import country_name, pair_name
from ..headlines import interval
from ..sentences import number_words
from ..views import Report
from .lead import convention_note, convention_table, mention_table, number_table, pct


def sections(report: Report) -> list[tuple[str, pd.DataFrame, str]]:
    """The report's sections after its lead (pipeline/reports/render/lead.py): (title, table,
    note), tables in words and country names, every share with what it is of."""
    countries = report.countries.sort_values(["papers", "country"], ascending=[False, True]).head(20)
    countries = pd.DataFrame({
        "country": countries["country"].map(country_name), "papers": countries["papers"],
        "papers (fractional)": countries["papers_fractional"].round(2),
        "share of all papers": countries["share_of_papers"].map(pct),
        "international papers": countries["international_papers"],
        "international, of its papers": countries["international_share"].map(pct)})
    top = report.pairs.head(15)
    pairs = pd.DataFrame({"pair": [pair_name(a, b) for a, b in zip(top["country_a"], top["country_b"])],
                          "papers": top["papers"], "collaboration score": top["papers_fractional"].round(2),
                          "share of all papers": top["share_of_papers"].map(pct)})
    top_countries = list(report.countries.sort_values(["papers", "country"], ascending=[False, True])["country"][:10])
    partners = report.partners[report.partners["country"].isin(top_countries) & (report.partners["rank"] <= 3)]
    partners = pd.DataFrame({"country": partners["country"].map(country_name), "rank": partners["rank"],
                             "partner": partners["partner"].map(country_name), "papers": partners["papers"],
                             "share of the country's international papers":
                                 partners["share_of_international"].map(pct)})
    trend, trend_note = trend_table(report)
    review = pd.DataFrame([_review_line(k, v, report.verdicts.get(k)) for k, v in report.review.items()])
    mentions, mentions_note = mention_table(report)
    standing = report.standing
    papers, with_aff = report.number("papers"), report.number("papers_with_affiliation")
    stands = pd.DataFrame([
        {"papers": "placed from page 1 of the PDF", "count": standing["pdf"]},
        {"papers": "placed from metadata only", "count": standing["metadata"]},
        {"papers": "not placed (no affiliation data, or none resolved)", "count": standing["none"]},
        {"papers": "every author with affiliation data placed", "count": standing["all_authors_placed"]},
        {"papers": "with a row whose country is uncertain", "count": standing["uncertain"]},
        {"papers": "with affiliation data and an author no evidence places", "count": standing["unplaced_authors"]},
    ]).assign(**{"share of all papers": lambda f: (f["count"] / papers).map(pct) if papers else ""})
    return [
        ("US\u2013China papers under each convention", convention_table(report), convention_note(report)),
        *institution_sections(report),
        ("The numbers", number_table(report),
         "papers (low\u2013high, +unplaced): low counts the papers in the number under every admissible reading "
         "of the uncertain rows (a multinational named without a place at headquarters or at a lab where a "
         "co-author is; sources that disagree; low confidence with an alternative), high under some reading; "
         "+unplaced, the papers outside it that would enter if their unplaced authors (no affiliation, or one "
         "that resolved to no country) were in the missing country. Shown only where the count could move. "
         "Every convention's figures: tables/headline_numbers.csv."),
        ("Models and architectures named (as WIRED counted them)", mentions, mentions_note),
        ("Papers by country", countries,
         "Whole counting (papers) and fractional counting (each author's share of a paper)."),
        ("Top country pairs", pairs, "Collaboration score: the two countries' shares of each paper, added."),
        ("Top partners", partners, "Each country's three most frequent partners."),
        ("US\u2013China share by year", trend, trend_note),
        ("What the numbers stand on", stands,
         f"Unresolved rows are never guessed: they lower coverage, and +unplaced says how many papers their "
         f"authors could add. {papers - with_aff} papers have no affiliation data at all. "
         f"PDFs read: {report.pdfs_read}."),
        ("Review sample", review, f"Seed {report.seed}; low confidence: a rule below {report.threshold:.2f} decided. "
         "Reviewed: verdicts imported with `paperatlas review import` whose evidence is unchanged; precision "
         "with its Wilson 95% interval, and the count corrected by it."),
    ]


def trend_table(report: Report) -> tuple[pd.DataFrame, str]:
    """The US–China count of each stored year in words: this venue's years, then every venue's
    summed when another venue is stored in those years (an `all` row counting this venue alone
    would only repeat it)."""
    rows = report.trend[~((report.trend["venue"] == "all") & (report.trend["venues"] == report.venue))]
    name = report.venue_name or report.venue
    table = pd.DataFrame({
        "year": rows["year"].astype(int),
        "venues": [name if v == report.venue else f"all stored ({venues})" for v, venues in
                   zip(rows["venue"], rows["venues"])],
        "papers": rows["denominator"].astype(int),
        "US\u2013China papers": [interval(p, lo, hi, None if u != u else u) for p, lo, hi, u in
                                 zip(rows["papers"], rows["low"], rows["high"], rows["unplaced"])],
        "share of all papers": rows["share"].map(pct)})
    years = sorted(set(table["year"]))
    note = (f"Each year's US\u2013China papers with their interval, of all papers of that year; the years of "
            f"{name} stored here: {', '.join(map(str, years))}.")
    if (rows["venue"] == "all").any():
        note += " Rows of all stored venues sum every venue stored that year."
    return table, note


def institution_sections(report: Report) -> list[tuple[str, pd.DataFrame, str]]:
    """The institutions behind the US–China count, and the pairs of them across the border
    (pipeline/reports/institutions.py: top-level organisations, each counted once per paper)."""
    table = report.institutions
    if not table.papers:
        return [("Institutions behind the US\u2013China count", pd.DataFrame(),
                 "No paper has authors at both US and Chinese institutions, so no institution is behind the count.")]
    inst = table.institutions
    institutions = pd.DataFrame({
        "institution": inst["institution"], "country": inst["country"].map(country_name), "papers": inst["papers"],
        "share of the US\u2013China papers": inst["share"].map(pct)})
    pairs = table.pairs
    pairs = pd.DataFrame({
        "US institution": pairs["institution_a"], "Chinese institution": pairs["institution_b"],
        "papers": pairs["papers"], "share of the US\u2013China papers": pairs["share"].map(pct)})
    unexplained = len(table.unattributed)
    left = (f" {unexplained} of the {table.papers} papers name no institution on one side (only a country or an "
            "e-mail domain placed it), so no row here explains them." if unexplained else "")
    more = (f" The first {len(inst)} of {table.institutions_total}; all: `paperatlas institutions "
            f"{report.partition_key} --top 0`." if table.institutions_total > len(inst) else "")
    return [
        ("Institutions behind the US\u2013China count", institutions,
         f"Each institution counted once per paper, as its top-level organisation in ROR (a lab as its company, "
         f"an institute as its academy; a university as itself). A paper can have several, so the shares can add "
         f"up to more than 100%.{more}{left}"),
        ("Institution pairs across the border", pairs,
         "A US and a Chinese institution on the same paper; papers with both."),
    ]


def _review_line(number: str, entry: Mapping[str, Any], reviewed: Mapping[str, Any] | None) -> dict[str, Any]:
    line = {"number": number_words(number), "papers": entry["papers"], "sampled": len(entry["sample"]),
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


