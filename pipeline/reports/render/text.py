"""The report's headline for a terminal (`paperatlas report`)."""

from __future__ import annotations

from ...conventions import CHINA_SCOPES, PLACEMENTS
from ..headlines import headline_table, interval
from ..views import Report
from .json import report_json


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
             f"  US\u2013CN {interval(us_cn['papers'], us_cn['low'], us_cn['high'], us_cn['unplaced'])}  "
             + "  ".join(f"{p}: {data['us_cn_papers_by_placement'][p]}" for p in PLACEMENTS),
             f"  countries stand on: page 1 of the PDF {standing['pdf']}, metadata only {standing['metadata']}, "
             f"nothing {standing['none']} papers; every author placed in {data['papers_all_authors_placed']} of "
             f"{data['papers']}",
             f"  +unplaced: papers outside a number that its unplaced authors (no evidence places them) could "
             f"bring in; {data['papers'] - data['papers_with_affiliation']} papers without affiliation data are "
             f"outside coverage and this bound",
             "  each cell: papers (low\u2013high: every / some admissible reading of uncertain rows, +unplaced when "
             "any) share",
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


