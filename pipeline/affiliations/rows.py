"""Papers -> one row per (paper, author position, affiliation string).

An author without any affiliation string still gets one row (affiliation NULL) so that the
e-mail domain can speak for them and so that coverage counts see them. Affiliations a source
could not tie to authors (`aligned` false) get rows with a NULL author position, and those
papers' authors get no rows of their own.

A paper read from several sources (or from one that gives more than strings) carries each
source's view of each author (`author_sources`). Every view's strings become rows with that
source; the first view with affiliations counts (`decision` "metadata"), the others are kept
as `other-source`, not counted, with the source's own institutions and countries beside them
(`reference_institutions`, `reference_countries`) for comparison.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any


def as_list(value: Any) -> list:
    """Lists come back from DuckDB as numpy arrays, from Python as lists; None is empty."""
    if value is None:
        return []
    try:
        return list(value)
    except TypeError:
        return []


def explode(papers: Iterable[Mapping[str, Any]]) -> list[dict]:
    rows: list[dict] = []
    for paper in papers:
        base = {
            "partition_key": paper["partition_key"],
            "paper_id": paper["paper_id"],
            "source": paper.get("source"),
            "source_ref": paper.get("source_ref"),
        }
        authors = as_list(paper.get("authors"))
        affiliations = [as_list(a) for a in as_list(paper.get("affiliations"))]
        domains = as_list(paper.get("email_domains"))
        aligned = bool(paper.get("aligned", True))
        views = author_views(paper.get("author_sources"))
        if views and aligned and len(views) == len(authors):
            rows.extend(_view_rows(base, authors, domains, views))
            authors = []  # the views gave this paper's author rows
        for position, name in enumerate(authors, start=1):
            affs = affiliations[position - 1] if aligned and position - 1 < len(affiliations) else []
            domain = domains[position - 1] if position - 1 < len(domains) else None
            if not affs:
                # Unaligned papers count through their unaligned affiliations only; an extra
                # per-author row would count those authors twice.
                if aligned:
                    rows.append({**base, "author_position": position, "author_name": name or None,
                                 "affiliation_index": None, "affiliation": None, "email_domain": domain})
                continue
            for index, aff in enumerate(affs, start=1):
                rows.append({**base, "author_position": position, "author_name": name or None,
                             "affiliation_index": index, "affiliation": aff, "email_domain": domain})
        if not aligned:
            for index, aff in enumerate(as_list(paper.get("unaligned_affiliations")), start=1):
                rows.append({**base, "author_position": None, "author_name": None,
                             "affiliation_index": index, "affiliation": aff, "email_domain": None})
    return rows


def author_views(raw: Any) -> list[list[dict]]:
    """`author_sources` as stored (a JSON string) or as built (a list); empty when absent."""
    if raw is None or (isinstance(raw, float) and raw != raw):
        return []
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return []
    return [list(blocks) for blocks in raw] if isinstance(raw, list) else []


def _view_rows(base: dict, authors: list, domains: list, views: list[list[dict]]) -> list[dict]:
    rows = []
    for position, (name, blocks) in enumerate(zip(authors, views), start=1):
        domain = domains[position - 1] if position - 1 < len(domains) else None
        chosen = next((b for b in blocks if b.get("affiliations")), None)
        if chosen is None:
            first = blocks[0] if blocks else {}
            rows.append({**base, "source": first.get("source") or base["source"],
                         "source_ref": first.get("ref") or base["source_ref"], "author_position": position,
                         "author_name": name or None, "affiliation_index": None, "affiliation": None,
                         "email_domain": domain, "counted": True, "decision": "metadata",
                         "reference_institutions": None, "reference_countries": None})
            continue
        for block in blocks:
            counted = block is chosen
            for index, aff in enumerate(block.get("affiliations") or [], start=1):
                rows.append({
                    **base, "source": block.get("source") or base["source"],
                    "source_ref": block.get("ref") or base["source_ref"], "author_position": position,
                    "author_name": name or None, "affiliation_index": index, "affiliation": aff,
                    "email_domain": block.get("email_domain") or domain, "counted": counted,
                    "decision": "metadata" if counted else "other-source",
                    "reference_institutions": "; ".join(block.get("reference_institutions") or []) or None,
                    "reference_countries": ",".join(block.get("reference_countries") or []) or None,
                })
    return rows


def reference_agreement(rows: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """How often our country agrees with the source's own (`reference_countries`, e.g.
    OpenAlex's or an OpenReview profile's), over rows that have both. A row agrees when our
    country is one of the source's; HK, MO and TW count as CN on the source's side only when
    the source says CN (sources fold them, we do not)."""
    out = {"rows_with_source_country": 0, "agree": 0, "disagree": 0, "ours_unresolved": 0}
    for row in rows:
        if not source_countries(row.get("reference_countries")):
            continue
        out["rows_with_source_country"] += 1
        ours = row.get("country")
        if not ours or (isinstance(ours, float) and ours != ours):
            out["ours_unresolved"] += 1
        elif agrees(ours, row.get("reference_countries")):
            out["agree"] += 1
        else:
            out["disagree"] += 1
    return out


def source_countries(raw: Any) -> set[str]:
    """A source's own countries as stored ("US,CN"), or as a set already."""
    if isinstance(raw, (set, frozenset)):
        return set(raw)
    if raw is None or (isinstance(raw, float) and raw != raw):
        return set()
    return {c.strip().upper() for c in str(raw).split(",") if c.strip()}


def agrees(ours: str, reference_countries: Any) -> bool:
    theirs = source_countries(reference_countries)
    return ours in theirs or (ours in ("HK", "MO", "TW") and "CN" in theirs)
