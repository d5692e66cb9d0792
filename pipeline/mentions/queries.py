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
