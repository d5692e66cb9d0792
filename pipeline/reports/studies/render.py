"""A study's claims for people: text for the terminal, and study.md / study.html, a page a
journalist can print (the claims table, a chart for each claim that spans years, and links into
each venue-year's report and review sample).

No Dagster here.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from ...text import clip, html_text, md_text
from .compare import fmt, ours_text, published_text
from .evaluate import ClaimResult, StudyResult
from .scope import span, year_span

SHARE_NOTE = ("ours: our figure with its interval (low–high: under every / some admissible reading of uncertain "
              "rows) and the papers authors nobody can place could add (+N unplaced).")


def _status(result: ClaimResult) -> str:
    return {True: "agrees", False: "differs", None: "–"}[result.agrees]


def _header(r: StudyResult) -> list[str]:
    s = r.study
    missing = [k for k in r.wanted if k not in r.materialised]
    lines = [f"{s.name}: {s.title}"]
    if s.source_line():
        lines.append(f"published: {s.source_line()}")
    lines.append(f"placement {r.placement}, China scope {r.china_scope}; stands on {len(r.materialised)} "
                 f"venue-year(s): {span(r.materialised) or 'none'}")
    if missing:
        lines.append(f"not materialised: {len(missing)} venue-year(s) of the scope: {clip(span(missing), 300)}")
    return lines


def format_text(r: StudyResult) -> str:
    lines = _header(r)
    for c in r.claims:
        claim = c.claim
        lines += ["", f"[{claim.id}] {claim.claim}",
                  f"  published   {published_text(claim)}  ({_source(claim, r.study)})",
                  f"  ours        {ours_text(c, claim.measure)}" + (_on(c, r) if c.ours is not None else ""),
                  f"  stands on   {c.basis}" + (f" ({c.basis_detail})" if c.basis_detail else "")]
        if c.institutions:
            lines.append("  institutions " + " · ".join(f"{i['institution']} {i['papers']}" for i in c.institutions))
        if c.direction:
            lines.append(f"  over years  {c.direction}")
        series = _series(c)
        if series:
            label = "counts" if claim.number in ("top_partners", "ranking", "top_tools") else "by year"
            lines.append(f"  {label:<11} {series}")
        lines.append(f"  difference  {c.difference} ({_status(c)})" if c.difference else "  difference  –")
        if c.notes:
            lines.append(f"  why         {' '.join(c.notes)}")
    lines += ["", SHARE_NOTE]
    return "\n".join(lines)


def _on(c: ClaimResult, r: StudyResult) -> str:
    """Where ours stands, in the text: named when it is not every venue-year above."""
    if c.scope == span(r.materialised):
        return f"  on all {len(r.materialised)} venue-years above" if len(r.materialised) > 1 else f"  on {c.scope}"
    return f"  on {c.scope}"


def _source(claim, study) -> str:
    who = claim.source or study.source.get("name") or "the study file"
    return f"{who}, {claim.year}" if claim.year else who


def _series(c: ClaimResult) -> str:
    rows = [p for p in c.per_year if "year" in p and p.get("papers") is not None]
    if len(rows) < 2:
        if c.claim.number in ("top_partners", "ranking", "top_tools"):
            return " · ".join(f"{p.get('country') or p.get('tool')} {p['papers']}" for p in c.per_year[:12])
        return ""
    if c.claim.measure == "share":
        return " · ".join(f"{p['year']} {fmt(p.get('share'), 'share')}" for p in rows)
    return " · ".join(f"{p['year']} {p['papers']:,}" for p in rows)


def _venue_years(c: ClaimResult) -> str:
    """Where ours stands in words: "NeurIPS 2010, 2011 and 2016"; the claim's span of keys when
    the venues by year are not known."""
    from ...sources.plan import load_plan

    by_venue: dict[str, list[int]] = {}
    for year, venues in sorted(c.venues_by_year.items()):
        for venue in venues:
            by_venue.setdefault(venue, []).append(year)
    if not by_venue:
        return c.scope
    try:
        plan = load_plan()
    except Exception:  # a plan that cannot be read must not stop the page
        plan = None

    def name(venue: str) -> str:
        try:
            return plan.venue(venue).name
        except Exception:
            return venue.upper()

    def years(ys: list[int]) -> str:
        runs = year_span(ys).replace("..", "–").split(", ")
        return runs[0] if len(runs) == 1 else ", ".join(runs[:-1]) + " and " + runs[-1]

    return "; ".join(f"{name(venue)} {years(ys)}" for venue, ys in by_venue.items())


def _ours_words(c: ClaimResult) -> tuple[str, str]:
    """Ours in words, as the first paragraph states it: the count of its denominator; then its
    interval and what unplaced authors could add, each only when it says something."""
    measure = c.claim.measure
    if measure == "list":  # countries by name (a tool's name as it is)
        import pycountry

        names = [getattr(pycountry.countries.get(alpha_2=v) if len(v) == 2 else None, "name", v) for v in c.ours]
        return ", ".join(names) or "none", ""
    rows_ = [p for p in c.per_year if p.get("papers") is not None and p.get("denominator")]
    if measure == "count" and c.denominator:
        text = f"{c.ours:,} of {c.denominator:,} papers ({c.ours / c.denominator:.1%})"
    elif measure == "share" and rows_ and abs(sum(p["papers"] for p in rows_)
                                              / sum(p["denominator"] for p in rows_) - c.ours) < 1e-9:
        text = f"{sum(p['papers'] for p in rows_):,} of {sum(p['denominator'] for p in rows_):,} papers ({c.ours:.1%})"
    else:
        text = fmt(c.ours, measure)
    low, high, more = fmt(c.low, measure), fmt(c.high, measure), ""
    if c.low is not None and c.high is not None and low != high:
        more += f"; {low} to {high} depending on how uncertain affiliations are read"
    if c.unplaced:
        more += f"; up to {fmt(c.unplaced, measure)} more by authors no evidence places"
    return text, more


def headline(r: StudyResult) -> str:
    """The study's result in one plain sentence or two, the page's first paragraph: the first claim
    ours can be compared on, the published figure beside ours, and how many claims are compared.
    An interval is given only where it is not one number."""
    compared = [c for c in r.claims if c.ours is not None]
    n = len(r.claims)
    if not compared:
        missing = sorted({y for c in r.claims for y in c.missing_years})
        need = f" (years {year_span(missing).replace('..', '–')})" if missing else ""
        return (f"None of the {n} claims can be compared yet: ours needs venue-years not materialised here{need}.")
    c = next((c for c in compared if c.claim.measure in ("count", "share")), compared[0])
    who = c.claim.source or r.study.source.get("name") or "the study"
    ours, more = _ours_words(c)
    sentence = (f"{c.claim.claim.rstrip('.')}: {who} published {published_text(c.claim)}; "
                f"we count {ours} in {_venue_years(c)}")
    if c.direction and c.claim.direction and c.direction != "too few years":
        sentence += f", {c.direction} over {len(c.years)} years"
    sentence += more
    rest = (f"all {n} claims are compared below." if len(compared) == n else
            f"{len(compared)} of the {n} claims {'is' if len(compared) == 1 else 'are'} compared here; "
            "the others need venue-years not materialised.")
    return f"{sentence}. {rest[0].upper()}{rest[1:]}"


def rows(r: StudyResult) -> list[dict[str, str]]:
    """The claims table, as people read it."""
    return [{"claim": c.claim.claim, "published": published_text(c.claim), "ours": ours_text(c, c.claim.measure),
             "stands on": c.basis, "on": c.scope,
             "institutions": ", ".join(f"{i['institution']} {i['papers']}" for i in c.institutions[:3]) or "–",
             "difference": f"{c.difference} ({_status(c)})" if c.difference else "–",
             "why it may differ": " ".join(c.notes) or "–"} for c in r.claims]


def chart(c: ClaimResult) -> bytes | None:
    """Ours per year (interval shaded, no line across a year not materialised), with the
    published figure, for a claim that spans two years or more."""
    from ..charts import _png, _pyplot

    points = [p for p in c.per_year if "year" in p and p.get("papers") is not None]
    if len(points) < 2 or c.claim.measure not in ("count", "share"):
        return None
    plt = _pyplot()
    share = c.claim.measure == "share"
    scale = 100 if share else 1

    def value(p: Mapping[str, Any], column: str) -> float | None:
        v = p.get(column)
        if v is None:
            return None
        if share:
            return v / p["denominator"] * scale if p.get("denominator") else None
        return v

    fig, ax = plt.subplots(figsize=(7, 3.2))
    runs: list[list[Mapping[str, Any]]] = []
    for p in points:
        if runs and p["year"] == runs[-1][-1]["year"] + 1:
            runs[-1].append(p)
        else:
            runs.append([p])
    for i, run in enumerate(runs):
        xs = [p["year"] for p in run]
        ys = [value(p, "papers") for p in run]
        ax.plot(xs, ys, "-o", color="#1f77b4", label="ours" if i == 0 else None)
        lows, highs = [value(p, "low") for p in run], [value(p, "high") for p in run]
        if all(v is not None for v in lows + highs):
            ax.fill_between(xs, lows, highs, color="#1f77b4", alpha=0.2, linewidth=0)
    pub = c.claim.published
    if isinstance(pub, (int, float)):
        years = c.claim.years or [p["year"] for p in points]
        ax.plot(years, [pub * scale] * len(years), "D" if c.claim.years else "--", color="#d62728",
                label="published")
    ax.set_xlabel("year")
    ax.set_ylabel("% of papers" if share else "papers")
    ax.set_title(clip(c.claim.claim, 80).replace("$", r"\$"), fontsize=9)  # text, not mathtext
    ax.margins(y=0.2)
    ax.legend(fontsize=8)
    return _png(fig)


def _md_table(records: list[dict[str, str]]) -> str:
    """Every row and every word: a study's table is what a reader checks (Markdown-escaped)."""
    if not records:
        return "_(no claims)_"
    cols = list(records[0])
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(md_text(" ".join(str(r[c]).split())) for c in cols) + " |" for r in records]
    return "\n".join(lines)


def render_markdown(r: StudyResult, charts: Mapping[str, str] | None = None,
                    reports: Mapping[str, str] | None = None) -> str:
    """study.md: `charts` maps a claim id to its chart file, `reports` a venue-year to its folder."""
    s = r.study
    out = [f"# {md_text(s.title)}", "", md_text(headline(r)), "", *[f"- {md_text(line)}" for line in _header(r)[1:]], ""]
    if s.about:
        out += [md_text(s.about), ""]
    out += ["## Claims", "", _md_table(rows(r)), "", md_text(SHARE_NOTE), ""]
    for c in r.claims:
        if charts and c.claim.id in charts:
            out += [f"### {md_text(c.claim.claim)}", "", f"![{md_text(c.claim.id)}]({charts[c.claim.id]})", ""]
    if reports:
        out += ["## The venue-years behind it", ""]
        out += [f"- {key}: [report]({path}/report.html) · [review sample]({path}/review.html)"
                for key, path in reports.items()]
    return "\n".join(out) + "\n"


def _link(url: str | None, text: str) -> str:
    if url and url.startswith(("http://", "https://")):
        return f'<a href="{html_text(url)}">{html_text(text)}</a>'
    return html_text(text)


def render_html(r: StudyResult, charts: Mapping[str, bytes] | None = None,
                reports: Mapping[str, str] | None = None) -> str:
    """study.html: one page, charts embedded, every text escaped, only http(s) links out."""
    s = r.study
    e = html_text  # escaped, quotes too, without bidirectional controls
    source = _link(s.source.get("url"), s.source_line()) if s.source_line() else ""
    # The published line is the paragraph above the list (with its link), not a second time in it.
    head = "".join(f"<li>{e(line)}</li>" for line in _header(r)[2 if source else 1:])
    cols = ["claim", "published", "ours", "stands on", "on", "institutions", "difference", "why it may differ"]
    body = "".join("<tr>" + "".join(f"<td>{e(row[k])}</td>" for k in cols) + "</tr>" for row in rows(r))
    heads = "".join(f"<th>{e(k)}</th>" for k in cols)
    table = f"<div class=\"scroll\"><table><thead><tr>{heads}</tr></thead><tbody>{body}</tbody></table></div>"
    figures = "".join(
        f'<figure><img alt="{e(c.claim.claim)}" src="data:image/png;base64,'
        f'{base64.b64encode(charts[c.claim.id]).decode()}"><figcaption>{e(c.claim.claim)}</figcaption></figure>'
        for c in r.claims if charts and c.claim.id in charts)
    links = "".join(
        f'<li>{e(key)}: <a href="{e(path)}/report.html">report</a> · '
        f'<a href="{e(path)}/review.html">review sample</a></li>' for key, path in (reports or {}).items())
    style = ("body{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;line-height:1.4}"
             "table{border-collapse:collapse;font-size:.9rem}td,th{border:1px solid #ccc;padding:.3rem .5rem;"
             "vertical-align:top;text-align:left}th{background:#f3f3f3}figure{margin:1.5rem 0}"
             "p.headline{font-size:1.15rem;line-height:1.45}.scroll{overflow-x:auto;max-width:100%}"
             "img{max-width:100%;height:auto}li{overflow-wrap:anywhere}"
             "@media print{a{color:inherit}.scroll{overflow:visible}}")
    return (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{e(s.title)}</title>"
            f"<style>{style}</style></head><body><h1>{e(s.title)}</h1><p class=\"headline\">{e(headline(r))}</p>"
            + (f"<p>Published: {source}</p>" if source else "") + f"<ul>{head}</ul>"
            + (f"<p>{e(s.about)}</p>" if s.about else "")
            + f"<h2>Claims</h2>{table}<p><small>{e(SHARE_NOTE)}</small></p>{figures}"
            + (f"<h2>The venue-years behind it</h2><ul>{links}</ul>" if links else "") + "</body></html>")


def chart_bytes(r: StudyResult) -> dict[str, bytes]:
    out = {}
    for c in r.claims:
        png = chart(c)
        if png:
            out[c.claim.id] = png
    return out

