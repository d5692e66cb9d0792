"""Every read of the store the reports stage makes, as named queries beside its steps
(`steps.py`), its view loader (`views.py`), the trend, the diff and the command line.

Each function takes the store and, where a caller reads several tables in one go, an open
connection `con`. The tables they read: `raw_papers`, `author_affiliations` (a paper's PDF
authors), `paper_mentions`, `paper_texts`,
`partition_summary`, `headline_numbers`, `headline_snapshots`, `headline_snapshot_evidence`,
`headline_snapshot_runs`,
`review_verdicts`, `mentions_by_country`, `paper_countries`, `country_edges` and, for what the
numbers were computed from, `ror_registry`, `affiliation_overrides`,
`resolved_affiliations` and `terms`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyarrow as pa

from ..partitions import PART_KEY_RE, SCOPE_PREFIX_RE, SCOPE_SQL

# -- a venue-year's papers -------------------------------------------------------------------


def is_materialised(store, key: str, con=None) -> bool:
    """Whether the venue-year has its row in `partition_summary` (its countries were counted)."""
    return len(store.query(f"SELECT 1 FROM partition_summary WHERE {SCOPE_SQL}", [key, key], con=con)) > 0


def materialised_keys(store, con=None) -> list[str]:
    """The materialised venue-years: each key of `partition_summary` that is not a sub-partition,
    and each venue-year read as sub-partitions once all its planned parts are in (its key then
    stands for all of them; its parts are not listed, so nothing is counted twice)."""
    return store.query(
        f"""
        WITH done AS (SELECT DISTINCT partition_key FROM partition_summary),
        scopes AS (SELECT DISTINCT regexp_extract(partition_key, '{SCOPE_PREFIX_RE}') AS scope FROM done
                   WHERE regexp_matches(partition_key, '{PART_KEY_RE}'))
        SELECT partition_key FROM done WHERE NOT regexp_matches(partition_key, '{PART_KEY_RE}')
        UNION
        SELECT scope FROM scopes WHERE NOT EXISTS (
            SELECT 1 FROM partition_parts p WHERE p.scope = scopes.scope
            AND p.partition_key NOT IN (SELECT partition_key FROM done))
        ORDER BY 1
        """, con=con)["partition_key"].tolist()


def missing_parts(store, key: str, con=None) -> list[str]:
    """The sub-partitions `run` planned for the venue-year (`partition_parts`) that have not been
    materialised (no row in `partition_summary`)."""
    return store.query(
        "SELECT partition_key FROM partition_parts WHERE scope = ? AND partition_key NOT IN "
        f"(SELECT partition_key FROM partition_summary WHERE {SCOPE_SQL}) ORDER BY 1", [key, key, key],
        con=con)["partition_key"].tolist()


def papers_for_views(store, key: str, con=None) -> pd.DataFrame:
    """paper_id, title, the best link and n_authors of each paper, in id order. n_authors as the
    countries stage counts them (pipeline/countries/queries.py, `authors_per_paper`): the
    metadata's authors, or those the PDF gave when the metadata lists fewer."""
    return store.query(
        f"""
        SELECT p.paper_id, p.title, coalesce(p.pdf_url, p.pdf_path, p.source_ref) AS url,
               greatest(coalesce(len(p.authors), 0), coalesce(a.pdf_authors, 0)) AS n_authors
        FROM (SELECT * FROM raw_papers WHERE {SCOPE_SQL}) p
        LEFT JOIN (SELECT partition_key, paper_id, count(DISTINCT author_position) AS pdf_authors
                   FROM author_affiliations WHERE {SCOPE_SQL} AND counted AND source = 'pdf'
                   GROUP BY partition_key, paper_id) a USING (partition_key, paper_id)
        ORDER BY p.paper_id
        """, [key, key, key, key], con=con)


def paper_ids(store, key: str, con=None) -> list[str]:
    """Every paper id of the venue-year (`raw_papers`), in id order: the country profiles
    count papers without a country too."""
    return store.query(f"SELECT paper_id FROM raw_papers WHERE {SCOPE_SQL} ORDER BY paper_id", [key, key],
                       con=con)["paper_id"].astype(str).tolist()


def papers_with_authors(store, key: str, con=None) -> pd.DataFrame:
    """paper_id, title and authors: what the duplicate check compares."""
    return store.query(f"SELECT paper_id, title, authors FROM raw_papers WHERE {SCOPE_SQL}", [key, key], con=con)


def paper_mentions(store, key: str, con=None) -> pd.DataFrame:
    return store.query(f"SELECT * FROM paper_mentions WHERE {SCOPE_SQL}", [key, key], con=con)


def pdfs_read(store, key: str, con=None) -> int:
    """Papers whose PDF text was read (the full-text mention numbers stand on these)."""
    return int(store.scalar(f"SELECT count(DISTINCT paper_id) FROM paper_texts WHERE {SCOPE_SQL} "
                            "AND error IS NULL AND chars > 0", [key, key], con=con))


def inputs(store, key: str, con=None) -> dict[str, Any]:
    """What the numbers were computed from: registry, overrides, resolver and catalogue versions."""
    with store.connection(con) as c:
        def one(sql: str, params: list | None = None):
            rows = c.execute(sql, params or []).fetchall()
            return rows[0][0] if rows else None

        return {
            "ror_checksum": one("SELECT checksum FROM ror_registry"),
            "ror_records": one("SELECT records FROM ror_registry"),
            "overrides_sha256": one("SELECT DISTINCT file_sha256 FROM affiliation_overrides"),
            "resolver_version": one(f"SELECT max(resolver_version) FROM resolved_affiliations WHERE {SCOPE_SQL}",
                                    [key, key]),
            "catalogue_sha256": one("SELECT DISTINCT catalogue_sha256 FROM terms"),
            "source_sha256": one(f"SELECT min(source_sha256) FROM raw_papers WHERE {SCOPE_SQL}", [key, key]),
        }


def input_sources(store, key: str, con=None) -> dict[str, Any]:
    """The inputs as a reader asks for them: each source of the venue-year (its records, papers,
    where it read, when), the ROR registry (its file, records, when it was loaded) and when the
    numbers were taken; dates as stored, so the same store gives the same report."""
    with store.connection(con) as c:
        reads = c.execute(f"SELECT source, sum(papers) AS papers, sum(records) AS records, min(first_ref) AS ref, "
                          f"sum(errors) AS errors FROM source_reads WHERE {SCOPE_SQL} GROUP BY source "
                          "ORDER BY min(priority), source", [key, key]).fetchall()
        fetched = dict(c.execute(f"SELECT source, max(fetched_at) FROM raw_papers WHERE {SCOPE_SQL} GROUP BY source",
                                 [key, key]).fetchall())
        ror = c.execute("SELECT source, records, loaded_at FROM ror_registry").fetchall()
        taken = c.execute(f"SELECT max(taken_at) FROM headline_snapshot_runs WHERE {SCOPE_SQL}", [key, key]).fetchall()

    def day(value: Any) -> str | None:
        return None if value is None else str(value)[:10]

    return {
        "sources": [{"source": s, "papers": p, "records": r, "read_from": ref, "errors": e, "fetched": day(fetched.get(s))}
                    for s, p, r, ref, e in reads],
        "ror": None if not ror else {"file": ror[0][0], "records": ror[0][1], "loaded": day(ror[0][2])},
        "numbers_taken": day(taken[0][0]) if taken else None,
    }


# -- headline numbers --------------------------------------------------------------------------


# `headline_numbers` with the rows of sub-partitions (`airesearch-2020-m03`) also summed into
# their venue-year: every headline number counts papers, and the parts hold disjoint papers, so
# counts, denominators, bounds and unplaced papers add up, and the share is recomputed.
FOLDED_HEADLINES = f"""
    (SELECT * FROM headline_numbers
     UNION ALL BY NAME
     SELECT regexp_extract(partition_key, '{SCOPE_PREFIX_RE}') AS partition_key, any_value(venue) AS venue,
            any_value(year) AS year, china_scope, number, any_value(label) AS label,
            CAST(sum(papers) AS INTEGER) AS papers, CAST(sum(denominator) AS INTEGER) AS denominator,
            CASE WHEN sum(denominator) > 0 THEN sum(papers) / sum(denominator) END AS share,
            CAST(sum(low_confidence) AS INTEGER) AS low_confidence, NULL AS snapshot, placement,
            CAST(sum(low) AS INTEGER) AS low, CAST(sum(high) AS INTEGER) AS high,
            CAST(sum(unplaced) AS INTEGER) AS unplaced
     FROM headline_numbers WHERE regexp_matches(partition_key, '{PART_KEY_RE}')
     GROUP BY 1, china_scope, number, placement)"""


def headline_numbers(store, con=None) -> pd.DataFrame:
    """Every stored headline number of every venue-year, placement and China scope; a venue-year
    read as sub-partitions has its parts' rows and their sum under its own key."""
    return store.query(f"SELECT * FROM {FOLDED_HEADLINES}", con=con)


def headline_counts(store, keys: list[str], numbers: tuple[str, ...], scope: str, placement: str,
                    con=None) -> pd.DataFrame:
    """partition_key, number, papers, low, high and unplaced of the `numbers` of the venue-years
    `keys` under one China scope and placement (rows stored before placements existed count as hq)."""
    marks = ", ".join("?" for _ in keys)
    return store.query(
        f"SELECT partition_key, number, papers, low, high, unplaced FROM {FOLDED_HEADLINES} "
        f"WHERE number IN ({', '.join('?' for _ in numbers)}) AND china_scope = ? "
        f"AND coalesce(placement, 'hq') = ? AND partition_key IN ({marks})",
        [*numbers, scope, placement, *keys], con=con)


def partitions_between(store, venue: str | None, start: int | None, end: int | None, con=None) -> pd.DataFrame:
    """partition_key, venue, year and papers of the materialised venue-years of `venue` (None:
    every venue) from `start` to `end` (None: open), by year."""
    sql, params = "SELECT partition_key, venue, year, papers FROM partition_summary WHERE true", []
    if venue is not None:
        sql += " AND venue = ?"
        params.append(venue)
    if start is not None:
        sql += " AND year >= ?"
        params.append(int(start))
    if end is not None:
        sql += " AND year <= ?"
        params.append(int(end))
    return store.query(sql + " ORDER BY year, partition_key", params, con=con)


def materialised_venues(store, con=None) -> list[str]:
    return store.query("SELECT DISTINCT venue FROM partition_summary ORDER BY venue", con=con)["venue"].tolist()


# -- snapshots, for the diff ---------------------------------------------------------------------


def last_snapshot(store, key: str, con=None) -> int | None:
    return store.scalar("SELECT max(snapshot) FROM headline_snapshot_runs WHERE partition_key = ?", [key], con=con)


def snapshot_runs(store, key: str, con=None) -> pd.DataFrame:
    """snapshot, taken_at, run_id, papers and inputs of each kept snapshot, oldest first."""
    return store.query("SELECT snapshot, taken_at, run_id, papers, inputs FROM headline_snapshot_runs "
                       "WHERE partition_key = ? ORDER BY snapshot", [key], con=con)


def snapshot(store, key: str, number: int, con=None) -> pd.DataFrame:
    """The papers of one snapshot (`headline_snapshots` rows)."""
    return store.query("SELECT * FROM headline_snapshots WHERE partition_key = ? AND snapshot = ?", [key, number],
                       con=con)


def snapshot_evidence(store, key: str, number: int, con=None) -> pa.Table:
    """The evidence of one snapshot (`headline_snapshot_evidence` rows), in paper and author order."""
    return store.arrow("SELECT * FROM headline_snapshot_evidence WHERE partition_key = ? AND snapshot = ? "
                       "ORDER BY paper_id, author_position NULLS LAST, unit", [key, number], con=con)


# -- the report's other tables -----------------------------------------------------------------


def verdicts(store, key: str, con=None) -> list[dict[str, Any]]:
    return store.records(f"SELECT * FROM review_verdicts WHERE {SCOPE_SQL}", [key, key], con=con)


def replace_verdicts(store, key: str, rows: list[dict[str, Any]], con=None) -> int:
    """Store verdicts in one write (one transaction on DuckDB, one commit on Delta): each replaces
    the verdict on its number, China scope, placement and paper, if any; the others stay."""
    groups: dict[tuple[str, str, str], list[str]] = {}
    for r in rows:
        groups.setdefault((r["number"], r["china_scope"], r["placement"]), []).append(r["paper_id"])
    where, params = [], [key]
    for (number, scope, placement), papers in groups.items():
        marks = ", ".join("?" * len(papers))
        where.append(f"(number = ? AND china_scope = ? AND placement = ? AND paper_id IN ({marks}))")
        params += [number, scope, placement, *papers]
    return store.replace_where("review_verdicts", rows, f"partition_key = ? AND ({' OR '.join(where)})", params,
                               con=con)


def mentions_by_country(store, key: str, con=None) -> pd.DataFrame:
    """As stored: countries as resolved (HK, MO, TW apart). A venue-year read as sub-partitions
    has each part's rows, with the part in a first column `partition_key`: a share is within its
    part (its denominator, the country's papers, is the part's)."""
    columns = ("term, name, kind, origin_country, country, country_papers, papers_abstract, papers_full_text, "
               "papers_with_references, share_abstract, share_full_text, fractional_abstract, fractional_full_text")
    own = store.query(f"SELECT {columns} FROM mentions_by_country WHERE partition_key = ? ORDER BY term, country",
                      [key], con=con)
    if len(own):
        return own
    parts = store.query(f"SELECT partition_key, {columns} FROM mentions_by_country WHERE starts_with(partition_key, ?) "
                        "ORDER BY partition_key, term, country", [key + "-"], con=con)
    return parts if len(parts) else own


def yearly_inputs(store, con=None) -> dict[str, Any]:
    """Everything the yearly tables are computed from, over every venue-year: the counts of
    `paper_countries` and `country_edges` (`yearly_counts`: counted in the database, only the
    counts come out), and the partition summaries and headline numbers (a few rows per venue-year)."""
    with store.connection(con) as c:
        return {"counts": yearly_counts(store, con=c),
                "partition_summary": store.query("SELECT * FROM partition_summary", con=c),
                "headline_numbers": store.query("SELECT * FROM headline_numbers", con=c)}


# The yearly tables count per venue and year, and per year across venues ('all'); rows without
# a venue count only across venues, rows without a year nowhere (as pandas groups them). A
# paper is a (partition_key, paper_id): a venue-year split in sub-partitions folds into its
# venue and year by the rows' own `venue` and `year`.
_PER_VENUE_AND_ALL = """
    SELECT CASE WHEN grouping(venue) = 1 THEN 'all' ELSE venue END AS venue, year{keys}, {counts}
    FROM {table} WHERE year IS NOT NULL
    GROUP BY GROUPING SETS ((venue, year{keys}), (year{keys}))
    HAVING grouping(venue) = 1 OR venue IS NOT NULL
    ORDER BY 1, year{keys}
"""
# Each row's fractional value with the number of its group per venue (-1: none) and across
# venues, in (partition, paper) order: the order pandas adds them in.
_FRACTIONAL = """
    SELECT coalesce(v.g, -1) AS by_venue, a.g AS across, t.fractional
    FROM {table} t
    LEFT JOIN _yearly_groups v ON v.venue = t.venue AND v.year = t.year AND {same_v}
    JOIN _yearly_groups a ON a.venue = 'all' AND a.year = t.year AND {same_a}
    ORDER BY t.partition_key, t.paper_id{sort}
"""


def yearly_counts(store, con=None) -> dict[str, Any]:
    """What the yearly tables count from `paper_countries` and `country_edges`, counted in the
    database over the whole store, per venue and year and per year across venues ('all'), in
    key order: `countries` (venue, year, country, papers, international_papers), `pairs`
    (venue, year, country_a, country_b, papers) and `countries_per` (venue, year, countries);
    papers are distinct (partition_key, paper_id).

    `countries_fractional` and `pairs_fractional` hold the `fractional` value of every row
    (numbers only) with the row numbers of its groups in those frames (`by_venue`, -1 for
    none, and `across`), in (partition, paper) order, for `pipeline.countries.counting.group_sums`
    to add them as pandas adds a column."""
    papers = "count(DISTINCT (partition_key, paper_id)) AS papers"
    out: dict[str, Any] = {}
    with store.connection(con) as c:
        common = ["partition_key", "paper_id", "venue", "year", "fractional"]
        countries = store.read_once("paper_countries", [*common, "country", "n_countries"], c)  # scanned 3 times
        for name, table, keys, counts in (
                ("countries", countries, ["country"],
                 f"{papers}, count_if(n_countries > 1)::BIGINT AS international_papers"),
                ("pairs", store.read_once("country_edges", [*common, "country_a", "country_b"], c),
                 ["country_a", "country_b"], papers)):
            listed = "".join(f", {k}" for k in keys)
            groups = store.query(_PER_VENUE_AND_ALL.format(keys=listed, counts=counts, table=table), con=c)
            c.register("_yearly_groups", groups[["venue", "year", *keys]].assign(g=range(len(groups))))
            try:
                values = c.execute(_FRACTIONAL.format(
                    table=table, sort="".join(f", t.{k}" for k in keys),
                    same_v=" AND ".join(f"v.{k} = t.{k}" for k in keys),
                    same_a=" AND ".join(f"a.{k} = t.{k}" for k in keys))).fetchnumpy()
            finally:
                c.unregister("_yearly_groups")
            out[name], out[f"{name}_fractional"] = groups, values
        out["countries_per"] = store.query(_PER_VENUE_AND_ALL.format(
            keys="", counts="count(DISTINCT country) AS countries", table=countries), con=c)
    return out


# -- each paper's countries, for the profiles and the trend ----------------------------------------


def partition_years(store, keys: list[str], con=None) -> dict[str, int]:
    """The year of each of the venue-years `keys` as its rows carry it (`partition_summary`, else
    `raw_papers`); a key with neither is left out. Never read from the key itself: a
    sub-partition's key (`x-2020-m03`) is not `<venue>-<year>`."""
    frame = store.query(
        f"""
        WITH wanted AS (SELECT unnest(?::VARCHAR[]) AS key),
        {_KEYMAP},
        s AS (SELECT key, max(year) AS year FROM partition_summary JOIN keymap USING (partition_key) GROUP BY key),
        r AS (SELECT key, max(year) AS year FROM raw_papers JOIN keymap USING (partition_key) GROUP BY key)
        SELECT w.key AS partition_key, coalesce(s.year, r.year) AS year FROM wanted w
        LEFT JOIN s USING (key) LEFT JOIN r USING (key)
        """, [list(keys)], con=con)
    return {k: int(y) for k, y in zip(frame["partition_key"], frame["year"]) if not pd.isna(y)}


# Each wanted key (`wanted.key`) with the stored partitions that hold its rows: itself, or its
# sub-partitions when it was read in parts (`airesearch-2020` → `airesearch-2020-m01` …).
_KEYMAP = """stored AS (SELECT DISTINCT partition_key FROM raw_papers
                   UNION SELECT DISTINCT partition_key FROM country_decisions),
        keymap AS (SELECT w.key, s.partition_key FROM wanted w JOIN stored s
                   ON s.partition_key = w.key OR starts_with(s.partition_key, w.key || '-'))"""


def country_set_counts(store, keys: list[str], column: str, folds: dict[str, str], con=None) -> pd.DataFrame:
    """partition_key, countries (a sorted list) and papers: how many papers of each venue-year
    of `keys` have that set of countries in the stored `country_decisions`, read from `column`
    (`countries` or `coauthor_countries`; NULL is none) with each code in `folds` replaced by
    its value. A paper is one of `raw_papers` or of the decisions; one without a country has
    the empty list."""
    if column not in ("countries", "coauthor_countries"):
        raise ValueError(f"no decision column {column!r}")
    return store.query(
        f"""
        WITH wanted AS (SELECT unnest(?::VARCHAR[]) AS key),
        {_KEYMAP},
        folds AS (SELECT unnest(?::VARCHAR[]) AS country, unnest(?::VARCHAR[]) AS folded),
        decided AS (SELECT k.key, d.partition_key, d.paper_id, coalesce(d.{column}, []) AS listed
                    FROM country_decisions d JOIN keymap k USING (partition_key)),
        placed AS (SELECT key, partition_key, paper_id, unnest(listed) AS country FROM decided),
        papers AS (SELECT k.key, r.partition_key, r.paper_id FROM raw_papers r JOIN keymap k USING (partition_key)
                   UNION SELECT key, partition_key, paper_id FROM decided),
        sets AS (SELECT p.key, p.partition_key, p.paper_id,
                        list_sort(list_distinct(list(coalesce(f.folded, c.country)))) AS countries
                 FROM papers p LEFT JOIN placed c USING (key, partition_key, paper_id)
                 LEFT JOIN folds f ON f.country = c.country
                 GROUP BY p.key, p.partition_key, p.paper_id)
        SELECT key AS partition_key, countries, count(*) AS papers FROM sets GROUP BY key, countries
        ORDER BY key, countries
        """, [list(keys), list(folds), list(folds.values())], con=con)


# -- studies -----------------------------------------------------------------------------------


def study_headlines(store, keys: list[str], con=None) -> pd.DataFrame:
    """Every stored headline number of the venue-years `keys`, under every China scope and
    placement (rows stored before placements existed count as hq)."""
    marks = ", ".join("?" for _ in keys)
    return store.query(
        "SELECT partition_key, china_scope, coalesce(placement, 'hq') AS placement, number, papers, low, high, "
        f"unplaced, denominator FROM {FOLDED_HEADLINES} WHERE partition_key IN ({marks})", list(keys), con=con)


def stored_terms(store, con=None) -> pd.DataFrame:
    """The term catalogue the mentions were counted with: term, name, kind, origin_country, lab_country."""
    return store.query("SELECT term, name, kind, organisation, origin_country, lab_country FROM terms ORDER BY term",
                       con=con)
