"""The report as Markdown (`--format md`, report.md, and the `venue_year_report` asset's metadata)."""

from __future__ import annotations

from ...text import markdown_table
from ..views import Report
from .sections import sections


def render_markdown(report: Report, image=None) -> str:
    """Markdown; `image(name)` gives each chart's link (a file or a data: URI), None leaves them out."""
    lines = [f"# {report.venue} {report.year}: who wrote the papers, and with whom",
             f"China scope for countries, pairs and charts: **{report.scope}**; placement of multinationals named "
             f"without a place: **{report.placement}**. Partition `{report.partition_key}`.", ""]
    for title, frame, note in sections(report):
        lines += [f"## {title}", "", markdown_table(frame, 40), "", f"_{note}_", ""]
        if title == "Top country pairs" and image:
            lines += [f"![top pairs]({image('top_pairs')})", "", f"![network]({image('network')})", ""]
        if title == "Top partners" and image:
            lines += [f"![partners]({image('partners')})", ""]
        if title == "US-CN share by year" and image:
            lines += [f"![US-CN share]({image('us_cn_share')})", ""]
    lines += ["## Inputs", "", *[f"- {k}: `{v}`" for k, v in report.inputs.items()], ""]
    return "\n".join(lines)


