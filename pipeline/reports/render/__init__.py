"""The renderers of a venue-year's report (a `Report`, pipeline/reports/views.py): one module per
format, and the folder that holds them all.

- `text.format_text`: the headline for a terminal (`paperatlas report`);
- `markdown.render_markdown`: Markdown (`--format md`, report.md, the asset's metadata);
- `html.render_html`: one self-contained page with its charts (`--format html`, report.html);
- `json.report_json`: one JSON object (`--json`, report.json);
- `folder.write_report`: the report folder, written beside its target and swapped in whole:

    report.md, report.html, report.json    the report (the HTML embeds its charts)
    charts/*.png                           US-CN share by year, top pairs, network, partners
    review.csv, review.html                the review sample of every number
    low_confidence.csv                     every low-confidence paper behind every number
    tables/*.csv, tables/*.parquet         headline numbers, countries, pairs, partners,
                                           paper countries, edges, mentions by country

Nothing here depends on the clock: the same store gives the same bytes. No Dagster here.
"""

from __future__ import annotations

from .folder import CHART_FILES, MARKER, REPORT_FILES, kept_message, write_report
from .html import render_html
from .json import report_json
from .markdown import render_markdown
from .text import format_text

__all__ = ["CHART_FILES", "MARKER", "REPORT_FILES", "format_text", "kept_message", "render_html", "render_markdown",
           "report_json", "write_report"]
