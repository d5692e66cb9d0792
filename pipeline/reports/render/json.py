"""The report as one JSON object (`paperatlas report --json`, report.json)."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from ...conventions import PLACEMENTS
from ..headlines import BY_ID
from ..sentences import SHARE_OF
from ..views import Report
from .lead import input_lines, sentences


def report_json(report: Report) -> dict[str, Any]:
    """The report as one JSON object. The flat fields (papers, us_cn_papers, country_papers,
    top_pairs, ...) are under the chosen China scope and placement; `headline` has every scope
    under the chosen placement, and every placement under `by_placement`. Every count has its
    interval (`low`, `high`) and the papers its unplaced authors could add to it (`unplaced`).
    Every share names what it is of: `X_share_of` beside `X_share`, `share_of` in each cell (a
    denominator in words, as `trend` and `compare` give it: "papers", "papers with a country" ...). Full-text mention
    counts are null when no PDF was read (they would only repeat the title and abstract's)."""
    n = report.number
    with_country = n("papers_with_country")
    headline: dict[str, dict[str, Any]] = {}
    for row in report.numbers.to_dict("records"):
        cell = {"papers": row["papers"], "low": row["low"], "high": row["high"], "unplaced": row["unplaced"],
                "denominator": row["denominator"], "share": row["share"],
                "share_of": SHARE_OF.get(BY_ID[row["number"]].denominator) if row["number"] in BY_ID else None,
                "low_confidence": row["low_confidence"]}
        if str(row["number"]).endswith("_full_text") and not report.pdfs_read:
            cell.update(papers=None, low=None, high=None, unplaced=None, share=None, low_confidence=None,
                        note="no PDFs read: the full text was not searched")
        entry = headline.setdefault(row["number"], {"label": row["label"], "by_placement": {}})
        entry["by_placement"].setdefault(row["placement"], {})[row["china_scope"]] = cell
        if row["placement"] == report.placement:
            entry[row["china_scope"]] = cell
    countries = report.countries.sort_values(["papers", "country"], ascending=[False, True])
    us_cn = report.row("us_cn")
    standing = report.standing
    with_aff = n("papers_with_affiliation")
    return {
        "venue": report.venue, "venue_name": report.venue_name, "year": report.year,
        "partition": report.partition_key,
        "headline_sentences": sentences(report),
        "china_scope": report.scope, "placement": report.placement,
        "us_cn_papers_low": int(us_cn["low"]), "us_cn_papers_high": int(us_cn["high"]),
        "us_cn_papers_unplaced": int(us_cn["unplaced"]),
        "us_cn_papers_by_placement": {p: report.number("us_cn", placement=p) for p in PLACEMENTS},
        "us_cn_share_with_affiliation": n("us_cn") / with_aff if with_aff else None,
        "us_cn_share_with_affiliation_of": SHARE_OF["papers_with_affiliation"],
        "placed_from": {k: standing[k] for k in ("pdf", "metadata", "none")},
        "papers_all_authors_placed": standing["all_authors_placed"],
        "papers_with_uncertain_rows": standing["uncertain"],
        "papers_with_unplaced_authors": standing["unplaced_authors"],
        "pdfs_read": report.pdfs_read,
        "reviewed": report.verdicts,
        "papers": n("papers"), "papers_with_affiliation": n("papers_with_affiliation"),
        "papers_with_country": with_country,
        "country_coverage": with_country / n("papers_with_affiliation") if n("papers_with_affiliation") else None,
        "country_coverage_of": SHARE_OF["papers_with_affiliation"],
        "international_papers": n("international"),
        "international_share": n("international") / with_country if with_country else 0.0,
        "international_share_of": SHARE_OF["papers_with_country"],
        "us_share": n("us") / n("papers") if n("papers") else 0.0, "us_share_of": "papers",
        "cn_share": n("cn") / n("papers") if n("papers") else 0.0, "cn_share_of": "papers",
        "us_papers": n("us"), "cn_papers": n("cn"), "us_cn_papers": n("us_cn"),
        "us_cn_share": n("us_cn") / n("papers") if n("papers") else 0.0, "us_cn_share_of": "papers",
        "country_papers": dict(zip(countries["country"], countries["papers"].astype(int))),
        "top_pairs": [[a, b, int(p)] for a, b, p in
                      report.pairs[["country_a", "country_b", "papers"]].head(report.top).itertuples(index=False)],
        "headline": headline,
        "mentions": [{**m, **({} if report.pdfs_read else {"CN_full_text": None, "US_full_text": None})}
                     for m in report.mentions.to_dict("records")],
        "mentions_full_text_searched": bool(report.pdfs_read),
        "countries": _records(countries.head(30).assign(share_of_papers_of="papers",
                                                        international_share_of="the country's papers")),
        "pairs": _records(report.pairs.head(30).assign(share_of_papers_of="papers")),
        "partners": {c: _records(g.head(5)[["partner", "papers", "papers_fractional", "share_of_international"]]
                                 .assign(share_of_international_of="the country's international papers"))
                     for c, g in report.partners.groupby("country", sort=False)
                     if c in set(countries["country"].head(15))},
        "trend_us_cn": _records(report.trend),
        "review": {k: {"papers": v["papers"], "sample": v["sample"], "low_confidence": len(v["low_confidence"])}
                   for k, v in report.review.items()},
        "seed": report.seed, "sample_size": report.sample_size, "low_confidence_below": report.threshold,
        "inputs": report.inputs,
        "sources": report.sources,
        "inputs_in_words": input_lines(report),
    }


def _records(frame: pd.DataFrame) -> list[dict]:
    return json.loads(frame.to_json(orient="records"))


def _records(frame: pd.DataFrame) -> list[dict]:
    return json.loads(frame.to_json(orient="records"))
