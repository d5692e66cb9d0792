"""The store: DuckDB through dagster-duckdb with paperatlas' one-writer lock (one machine), or
Delta Lake tables in a folder or on S3 that many workers write at once."""

from __future__ import annotations

import contextlib

from dagster_duckdb import DuckDBResource
from pydantic import Field, PrivateAttr

from paperatlas.pipeline.store import Warehouse


class WarehouseResource(DuckDBResource):
    """`store="duckdb"`: the file `database` under `$PAPERATLAS_HOME`; connections wait for the
    store lock instead of failing, so parallel runs queue rather than crash. `store="delta"`:
    the Delta tables at `uri`, with no global lock; connections are DuckDB views of them.
    `connection_config` (dagster-duckdb's own field) is DuckDB's settings for every connection:
    `threads` from PAPERATLAS_STORE_THREADS, or one share of the cores per run when `run --jobs`
    runs several at once."""

    lock_timeout: float = Field(default=1800.0, description="Seconds to wait for the DuckDB store lock.")
    store: str = Field(default="duckdb", description="duckdb (one machine) or delta (many workers).")
    uri: str = Field(default="", description="The Delta store: a folder or s3://bucket/prefix.")
    files: str = Field(default="", description="The shared files folder (PAPERATLAS_FILES), for the Delta store.")
    _warehouse: Warehouse | None = PrivateAttr(default=None)

    def warehouse(self) -> Warehouse:
        if self._warehouse is None:
            if self.store == "delta":
                from paperatlas.pipeline.config import store_options
                from paperatlas.pipeline.store_delta import DeltaWarehouse

                # the AWS_* secrets are read here, in the worker, never kept in the run's config
                self._warehouse = DeltaWarehouse(self.uri, store_options(), lock_timeout=self.lock_timeout,
                                                 files=self.files or None, config=dict(self.connection_config))
            else:
                self._warehouse = Warehouse(self.database, lock_timeout=self.lock_timeout,
                                            config=dict(self.connection_config))
        return self._warehouse

    @contextlib.contextmanager
    def get_connection(self):
        with self.warehouse().connect() as con:
            yield con
