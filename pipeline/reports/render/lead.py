"""What every format of the report opens with, in words: the headline sentences, the count under
each convention, the numbers with their denominators named, the mention counts that have data,
and the inputs as a reader asks for them (sources, dates, record counts)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ...conventions import CHINA_SCOPE, CHINA_SCOPES, PLACEMENT, PLACEMENTS
from ...countries.numbers import COUNTRY_NUMBERS
from ...models import missing
from ...text import plural
from ..headlines import TERM_NAMES, WIRED_TERMS, interval
from ..sentences import OF_WORDS, headline_sentences, number_words, review_sentence
from ..views import Report

SCOPE_NAMES = {"cn": "mainland China", "cn+hk+mo": "China with Hong Kong and Macau",
               "greater": "China with Hong Kong, Macau and Taiwan"}
PLACEMENT_NAMES = {"hq": "multinationals at headquarters", "coauthors": "multinationals where co-authors are"}


def sentences(report: Report, scope: str | None = None, placement: str | None = None) -> list[str]:
    """The headline sentences under a China scope and placement (the report's by default), and
    what reviewers found, when verdicts were imported."""
    out = headline_sentences(report.numbers, report.venue_name or report.venue.upper(), report.year,
                             scope or report.scope, placement or report.placement)
    reviewed = review_sentence(report.verdicts) if (scope or report.scope) == report.scope and (
        placement or report.placement) == report.placement else None
    return [*out, reviewed] if reviewed else out


def pct(x: Any) -> str:
    return "" if missing(x) else f"{x:.1%}"


def convention_table(report: Report) -> pd.DataFrame:
    """US–China papers under each China scope (rows) and placement (columns)."""
    rows = []
    for scope in CHINA_SCOPES:
        row: dict[str, Any] = {"China counts as": SCOPE_NAMES[scope]}
        for placement in PLACEMENTS:
            r = report.row("us_cn", scope, placement)
            row[PLACEMENT_NAMES[placement]] = (f"{interval(r['papers'], r['low'], r['high'], r['unplaced'])} "
                                               f"{pct(r.get('share'))}").strip()
        rows.append(row)
    return pd.DataFrame(rows)


def convention_note(report: Report) -> str:
    others = " ".join(f"--placement {p}" for p in PLACEMENTS if p != report.placement)
    scope = next(s for s in reversed(list(CHINA_SCOPES)) if s != report.scope)
    return (f"This report counts with placement {report.placement}: {PLACEMENT.meanings[report.placement]}; and with "
            f"China scope {report.scope}: {CHINA_SCOPE.meanings[report.scope]}. The tables below follow both. Another "
            f"reading: `paperatlas report {report.partition_key} {others} --china-scope {scope}`.")


def number_table(report: Report) -> pd.DataFrame:
    """The country numbers under the report's conventions: what is counted, the count with the
    interval only where it moves, the share and what it is of."""
    rows = []
    for n in COUNTRY_NUMBERS:
        r = report.row(n.id)
        share = None if n.id == "papers" else r.get("share")
        rows.append({"what is counted": number_words(n.id),
                     "papers": interval(r["papers"], r["low"], r["high"], r["unplaced"]),
                     "share": pct(share), "share of": "" if share is None else OF_WORDS[n.denominator]})
    return pd.DataFrame(rows)


def mention_table(report: Report) -> tuple[pd.DataFrame, str]:
    """The WIRED terms that some paper with a US or Chinese author names, by author country;
    full-text columns only when PDFs were read. With none, an empty table and why."""
    full = bool(report.pdfs_read)
    rows = []
    for rec in report.mentions.to_dict("records"):
        counts = [rec["CN_abstract"], rec["US_abstract"], *((rec["CN_full_text"], rec["US_full_text"]) if full else ())]
        if not any(counts):
            continue
        row = {"term": TERM_NAMES[rec["term"]], "Chinese authors (title or abstract)": rec["CN_abstract"],
               "US authors (title or abstract)": rec["US_abstract"]}
        if full:
            row.update({"Chinese authors (full text)": rec["CN_full_text"], "US authors (full text)": rec["US_full_text"]})
        rows.append(row)
    terms = _either([TERM_NAMES[t] for t in WIRED_TERMS])
    where = ("title, abstract or full text" if full else "title or abstract")
    pdfs = (f"Full text searched in the {report.pdfs_read} papers whose PDF was read." if full else
            "No PDFs were read for this venue-year, so only titles and abstracts were searched.")
    if not rows:
        return pd.DataFrame(), f"No paper with a US or Chinese author names {terms} in its {where}. {pdfs}"
    missing = [TERM_NAMES[t] for t in WIRED_TERMS if TERM_NAMES[t] not in {r["term"] for r in rows}]
    none = f" No such paper names {_either(missing)}." if missing else ""
    return pd.DataFrame(rows), f"Papers naming the term, by the country of an author.{none} {pdfs}"


def _either(words: list[str]) -> str:
    """"a, b or c"."""
    return ", ".join(words[:-1]) + " or " + words[-1] if len(words) > 1 else "".join(words)


def input_lines(report: Report) -> list[str]:
    """The inputs as sentences: each source with its records and date, the registry, when the
    numbers were taken. The digests are in `report.inputs` (shown in a details block)."""
    src = report.sources or {}
    out = []
    for s in src.get("sources", []):
        errors = (f"; {plural(s['errors'], 'item')} set aside: `paperatlas errors {report.partition_key}`"
                  if s.get("errors") else "")
        fetched = f", read {s['fetched']}" if s.get("fetched") else ""
        out.append(f"{s['source']}: {s['records'] or 0:,} records, {s['papers'] or 0:,} papers, from "
                   f"{s['read_from'] or 'unknown'}{fetched}{errors}")
    ror = src.get("ror")
    if ror:
        out.append(f"ROR registry: {ror['file']}, {ror['records'] or 0:,} organisations, loaded {ror['loaded']}")
    if src.get("numbers_taken"):
        out.append(f"numbers taken {src['numbers_taken']}; PDFs read: {report.pdfs_read}")
    return out
