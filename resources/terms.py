"""The term catalogue: which models, architectures and libraries are counted, and their origins."""

from __future__ import annotations

from dagster import ConfigurableResource
from pydantic import Field

from paperatlas.pipeline.mentions.catalogue import DEFAULT_CATALOGUE, Catalogue, load_catalogue


class TermCatalogueFile(ConfigurableResource):
    """A YAML term catalogue (format at the top of pipeline/data/terms.yaml)."""

    path: str = Field(description="Catalogue YAML; empty means the one shipped with paperatlas.")

    def file(self) -> str:
        return self.path or str(DEFAULT_CATALOGUE)

    def load(self) -> Catalogue:
        return load_catalogue(self.file())
