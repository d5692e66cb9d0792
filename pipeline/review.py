"""Review trail: for each headline number a seeded sample of the papers behind it, with the
evidence a reviewer needs to say yes or no, and every low-confidence paper listed.

Exports a CSV (one row per evidence row, a blank `verdict` column to fill in) and an HTML page
that a reviewer works through in a browser: each paper with its affiliation strings, where they
came from (metadata or PDF page 1), the institution matched, the rule and its confidence, the
mention snippet for mention numbers, and buttons for a verdict that the page keeps (in the
browser's local storage) and can download as CSV.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from .headlines import (
    BY_ID,
    DEFAULT_SAMPLE,
    DEFAULT_SEED,
    LOW_CONFIDENCE,
    NUMBERS,
    PaperView,
    low_confidence,
    members,
    provenance,
    relevant_evidence,
    sample,
)

# The coverage numbers `papers` and `papers_with_affiliation` need no country check.
REVIEWED = [n.id for n in NUMBERS if n.id not in ("papers", "papers_with_affiliation")]

CSV_COLUMNS = [
    "number", "china_scope", "sample_rank", "paper_id", "title", "url", "low_confidence", "author_position",
    "author_name", "affiliation", "email_domain", "from", "source_ref", "countries", "institution", "ror_id",
    "rule", "confidence", "reason", "mention_scope", "mention_text", "mention_snippet", "verdict",
]
LOW_COLUMNS = [c for c in CSV_COLUMNS if c not in ("sample_rank", "verdict")]


def build_review(views: Mapping[str, PaperView], partition_key: str, scope: str = "cn",
                 size: int = DEFAULT_SAMPLE, seed: int = DEFAULT_SEED,
                 threshold: float = LOW_CONFIDENCE) -> dict[str, dict[str, Any]]:
    """number -> {papers, sample (paper ids in sample order), low_confidence (all such paper
    ids, sorted)} under one China scope."""
    sets = members(views, scope)
    low = low_confidence(views, scope, threshold, sets)
    return {
        number: {
            "label": BY_ID[number].label,
            "papers": len(sets[number]),
            "sample": sample(sets[number], size, seed, partition_key, number, scope),
            "low_confidence": sorted(low[number]),
        }
        for number in REVIEWED
    }


def _evidence_record(e) -> dict[str, Any]:
    return {
        "author_position": e.author_position,  # 1-based, as stored
        "author_name": e.author_name, "affiliation": e.affiliation, "email_domain": e.email_domain,
        "from": provenance(e.source), "source_ref": e.source_ref, "countries": "/".join(e.countries),
        "institution": e.institution, "ror_id": e.ror_id, "rule": e.method,
        "confidence": e.confidence, "reason": e.reason,
    }


def _mention(number: str, view: PaperView) -> dict[str, Any]:
    n = BY_ID[number]
    m = view.snippets.get(f"{n.term}:{n.group}") if n.term else None
    if m is None:
        return {"mention_scope": None, "mention_text": None, "mention_snippet": None}
    return {"mention_scope": f"{m.scope} ({m.source or 'pdf'})", "mention_text": m.surface,
            "mention_snippet": m.snippet}


def _paper_rows(number: str, pid: str, view: PaperView, scope: str, rank: int | None, low: bool) -> list[dict]:
    base = {"number": number, "china_scope": scope, "sample_rank": rank, "paper_id": pid, "title": view.title,
            "url": view.url, "low_confidence": low, **_mention(number, view), "verdict": ""}
    rows = [{**base, **_evidence_record(e)} for e in relevant_evidence(BY_ID[number], view, scope)]
    return rows or [base]


def review_rows(views: Mapping[str, PaperView], review: Mapping[str, Mapping[str, Any]], scope: str) -> list[dict]:
    """The sample as CSV rows: one per (number, sampled paper, evidence row)."""
    out = []
    for number, entry in review.items():
        low = set(entry["low_confidence"])
        for rank, pid in enumerate(entry["sample"], start=1):
            out.extend(_paper_rows(number, pid, views[pid], scope, rank, pid in low))
    return [{c: r.get(c) for c in CSV_COLUMNS} for r in out]


def low_confidence_rows(views: Mapping[str, PaperView], review: Mapping[str, Mapping[str, Any]], scope: str,
                        threshold: float = LOW_CONFIDENCE) -> list[dict]:
    """Every low-confidence paper behind every number, with the rows below the threshold."""
    out = []
    for number, entry in review.items():
        for pid in entry["low_confidence"]:
            view = views[pid]
            for row in _paper_rows(number, pid, view, scope, None, True):
                if row.get("confidence") is not None and row["confidence"] < threshold:
                    out.append(row)
    return [{c: r.get(c) for c in LOW_COLUMNS} for r in out]


# -- the HTML page ----------------------------------------------------------------------------

_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#222}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2.2rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.4rem 0 .8rem;width:100%}td,th{border:1px solid #ddd;padding:3px 6px;
text-align:left;vertical-align:top}th{background:#f4f4f4}.paper{border:1px solid #ccc;border-radius:6px;
padding:.6rem .8rem;margin:.8rem 0}.paper.ok{border-left:6px solid #2a8}.paper.wrong{border-left:6px solid #c33}
.paper.unsure{border-left:6px solid #e90}.low{background:#fff3cd;padding:0 .3rem;border-radius:3px}
.snippet{font-family:ui-monospace,monospace;background:#f6f6f6;padding:.2rem .4rem}.verdict button{margin-right:.4rem}
#tally{position:sticky;top:0;background:#fff;padding:.4rem 0;border-bottom:1px solid #ddd}
"""

_SCRIPT = """
const KEY = 'paperatlas-review:' + document.body.dataset.key;
const state = JSON.parse(localStorage.getItem(KEY) || '{}');
function paint() {
  let done = 0, total = 0, wrong = 0;
  document.querySelectorAll('.paper').forEach(p => {
    total++; const v = state[p.dataset.id] || '';
    p.classList.remove('ok', 'wrong', 'unsure'); if (v) { p.classList.add(v); done++; }
    if (v === 'wrong') wrong++;
  });
  document.getElementById('tally').textContent = `${done} of ${total} reviewed, ${wrong} marked wrong`;
}
document.querySelectorAll('.verdict button').forEach(b => b.addEventListener('click', () => {
  const id = b.closest('.paper').dataset.id; state[id] = state[id] === b.dataset.v ? '' : b.dataset.v;
  localStorage.setItem(KEY, JSON.stringify(state)); paint();
}));
document.getElementById('download').addEventListener('click', () => {
  const rows = [['number', 'paper_id', 'verdict']];
  document.querySelectorAll('.paper').forEach(p => {
    const [number, paper] = p.dataset.id.split('|'); rows.push([number, paper, state[p.dataset.id] || '']);
  });
  const blob = new Blob([rows.map(r => r.join(',')).join('\\n')], {type: 'text/csv'});
  const a = document.createElement('a'); a.href = URL.createObjectURL(blob);
  a.download = 'verdicts-' + document.body.dataset.key + '.csv'; a.click();
});
paint();
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _evidence_table(rows: list[dict], threshold: float) -> str:
    head = ("<tr><th>#</th><th>author</th><th>affiliation string</th><th>e-mail domain</th><th>from</th>"
            "<th>country</th><th>institution</th><th>rule</th><th>confidence</th></tr>")
    body = []
    for r in rows:
        if r.get("affiliation") is None and r.get("email_domain") is None:
            continue
        conf = r.get("confidence")
        low = conf is not None and conf < threshold
        institution = _e(r.get("institution"))
        if r.get("ror_id"):
            institution = f'<a href="{_e(r["ror_id"])}">{institution or _e(r["ror_id"])}</a>'
        body.append(
            f"<tr><td>{_e(r.get('author_position'))}</td><td>{_e(r.get('author_name'))}</td>"
            f"<td>{_e(r.get('affiliation'))}</td><td>{_e(r.get('email_domain'))}</td><td>{_e(r.get('from'))}</td>"
            f"<td>{_e(r.get('countries')) or '<i>none</i>'}</td><td>{institution}</td><td>{_e(r.get('rule'))}</td>"
            f"<td>{'<span class=low>' if low else ''}{'' if conf is None else f'{conf:.2f}'}"
            f"{'</span>' if low else ''}</td></tr>")
    return f"<table>{head}{''.join(body)}</table>" if body else "<p><i>no affiliation rows</i></p>"


def render_review_html(views: Mapping[str, PaperView], review: Mapping[str, Mapping[str, Any]],
                       partition_key: str, scope: str, seed: int, threshold: float = LOW_CONFIDENCE) -> str:
    parts = [
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>Review sample: {_e(partition_key)}</title>"
        f"<style>{_STYLE}</style></head><body data-key='{_e(partition_key)}|{_e(scope)}'>",
        f"<h1>Review sample: {_e(partition_key)} (China scope {_e(scope)})</h1>",
        f"<p>For each headline number, a random sample (seed {seed}) of the papers it counts, with the "
        "affiliation rows that put each paper there. Mark each paper right or wrong; the page remembers your "
        "marks in this browser, and <button id=download>download verdicts (CSV)</button> saves them. "
        f"Confidence below {threshold:.2f} is <span class=low>highlighted</span>; every low-confidence paper "
        "is listed at the end of its number, sampled or not.</p><div id=tally></div>",
        "<h2>Contents</h2><table><tr><th>number</th><th>papers</th><th>sampled</th><th>low confidence</th></tr>",
    ]
    for number, entry in review.items():
        parts.append(f"<tr><td><a href='#{number}'>{_e(entry['label'])}</a></td><td>{entry['papers']}</td>"
                     f"<td>{len(entry['sample'])}</td><td>{len(entry['low_confidence'])}</td></tr>")
    parts.append("</table>")
    for number, entry in review.items():
        low = set(entry["low_confidence"])
        parts.append(f"<h2 id='{number}'>{_e(entry['label'])}: {entry['papers']} papers</h2>"
                     f"<p><code>{number}</code>; sample of {len(entry['sample'])}; "
                     f"{len(low)} low-confidence.</p>")
        for rank, pid in enumerate(entry["sample"], start=1):
            view = views[pid]
            rows = _paper_rows(number, pid, view, scope, rank, pid in low)
            title = _e(view.title or pid)
            link = f"<a href='{_e(view.url)}'>{title}</a>" if view.url else title
            mention = ""
            if rows and rows[0].get("mention_snippet"):
                mention = (f"<p>{_e(rows[0]['mention_scope'])}: <span class=snippet>"
                           f"{_e(rows[0]['mention_snippet'])}</span></p>")
            parts.append(
                f"<div class=paper data-id='{_e(number)}|{_e(pid)}'><b>{rank}.</b> {link} <small>({_e(pid)})</small>"
                f"{' <span class=low>low confidence</span>' if pid in low else ''}"
                f"{mention}{_evidence_table(rows, threshold)}"
                "<div class=verdict><button data-v=ok>right</button><button data-v=wrong>wrong</button>"
                "<button data-v=unsure>unsure</button></div></div>")
        if low:
            parts.append(f"<h3>All {len(low)} low-confidence papers</h3><ul>")
            for pid in sorted(low):
                view = views[pid]
                weak = [e for e in relevant_evidence(BY_ID[number], view, scope)
                        if e.confidence is not None and e.confidence < threshold]
                why = "; ".join(f"{e.affiliation or '@' + (e.email_domain or '')} -> {'/'.join(e.countries)} "
                                f"by {e.method} ({e.confidence:.2f})" for e in weak)
                parts.append(f"<li>{_e(pid)}: {_e(view.title)}: {_e(why)}</li>")
            parts.append("</ul>")
    parts.append(f"<script>{_SCRIPT}</script></body></html>")
    return "\n".join(parts)
