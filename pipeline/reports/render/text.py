"""The report for a terminal (`paperatlas report`): the headline in words first, then the count
under each convention, the numbers with what each share is of, the institutions behind the
US–China count, mentions, countries and pairs by name."""

from __future__ import annotations

import textwrap

import pandas as pd

from ...conventions import PLACEMENTS
from ...countries.groups import country_name, pair_name
from ...text import display
from ..headlines import interval
from ..sentences import number_words, review_sentence
from ..views import Report
from .lead import convention_table, input_lines, mention_table, number_table, sentences
from .sections import institution_sections

WIDTH = 100


def _table(frame: pd.DataFrame, indent: str = "  ") -> list[str]:
    """A plain table: the first column left-aligned, the others right-aligned."""
    if frame.empty:
        return []
    cells = [[str(c) for c in frame.columns]] + [["" if v is None else str(v) for v in row]
                                                  for row in frame.itertuples(index=False)]
    widths = [max(len(r[i]) for r in cells) for i in range(len(frame.columns))]
    return [indent + "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))
            .rstrip() for row in cells]


def format_text(report: Report) -> str:
    """The report for a terminal."""
    us_cn = report.row("us_cn")
    lines = [f"{report.venue_name or report.venue} {report.year} (China scope: {report.scope}; placement: "
             f"{report.placement})", ""]
    for sentence in sentences(report):
        lines += textwrap.wrap(sentence, WIDTH, initial_indent="  ", subsequent_indent="  ")
    lines += ["", f"  US\u2013CN {interval(us_cn['papers'], us_cn['low'], us_cn['high'], us_cn['unplaced'])}  "
              + "  ".join(f"{p}: {report.number('us_cn', placement=p)}" for p in PLACEMENTS), "",
              "  US\u2013China papers under each convention:", *_table(convention_table(report), "    "), "",
              "  the numbers:", *_table(number_table(report), "    ")]
    for title, frame, note in institution_sections(report):
        lines += ["", f"  {title[0].lower()}{title[1:]}:", *_table(frame.head(report.top), "    ")]
        lines += textwrap.wrap(note.replace("`", ""), WIDTH, initial_indent="    ", subsequent_indent="    ")
    reviewed = [(k, v) for k, v in report.verdicts.items() if v.get("reviewed") or v.get("stale")]
    if reviewed:
        lines += ["", "  reviewed (verdicts imported with `paperatlas review import`):"]
        for number, v in reviewed:
            said = review_sentence(report.verdicts, number, number_words(number))
            lines += textwrap.wrap(said or f"{number_words(number)}: {v.get('stale', 0)} verdicts stale (their "
                                   "evidence changed), none current", WIDTH, initial_indent="    ",
                                   subsequent_indent="      ")
    mentions, note = mention_table(report)
    lines += ["", "  models and architectures named:", *_table(mentions, "    ")]
    lines += textwrap.wrap(note, WIDTH, initial_indent="    ", subsequent_indent="    ")
    countries = report.countries.sort_values(["papers", "country"], ascending=[False, True]).head(15)
    lines += ["", "  papers by country:"]
    lines += [f"    {country_name(c):<24} {int(n):>6}" for c, n in zip(countries["country"], countries["papers"])]
    lines += ["", "  top country pairs:"]
    top = report.pairs.head(report.top)
    lines += [f"    {pair_name(a, b):<40} {int(n):>6}" for a, b, n in
              zip(top["country_a"], top["country_b"], top["papers"])]
    lines += ["", "  inputs:", *[f"    {line}" for line in input_lines(report)]]
    return display("\n".join(lines))  # no bidirectional control from data reverses the text
