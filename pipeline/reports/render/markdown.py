"""The report as Markdown (`--format md`, report.md, and the `venue_year_report` asset's metadata)."""

from __future__ import annotations

from ...text import display, markdown_table
from ..views import Report
from .lead import input_lines, sentences
from .sections import sections

CHARTS_AFTER = {"Top country pairs": [("top pairs", "top_pairs"), ("network", "network")],
                "Top partners": [("partners", "partners")],
                "US\u2013China share by year": [("US-China share", "us_cn_share")]}


def render_markdown(report: Report, image=None) -> str:
    """Markdown; `image(name)` gives each chart's link (a file or a data: URI), None leaves them out.
    It opens with the headline in words: the US–China sentence alone, then the others."""
    said = sentences(report)
    lines = [f"# {report.venue_name or report.venue} {report.year}: who wrote the papers, and with whom", "",
             said[0], "", " ".join(said[1:]), ""]
    for title, frame, note in sections(report):
        lines += [f"## {title}", ""]
        if len(frame):
            lines += [markdown_table(frame, 40), ""]
        lines += [f"_{note}_", ""]
        for alt, name in CHARTS_AFTER.get(title, []) if image else []:
            lines += [f"![{alt}]({image(name)})", ""]
    lines += ["## Inputs", "", *[f"- {line}" for line in input_lines(report)], "",
              "<details><summary>Digests and versions</summary>", "",
              f"- partition: `{report.partition_key}`", *[f"- {k}: `{v}`" for k, v in report.inputs.items()], "",
              "</details>", ""]
    return display("\n".join(lines))  # no bidirectional control from data reverses the text
