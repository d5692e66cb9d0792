"""Every read of the store the affiliations stage makes (its steps, the reference data and the
command line's check of what the store loaded), as named queries beside `steps.py`.

Tables read: `raw_papers`, `pdf_affiliations`, `paper_pdfs`, `author_affiliations`,
`resolved_affiliations`, `ror_registry`, `ror_organizations` and `affiliation_overrides`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

# -- a venue-year --------------------------------------------------------------------------------


# What reconciling reads of a paper (pipeline/affiliations/reconcile.py and rows.py): not its
# title, abstract or links, the bulk of the table.
PAPER_COLUMNS = ("partition_key", "paper_id", "source", "source_ref", "authors", "affiliations", "email_domains",
                 "aligned", "unaligned_affiliations", "author_sources")


def reconcile_inputs(store, key: str, con=None) -> tuple[list[dict], list[dict], dict[str, str]]:
    """What `author_affiliations` reconciles: the papers, the rows page 1 of their PDFs gave,
    and each paper's PDF link or path."""
    with store.connection(con) as c:
        papers = store.records(f"SELECT {', '.join(PAPER_COLUMNS)} FROM raw_papers WHERE partition_key = ?", [key],
                               con=c)
        pdf_rows = store.records("SELECT * FROM pdf_affiliations WHERE partition_key = ?", [key], con=c)
        refs = store.records("SELECT paper_id, coalesce(url, path) AS ref FROM paper_pdfs WHERE partition_key = ?",
                             [key], con=c)
    return papers, pdf_rows, {r["paper_id"]: r["ref"] for r in refs}


def distinct_pairs(store, key: str, con=None) -> list[dict[str, Any]]:
    """Each distinct (affiliation, email_domain) of the venue-year's author rows."""
    return store.records("SELECT DISTINCT affiliation, email_domain FROM author_affiliations WHERE partition_key = ?",
                         [key], con=con)


def with_source_countries(store, key: str, con=None) -> list[dict[str, Any]]:
    """Author rows whose source prints a country beside the string, with the country we resolved."""
    return store.records(
        """SELECT a.paper_id, a.author_position, a.source, a.affiliation, a.reference_countries, r.country
           FROM author_affiliations a JOIN resolved_affiliations r
             ON r.partition_key = a.partition_key AND r.affiliation IS NOT DISTINCT FROM a.affiliation
            AND r.email_domain IS NOT DISTINCT FROM a.email_domain
           WHERE a.partition_key = ? AND a.reference_countries IS NOT NULL""", [key], con=con)


def unresolved(store, con=None) -> pd.DataFrame:
    """Every counted affiliation string no rule placed, over all venue-years, by frequency."""
    return store.query(
        """
        SELECT r.affiliation, r.email_domain, any_value(r.reason) AS reason,
               count(*) AS author_rows, count(DISTINCT a.partition_key || '/' || a.paper_id) AS papers,
               list_sort(list(DISTINCT a.partition_key)) AS partitions,
               list_sort(list(DISTINCT a.partition_key || '/' || a.paper_id))[1:5] AS example_papers
        FROM resolved_affiliations r
        JOIN author_affiliations a
          ON a.partition_key = r.partition_key AND a.affiliation = r.affiliation
         AND a.email_domain IS NOT DISTINCT FROM r.email_domain AND coalesce(a.counted, true)
        WHERE r.country IS NULL AND r.affiliation IS NOT NULL
        GROUP BY r.affiliation, r.email_domain
        ORDER BY author_rows DESC, r.affiliation
        """, con=con)


# -- the reference data ----------------------------------------------------------------------------


def registry(store, con=None) -> dict[str, Any] | None:
    """The `ror_registry` row (checksum, path, records ...), or None before one was loaded."""
    rows = store.records("SELECT * FROM ror_registry", con=con)
    return rows[0] if rows else None


def override_rules(store, con=None) -> list[dict[str, Any]]:
    """The loaded overrides, in the file's order."""
    return store.records("SELECT * FROM affiliation_overrides ORDER BY rule", con=con)


def registry_sample(store, con=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Ten organisations (a fixed seed) and the 15 countries with most organisations."""
    with store.connection(con) as c:
        sample = store.query("SELECT * FROM ror_organizations USING SAMPLE 10 ROWS (reservoir, 7)", con=c)
        by_country = store.query("SELECT country, count(*) AS organisations FROM ror_organizations "
                                 "GROUP BY country ORDER BY organisations DESC LIMIT 15", con=c)
    return sample, by_country


def stored_reference(store, con=None) -> tuple[str | None, str]:
    """(the loaded registry's checksum or None, the loaded overrides file's SHA-256 or "none")."""
    with store.connection(con) as c:
        loaded = registry(store, con=c)
        rules = store.query("SELECT DISTINCT file_sha256 FROM affiliation_overrides", con=c)
    return (loaded["checksum"] if loaded else None), (rules["file_sha256"].iloc[0] if len(rules) else "none")
