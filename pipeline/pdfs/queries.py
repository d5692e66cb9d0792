"""Every read of the store the PDF stage makes, as named queries beside `steps.py`.

Tables read: `raw_papers` and `paper_pdfs`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def pdf_links(store, key: str, con=None) -> list[dict[str, Any]]:
    """Each paper's PDF link and local path, by paper id."""
    return store.records("SELECT paper_id, pdf_url, pdf_path FROM raw_papers WHERE partition_key = ? "
                         "ORDER BY paper_id", [key], con=con)


def usable_pdfs(store, key: str, usable: Iterable[str], con=None) -> list[dict[str, Any]]:
    """paper_id and path of each stored PDF whose status is usable, by paper id."""
    return store.records("SELECT paper_id, path FROM paper_pdfs WHERE partition_key = ? AND list_contains(?, status) "
                         "ORDER BY paper_id", [key, list(usable)], con=con)
