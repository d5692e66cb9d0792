"""The ROR registry (a data dump: local file, URL or the newest on Zenodo) and the user's
overrides file."""

from __future__ import annotations

from pathlib import Path

from dagster import ConfigurableResource
from pydantic import Field

from paperatlas.pipeline.affiliations.reference import DumpLocation, locate_dump
from paperatlas.pipeline.affiliations.ror import RorIndex, load_index
from paperatlas.pipeline.http import HttpClient


class RorRegistry(ConfigurableResource):
    """Where the ROR v2 dump comes from. `dump`: a path, an http(s) URL, `none` (no registry),
    or empty for the newest dump in ROR's Zenodo record."""

    dump: str | None = Field(description="Path or URL of a ROR v2 dump zip; 'none' for no registry; empty for the "
                                         "newest on Zenodo.")
    cache_dir: str = Field(description="Download and compiled-index cache folder.")
    timeout: float = Field(description="Seconds per HTTP request.")
    retries: int = Field(description="Retries on 429, 5xx, timeouts and connection errors.")
    allow_private_links: bool = Field(default=False, description="A dump link found in Zenodo's record may reach "
                                      "this machine's network (PAPERATLAS_ALLOW_PRIVATE_LINKS).")

    def locate(self) -> DumpLocation | None:
        http = HttpClient(Path(self.cache_dir), timeout=self.timeout, retries=self.retries,
                          allow_private_links=self.allow_private_links)
        return locate_dump(self.dump, Path(self.cache_dir), http)

    def index(self, path: str, checksum: str, on_progress=None, rows: list[dict] | None = None) -> RorIndex:
        """The compiled index of a dump already located (cached by its checksum); `rows`: its
        records when they were just read (see `load_index`)."""
        return load_index(Path(path), Path(self.cache_dir), checksum, on_progress, rows)


class OverridesFile(ConfigurableResource):
    """The user's affiliation overrides (YAML), applied before every other rule."""

    path: str = Field(description="Overrides YAML file; a missing file means no overrides.")
