"""The report as one self-contained HTML page, charts embedded (`--format html`, report.html).
Every text is escaped; the only link is to the review page beside it."""

from __future__ import annotations

import base64
import html
from typing import Any

import pandas as pd

from ..views import Report
from .sections import sections


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
    for title, frame, note in sections(report):
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


