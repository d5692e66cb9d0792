"""Every read of the store the sources stage makes outside its steps: what each source gave at
the last run (`source_reads`, which `raw_papers` writes)."""

from __future__ import annotations

import pandas as pd


def source_reads(store, con=None) -> pd.DataFrame:
    """Every venue-year's reads, by venue-year and source priority."""
    return store.query("SELECT * FROM source_reads ORDER BY partition_key, priority", con=con)


def stored_parts(store, key: str, con=None) -> list[str]:
    """The partitions with stored papers that belong to `key`: itself and its sub-partitions."""
    from ..partitions import SCOPE_SQL

    return store.query(f"SELECT DISTINCT partition_key FROM raw_papers WHERE {SCOPE_SQL} ORDER BY 1", [key, key],
                       con=con)["partition_key"].tolist()


def planned_parts(store, scope: str, con=None) -> pd.DataFrame:
    """The recorded split of a venue-year (`partition_parts`): each part and its count of works."""
    return store.query("SELECT * FROM partition_parts WHERE scope = ? ORDER BY partition_key", [scope], con=con)


def part_sizes(store, con=None) -> dict[str, int]:
    """Every recorded sub-partition's planned count of works (`partition_parts`), by key."""
    frame = store.query("SELECT partition_key, works FROM partition_parts", con=con)
    return {k: int(n) for k, n in zip(frame["partition_key"], frame["works"]) if pd.notna(n)}


# -- the OpenAlex snapshot's index (pipeline/sources/openalex_snapshot.py) ------------------------
# A DuckDB file beside the shards: which part files each venue's pass has read, and every work
# kept, by venue, with its version (`updated`) and its shard (year, month). A work's newest
# version is the one that counts; a newer version that left the venue's filter is a row without
# a year (a tombstone).

SNAPSHOT_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS venues (venue VARCHAR PRIMARY KEY, filter VARCHAR)",
    "CREATE TABLE IF NOT EXISTS parts (venue VARCHAR, ref VARCHAR, size BIGINT, etag VARCHAR, works BIGINT, "
    "kept BIGINT, errors BIGINT, read_at TIMESTAMP)",
    "CREATE TABLE IF NOT EXISTS works (venue VARCHAR, id VARCHAR, updated VARCHAR, year INTEGER, month INTEGER, "
    "pub_date VARCHAR, subfield VARCHAR, ref VARCHAR)",
)
_CURRENT = ("(SELECT * FROM works WHERE venue = ? "
            "QUALIFY row_number() OVER (PARTITION BY id ORDER BY updated DESC, ref DESC) = 1) AS current")


def snapshot_open(path, read_only: bool = False):
    import duckdb

    con = duckdb.connect(str(path), read_only=read_only)
    if not read_only:
        for statement in SNAPSHOT_SCHEMA:
            con.execute(statement)
    return con


def snapshot_filter(con, venue: str) -> str | None:
    row = con.execute("SELECT filter FROM venues WHERE venue = ?", [venue]).fetchone()
    return row[0] if row else None


def snapshot_reset(con, venue: str, flt: str) -> None:
    """Forget what was kept for `venue` (its filter changed) and record its filter."""
    for table in ("venues", "parts", "works"):
        con.execute(f"DELETE FROM {table} WHERE venue = ?", [venue])
    con.execute("INSERT INTO venues VALUES (?, ?)", [venue, flt])


def snapshot_parts_read(con, venue: str) -> set[tuple[str, int, str]]:
    return {(r, int(s), e or "") for r, s, e in
            con.execute("SELECT ref, size, etag FROM parts WHERE venue = ?", [venue]).fetchall()}


def snapshot_ids(con, venue: str) -> list[str]:
    """The ids of every work kept for the venue (any version)."""
    return [r[0] for r in con.execute("SELECT DISTINCT id FROM works WHERE venue = ?", [venue]).fetchall()]


def snapshot_add(con, rows: pd.DataFrame, parts: pd.DataFrame) -> None:
    """One part file's kept works (all venues) and its `parts` rows, in one transaction."""
    con.execute("BEGIN")
    if len(rows):
        con.register("new_rows", rows)
        con.execute("INSERT INTO works SELECT venue, id, updated, year, month, pub_date, subfield, ref FROM new_rows")
        con.unregister("new_rows")
    con.register("new_parts", parts)
    con.execute("DELETE FROM parts WHERE (venue, ref) IN (SELECT venue, ref FROM new_parts)")
    con.execute("INSERT INTO parts SELECT venue, ref, size, etag, works, kept, errors, read_at FROM new_parts")
    con.unregister("new_parts")
    con.execute("COMMIT")


def snapshot_current(con, venue: str, year: int, months: list[int]) -> dict[str, str]:
    """{work id: its newest version's updated_date} of the venue's works in these months of the year."""
    marks = ", ".join("?" for _ in months)
    return dict(con.execute(f"SELECT id, updated FROM {_CURRENT} WHERE year = ? AND month IN ({marks})",
                            [venue, year, *months]).fetchall())


def snapshot_counts(con, venue: str, year: int, first: str | None = None, last: str | None = None,
                    by: str | None = None, month: int | None = None) -> dict:
    """Works of the venue in the year (between the dates `first` and `last`, YYYY-MM-DD, when
    given; only `month`, when given), in all or by `month` or `subfield`."""
    where, params = ["year = ?"], [venue, year]
    if first:
        where.append("pub_date >= ? AND pub_date <= ?")
        params += [first, last]
    if month:
        where.append("month = ?")
        params.append(month)
    group = {"month": "month", "subfield": "subfield"}.get(by or "", "'all'")
    rows = con.execute(f"SELECT {group}, count(*) FROM {_CURRENT} WHERE {' AND '.join(where)} GROUP BY 1",
                       params).fetchall()
    return {key: int(n) for key, n in rows}
