"""Every read of the store the mentions stage makes, as named queries beside `steps.py`.

Tables read: `terms`, `raw_papers`, `paper_pdfs`, `paper_mentions`, `paper_countries` and
`paper_texts`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def catalogue_copies(store, con=None) -> list[str]:
    """The kept copies of the catalogue `term_catalogue` loaded (one, when it was loaded)."""
    rows = store.records("SELECT DISTINCT catalogue_copy FROM terms WHERE catalogue_copy IS NOT NULL", con=con)
    return [r["catalogue_copy"] for r in rows]


def catalogue_digest(store, con=None) -> str | None:
    """The SHA-256 of the catalogue file the store loaded, or None (none loaded, or several)."""
    rows = store.query("SELECT DISTINCT catalogue_sha256 FROM terms", con=con)
    return rows["catalogue_sha256"].iloc[0] if len(rows) == 1 else None


def papers_to_scan(store, key: str, usable: Iterable[str], con=None) -> list[dict[str, Any]]:
    """Each paper's title and abstract, with its PDF's path and SHA-256 when its status is usable."""
    return store.records(
        """
        SELECT p.paper_id, p.title, p.abstract, d.path, d.sha256
        FROM raw_papers p
        LEFT JOIN paper_pdfs d
          ON d.partition_key = p.partition_key AND d.paper_id = p.paper_id AND list_contains(?, d.status)
        WHERE p.partition_key = ?
        ORDER BY p.paper_id
        """, [list(usable), key], con=con)


def papers_with_text(store, key: str, con=None) -> set[str]:
    """The papers whose full text was read."""
    return {r["paper_id"] for r in store.records(
        "SELECT paper_id FROM paper_texts WHERE partition_key = ? AND error IS NULL", [key], con=con)}


TEXT_BASES = ("full_text", "abstract", "title", "none")


def text_basis(store, keys: Iterable[str], con=None) -> dict[str, int]:
    """Over the venue-years `keys`: on what each paper's mentions stand. `full_text`: its PDF was
    read (a `paper_texts` row without an error), so title, abstract, body and references were
    scanned; `abstract`: no full text, the metadata's title and abstract; `title`: no full text and
    no abstract; `none`: not even a title. `papers` is their sum (the rows of `raw_papers`)."""
    keys = list(dict.fromkeys(keys))
    if not keys:
        return {"papers": 0, **{basis: 0 for basis in TEXT_BASES}}
    marks = ", ".join("?" for _ in keys)
    rows = store.records(
        f"""
        SELECT count(*) AS papers,
               count(*) FILTER (WHERE t.paper_id IS NOT NULL) AS full_text,
               count(*) FILTER (WHERE t.paper_id IS NULL AND coalesce(trim(p.abstract), '') <> '') AS abstract,
               count(*) FILTER (WHERE t.paper_id IS NULL AND coalesce(trim(p.abstract), '') = ''
                                AND coalesce(trim(p.title), '') <> '') AS title,
               count(*) FILTER (WHERE t.paper_id IS NULL AND coalesce(trim(p.abstract), '') = ''
                                AND coalesce(trim(p.title), '') = '') AS none
        FROM raw_papers p
        LEFT JOIN (SELECT DISTINCT partition_key, paper_id FROM paper_texts
                   WHERE error IS NULL AND partition_key IN ({marks})) t
          ON t.partition_key = p.partition_key AND t.paper_id = p.paper_id
        WHERE p.partition_key IN ({marks})
        """, [*keys, *keys], con=con)
    return {name: int(rows[0][name] or 0) for name in ("papers", *TEXT_BASES)}
