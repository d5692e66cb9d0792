"""One list of author affiliations per paper from the metadata and the PDF's first page.

Authors are matched by normalised name (accents, case, punctuation and word order ignored;
"J. Smith" matches "John Smith"; small spelling differences allowed). Every row of both
sources is kept, with its `source` and a `decision`; only rows with `counted` true feed the
countries. The rule, per metadata author:

- `pdf`: the PDF ties at least one affiliation to the author: the PDF's affiliations count
  (page 1 is the record of where the work was done; metadata often keeps one affiliation,
  or today's employer). The e-mail domain is the one printed on the page, else the metadata's.
- `superseded`: that author's metadata rows, kept for comparison, not counted.
- `metadata`: the PDF gives the author no affiliation (or the paper has no readable PDF):
  the metadata rows count.

And for the rest:

- PDF authors matching no metadata author are `pdf-unmatched` and not counted (a name the
  page reading got wrong must not add a country), unless the metadata has no authors at all
  (a local folder without a CSV): then the PDF's authors are the paper's authors (`pdf`).
- Metadata affiliations the source could not tie to authors count (`metadata`) unless the PDF
  ties affiliations to at least one author (`superseded`).
- Affiliation text the PDF could tie to no author counts (`pdf-unassigned`) only when no
  other row of the paper counts with an affiliation; else it is kept as `pdf-extra`.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from rapidfuzz import fuzz

from .names import fold
from .rows import as_list, explode

PDF_SOURCE = "pdf"
FUZZY_MIN = 88.0  # token-sort ratio for names that differ by a letter or two


@lru_cache(maxsize=1 << 16)
def name_tokens(name: str | None) -> tuple[str, ...]:
    """A name's lower-case words (cached: merging and PDF matching compare each name often)."""
    if not name:
        return ()
    text = fold(str(name)).lower()
    return tuple(t for t in re.split(r"[^a-z0-9]+", text) if t)


def name_match(a: str | None, b: str | None) -> tuple[float, str]:
    """How well two printed names agree: (score 0-100, how). 0 when they do not."""
    ta, tb = name_tokens(a), name_tokens(b)
    if not ta or not tb:
        return 0.0, ""
    if ta == tb:
        return 100.0, "exact"
    if sorted(ta) == sorted(tb) or "".join(ta) == "".join(tb):
        return 99.0, "same words"  # "Wang Wei" / "Wei Wang", "Jean-Pierre" / "Jeanpierre"
    if ta[-1] == tb[-1] and ta[0][0] == tb[0][0] and (len(ta[0]) == 1 or len(tb[0]) == 1):
        return 95.0, "initials"  # "J. Smith" / "John Smith", "J. A. Smith" / "John Smith"
    score = fuzz.token_sort_ratio(" ".join(ta), " ".join(tb))
    return (score, "fuzzy") if score >= FUZZY_MIN else (0.0, "")


def match_authors(meta: list[str], pdf: list[str]) -> dict[int, tuple[int, float, str]]:
    """Metadata index -> (PDF index, score, how); best pairs first, each name used once."""
    pairs = []
    for i, m in enumerate(meta):
        for j, p in enumerate(pdf):
            score, how = name_match(m, p)
            if score:
                pairs.append((-score, abs(i - j), i, j, how))
    pairs.sort()
    out: dict[int, tuple[int, float, str]] = {}
    used: set[int] = set()
    for neg, _, i, j, how in pairs:
        if i not in out and j not in used:
            out[i] = (j, -neg, how)
            used.add(j)
    return out


def reconcile(
    papers: Iterable[Mapping[str, Any]], pdf_rows: Iterable[Mapping[str, Any]], pdf_ref: Mapping[str, str] | None = None
) -> list[dict]:
    """Rows of `author_affiliations` for `papers` (raw_papers rows) and their `pdf_affiliations`
    rows. `pdf_ref` gives each paper's PDF (path or URL) for the rows' `source_ref`."""
    by_paper: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in pdf_rows:
        by_paper[row["paper_id"]].append(row)
    pdf_ref = pdf_ref or {}
    out: list[dict] = []
    for paper in papers:
        out.extend(_paper_rows(paper, by_paper.get(paper["paper_id"], []), pdf_ref.get(paper["paper_id"])))
    return out


def _paper_rows(paper: Mapping[str, Any], pdf_rows: list[Mapping[str, Any]], ref: str | None) -> list[dict]:
    meta_rows = explode([paper])
    for row in meta_rows:
        row.setdefault("counted", True)
        row.setdefault("decision", "metadata")
        row["name_match"] = None
    if not pdf_rows:
        return meta_rows

    # The PDF's authors in printed order, each with their rows.
    pdf_authors: dict[int, list[Mapping[str, Any]]] = defaultdict(list)
    unassigned = []
    for row in pdf_rows:
        position = row.get("author_position")
        if position is None or position != position:
            unassigned.append(row)
        else:
            pdf_authors[int(position)].append(row)
    order = sorted(pdf_authors)
    pdf_names = [pdf_authors[p][0].get("author_name") for p in order]
    meta_names = [n or "" for n in as_list(paper.get("authors"))]
    base = {"partition_key": paper["partition_key"], "paper_id": paper["paper_id"], "source": PDF_SOURCE,
            "source_ref": ref}

    def pdf_row(r: Mapping[str, Any], position: int | None, decision: str, counted: bool, how: str | None) -> dict:
        return {**base, "author_position": position, "author_name": r.get("author_name"),
                "affiliation_index": r.get("affiliation_index"), "affiliation": r.get("affiliation"),
                "email_domain": r.get("email_domain"), "counted": counted, "decision": decision, "name_match": how}

    rows: list[dict] = []
    if not meta_names:
        # No metadata authors (a local folder): the page's authors are the paper's authors.
        for n, p in enumerate(order, start=1):
            rows.extend(pdf_row(r, n, PDF_SOURCE, True, None) for r in pdf_authors[p])
    else:
        matches = match_authors(meta_names, pdf_names)
        by_position: dict[int, list[dict]] = defaultdict(list)
        for row in meta_rows:
            if row["author_position"] is not None:
                by_position[row["author_position"]].append(row)
        pdf_counted = False
        for i, (j, score, method) in sorted(matches.items()):
            position, how = i + 1, f"{method} {score:.0f}"
            theirs = pdf_authors[order[j]]
            with_aff = [r for r in theirs if r.get("affiliation")]
            if not with_aff:  # the page names the author but ties no affiliation to them
                rows.extend(pdf_row(r, position, "pdf-no-affiliation", False, how) for r in theirs)
                continue
            pdf_counted = True
            domain = next((r["email_domain"] for r in [*theirs, *by_position[position]] if r.get("email_domain")), None)
            rows.extend({**pdf_row(r, position, PDF_SOURCE, True, how), "email_domain": domain} for r in with_aff)
            for row in by_position[position]:
                if row["counted"]:
                    row.update(counted=False, decision="superseded")
                row["name_match"] = how
        matched = {j for j, _, _ in matches.values()}
        for j, p in enumerate(order):
            if j not in matched:
                rows.extend(pdf_row(r, None, "pdf-unmatched", False, None) for r in pdf_authors[p])
        if pdf_counted:
            for row in meta_rows:
                if row["author_position"] is None:  # affiliations the source did not tie to authors
                    row.update(counted=False, decision="superseded")
    rows = [*meta_rows, *rows]
    any_counted = any(r["counted"] and r.get("affiliation") for r in rows)
    for r in unassigned:
        rows.append(pdf_row(r, None, "pdf-extra" if any_counted else "pdf-unassigned", not any_counted, None))
    return rows
