"""A paper source on disk: folders of PDFs, one per venue-year."""

from __future__ import annotations

from pathlib import Path

from dagster import ConfigurableResource
from pydantic import Field

from pipeline.partitions import PartitionKey
from pipeline.sources.local import local_folder, local_keys, read_local
from pipeline.sources.paperlists import ParseResult


class LocalPdfFolders(ConfigurableResource):
    """Local folders of PDFs, one per venue-year: `<root>/<venue>-<year>/` (see pipeline/sources/local.py)."""

    directory: str = Field(description="Folder holding one sub-folder (or symlink) per venue-year.")

    def folder(self, pk: PartitionKey) -> Path | None:
        return local_folder(self.directory, pk)

    def venue_years(self) -> list[str]:
        return local_keys(self.directory)

    def load(self, pk: PartitionKey) -> ParseResult:
        folder = self.folder(pk)
        if folder is None:
            raise FileNotFoundError(f"{pk}: no local folder {Path(self.directory) / pk.key}")
        return read_local(folder, pk)
