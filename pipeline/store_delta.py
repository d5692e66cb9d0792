"""The shared store: one Delta Lake table per paperatlas table, in a folder or on S3, written by
many workers at once.

DuckDB's file admits one writer, so the embedded store (`pipeline.store.Warehouse`) serves one
machine. Here each table is a Delta table (through `deltalake`, the delta-rs binding), created
from `SCHEMA` before its first write and partitioned by `partition_key` where it has one:

- A partition is replaced by one Delta commit: an overwrite whose predicate names the
  partition. Writers of different partitions never wait for each other; two commits that do
  collide (the same partition, or a table-wide write) are retried with backoff. There is no
  global lock.
- Reads see whole commits only. `connect()` gives an in-memory DuckDB connection in which every
  table is a view of its current Delta version, registered as an Arrow dataset, so every query,
  report, diff and check runs unchanged on either store.
- A write through the connection's store refreshes that connection's view of the table, so a
  step reads what it wrote.

Each table's write is atomic. A step that writes several tables makes one commit per table: a
crash between two leaves the first written, which the step's re-run replaces, as it does any
partition.

Once deltalake has run in a process, that process must not fork (delta-rs' runtime threads do
not survive it): `pipeline.pool` then starts its workers with forkserver.
"""

from __future__ import annotations

import contextlib
import re
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from . import extras
from .store import SCHEMA, StoreError, Warehouse, columns_of

RETRIES = 12  # commit conflicts on one write before it fails
# A checkpoint every this many commits (delta-rs writes it after the commit; Delta's default is
# 100). Every open of a table reads the commits since its last checkpoint, one request each:
# with one commit per partition, a table of a year's 79 month parts was 79 requests to open, for
# every writer and every read.
CHECKPOINT_INTERVAL = "10"


def _require():
    try:
        import deltalake  # noqa: F401
        import pyarrow  # noqa: F401
    except ImportError as exc:  # the scale extra's, not the core's
        raise StoreError(extras.message(exc.name or "deltalake", "PAPERATLAS_STORE=delta")) from exc


def arrow_type(sql_type: str):
    """The Arrow type of a SCHEMA column type."""
    import pyarrow as pa

    if sql_type.endswith("[]"):
        return pa.list_(arrow_type(sql_type[:-2]))
    return {
        "VARCHAR": pa.string(), "INTEGER": pa.int32(), "BIGINT": pa.int64(), "DOUBLE": pa.float64(),
        "BOOLEAN": pa.bool_(), "TIMESTAMP": pa.timestamp("us"),
    }[sql_type]


def arrow_schema(table: str):
    import pyarrow as pa

    required = {words.split()[0] for words in SCHEMA[table].replace("\n", " ").split(",") if "NOT NULL" in words}
    return pa.schema([pa.field(name, arrow_type(sql_type), nullable=name not in required)
                      for name, sql_type in columns_of(table)])


def partitioned(table: str) -> bool:
    return any(name == "partition_key" for name, _ in columns_of(table))


def literal(value: Any) -> str:
    """`value` as a SQL literal in a Delta predicate."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def predicate(where: str, params: list) -> str | None:
    """`where` (SQL with ? parameters, as the DuckDB store takes it) with the parameters in
    place; None for every row."""
    if where.strip().upper() == "TRUE":
        return None
    parts = where.split("?")
    if len(parts) != len(params) + 1:
        raise ValueError(f"{where!r} has {len(parts) - 1} parameters, given {len(params)}")
    return "".join(part + (literal(params[i]) if i < len(params) else "") for i, part in enumerate(parts))


def _first_line(exc: BaseException) -> str:
    """The error's first line, at most 200 characters: delta-rs appends a Rust backtrace
    (`0: <unknown> … clone3`) on the lines after it."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def _conflict(exc: BaseException) -> bool:
    from deltalake.exceptions import CommitFailedError

    text = str(exc).lower()
    return isinstance(exc, CommitFailedError) or "conflict" in text or "version already exists" in text


class DeltaConnection:
    """A DuckDB connection whose statements see the Delta tables they name: each is registered
    as an Arrow dataset of its current version the first time the connection meets it, and
    again after the store writes it through this connection."""

    def __init__(self, store: DeltaWarehouse, con: duckdb.DuckDBPyConnection):
        self.store, self.con, self.tables = store, con, set()

    def see(self, sql: str) -> None:
        words = set(re.findall(r"[a-z_]+", sql.lower()))
        for table in SCHEMA:
            if table in words and table not in self.tables:
                self.refresh(table)

    def refresh(self, table: str) -> None:
        # A statement closes the previous result (a fetchone() leaves it open); register, not.
        self.con.execute("SELECT 1").fetchall()
        self.con.register(table, self.store.dataset(table))
        self.tables.add(table)

    def execute(self, sql: str, params=None):
        self.see(sql)
        return self.con.execute(sql, params or [])

    def sql(self, sql: str, *args, **kwargs):
        self.see(sql)
        return self.con.sql(sql, *args, **kwargs)

    def __getattr__(self, name):  # register, unregister, close, cursor ...: DuckDB's own
        return getattr(self.con, name)


class DeltaWarehouse(Warehouse):
    """The store as Delta tables under `uri` (a folder, or s3://bucket/prefix). `options` are
    the object store's settings (AWS_* for S3, as delta-rs and pyarrow take them)."""

    def __init__(self, uri: str, options: dict[str, str] | None = None, read_only: bool = False,
                 lock_timeout: float = 1800.0, files: str | None = None, config: dict | None = None):
        _require()
        self.config = dict(config or {})
        self.files = files
        self.uri = uri.rstrip("/")
        self.database = self.uri  # what messages name
        self.options = dict(options or {})
        self.read_only = read_only
        self.lock_timeout = lock_timeout
        self._memory = False
        self._created: set[str] = set()
        self._filesystem = None

    # -- where things are -----------------------------------------------------------------------
    @property
    def s3(self) -> bool:
        return self.uri.startswith("s3://") or self.uri.startswith("s3a://")

    def table_uri(self, table: str) -> str:
        return f"{self.uri}/{table}"

    def _storage_options(self) -> dict[str, str]:
        options = dict(self.options)
        if self.s3 and not any(k.upper() in ("AWS_S3_LOCKING_PROVIDER", "AWS_CONDITIONAL_PUT") for k in options):
            # concurrent writers are safe on S3 through conditional writes (If-None-Match)
            options["AWS_CONDITIONAL_PUT"] = "etag"
        if self.s3 and str(options.get("AWS_ENDPOINT_URL", "")).startswith("http://"):
            options.setdefault("AWS_ALLOW_HTTP", "true")
        return options

    def filesystem(self):
        """The pyarrow filesystem the Parquet files are read through."""
        if self._filesystem is None:
            import pyarrow.fs as pfs

            if self.s3:
                o = {k.upper(): v for k, v in self.options.items()}
                self._filesystem = pfs.S3FileSystem(
                    access_key=o.get("AWS_ACCESS_KEY_ID"), secret_key=o.get("AWS_SECRET_ACCESS_KEY"),
                    session_token=o.get("AWS_SESSION_TOKEN"),
                    region=o.get("AWS_REGION") or o.get("AWS_DEFAULT_REGION") or "us-east-1",
                    endpoint_override=o.get("AWS_ENDPOINT_URL"))
            else:
                self._filesystem = pfs.LocalFileSystem()
        return self._filesystem

    def beside(self, *parts: str) -> Path | None:
        """Files kept with the store go to the shared files folder (PAPERATLAS_FILES); without
        one, beside a store folder."""
        if self.files:
            return Path(self.files).joinpath(*parts)
        if self.s3:
            raise StoreError(f"{self.uri}: a Delta store on S3 keeps its files in PAPERATLAS_FILES; set it")
        return Path(self.uri).parent.joinpath(*parts)

    def exists(self) -> bool:
        """Whether anything was ever written here (the papers table exists)."""
        return self._table("raw_papers") is not None

    def _table(self, table: str):
        from deltalake import DeltaTable
        from deltalake.exceptions import TableNotFoundError

        try:
            return DeltaTable(self.table_uri(table), storage_options=self._storage_options())
        except TableNotFoundError:
            return None
        except OSError as exc:
            raise self._unusable(exc) from exc
        except Exception as exc:  # delta-rs' DeltaError: a log it cannot read
            raise self._damaged(table, exc) from None

    def _path(self, table: str) -> str:
        """The table's folder as `filesystem()` names it (no s3:// in front)."""
        return re.sub(r"^s3a?://", "", self.table_uri(table)) if self.s3 else self.table_uri(table)

    def damage(self, table: str):
        """What is wrong with `table`'s Delta log (`pipeline.delta_log.Damage`), read file by file."""
        from .delta_log import diagnose

        def missing() -> list[str]:
            try:
                return self._missing_files(table)
            except Exception:  # delta-rs cannot open it after all: the caller says what it said
                return []

        return diagnose(self.filesystem(), self._path(table), table, self.table_uri(table), missing=missing)

    def _missing_files(self, table: str, version: int | None = None) -> list[str]:
        """The data files `table`'s version (the newest by default) names that are not there
        (paths relative to the table, as its log names them), from one listing of its folder."""
        import pyarrow as pa
        import pyarrow.fs as pfs
        from deltalake import DeltaTable

        delta = DeltaTable(self.table_uri(table), version=version, storage_options=self._storage_options())
        named = {urllib.parse.unquote(p) for p in pa.table(delta.get_add_actions(flatten=True)).column("path")
                 .to_pylist()}
        root = self._path(table).rstrip("/")
        found = self.filesystem().get_file_info(pfs.FileSelector(root, recursive=True, allow_not_found=True))
        return sorted(named - {f.path[len(root) + 1:] for f in found if f.type == pfs.FileType.File})

    def _damaged(self, table: str, exc: BaseException) -> StoreError:
        """One line for a table delta-rs could not read: the table, where it is, what is wrong and
        the command that repairs it; without delta-rs' Rust backtrace."""
        try:
            damage = self.damage(table)
        except Exception:  # the log cannot even be listed: say what delta-rs said
            damage = None
        if damage is not None and not damage.healthy:
            return StoreError(damage.message())
        return StoreError(f"{table} ({self.table_uri(table)}): it cannot be read ({_first_line(exc)}); "
                          f"`paperatlas store repair {table} --dry-run` checks its log")

    def repair(self, table: str, stamp: str, log=print) -> None:
        """Set aside what `damage(table)` found and check the table opens at the kept version."""
        from .delta_log import repair

        damage = self.damage(table)
        if damage.healthy or damage.keep is None:
            return
        folder = repair(self.filesystem(), self._path(table), damage, stamp)
        log(f"moved {len(damage.set_aside)} file(s) to {folder}")
        opened = self._table(table)
        if opened is None or opened.version() != damage.keep:
            raise StoreError(f"{table} ({self.table_uri(table)}): after the repair it opens at version "
                             f"{None if opened is None else opened.version()}, not {damage.keep}")
        if gone := self._missing_files(table):  # e.g. vacuumed since the kept version: run repair again
            raise StoreError(f"{table} ({self.table_uri(table)}): version {damage.keep} names {len(gone)} data "
                             f"file(s) that are not there ({gone[0]}); run `paperatlas store repair {table}` again")
        self.dataset(table)

    def _unusable(self, exc: BaseException) -> StoreError:
        first = _first_line(exc)
        return StoreError(f"{self.uri}: cannot use the Delta store ({first[:200]}); check PAPERATLAS_STORE_URI "
                          "and, for S3, the AWS_* settings")

    def _create(self, table: str) -> None:
        """The table, empty with its schema, unless it exists; columns a newer paperatlas
        declares are added to an older table."""
        if table in self._created:
            return
        from deltalake import DeltaTable

        existing = self._table(table)
        if existing is None:
            try:
                DeltaTable.create(self.table_uri(table), arrow_schema(table), mode="ignore",
                                  partition_by=["partition_key"] if partitioned(table) else None,
                                  configuration={"delta.checkpointInterval": CHECKPOINT_INTERVAL},
                                  storage_options=self._storage_options())
            except Exception as exc:  # another worker created it first: fine
                if self._table(table) is None:
                    raise self._unusable(exc) from exc
        else:
            have = {field.name for field in existing.schema().fields}
            missing = [f for f in arrow_schema(table) if f.name not in have]
            if missing:
                import pyarrow as pa
                from deltalake import Field, Schema

                fields = Schema.from_arrow(pa.schema(missing)).fields
                existing.alter.add_columns([Field(f.name, f.type, nullable=True) for f in fields])
        self._created.add(table)

    # -- reading ----------------------------------------------------------------------------------
    def dataset(self, table: str):
        """The table's current version as an Arrow dataset with the schema's columns (a column
        the files lack reads as NULL); an empty table when it was never written."""
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.dataset as pds

        schema = arrow_schema(table)
        schema = pa.schema([f.with_nullable(True) for f in schema])
        delta = self._table(table)
        if delta is None:
            return pds.dataset(schema.empty_table())
        # Each file's size from the Delta log, so a read asks the object store for no file's
        # size first (a request per file per scan).
        actions = pa.table(delta.get_add_actions(flatten=True).select(["path", "size_bytes"]))
        sizes = dict(zip((urllib.parse.unquote(p) for p in actions.column("path").to_pylist()),
                         actions.column("size_bytes").to_pylist()))
        root, parquet, fragments = self.table_uri(table) + "/", pds.ParquetFileFormat(), []
        for uri in delta.file_uris():
            segment = re.search(r"/partition_key=([^/]*)/", uri)
            fragments.append(parquet.make_fragment(
                re.sub(r"^s3a?://", "", uri) if self.s3 else uri, self.filesystem(),
                pc.field("partition_key") == urllib.parse.unquote(segment.group(1)) if segment else pc.scalar(True),
                file_size=sizes.get(urllib.parse.unquote(uri.removeprefix(root)))))
        return pds.FileSystemDataset(fragments, schema, parquet, self.filesystem())

    @contextlib.contextmanager
    def connect(self) -> Iterator[DeltaConnection]:
        """An in-memory DuckDB connection in which each table a statement names is a view of
        its current Delta version, registered on first use in the connection. Nothing is
        locked. A table a read fails on (a data file gone) is named with the fix (`_damaged`)."""
        con = DeltaConnection(self, duckdb.connect(":memory:", config=self.config))
        try:
            yield con
        except duckdb.Error as exc:  # a statement or a fetch: a data file the log names is gone
            table = re.search(r"reading the stream registered as '([a-z_]+)' failed", str(exc))
            if table and table.group(1) in SCHEMA:
                raise self._damaged(table.group(1), exc) from None
            raise
        finally:
            con.close()

    def read_once(self, table: str, columns: list[str], con) -> str:
        """`table`'s `columns` read once into `con`'s memory (a temporary table, `_once_<table>`),
        for a query that scans them several times: each scan of the table itself asks the object
        store for every file again."""
        name = f"_once_{table}"
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT {', '.join(columns)} FROM {table}")
        return name

    # -- writing ----------------------------------------------------------------------------------
    def _arrow(self, table: str, frame: pd.DataFrame):
        """`frame` (from `_frame`) as an Arrow table of the schema's types, read through DuckDB
        exactly as the DuckDB store reads it, so both stores hold the same values."""
        scratch = duckdb.connect(":memory:", config=self.config)
        try:
            scratch.register("_incoming", frame)
            data = scratch.sql(f"SELECT {self._select(table)} FROM _incoming").to_arrow_table()
        finally:
            scratch.close()
        schema = arrow_schema(table)
        for field in schema:
            if not field.nullable and data.column(field.name).null_count:
                raise ValueError(f"{table}: column {field.name} is NOT NULL; "
                                 f"{data.column(field.name).null_count} rows have none")
        return data.cast(schema)

    def _replace_rows(self, table: str, frame: pd.DataFrame, where: str, params: list, con) -> int:
        """Delete the rows matching `where` and insert `frame`, in one Delta commit."""
        if self.read_only:
            raise StoreError(f"{self.uri}: opened read-only")
        from deltalake import write_deltalake

        self._create(table)
        data = self._arrow(table, frame)
        condition = predicate(where, params)

        def write():
            if condition is None:
                write_deltalake(self.table_uri(table), data, mode="overwrite", schema_mode="merge",
                                storage_options=self._storage_options())
            elif len(data):
                write_deltalake(self.table_uri(table), data, mode="overwrite", predicate=condition,
                                storage_options=self._storage_options())
            else:
                self._table(table).delete(condition)

        self._commit(table, write)
        self._refresh(con, table)
        return len(frame)

    def _replace_from_file(self, table: str, partition_key: str, path, overrides: dict, count: int, con) -> int:
        """The partition replaced by the staged Parquet file in one commit, read batch by batch
        (`replace_partition_staged`)."""
        if path is None:
            self.delete_where(table, "partition_key = ?", [partition_key], con=con)
            return 0
        if self.read_only:
            raise StoreError(f"{self.uri}: opened read-only")
        import pyarrow as pa
        from deltalake import write_deltalake

        self._create(table)
        schema = arrow_schema(table)
        condition = predicate("partition_key = ?", [partition_key])
        select, params = self._select_with(table, overrides)

        def write():
            scratch = duckdb.connect(":memory:", config=self.config)
            try:
                reader = scratch.sql(f"SELECT {select} FROM read_parquet(?)", params=[*params, str(path)]) \
                    .to_arrow_reader(65536)
                batches = (batch.cast(schema) for batch in reader)
                write_deltalake(self.table_uri(table), pa.RecordBatchReader.from_batches(schema, batches),
                                mode="overwrite", predicate=condition, storage_options=self._storage_options())
            finally:
                scratch.close()

        self._commit(table, write)
        self._refresh(con, table)
        return count

    def delete_where(self, table: str, where: str, params: list, con=None) -> None:
        condition = predicate(where, params)
        self._create(table)
        self._commit(table, lambda: self._table(table).delete(condition))
        self._refresh(con, table)

    def _commit(self, table: str, write) -> None:
        pause = 0.05
        for attempt in range(RETRIES + 1):
            try:
                write()
                return
            except Exception as exc:
                if not _conflict(exc) or attempt == RETRIES:
                    if isinstance(exc, OSError) or type(exc).__module__.startswith(("deltalake", "_internal")):
                        damage = None
                        with contextlib.suppress(Exception):  # a log that cannot be listed: delta-rs' words
                            damage = self.damage(table)
                        if damage is not None and not damage.healthy:
                            raise StoreError(damage.message()) from None
                        raise StoreError(f"{self.table_uri(table)}: the write failed ({_first_line(exc)})") from exc
                    raise
                time.sleep(pause)
                pause = min(pause * 2, 2.0)

    def _refresh(self, con, table: str) -> None:
        """The connection that asked for a write sees it."""
        if isinstance(con, DeltaConnection):
            con.refresh(table)

    # -- the rest of the contract -----------------------------------------------------------------
    def maintain(self, retention_hours: float = 168.0, log=print) -> list[dict]:
        """Compact each table's small files, write a checkpoint, and delete files that no
        version newer than `retention_hours` refers to. One row per table. A table made before
        `CHECKPOINT_INTERVAL` gets it here."""
        rows = []
        for table in SCHEMA:
            delta = self._table(table)
            if delta is None:
                continue
            if delta.metadata().configuration.get("delta.checkpointInterval") != CHECKPOINT_INTERVAL:
                self._commit(table, lambda: self._table(table).alter.set_table_properties(
                    {"delta.checkpointInterval": CHECKPOINT_INTERVAL}))
                delta = self._table(table)
            compacted = delta.optimize.compact()
            delta = self._table(table)
            delta.create_checkpoint()
            removed = delta.vacuum(retention_hours=int(retention_hours), dry_run=False,
                                   enforce_retention_duration=False)
            rows.append({"table": table, "version": delta.version(),
                         "files_compacted": int(compacted.get("numFilesRemoved", 0)),
                         "files_written": int(compacted.get("numFilesAdded", 0)),
                         "files_vacuumed": len(removed)})
            log(f"{table}: version {delta.version()}, {rows[-1]['files_compacted']} files compacted into "
                f"{rows[-1]['files_written']}, {len(removed)} old files deleted")
        return rows
