"""The papers behind the numbers: one record per paper (`paperatlas papers`) and a readable
account of one paper (`paperatlas explain`): its countries under a placement and China scope,
the headline numbers it belongs to, and for every author the strings, where each came from,
the country, the rule and the confidence, and what would move it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..affiliations.names import fold
from ..conventions import DEFAULT_PLACEMENT, PLACEMENTS, fold_countries
from ..countries.decision import describe
from .headlines import NUMBERS, PaperView, belongs, provenance, readings


def memberships(view: PaperView, scope: str, placement: str = DEFAULT_PLACEMENT) -> dict[str, str]:
    """number id -> "yes" (under every admissible reading), "maybe" (under some) or absent,
    for the numbers the paper counts in under the placement or could."""
    now = view.folded(scope, placement)
    out = {}
    for number in NUMBERS:
        every, some = readings(number, view, scope)
        counted = belongs(number, now, view)
        if every:
            out[number.id] = "yes"
        elif counted or some:
            out[number.id] = f"{'yes' if counted else 'no'} under {placement}; uncertain"
    return out


def paper_record(view: PaperView, scope: str = "cn", placement: str = DEFAULT_PLACEMENT) -> dict[str, Any]:
    """One row of `paperatlas papers`."""
    member = memberships(view, scope, placement)
    return {
        "paper_id": view.paper_id,
        "title": view.title,
        "countries": sorted(fold_countries(view.countries_for(placement), scope)),
        "uncertain": any(v != "yes" for v in member.values()),
        "placed_from": view.placed_from,
        "numbers": sorted(k for k, v in member.items() if v == "yes" or v.startswith("yes")),
        "authors": [
            {"author_position": e.author_position, "author_name": e.author_name, "affiliation": e.affiliation,
             "email_domain": e.email_domain, "from": provenance(e.source), "country": "/".join(e.countries_for(placement)),
             "rule": e.rule_for(placement)[0], "confidence": e.rule_for(placement)[1], "basis": e.basis,
             "alternatives": list(e.alternatives), "uncertainty": e.uncertainty}
            for e in view.evidence
        ],
    }


def flat(record: Mapping[str, Any]) -> dict[str, Any]:
    """A `paper_record` for a CSV row: lists joined, authors as one readable cell."""
    authors = "; ".join(
        f"{a['author_position'] or '-'}: {a['affiliation'] or '@' + (a['email_domain'] or '')} "
        f"[{a['from']}] -> {a['country'] or 'none'} by {a['rule']}"
        + (f" ({a['confidence']:.2f})" if a["confidence"] is not None else "")
        + (f" could be {'/'.join(a['alternatives'])}" if a["alternatives"] else "")
        for a in record["authors"])
    return {**record, "countries": ";".join(record["countries"]), "numbers": ";".join(record["numbers"]),
            "authors": authors}


AUTHOR_COLUMNS = ["paper_id", "title", "author_position", "author_name", "affiliation", "email_domain", "institution",
                  "ror_id", "parent_institution", "parent_ror_id", "country", "counts_as", "rule", "confidence",
                  "basis", "alternatives", "uncertainty", "source"]


def author_rows(view: PaperView, scope: str = "cn", placement: str = DEFAULT_PLACEMENT) -> list[dict[str, Any]]:
    """`paperatlas papers --long`: one row per counted author-affiliation row of the paper (an
    author with two affiliations has two), with the institution and its top-level parent, the
    country under the placement (`country`, codes joined by "/") and as the China scope counts
    it (`counts_as`), the rule, its confidence and the source's row it came from. A paper without
    any row keeps one row, its author fields empty, so that every paper is listed."""
    rows = []
    for e in view.evidence:
        rule, confidence, _ = e.rule_for(placement)
        rows.append({
            "paper_id": view.paper_id, "title": view.title, "author_position": e.author_position,
            "author_name": e.author_name, "affiliation": e.affiliation, "email_domain": e.email_domain,
            "institution": e.institution, "ror_id": e.ror_id, "parent_institution": e.parent_name,
            "parent_ror_id": e.parent_ror_id, "country": "/".join(e.countries_for(placement)),
            "counts_as": "/".join(sorted(fold_countries(e.countries_for(placement), scope))), "rule": rule,
            "confidence": confidence, "basis": e.basis, "alternatives": "/".join(e.alternatives),
            "uncertainty": e.uncertainty, "source": e.source,
        })
    return rows or [{**dict.fromkeys(AUTHOR_COLUMNS), "paper_id": view.paper_id, "title": view.title}]


def find(views: Mapping[str, PaperView], query: str) -> list[PaperView]:
    """A paper by id, else the papers whose titles contain every word of the query."""
    if query in views:
        return [views[query]]
    words = re.findall(r"\w+", fold(query).lower())
    if not words:
        return []
    return [v for v in views.values() if all(w in re.findall(r"\w+", fold(v.title or "").lower()) for w in words)]


def explain_text(view: PaperView, scope: str = "cn", placement: str = DEFAULT_PLACEMENT) -> str:
    """Why the paper counts where it does, and what would move it."""
    countries = fold_countries(view.countries_for(placement), scope)
    lines = [f"{view.paper_id}: {view.title or '(no title)'}",
             f"  countries ({placement}, China scope {scope}): {', '.join(sorted(countries)) or 'none'}"
             + f"; placed from {view.placed_from}"]
    for other in PLACEMENTS:
        if other != placement:
            alt = fold_countries(view.countries_for(other), scope)
            if alt != countries:
                lines.append(f"  under placement {other}: {', '.join(sorted(alt)) or 'none'}")
    if view.uncertain:
        sets = sorted({", ".join(sorted(s)) for s in view.possible(scope)})
        lines.append(f"  admissible country sets: {' | '.join(sets)}")
    member = memberships(view, scope, placement)
    if member:
        lines.append("  headline numbers:")
        for number in NUMBERS:
            if number.id in member:
                lines.append(f"    {number.id}: {member[number.id]}")
    lines.append("  authors:")
    if not view.evidence:
        lines.append("    no affiliation string or e-mail domain in any source: the paper has no country")
    for e in view.evidence:
        who = f"{e.author_position}. {e.author_name or ''}".strip() if e.author_position else "(not tied to an author)"
        lines.append(f"    {who} [{provenance(e.source)}]")
        lines.append(f"      {describe(e, placement)}")
        if e.basis:
            lines.append(f"      decided by: {e.basis}")
        if e.alternatives:
            lines.append(f"      what would move it: evidence placing this author in "
                         f"{' or '.join(c for c in e.alternatives if c not in e.countries_for(placement))} "
                         "(page 1 of the PDF, an OpenReview profile, a lab e-mail domain), or an override")
        elif not e.countries:
            lines.append("      what would move it: an override for this string or domain, or a PDF/profile")
    return "\n".join(lines)
