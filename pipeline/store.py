"""The embedded store: one DuckDB file under `$PAPERATLAS_HOME`, one writer at a time.

DuckDB lets one process open a database file for writing, and no other process may open it
at all meanwhile. Parallel Dagster runs (a backfill, the UI beside the CLI) would therefore
fail with lock errors, so every connection is taken under an exclusive file lock
(`paperatlas.duckdb.lock`) and held only while reading inputs or writing outputs, never
while computing. Other processes wait their turn instead of failing. Each partition's rows
are replaced in one transaction: a crash leaves the previous rows, never a mix.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from filelock import FileLock, Timeout

from .models import IngestError, StageFailure, missing, utcnow

DECISION_COLUMNS = """paper_id VARCHAR NOT NULL, author_position INTEGER, unit INTEGER,
    author_name VARCHAR, affiliation VARCHAR, email_domain VARCHAR, source VARCHAR, source_ref VARCHAR,
    countries VARCHAR[], coauthor_countries VARCHAR[], certain VARCHAR[], alternatives VARCHAR[],
    uncertainty VARCHAR, method VARCHAR, confidence DOUBLE, basis VARCHAR, evidence VARCHAR,
    reason VARCHAR, institution VARCHAR, ror_id VARCHAR, parent_ror_id VARCHAR, parent_name VARCHAR"""

SCHEMA: dict[str, str] = {
    "ror_organizations": """
        ror_id VARCHAR NOT NULL, name VARCHAR, labels VARCHAR[], aliases VARCHAR[],
        acronyms VARCHAR[], domains VARCHAR[], country VARCHAR, country_name VARCHAR,
        subdivision VARCHAR, city VARCHAR, lat DOUBLE, lng DOUBLE, countries VARCHAR[],
        types VARCHAR[], status VARCHAR, established INTEGER, parents VARCHAR[],
        children VARCHAR[], related VARCHAR[], successors VARCHAR[]""",
    "ror_registry": """
        checksum VARCHAR NOT NULL, source VARCHAR, path VARCHAR, records INTEGER,
        index_version VARCHAR, loaded_at TIMESTAMP""",
    "affiliation_overrides": """
        rule INTEGER, match VARCHAR, contains VARCHAR, email_domain VARCHAR, country VARCHAR,
        institution VARCHAR, note VARCHAR, file VARCHAR, file_sha256 VARCHAR""",
    "unresolved_affiliations": """
        affiliation VARCHAR, email_domain VARCHAR, reason VARCHAR, author_rows INTEGER,
        papers INTEGER, partitions VARCHAR[], example_papers VARCHAR[]""",
    "raw_papers": """
        partition_key VARCHAR NOT NULL, paper_id VARCHAR NOT NULL, venue VARCHAR, year INTEGER,
        title VARCHAR, abstract VARCHAR, authors VARCHAR[], affiliations VARCHAR[][],
        email_domains VARCHAR[], unaligned_affiliations VARCHAR[], aligned BOOLEAN,
        pdf_url VARCHAR, status VARCHAR, track VARCHAR, source VARCHAR, source_ref VARCHAR,
        source_sha256 VARCHAR, fetched_at TIMESTAMP, pdf_path VARCHAR, author_sources VARCHAR,
        sources VARCHAR[], source_ids VARCHAR[]""",
    "author_affiliations": """
        partition_key VARCHAR NOT NULL, paper_id VARCHAR NOT NULL, author_position INTEGER,
        author_name VARCHAR, affiliation_index INTEGER, affiliation VARCHAR, email_domain VARCHAR,
        source VARCHAR, source_ref VARCHAR, counted BOOLEAN, decision VARCHAR, name_match VARCHAR,
        reference_institutions VARCHAR, reference_countries VARCHAR""",
    "paper_pdfs": """
        partition_key VARCHAR NOT NULL, paper_id VARCHAR NOT NULL, url VARCHAR, path VARCHAR,
        status VARCHAR, bytes BIGINT, sha256 VARCHAR, error VARCHAR, fetched_at TIMESTAMP""",
    "pdf_documents": """
        partition_key VARCHAR NOT NULL, paper_id VARCHAR NOT NULL, path VARCHAR, sha256 VARCHAR,
        pages INTEGER, title VARCHAR, layout VARCHAR, authors INTEGER, authors_with_affiliation INTEGER,
        error VARCHAR, extractor_version VARCHAR, layout_reason VARCHAR, former_affiliations VARCHAR[]""",
    "pdf_affiliations": """
        partition_key VARCHAR NOT NULL, paper_id VARCHAR NOT NULL, pdf_sha256 VARCHAR,
        author_position INTEGER, author_name VARCHAR, email VARCHAR, email_domain VARCHAR,
        affiliation_index INTEGER, affiliation VARCHAR""",
    "resolved_affiliations": """
        partition_key VARCHAR NOT NULL, affiliation VARCHAR, email_domain VARCHAR, country VARCHAR,
        institution VARCHAR, institution_id VARCHAR, method VARCHAR, confidence DOUBLE,
        evidence VARCHAR, reason VARCHAR, resolver_version VARCHAR, ror_id VARCHAR,
        countries VARCHAR[], alternatives VARCHAR[], email_country VARCHAR, email_method VARCHAR,
        parts VARCHAR, parent_ror_id VARCHAR, parent_name VARCHAR""",
    "country_decisions": "partition_key VARCHAR NOT NULL, " + DECISION_COLUMNS,
    "paper_countries": """
        partition_key VARCHAR NOT NULL, venue VARCHAR, year INTEGER, paper_id VARCHAR NOT NULL,
        country VARCHAR NOT NULL, authors INTEGER, fractional DOUBLE, n_countries INTEGER,
        placement VARCHAR""",
    "country_edges": """
        partition_key VARCHAR NOT NULL, venue VARCHAR, year INTEGER, paper_id VARCHAR NOT NULL,
        country_a VARCHAR NOT NULL, country_b VARCHAR NOT NULL, fractional DOUBLE""",
    "partition_parts": """
        scope VARCHAR NOT NULL, partition_key VARCHAR NOT NULL, works INTEGER, source VARCHAR,
        split_limit INTEGER, planned_at TIMESTAMP""",
    "partition_summary": """
        partition_key VARCHAR NOT NULL, venue VARCHAR, year INTEGER, papers INTEGER,
        papers_with_country INTEGER, international_papers INTEGER, authors INTEGER,
        affiliation_rows INTEGER, resolved_rows INTEGER""",
    "yearly_country": """
        venue VARCHAR, year INTEGER, country VARCHAR, papers INTEGER, papers_fractional DOUBLE,
        international_papers INTEGER, share_of_papers DOUBLE, international_share DOUBLE,
        previous_year INTEGER, previous_share DOUBLE, share_change_pp DOUBLE""",
    "yearly_pairs": """
        venue VARCHAR, year INTEGER, country_a VARCHAR, country_b VARCHAR, papers INTEGER,
        share_of_papers DOUBLE, papers_fractional DOUBLE""",
    "yearly_partners": """
        venue VARCHAR, year INTEGER, country VARCHAR, partner VARCHAR, papers INTEGER,
        papers_fractional DOUBLE, share_of_international DOUBLE, rank INTEGER""",
    "yearly_headlines": """
        venue VARCHAR, year INTEGER, china_scope VARCHAR, number VARCHAR, label VARCHAR,
        partitions INTEGER, papers INTEGER, denominator INTEGER, share DOUBLE, low_confidence INTEGER,
        placement VARCHAR, low INTEGER, high INTEGER, unplaced INTEGER""",
    "yearly_summary": """
        venue VARCHAR, year INTEGER, partitions INTEGER, papers INTEGER, papers_with_country INTEGER,
        international_papers INTEGER, international_share DOUBLE, countries INTEGER""",
    "headline_numbers": """
        partition_key VARCHAR NOT NULL, venue VARCHAR, year INTEGER, china_scope VARCHAR, number VARCHAR,
        label VARCHAR, papers INTEGER, denominator INTEGER, share DOUBLE, low_confidence INTEGER,
        snapshot INTEGER, placement VARCHAR, low INTEGER, high INTEGER, unplaced INTEGER""",
    "headline_snapshots": """
        partition_key VARCHAR NOT NULL, snapshot INTEGER NOT NULL, paper_id VARCHAR NOT NULL, title VARCHAR,
        url VARCHAR, has_affiliation BOOLEAN, countries VARCHAR[], mentions VARCHAR[], evidence VARCHAR""",
    # A snapshot's evidence: the country_decisions rows its numbers were counted from. (Snapshots
    # taken before this table have their evidence as JSON in headline_snapshots.evidence.)
    "headline_snapshot_evidence": "partition_key VARCHAR NOT NULL, snapshot INTEGER NOT NULL, " + DECISION_COLUMNS,
    "headline_snapshot_runs": """
        partition_key VARCHAR NOT NULL, snapshot INTEGER NOT NULL, taken_at TIMESTAMP, run_id VARCHAR,
        papers INTEGER, inputs VARCHAR""",
    "review_samples": """
        partition_key VARCHAR NOT NULL, china_scope VARCHAR, number VARCHAR, sample_rank INTEGER,
        paper_id VARCHAR, low_confidence BOOLEAN, seed INTEGER, snapshot INTEGER, placement VARCHAR,
        evidence_sha256 VARCHAR""",
    "study_results": """
        study VARCHAR NOT NULL, placement VARCHAR, china_scope VARCHAR, years VARCHAR, computed_at TIMESTAMP,
        claims INTEGER, agreeing INTEGER, materialised VARCHAR[], result VARCHAR""",
    "review_verdicts": """
        partition_key VARCHAR NOT NULL, number VARCHAR NOT NULL, china_scope VARCHAR, placement VARCHAR,
        paper_id VARCHAR NOT NULL, verdict VARCHAR, evidence_sha256 VARCHAR, file VARCHAR,
        imported_at TIMESTAMP""",
    "terms": """
        term VARCHAR NOT NULL, name VARCHAR, family VARCHAR, kind VARCHAR, organisation VARCHAR,
        origin_country VARCHAR, lab VARCHAR, lab_country VARCHAR, reference VARCHAR, patterns VARCHAR[],
        catalogue VARCHAR, catalogue_sha256 VARCHAR, catalogue_copy VARCHAR""",
    "paper_texts": """
        partition_key VARCHAR NOT NULL, paper_id VARCHAR NOT NULL, pdf_sha256 VARCHAR, pages INTEGER,
        chars INTEGER, title_chars INTEGER, abstract_chars INTEGER, body_chars INTEGER,
        references_chars INTEGER, pdf_title VARCHAR, title_source VARCHAR, abstract_source VARCHAR,
        cached BOOLEAN, seconds DOUBLE, error VARCHAR, text_version VARCHAR""",
    "paper_mentions": """
        partition_key VARCHAR NOT NULL, paper_id VARCHAR NOT NULL, term VARCHAR NOT NULL, family VARCHAR,
        kind VARCHAR, scope VARCHAR NOT NULL, source VARCHAR, mentions INTEGER, surface VARCHAR,
        snippet VARCHAR, surfaces VARCHAR[], position INTEGER, catalogue_version VARCHAR""",
    "mentions_by_country": """
        partition_key VARCHAR NOT NULL, venue VARCHAR, year INTEGER, term VARCHAR, name VARCHAR,
        kind VARCHAR, family VARCHAR, origin_country VARCHAR, country VARCHAR, country_papers INTEGER,
        country_papers_with_text INTEGER, papers_abstract INTEGER, papers_full_text INTEGER,
        papers_with_references INTEGER, share_abstract DOUBLE, share_full_text DOUBLE, fractional_abstract DOUBLE,
        fractional_full_text DOUBLE, china_scope VARCHAR""",
    "tool_dependency": """
        partition_key VARCHAR NOT NULL, venue VARCHAR, year INTEGER, kind VARCHAR, basis VARCHAR,
        origin_country VARCHAR, user_country VARCHAR, papers INTEGER, fractional DOUBLE,
        origin_papers INTEGER, terms VARCHAR[], china_scope VARCHAR""",
    "source_reads": """
        partition_key VARCHAR NOT NULL, source VARCHAR, priority INTEGER, papers INTEGER, records INTEGER,
        errors INTEGER, matched INTEGER, added INTEGER, refs INTEGER, first_ref VARCHAR, sha256 VARCHAR,
        from_cache BOOLEAN, stats VARCHAR""",
    "ingest_errors": """
        partition_key VARCHAR, stage VARCHAR, item VARCHAR, severity VARCHAR, reason VARCHAR,
        recorded_at TIMESTAMP""",
}


def columns_of(table: str) -> list[tuple[str, str]]:
    """(name, SQL type) of each column of `table`, as SCHEMA declares them."""
    columns = []
    for column in SCHEMA[table].replace("\n", " ").split(","):
        words = column.split()
        if words:
            columns.append((words[0], " ".join(words[1:]).replace(" NOT NULL", "")))
    return columns


def _text(v) -> str | None:
    return v if v.__class__ is str else None if missing(v) else str(v)


def _items(value, depth: int) -> list | None:
    """A list (or array) of strings for a column of `depth` list levels, nested lists kept
    (one nested deeper than the column declares is its JSON text, as DuckDB's `from_json`
    read it); None for a missing one."""
    if value.__class__ is list and depth == 1 and all(v.__class__ is str for v in value):
        return value  # the common case, as it is
    value = value.tolist() if hasattr(value, "tolist") else value
    if isinstance(value, (list, tuple)):
        if depth > 1:
            return [_items(v, depth - 1) for v in value]
        return [v if v.__class__ is str else _item(v) for v in value]
    if missing(value):
        return None
    raise ValueError(f"expected a list, got {type(value).__name__} {value!r}")


def _item(v) -> str | None:
    v = v.tolist() if hasattr(v, "tolist") else v
    if isinstance(v, (list, tuple)):
        return json.dumps(_json_items(v), separators=(",", ":"))
    return None if missing(v) else str(v)


def _json_items(v):
    v = v.tolist() if hasattr(v, "tolist") else v
    return [_json_items(x) for x in v] if isinstance(v, (list, tuple)) else _item(v)


def _column(rows: pd.DataFrame | list[dict], name: str, sql_type: str) -> pd.Series:
    """Column `name` of `rows` (a frame, or dicts as `pd.DataFrame(rows)` would read them: a
    key no row has is no column); all missing when absent."""
    if isinstance(rows, pd.DataFrame):
        if name in rows.columns:
            return rows[name].reset_index(drop=True)
    elif any(name in r for r in rows):
        values = [r.get(name) for r in rows]
        # Timestamps are typed as a frame would type them; everything else is converted value by value.
        return pd.Series(values) if sql_type == "TIMESTAMP" else pd.Series(values, dtype=object)
    return pd.Series([None] * len(rows), dtype=object)


def _declared(values: pd.Series, sql_type: str) -> pa.Array:
    """`values` as an Arrow array of the type DuckDB reads as `sql_type`: nothing is inferred."""
    if sql_type.endswith("[]"):
        depth = sql_type.count("[]")
        kind = pa.string()
        for _ in range(depth):
            kind = pa.list_(kind)
        return pa.array([_items(v, depth) for v in values.tolist()], type=kind)
    if sql_type == "VARCHAR":
        return pa.array([_text(v) for v in values.tolist()], type=pa.string())
    if sql_type in ("INTEGER", "BIGINT"):
        if values.dtype == "int64":
            return pa.array(values.to_numpy(), type=pa.int64())
        return pa.array([None if missing(v) else int(v) for v in values.tolist()], type=pa.int64())
    if sql_type == "DOUBLE":
        return pa.Array.from_pandas(pd.to_numeric(values, errors="raise").astype("float64"), type=pa.float64())
    if sql_type == "BOOLEAN":
        return pa.array([None if missing(v) else bool(v) for v in values.tolist()], type=pa.bool_())
    if sql_type == "TIMESTAMP":
        if not pd.api.types.is_datetime64_any_dtype(values):
            values = pd.to_datetime(values, utc=True).dt.tz_localize(None)
        return pa.Array.from_pandas(values)
    raise ValueError(f"no pandas type declared for SQL type {sql_type}")


def system_arrow_memory() -> None:
    """Arrow's buffers from the C library's allocator (glibc's malloc on Linux) rather than the
    mimalloc pyarrow bundles. mimalloc keeps freed pages for its next allocations; glibc gives a
    large block back to the system when it is freed, so the next step's peak does not sit on the
    last one's buffers. Measured at 200,000 works with `run --jobs 2`: 2.04 GB peak before, 1.90 GB
    after, no slower (docs/benchmarks.md). Called by every step and the command line."""
    if pa.default_memory_pool().backend_name != "system":
        pa.set_memory_pool(pa.system_memory_pool())


class StoreError(RuntimeError):
    """The store cannot be opened or written; the message names the file and what to do."""


class StoreBusy(StoreError):
    pass


class Warehouse:
    """The store. `read_only` opens it without writing anything, not even the lock file, so
    reading works in a read-only PAPERATLAS_HOME; it waits for the lock only while another
    process is writing."""

    def __init__(self, database: str | Path, lock_timeout: float = 1800.0, read_only: bool = False,
                 config: dict | None = None):
        self.database = str(database)
        self.config = dict(config or {})  # DuckDB's settings for every connection (threads: PAPERATLAS_STORE_THREADS)
        self.lock_timeout = lock_timeout
        self.read_only = read_only
        self._memory = self.database == ":memory:"
        self._lock = None if self._memory else FileLock(self.database + ".lock", timeout=lock_timeout)
        self._memory_con: duckdb.DuckDBPyConnection | None = None

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        try:
            self._lock.acquire()
        except Timeout as exc:
            raise StoreBusy(
                f"{self.database} stayed locked by another paperatlas process for {self.lock_timeout:.0f}s"
            ) from exc
        try:
            yield
        finally:
            self._lock.release()

    def _open(self) -> duckdb.DuckDBPyConnection:
        """A DuckDB connection. A writer whose open collides with a lock-free reader in another
        process (DuckDB's own file lock) tries again until the reader is done."""
        deadline, pause = time.monotonic() + self.lock_timeout, 0.05
        while True:
            try:
                con = duckdb.connect(self.database, read_only=self.read_only, config=self.config)
                break
            except duckdb.Error as exc:
                held = "lock" in str(exc).lower()
                if held and self.read_only:
                    raise  # a writer holds it: the caller waits for the store lock
                if not held:
                    raise self._unusable(exc) from exc
                if time.monotonic() > deadline:
                    raise StoreBusy(f"{self.database} stayed open in another process for {self.lock_timeout:.0f}s "
                                    f"({' '.join(str(exc).split())[:160]})") from exc
                time.sleep(pause)
                pause = min(pause * 2, 1.0)
        if not self.read_only:
            try:
                self._ensure_schema(con)
            except duckdb.Error as exc:
                con.close()
                raise self._unusable(exc) from exc
        return con

    def _upgrade(self) -> None:
        """Add what a newer paperatlas defines to an older store before reading it; where the
        store cannot be written (a read-only home), it is read as it is."""
        writer = Warehouse(self.database, self.lock_timeout)
        try:
            with writer.connect():
                pass
        except (OSError, StoreError):
            pass

    def _unusable(self, exc: BaseException) -> StoreError:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        if isinstance(exc, duckdb.IOException) and ("No space" in first or "disk" in first.lower()):
            return StoreError(f"{self.database}: cannot write the store ({first}); free disk space and run again")
        return StoreError(f"{self.database}: cannot open the paperatlas store ({first}). Move the file aside "
                          "(paperatlas then builds a new one; re-run the venue-years) or restore a backup")

    @contextlib.contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection under the store lock, with the schema in place (read-only: no lock
        unless a writer is at work, and no schema changes)."""
        if self._memory:
            if self._memory_con is None:
                self._memory_con = duckdb.connect(":memory:", config=self.config)
                self._ensure_schema(self._memory_con)
            yield self._memory_con
            return
        if self.read_only:
            try:
                con = self._open()
            except duckdb.Error:
                with self._locked():
                    con = self._open()
            if not self._schema_current(con):  # a store written by an older paperatlas
                con.close()
                self._upgrade()
                con = self._open()
        else:
            Path(self.database).parent.mkdir(parents=True, exist_ok=True)
            with self._locked():
                con = self._open()
                try:
                    yield con
                finally:
                    con.close()
            return
        try:
            yield con
        finally:
            con.close()

    @staticmethod
    def _existing(con: duckdb.DuckDBPyConnection) -> set[tuple[str, str]]:
        return {(t, c) for t, c in con.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'main'").fetchall()}

    @classmethod
    def _schema_current(cls, con: duckdb.DuckDBPyConnection) -> bool:
        existing = cls._existing(con)
        return all((table, name) in existing for table in SCHEMA for name, _ in columns_of(table))

    @classmethod
    def _ensure_schema(cls, con: duckdb.DuckDBPyConnection) -> None:
        """Create missing tables; add columns a newer paperatlas defines to older stores."""
        existing = cls._existing(con)
        tables = {t for t, _ in existing}
        for table, columns in SCHEMA.items():
            if table not in tables:
                con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({columns})")
                continue
            for name, sql_type in columns_of(table):
                if (table, name) not in existing:
                    con.execute(f"ALTER TABLE {table} ADD COLUMN {name} {sql_type}")

    # -- partitioned tables -------------------------------------------------------------------
    @staticmethod
    def _frame(table: str, rows: pd.DataFrame | list[dict] | pa.Table) -> pa.Table:
        """`rows` as the table's columns, in order, each an Arrow array of the type the schema
        declares.

        Nothing is left for DuckDB to infer from a sample of the data: a list column whose
        first thousand values are empty would otherwise be typed NULL[] and the first
        non-empty list after them would fail the whole write. Rows given as dicts go to
        columns directly, without a DataFrame in between."""
        names = [name for name, _ in columns_of(table)]
        if isinstance(rows, pa.Table):  # framed before (`framed`), or read from the store as Arrow
            declared = Warehouse._frame(table, []).schema
            if rows.column_names != names:
                raise ValueError(f"{table}: an Arrow table given to write must have the schema's columns in order "
                                 f"(it has {', '.join(rows.column_names)})")
            same = all(a == b or (pa.types.is_timestamp(a) and pa.types.is_timestamp(b))  # the INSERT casts units
                       for a, b in zip(rows.schema.types, declared.types))
            if same:
                return rows
            try:  # Arrow's safe cast (DuckDB gives INTEGER as int32): widened, never cut
                return rows.cast(pa.schema([pa.field(f.name, t) for f, t in zip(rows.schema, declared.types)]))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                other = [f"{f.name} {f.type} (not {t})" for f, t in zip(rows.schema, declared.types) if f.type != t]
                raise ValueError(f"{table}: an Arrow table given to write has columns of other types than the "
                                 f"schema's: {', '.join(other)}: {exc}") from None
        arrays = [_declared(_column(rows, name, sql_type), sql_type) for name, sql_type in columns_of(table)]
        return pa.Table.from_arrays(arrays, names=names)

    def framed(self, table: str, rows: pd.DataFrame | list[dict] | pa.Table) -> pa.Table:
        """`rows` converted for `table` now, as the writes would convert them: a step that writes
        several tables in one transaction converts first, so that the store's lock (one writer
        at a time on DuckDB) is held for the writes alone, not for Python's work before them."""
        return self._frame(table, rows)

    @staticmethod
    def _select(table: str) -> str:
        """The SELECT list that reads a `_frame` back with the schema's types."""
        return ", ".join(f"CAST({name} AS {sql_type}) AS {name}" for name, sql_type in columns_of(table))

    def replace_partition(
        self, table: str, partition_key: str, rows: pd.DataFrame | list[dict] | pa.Table, con=None
    ) -> int:
        """Replace the partition's rows of `table` in one transaction; returns the row count."""
        frame = self._frame(table, rows)
        keys = frame.column("partition_key")
        strays = keys.filter(pc.not_equal(keys, partition_key))
        if len(strays):
            raise ValueError(
                f"{table}: {len(strays)} rows for partition {strays[0].as_py()!r} given to replace {partition_key!r}"
            )
        return self._replace_rows(table, frame, "partition_key = ?", [partition_key], con)

    def replace_table(self, table: str, rows: pd.DataFrame | list[dict] | pa.Table, con=None) -> int:
        """Replace every row of `table` in one transaction; returns the row count."""
        return self._replace_rows(table, self._frame(table, rows), "TRUE", [], con)

    def replace_where(self, table: str, rows: pd.DataFrame | list[dict] | pa.Table, where: str, params: list,
                      con=None) -> int:
        """Replace the rows of `table` matching `where` (SQL with ? parameters) in one transaction."""
        return self._replace_rows(table, self._frame(table, rows), where, params, con)

    def _replace_rows(self, table: str, frame: pd.DataFrame, where: str, params: list, con) -> int:
        """Delete the rows matching `where` and insert `frame`, in one transaction."""
        with self.connection(con) as c:
            c.execute("BEGIN TRANSACTION")
            try:
                c.execute(f"DELETE FROM {table} WHERE {where}", params)
                if len(frame):
                    c.register("_incoming", frame)
                    c.execute(f"INSERT INTO {table} BY NAME SELECT {self._select(table)} FROM _incoming")
                    c.unregister("_incoming")
                c.execute("COMMIT")
            except BaseException:
                c.execute("ROLLBACK")
                raise
        return len(frame)

    def replace_partition_staged(self, table: str, partition_key: str, batches: Iterable[pd.DataFrame | list[dict]],
                                 finish: Callable[[], dict[str, Any]] | None = None, con=None) -> int:
        """Replace the partition with rows that arrive in batches (a source read page by page).

        Each batch goes to a scratch Parquet file as it comes, so memory holds one batch, not
        the partition; the partition is then replaced from that file in one transaction (one
        commit on Delta). Until then the previous rows stay, and a read that fails halfway
        stores nothing. `finish()`, called after the last batch, gives values for columns known
        only then (a digest over every page read), set on every row."""
        import pyarrow.parquet as pq

        with tempfile.TemporaryDirectory(prefix="paperatlas-stage-") as scratch:
            path = Path(scratch) / f"{table}.parquet"
            writer, count = None, 0
            try:
                for rows in batches:
                    data = self._frame(table, rows)  # an Arrow table of the schema's types
                    keys = set(data.column("partition_key").to_pylist())
                    if keys - {partition_key}:
                        raise ValueError(f"{table}: rows for partition {sorted(keys - {partition_key})[0]!r} given "
                                         f"to replace {partition_key!r}")
                    writer = writer or pq.ParquetWriter(path, data.schema)
                    writer.write_table(data.cast(writer.schema))
                    count += data.num_rows
            finally:
                if writer is not None:
                    writer.close()
            overrides = dict(finish()) if finish is not None else {}
            return self._replace_from_file(table, partition_key, path if count else None, overrides, count, con)

    def _replace_from_file(self, table: str, partition_key: str, path: Path | None, overrides: dict, count: int,
                           con) -> int:
        with self.connection(con) as c:
            c.execute("BEGIN TRANSACTION")
            try:
                c.execute(f"DELETE FROM {table} WHERE partition_key = ?", [partition_key])
                if path is not None:
                    select, params = self._select_with(table, overrides)
                    c.execute(f"INSERT INTO {table} BY NAME SELECT {select} FROM read_parquet(?)", [*params, str(path)])
                c.execute("COMMIT")
            except BaseException:
                c.execute("ROLLBACK")
                raise
        return count

    @classmethod
    def _select_with(cls, table: str, overrides: dict) -> tuple[str, list]:
        """`_select(table)` with the columns of `overrides` set to one value each (parameters)."""
        columns = columns_of(table)
        unknown = set(overrides) - {name for name, _ in columns}
        if unknown:
            raise ValueError(f"{table}: no column {sorted(unknown)[0]!r}")
        parts, params = [], []
        for name, sql_type in columns:
            if name in overrides:
                parts.append(f"CAST(? AS {sql_type}) AS {name}")
                params.append(overrides[name])
            else:
                parts.append(f"CAST({name} AS {sql_type}) AS {name}")
        return ", ".join(parts), params

    def read_partition(self, table: str, partition_key: str, con=None) -> pd.DataFrame:
        with self.connection(con) as c:
            return c.execute(f"SELECT * FROM {table} WHERE partition_key = ?", [partition_key]).df()

    def query(self, sql: str, params: list | None = None, con=None) -> pd.DataFrame:
        with self.connection(con) as c:
            return c.execute(sql, params or []).df()

    def arrow(self, sql: str, params: list | None = None, con=None) -> pa.Table:
        """The result as an Arrow table: no Python object per value until the caller asks."""
        with self.connection(con) as c, warnings.catch_warnings():
            # DuckDB warns that this copies the rows once more, in Arrow: far cheaper than the
            # Python objects `records` builds (its `sql` alternative refuses a connection that
            # still holds an unfinished result).
            warnings.filterwarnings("ignore", "Arrow output on a DB-API result", UserWarning)
            return c.execute(sql, params or []).to_arrow_table()

    def records(self, sql: str, params: list | None = None, con=None) -> list[dict[str, Any]]:
        """Rows as dicts of plain Python values: NULL is None (never NaN or NA), lists are lists."""
        with self.connection(con) as c:
            cursor = c.execute(sql, params or [])
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row)) for row in cursor.fetchall()]

    def scalar(self, sql: str, params: list | None = None, con=None) -> Any:
        """The first column of the first row, or None when there is no row."""
        with self.connection(con) as c:
            row = c.execute(sql, params or []).fetchone()
            return row[0] if row else None

    def record_errors(self, partition_key: str, stage: str, errors: list, con=None) -> int:
        """Replace the (partition, stage) rows of `ingest_errors` with `errors` (IngestError)."""
        now = utcnow().replace(tzinfo=None)
        rows = [
            {
                "partition_key": e.partition_key, "stage": e.stage, "item": e.item,
                "severity": e.severity, "reason": e.reason, "recorded_at": now,
            }
            for e in errors
        ]
        frame = self._frame("ingest_errors", rows)
        return self._replace_rows("ingest_errors", frame, "partition_key = ? AND stage = ?", [partition_key, stage], con)

    def errors(self, partition_key: str | None = None, con=None) -> pd.DataFrame:
        """`ingest_errors` (of one venue-year, or all): partition_key, stage, severity, item and
        reason, in that order."""
        sql, params = "SELECT partition_key, stage, severity, item, reason FROM ingest_errors", []
        if partition_key is not None:
            sql += " WHERE partition_key = ?"
            params.append(partition_key)
        return self.query(sql + " ORDER BY partition_key, stage, severity, item", params, con=con)

    def error_counts(self, keys: list[str], con=None) -> pd.DataFrame:
        """Per venue-year of `keys`, stage and severity: how many items `ingest_errors` holds
        (`n`) and the first, with its reason (`first`; apart: `first_item`, `first_reason`)."""
        return self.query(
            "SELECT partition_key, stage, severity, count(*) AS n, min(item || ': ' || reason) AS first, "
            "arg_min(item, item || ': ' || reason) AS first_item, "
            "arg_min(reason, item || ': ' || reason) AS first_reason "
            f"FROM ingest_errors WHERE partition_key IN ({', '.join('?' * len(keys))}) "
            "GROUP BY ALL ORDER BY partition_key, stage, severity", keys, con=con)

    def refuse(self, partition_key: str, stage: str, item: str, reason: str, errors: list | None = None) -> StageFailure:
        """An input the step cannot use: file the reason (and `errors`, the items that came with
        it) in ingest_errors, keep the previous rows, and return the failure that stops the step."""
        self.record_errors(partition_key, stage, [IngestError(partition_key, stage, item, reason), *(errors or [])])
        return StageFailure(reason)

    def delete_where(self, table: str, where: str, params: list, con=None) -> None:
        """Delete the rows of `table` matching `where` (SQL with ? parameters)."""
        with self.connection(con) as c:
            c.execute(f"DELETE FROM {table} WHERE {where}", params)

    def exists(self) -> bool:
        return self._memory or Path(self.database).exists()

    def beside(self, *parts: str) -> Path | None:
        """A local path for files kept with the store (a copy of the term catalogue); None for
        a store in memory."""
        return None if self._memory else Path(self.database).parent.joinpath(*parts)

    def maintain(self, retention_hours: float = 168.0, log=print) -> list[dict]:
        """Write DuckDB's checkpoint (its WAL into the file). The Delta store compacts and
        vacuums here; DuckDB reuses freed blocks itself."""
        with self.connect() as con:
            con.execute("CHECKPOINT")
        size = Path(self.database).stat().st_size if not self._memory else 0
        log(f"{self.database}: checkpoint written ({size / 1e6:.1f} MB)")
        return [{"table": "*", "version": None, "files_compacted": 0, "files_written": 0, "files_vacuumed": 0}]

    def drop_partitions(self, keys: list[str], con=None) -> None:
        """Every row of the partitions `keys`, in every table: a venue-year read whole before and
        now split into sub-partitions (or the reverse) must not be counted twice."""
        if not keys:
            return
        marks = ", ".join("?" for _ in keys)
        for table in SCHEMA:
            if any(name == "partition_key" for name, _ in columns_of(table)):
                self.delete_where(table, f"partition_key IN ({marks})", list(keys), con=con)

    def read_once(self, table: str, columns: list[str], con) -> str:
        """What a query that scans `table` several times in `con` names: the table itself,
        which DuckDB reads from its own file (the Delta store copies `columns` in once)."""
        return table

    def partitions(self, table: str = "raw_papers", con=None) -> list[str]:
        with self.connection(con) as c:
            return [r[0] for r in c.execute(f"SELECT DISTINCT partition_key FROM {table} ORDER BY 1").fetchall()]

    @contextlib.contextmanager
    def connection(self, con=None):
        """`con` when the caller holds one (one transaction, one lock), else a new connection."""
        if con is not None:
            yield con
        else:
            with self.connect() as c:
                yield c


def open_store(settings, read_only: bool = False) -> Warehouse:
    """The store `settings` name (`PAPERATLAS_STORE`): the DuckDB file, or the Delta tables at
    `PAPERATLAS_STORE_URI`."""
    if settings.store == "delta":
        from .store_delta import DeltaWarehouse

        return DeltaWarehouse(settings.store_uri, settings.store_options, read_only=read_only, files=str(settings.files))
    return Warehouse(settings.database, read_only=read_only)
