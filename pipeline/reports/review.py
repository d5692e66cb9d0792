"""Review trail: for each headline number a seeded sample of the papers behind it, with the
evidence a reviewer needs to say yes or no, and every low-confidence paper listed.

Exports a CSV (one row per evidence row, a blank `verdict` column to fill in) and an HTML page
that a reviewer works through in a browser: each paper with its affiliation strings, where they
came from (metadata or PDF page 1), the institution matched, the rule and its confidence, the
mention snippet for mention numbers, and buttons for a verdict that the page keeps (in the
browser's local storage) and can download as CSV. `read_verdicts` reads that CSV back and
`store_verdicts` keeps its verdicts in `review_verdicts`; `precision` then says how many of a
number's papers reviewers found right.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

from ..conventions import CHINA_SCOPES, DEFAULT_CHINA_SCOPE, DEFAULT_PLACEMENT, LOW_CONFIDENCE, PLACEMENTS
from ..countries.groups import country_name
from ..text import csv_restore, html_text, web_href
from . import queries
from .headlines import (
    BY_ID,
    DEFAULT_SAMPLE,
    DEFAULT_SEED,
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
    "rule", "confidence", "reason", "basis", "alternatives", "uncertainty", "mention_scope", "mention_text",
    "mention_snippet", "placement", "evidence_sha256", "verdict",
]
LOW_COLUMNS = [c for c in CSV_COLUMNS if c not in ("sample_rank", "verdict")]


def build_review(views: Mapping[str, PaperView], partition_key: str, scope: str = "cn",
                 size: int = DEFAULT_SAMPLE, seed: int = DEFAULT_SEED,
                 threshold: float = LOW_CONFIDENCE, placement: str = DEFAULT_PLACEMENT) -> dict[str, dict[str, Any]]:
    """number -> {papers, sample (paper ids in sample order), low_confidence (all such paper
    ids, sorted)} under one China scope and placement."""
    sets = members(views, scope, placement=placement)
    low = low_confidence(views, scope, threshold, sets, placement)
    return {
        number: {
            "label": BY_ID[number].label,
            "papers": len(sets[number]),
            "sample": sample(sets[number], size, seed, partition_key, number, scope),
            "low_confidence": sorted(low[number]),
        }
        for number in REVIEWED
    }


def _evidence_record(e, placement: str = DEFAULT_PLACEMENT) -> dict[str, Any]:
    rule, confidence, reason = e.rule_for(placement)
    return {
        "author_position": e.author_position,  # 1-based, as stored
        "author_name": e.author_name, "affiliation": e.affiliation, "email_domain": e.email_domain,
        "from": provenance(e.source), "source_ref": e.source_ref, "countries": "/".join(e.countries_for(placement)),
        "institution": e.institution, "ror_id": e.ror_id, "rule": rule, "confidence": confidence, "reason": reason,
        "basis": e.basis, "alternatives": "/".join(e.alternatives) or None, "uncertainty": e.uncertainty,
    }


def evidence_digest(number: str, view: PaperView, scope: str, placement: str = DEFAULT_PLACEMENT) -> str:
    """SHA-256 of what a reviewer judged: the rows that put the paper in the number, as
    decided. A verdict whose digest no longer matches is stale."""
    rows = sorted(json.dumps([e.author_position, e.affiliation, e.email_domain, e.source,
                              list(e.countries_for(placement)), e.rule_for(placement)[0], list(e.alternatives)])
                  for e in relevant_evidence(BY_ID[number], view, scope, placement))
    return hashlib.sha256("\n".join([number, *rows]).encode()).hexdigest()


def _mention(number: str, view: PaperView) -> dict[str, Any]:
    n = BY_ID[number]
    m = view.snippets.get(f"{n.term}:{n.group}") if n.term else None
    if m is None:
        return {"mention_scope": None, "mention_text": None, "mention_snippet": None}
    return {"mention_scope": f"{m.scope} ({m.source or 'pdf'})", "mention_text": m.surface,
            "mention_snippet": m.snippet}


def _paper_rows(number: str, pid: str, view: PaperView, scope: str, rank: int | None, low: bool,
                placement: str = DEFAULT_PLACEMENT) -> list[dict]:
    base = {"number": number, "china_scope": scope, "sample_rank": rank, "paper_id": pid, "title": view.title,
            "url": view.url, "low_confidence": low, **_mention(number, view), "placement": placement,
            "evidence_sha256": evidence_digest(number, view, scope, placement), "verdict": ""}
    rows = [{**base, **_evidence_record(e, placement)}
            for e in relevant_evidence(BY_ID[number], view, scope, placement)]
    return rows or [base]


def review_rows(views: Mapping[str, PaperView], review: Mapping[str, Mapping[str, Any]], scope: str,
                placement: str = DEFAULT_PLACEMENT) -> list[dict]:
    """The sample as CSV rows: one per (number, sampled paper, evidence row)."""
    out = []
    for number, entry in review.items():
        low = set(entry["low_confidence"])
        for rank, pid in enumerate(entry["sample"], start=1):
            out.extend(_paper_rows(number, pid, views[pid], scope, rank, pid in low, placement))
    return [{c: r.get(c) for c in CSV_COLUMNS} for r in out]


def low_confidence_rows(views: Mapping[str, PaperView], review: Mapping[str, Mapping[str, Any]], scope: str,
                        threshold: float = LOW_CONFIDENCE, placement: str = DEFAULT_PLACEMENT) -> list[dict]:
    """Every low-confidence paper behind every number, with the rows below the threshold."""
    out = []
    for number, entry in review.items():
        for pid in entry["low_confidence"]:
            view = views[pid]
            for row in _paper_rows(number, pid, view, scope, None, True, placement):
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
  const b = document.body.dataset;
  const rows = [['number', 'paper_id', 'china_scope', 'placement', 'evidence_sha256', 'verdict']];
  document.querySelectorAll('.paper').forEach(p => {
    const cut = p.dataset.id.indexOf('|');
    rows.push([p.dataset.id.slice(0, cut), p.dataset.id.slice(cut + 1), b.scope, b.placement, p.dataset.sha,
               state[p.dataset.id] || '']);
  });
  const text = v => /^[=+\\-@\\t\\r]/.test(v) ? "'" + v : v;  // spreadsheets run those as formulas
  const cell = v => { v = text(v); return /[",\\n\\r]/.test(v) ? '"' + v.replace(/"/g, '""') + '"' : v; };
  const blob = new Blob([rows.map(r => r.map(cell).join(',')).join('\\n')], {type: 'text/csv'});
  const a = document.createElement('a'); a.href = URL.createObjectURL(blob);
  a.download = 'verdicts-' + document.body.dataset.key + '.csv'; a.click();
});
paint();
"""


def _e(value: Any) -> str:
    return html_text(value)


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
        if web_href(r.get("ror_id")):
            institution = f'<a href="{_e(r["ror_id"])}">{institution or _e(r["ror_id"])}</a>'
        body.append(
            f"<tr><td>{_e(r.get('author_position'))}</td><td>{_e(r.get('author_name'))}</td>"
            f"<td>{_e(r.get('affiliation'))}</td><td>{_e(r.get('email_domain'))}</td><td>{_e(r.get('from'))}</td>"
            f"<td>{_country_cell(r.get('countries'))}</td><td>{institution}</td><td>{_e(r.get('rule'))}</td>"
            f"<td>{'<span class=low>' if low else ''}{'' if conf is None else f'{conf:.2f}'}"
            f"{'</span>' if low else ''}</td></tr>")
    return f"<table>{head}{''.join(body)}</table>" if body else "<p><i>no affiliation rows</i></p>"


def _country_cell(codes: str | None) -> str:
    """"United States / China" for "US/CN", the codes kept as a tooltip; none in italics."""
    if not codes:
        return "<i>none</i>"
    return f"<span title='{_e(codes)}'>{_e(' / '.join(country_name(c) for c in codes.split('/')))}</span>"


def render_review_html(views: Mapping[str, PaperView], review: Mapping[str, Mapping[str, Any]],
                       partition_key: str, scope: str, seed: int, threshold: float = LOW_CONFIDENCE,
                       placement: str = DEFAULT_PLACEMENT) -> str:
    parts = [
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>Review sample: {_e(partition_key)}</title>"
        f"<style>{_STYLE}</style></head><body data-key='{_e(partition_key)}|{_e(scope)}|{_e(placement)}' "
        f"data-scope='{_e(scope)}' data-placement='{_e(placement)}'>",
        f"<h1>Review sample: {_e(partition_key)} (China scope {_e(scope)}, placement {_e(placement)})</h1>",
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
            rows = _paper_rows(number, pid, view, scope, rank, pid in low, placement)
            title = _e(view.title or pid)
            href = web_href(view.url)  # the paper's page or PDF on the web; a local path is no link
            link = f"<a href='{_e(href)}'>{title}</a>" if href else title
            mention = ""
            if rows and rows[0].get("mention_snippet"):
                mention = (f"<p>{_e(rows[0]['mention_scope'])}: <span class=snippet>"
                           f"{_e(rows[0]['mention_snippet'])}</span></p>")
            parts.append(
                f"<div class=paper data-id='{_e(number)}|{_e(pid)}' data-sha='{_e(rows[0]['evidence_sha256'])}'>"
                f"<b>{rank}.</b> {link} <small>({_e(pid)})</small>"
                f"{' <span class=low>low confidence</span>' if pid in low else ''}"
                f"{mention}{_evidence_table(rows, threshold)}"
                "<div class=verdict><button data-v=ok>right</button><button data-v=wrong>wrong</button>"
                "<button data-v=unsure>unsure</button></div></div>")
        if low:
            parts.append(f"<h3>All {len(low)} low-confidence papers</h3><ul>")
            for pid in sorted(low):
                view = views[pid]
                weak = [e for e in relevant_evidence(BY_ID[number], view, scope, placement)
                        if (e.rule_for(placement)[1] or 0.0) < threshold]
                why = "; ".join(f"{e.affiliation or '@' + (e.email_domain or '')} -> "
                                f"{'/'.join(e.countries_for(placement))} by {e.rule_for(placement)[0]} "
                                f"({e.rule_for(placement)[1] or 0.0:.2f})" for e in weak)
                parts.append(f"<li>{_e(pid)}: {_e(view.title)}: {_e(why)}</li>")
            parts.append("</ul>")
    parts.append(f"<script>{_SCRIPT}</script></body></html>")
    return "\n".join(parts)


# -- verdicts ---------------------------------------------------------------------------------

VERDICTS = {"ok": "ok", "right": "ok", "wrong": "wrong", "unsure": "unsure", "": ""}


class VerdictError(ValueError):
    pass


def _code(value: str | None) -> str:
    """A coded cell as the report reads it: case and spaces do not matter (' Hq ' is hq,
    'CN + HK + MO' is cn+hk+mo). An empty cell is ''."""
    return "".join((csv_restore(value) or "").split()).lower()


def _coded(row: Mapping[str, Any], column: str, accepted, where: str) -> str | None:
    """The cell of `column` in its canonical form; None when empty; an error naming the line and
    the accepted values when it is none of them."""
    value = _code(row.get(column))
    if not value:
        return None
    if value not in accepted:
        raise VerdictError(f"{where}: {column} {row.get(column)!r}; use {', '.join(accepted)}")
    return value


def _csv_error(source: str, line: int, exc: csv.Error) -> VerdictError:
    if "field larger than field limit" in str(exc):
        return VerdictError(f"{source} line {line}: a cell over {csv.field_size_limit():,} characters, too long "
                            "for a verdicts file (its cells are short codes and ids: is it the CSV review.html "
                            "downloads?)")
    return VerdictError(f"{source} line {line}: not readable as CSV ({exc})")


def read_verdicts(text: str, source: str = "verdicts.csv") -> list[dict]:
    """The CSV review.html downloads (number, paper_id, china_scope, placement,
    evidence_sha256, verdict; review.csv's columns also do). Rows without a verdict are
    skipped. Codes are read whatever their case and spaces (verdict, number, China scope,
    placement, digest) and kept in the form the report reads; any other value, or a line the
    CSV reader cannot read (a cell over its field limit), is an error naming its line."""
    reader = csv.DictReader(io.StringIO(text))
    try:
        return _verdict_rows(reader, source)
    except csv.Error as exc:  # the whole file is refused: it is hand-made and small, its line is named
        raise _csv_error(source, max(reader.reader.line_num, 1), exc) from None  # DictReader's own lags a row


def _verdict_rows(reader: csv.DictReader, source: str) -> list[dict]:
    missing = {"number", "paper_id", "verdict"} - {_code(c) for c in reader.fieldnames or ()}
    if missing:
        raise VerdictError(f"{source}: no column {', '.join(sorted(missing))} (is it the CSV review.html downloads?)")
    reader.fieldnames = [_code(c) for c in reader.fieldnames]  # a header typed 'Verdict ' is verdict
    out = []
    for row in reader:
        where = f"{source} line {reader.line_num}"
        verdict = _code(row.get("verdict"))
        if verdict not in VERDICTS:
            raise VerdictError(f"{where}: verdict {row.get('verdict')!r}; use right, wrong or unsure")
        if not VERDICTS[verdict]:
            continue
        number = _code(row.get("number"))
        if number not in BY_ID:
            raise VerdictError(f"{where}: unknown number {row.get('number')!r}; use {', '.join(REVIEWED)}")
        digest = _code(row.get("evidence_sha256")) or None
        if digest is not None and (len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest)):
            raise VerdictError(f"{where}: evidence_sha256 {row.get('evidence_sha256')!r} is no SHA-256 digest "
                               "(64 hexadecimal digits; leave it empty to judge the evidence as it is now)")
        out.append({"number": number, "paper_id": csv_restore(row["paper_id"]), "verdict": VERDICTS[verdict],
                    "china_scope": _coded(row, "china_scope", CHINA_SCOPES, where),
                    "placement": _coded(row, "placement", PLACEMENTS, where), "evidence_sha256": digest})
    # review.csv repeats a paper once per evidence row: one verdict per (number, paper)
    return list({(r["number"], r["paper_id"], r["china_scope"], r["placement"]): r for r in out}.values())


def store_verdicts(store, key: str, rows: Iterable[Mapping[str, Any]], views: Mapping[str, PaperView],
                   placement: str, file: str, imported_at) -> int:
    """Write the verdicts `read_verdicts` gave into `review_verdicts`, one row per number, China
    scope, placement and paper (a later verdict replaces an earlier one), each with the
    evidence digest it was given on (computed now when the CSV has none); returns how many.
    All in one write: one transaction on DuckDB, one commit on Delta."""
    batch: dict[tuple, dict] = {}
    for r in rows:
        scope, place = r["china_scope"] or DEFAULT_CHINA_SCOPE, r["placement"] or placement
        digest = r["evidence_sha256"] or evidence_digest(r["number"], views[r["paper_id"]], scope, place)
        batch[(r["number"], scope, place, r["paper_id"])] = {
            "partition_key": key, "number": r["number"], "china_scope": scope, "placement": place,
            "paper_id": r["paper_id"], "verdict": r["verdict"], "evidence_sha256": digest,
            "file": file, "imported_at": imported_at}
    return queries.replace_verdicts(store, key, list(batch.values())) if batch else 0


def wilson(successes: int, n: int, z: float = 1.959963984540054) -> tuple[float, float] | None:
    """The Wilson score interval of a proportion (95% by default); None for n = 0."""
    if n <= 0:
        return None
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def precision(views: Mapping[str, PaperView], verdicts: Iterable[Mapping[str, Any]], scope: str,
              placement: str = DEFAULT_PLACEMENT) -> dict[str, dict[str, Any]]:
    """Per number: the reviewed papers' precision with its Wilson 95% interval and the count
    corrected by it. A verdict counts while the paper is still in the number under this scope
    and placement and its evidence digest is unchanged; otherwise it is stale."""
    sets = members(views, scope, placement=placement)
    out: dict[str, dict[str, Any]] = {}
    for v in verdicts:
        if (v.get("china_scope") or scope) != scope or (v.get("placement") or placement) != placement:
            continue
        entry = out.setdefault(v["number"], {"right": 0, "wrong": 0, "unsure": 0, "stale": 0})
        pid = v["paper_id"]
        fresh = pid in sets.get(v["number"], set()) and pid in views and \
            v.get("evidence_sha256") == evidence_digest(v["number"], views[pid], scope, placement)
        if not fresh:
            entry["stale"] += 1
        else:
            entry[{"ok": "right"}.get(v["verdict"], v["verdict"])] += 1
    for number, entry in out.items():
        judged = entry["right"] + entry["wrong"]
        papers = len(sets.get(number, ()))
        bounds = wilson(entry["right"], judged)
        entry.update(papers=papers, reviewed=judged, precision=entry["right"] / judged if judged else None,
                     precision_low=bounds[0] if bounds else None, precision_high=bounds[1] if bounds else None,
                     corrected=papers * entry["right"] / judged if judged else None,
                     corrected_low=papers * bounds[0] if bounds else None,
                     corrected_high=papers * bounds[1] if bounds else None)
    return out
