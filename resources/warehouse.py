"""The DuckDB store, through dagster-duckdb, with paperatlas' one-writer lock."""

from __future__ import annotations

import contextlib

from dagster_duckdb import DuckDBResource
from pydantic import Field, PrivateAttr

from pipeline.store import Warehouse


class WarehouseResource(DuckDBResource):
    """DuckDB under `$PAPERATLAS_HOME`. Connections wait for the store lock instead of failing
    when another run holds the file, so parallel runs queue rather than crash."""

    lock_timeout: float = Field(default=1800.0, description="Seconds to wait for the store lock.")
    _warehouse: Warehouse | None = PrivateAttr(default=None)

    def warehouse(self) -> Warehouse:
        if self._warehouse is None:
            self._warehouse = Warehouse(self.database, lock_timeout=self.lock_timeout)
        return self._warehouse

    @contextlib.contextmanager
    def get_connection(self):
        with self.warehouse().connect() as con:
            yield con
