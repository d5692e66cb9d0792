"""Every read of the store the countries stage makes, as named queries beside `steps.py`.

Tables read: `author_affiliations`, `resolved_affiliations`, `raw_papers`,
`country_decisions` and `paper_countries`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyarrow as pa

from ..partitions import SCOPE_SQL


def rows_and_resolutions(store, key: str, con=None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The venue-year's author-affiliation rows and the resolver's answers for them."""
    with store.connection(con) as c:
        rows = store.records("SELECT * FROM author_affiliations WHERE partition_key = ?", [key], con=c)
        resolved = store.records("SELECT * FROM resolved_affiliations WHERE partition_key = ?", [key], con=c)
    return rows, resolved


def authors_per_paper(store, key: str, con=None) -> list[dict[str, Any]]:
    """paper_id and n_authors: the metadata's authors, or those the PDF gave when the metadata
    lists fewer."""
    return store.records(
        """
        SELECT p.paper_id, greatest(len(p.authors), coalesce(a.pdf_authors, 0)) AS n_authors
        FROM raw_papers p
        LEFT JOIN (SELECT paper_id, count(DISTINCT author_position) AS pdf_authors FROM author_affiliations
                   WHERE partition_key = ? AND counted AND source = 'pdf' GROUP BY paper_id) a USING (paper_id)
        WHERE p.partition_key = ?
        """, [key, key], con=con)


def row_counts(store, key: str, con=None) -> tuple[int, int]:
    """(counted affiliation strings, resolved (affiliation, e-mail domain) pairs) of the venue-year."""
    with store.connection(con) as c:
        affiliation_rows = store.scalar("SELECT count(affiliation) FROM author_affiliations "
                                        "WHERE partition_key = ? AND coalesce(counted, true)", [key], con=c)
        resolved_rows = store.scalar("SELECT count(country) FROM resolved_affiliations WHERE partition_key = ?",
                                     [key], con=c)
    return int(affiliation_rows), int(resolved_rows)


def decisions(store, key: str, con=None) -> pa.Table:
    """The stored `country_decisions` of a venue-year, in paper and author order."""
    return store.arrow(f"SELECT * FROM country_decisions WHERE {SCOPE_SQL} "
                       "ORDER BY paper_id, author_position NULLS LAST, unit", [key, key], con=con)


def paper_countries(store, key: str, con=None) -> pd.DataFrame:
    return store.read_partition("paper_countries", key, con=con)
