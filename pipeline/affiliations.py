"""Papers -> one row per (paper, author position, affiliation string).

An author without any affiliation string still gets one row (affiliation NULL) so that the
e-mail domain can speak for them and so that coverage counts see them. Affiliations a source
could not tie to authors (`aligned` false) get rows with a NULL author position, and those
papers' authors get no rows of their own.
"""

from __future__ import annotations

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
