"""The report as one self-contained HTML page, charts embedded (`--format html`, report.html).

It opens with the headline in words (the first paragraph is the US–China sentence), then the
convention toggles: the headline under each placement and China scope is in the page, and
the toggles show one (CSS only, no script; without `:has()` support the report's own reading
shows). Readable on a phone (tables scroll in their own box) and printable (the toggles and
the digests fold away). Every text is escaped (`html_text`: no bidirectional control from data reverses
what follows it); the only link is to the review page beside it."""

from __future__ import annotations

import base64
from typing import Any

import pandas as pd

from ...conventions import CHINA_SCOPES, PLACEMENTS
from ...text import html_text
from ..views import Report
from .lead import PLACEMENT_NAMES, SCOPE_NAMES, input_lines, sentences
from .markdown import CHARTS_AFTER
from .sections import sections

STYLE = """
body{font:15px/1.5 system-ui,sans-serif;margin:1.5rem auto;max-width:980px;padding:0 1rem;color:#111}
h1{font-size:1.6rem;line-height:1.25}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}
p.headline{font-size:1.2rem;line-height:1.45;margin:.8rem 0}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;
vertical-align:top}th{background:#f4f4f4}td.n{text-align:right;white-space:nowrap}
img{max-width:100%;height:auto}.note{color:#444;font-size:.92rem}
fieldset{border:1px solid #ddd;margin:.4rem 0;padding:.3rem .7rem}legend{font-size:.9rem;color:#444}
label{margin-right:1rem;white-space:nowrap}
.v{display:none}.v.default{display:block}
code{font-size:.9em;word-break:break-all}li,p{overflow-wrap:anywhere}
@media (max-width:600px){body{font-size:14px;margin:.8rem auto}p.headline{font-size:1.08rem}}
@media print{body{max-width:none;margin:0;font-size:10.5pt}.toggles{display:none}
.lead .v{display:none!important}.lead .v.default{display:block!important}h2{break-after:avoid}
tr,img{break-inside:avoid}.scroll{overflow:visible}a{color:inherit;text-decoration:none}}
"""


def _id(kind: str, value: str) -> str:
    return f"t-{kind}-{value.replace('+', '')}"


def _toggle_css(report: Report) -> str:
    """Show the variant whose placement and scope are both checked; hide the default otherwise."""
    rules = []
    for p in PLACEMENTS:
        for s in CHINA_SCOPES:
            rules.append(f"body:has(#{_id('pl', p)}:checked):has(#{_id('sc', s)}:checked) "
                         f".v.{_id('pl', p)}.{_id('sc', s)}{{display:block}}")
    rules += [f"body:has(#{_id('pl', p)}:checked) .v.default{{display:none}}" for p in PLACEMENTS if p != report.placement]
    rules += [f"body:has(#{_id('sc', s)}:checked) .v.default{{display:none}}" for s in CHINA_SCOPES if s != report.scope]
    return "\n".join(rules)


def _lead(report: Report) -> list[str]:
    order = [(report.placement, report.scope)] + [(p, s) for p in PLACEMENTS for s in CHINA_SCOPES
                                                   if (p, s) != (report.placement, report.scope)]
    parts = ["<div class=lead>"]
    for i, (p, s) in enumerate(order):
        said = [html_text(x) for x in sentences(report, s, p)]
        default = " default" if i == 0 else ""
        parts.append(f"<div class='v {_id('pl', p)} {_id('sc', s)}{default}'><p class=headline>{said[0]}</p>"
                     f"<p>{' '.join(said[1:])}</p></div>")
    parts.append("</div>")
    radios = ["<form class=toggles><fieldset><legend>A multinational named without a place counts</legend>"]
    radios += [f"<label><input type=radio name=pl id={_id('pl', p)}{' checked' if p == report.placement else ''}> "
               f"{html_text(PLACEMENT_NAMES[p].replace('multinationals ', ''))}</label>" for p in PLACEMENTS]
    radios += ["</fieldset><fieldset><legend>China counts as</legend>"]
    radios += [f"<label><input type=radio name=sc id={_id('sc', s)}{' checked' if s == report.scope else ''}> "
               f"{html_text(SCOPE_NAMES[s])}</label>" for s in CHINA_SCOPES]
    radios.append("</fieldset></form>")
    return parts + radios


def _html_table(frame: pd.DataFrame, table_id: str | None = None) -> str:
    if frame.empty:
        return ""

    def cell(v: Any) -> str:
        if v is None or (isinstance(v, float) and v != v):
            return "<td></td>"
        numeric = isinstance(v, (int, float)) and not isinstance(v, bool)
        text = html_text(f"{v:.4g}" if isinstance(v, float) else str(v))
        return f"<td class=n>{text}</td>" if numeric else f"<td>{text}</td>"

    head = "".join(f"<th>{html_text(str(c))}</th>" for c in frame.columns)
    body = "".join("<tr>" + "".join(cell(v) for v in row) + "</tr>" for row in frame.itertuples(index=False))
    ident = f" id={table_id}" if table_id else ""
    return f"<div class=scroll><table{ident}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"


def _code(text: str) -> str:
    """Escaped text with its `commands` as <code>."""
    parts = html_text(text).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts)) if len(parts) % 2 else "`".join(parts)


TABLE_IDS = {"Institutions behind the US\u2013China count": "institutions",
             "Institution pairs across the border": "institution-pairs"}


def render_html(report: Report) -> str:
    """One self-contained page (charts embedded)."""
    images = {k: "data:image/png;base64," + base64.b64encode(v).decode() for k, v in report.charts().items()}
    name = html_text(f"{report.venue_name or report.venue} {report.year}")
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width,initial-scale=1'>"
        f"<title>paperatlas: {name}</title><style>{STYLE}{_toggle_css(report)}</style></head><body>",
        f"<h1>{name}: who wrote the papers, and with whom</h1>",
        *_lead(report),
        "<p class=note>The <a href='review.html'>review sample</a> lists the papers behind every number, "
        "with every author's affiliation string and the rule that placed it.</p>",
    ]
    for title, frame, note in sections(report):
        parts += [f"<h2>{html_text(title)}</h2>", _html_table(frame, TABLE_IDS.get(title)),
                  f"<p class=note>{_code(note)}</p>"]
        parts += [f"<img alt='{html_text(alt)}' src='{images[key]}'>" for alt, key in CHARTS_AFTER.get(title, [])]
    parts += ["<h2>Inputs</h2><ul>", *[f"<li>{_code(line)}</li>" for line in input_lines(report)], "</ul>",
              "<details><summary>Digests and versions</summary><ul>",
              f"<li>partition: <code>{html_text(report.partition_key)}</code></li>",
              *[f"<li>{html_text(k)}: <code>{html_text(str(v))}</code></li>" for k, v in report.inputs.items()],
              "</ul></details></body></html>"]
    return "\n".join(parts)
