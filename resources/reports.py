"""Where the venue-year reports are written (`$PAPERATLAS_HOME/reports/<partition>/`)."""

from __future__ import annotations

from pathlib import Path

from dagster import ConfigurableResource
from pydantic import Field


class ReportsFolder(ConfigurableResource):
    """A folder per venue-year with the report, its charts, the review sample and CSV/Parquet
    exports. Each folder is replaced whole when the report is materialised again."""

    directory: str = Field(description="The reports folder, by default $PAPERATLAS_HOME/reports.")

    def folder(self, partition_key: str) -> Path:
        return Path(self.directory) / partition_key
